import type { OtpHelpAnswer } from '../../../usecases/guestHelp/otpHelp';
import { expandCard, type AdaptiveCard } from '../../cards';

/** The data of cards/guestOtpHelp.json: the use case's answer plus what became of a reset request. */
export interface GuestOtpHelpCardData extends OtpHelpAnswer {
  hasResetStatus: boolean;
  resetStatus: string;
}

/**
 * The one-time passcode answer. With `resetStatus` (the answer to the reset button), the card
 * says what became of the request instead of offering the button again.
 */
export function guestOtpHelpCard(answer: OtpHelpAnswer, resetStatus?: string): AdaptiveCard {
  const data: GuestOtpHelpCardData = {
    ...answer,
    showReset: resetStatus === undefined ? answer.showReset : false,
    hasResetStatus: resetStatus !== undefined,
    resetStatus: resetStatus ?? '',
  };
  return expandCard('guestOtpHelp', data);
}
