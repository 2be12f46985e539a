import type { OtpHelpAnswer } from '../../../usecases/guestHelp/otpHelp';
import { expandCard, type AdaptiveCard } from '../../cards';

/** The data of cards/guestOtpHelp.json. */
export interface GuestOtpHelpCardData {
  title: string;
  intro: string;
  why: string[];
  facts: string[];
  resetAdvice: string[];
  hasTenantLink: boolean;
  tenantSignInUrl: string;
  tenantName: string;
  /** The "Ask an admin to reset my sign-in" button. */
  showReset: boolean;
  hasResetStatus: boolean;
  resetStatus: string;
}

/**
 * The one-time passcode answer. With `resetStatus` (the answer to the reset button), the card
 * says what became of the request instead of offering the button again.
 */
export function guestOtpHelpCard(answer: OtpHelpAnswer, resetStatus?: string): AdaptiveCard {
  const data: GuestOtpHelpCardData = {
    title: answer.title,
    intro: answer.intro,
    why: answer.why,
    facts: answer.facts,
    resetAdvice: answer.resetAdvice,
    hasTenantLink: answer.hasTenantLink,
    tenantSignInUrl: answer.tenantSignInUrl,
    tenantName: answer.tenantName,
    showReset: resetStatus === undefined ? answer.showReset : false,
    hasResetStatus: resetStatus !== undefined,
    resetStatus: resetStatus ?? '',
  };
  return expandCard('guestOtpHelp', data);
}
