import type { LostAccessAnswer } from '../../../usecases/guestHelp/lostAccess';
import { expandCard, type AdaptiveCard } from '../../cards';

/** The data of cards/lostAccessHelp.json: exactly the use case's answer. */
export type LostAccessHelpCardData = LostAccessAnswer;

export function lostAccessHelpCard(answer: LostAccessAnswer): AdaptiveCard {
  const data: LostAccessHelpCardData = answer;
  return expandCard('lostAccessHelp', data);
}
