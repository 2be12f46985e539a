import type { LostAccessAnswer } from '../../../usecases/guestHelp/lostAccess';
import { expandCard, type AdaptiveCard } from '../../cards';

/** The data of cards/lostAccessHelp.json. */
export interface LostAccessHelpCardData {
  title: string;
  intro: string;
  /** Groups the guest is still a member of; `owners` is one line of names. */
  memberOf: Array<{ name: string; owners: string }>;
  invitedBy: string[];
  whoToAsk: string[];
  whatYouSee: string[];
  keepInMind: string[];
}

export function lostAccessHelpCard(answer: LostAccessAnswer): AdaptiveCard {
  const data: LostAccessHelpCardData = {
    title: answer.title,
    intro: answer.intro,
    memberOf: answer.memberOf,
    invitedBy: answer.invitedBy,
    whoToAsk: answer.whoToAsk,
    whatYouSee: answer.whatYouSee,
    keepInMind: answer.keepInMind,
  };
  return expandCard('lostAccessHelp', data);
}
