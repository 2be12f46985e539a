import type { SyncHelpAnswer } from '../../../usecases/guestHelp/syncHelp';
import { expandCard, type AdaptiveCard } from '../../cards';

/** The data of cards/syncHelp.json: exactly the use case's answer. */
export type SyncHelpCardData = SyncHelpAnswer;

export function syncHelpCard(answer: SyncHelpAnswer): AdaptiveCard {
  const data: SyncHelpCardData = answer;
  return expandCard('syncHelp', data);
}
