import { blockingSettingTitle, methodLabel, methodWithArticle, refusalWarning } from '../../../domain/signInWording';
import type { AdviceAnswer } from '../../../usecases/guestHelp/guestHelpService';
import { expandCard, type AdaptiveCard } from '../../cards';

/** The data of cards/signInAdvice.json. */
export interface SignInAdviceCardData {
  title: string;
  email: string;
  methodLine: string;
  confidenceLine: string;
  syncLine: string;
  isBlocked: boolean;
  blockedExplanation: string;
  blockedSetting: string;
  blockedWhoCanChange: string;
  reasonsTitle: string;
  reasons: string[];
  nextSteps: string[];
  warnings: string[];
  hasTenantLink: boolean;
  isGuestReader: boolean;
  tenantLinkTitle: string;
  tenantSignInUrl: string;
  tenantName: string;
}

export function signInAdviceCard(answer: AdviceAnswer): AdaptiveCard {
  return expandCard('signInAdvice', signInAdviceCardData(answer));
}

/** How the advice reads in the card: one line per fact, the refusing setting in its own box. */
export function signInAdviceCardData(answer: AdviceAnswer): SignInAdviceCardData {
  const { advice, email, tenantName, readerIsTheGuest } = answer;
  let methodLine: string;
  if (advice.subject === 'blocked') methodLine = 'None: an invitation would be refused';
  else if (advice.subject === 'internalUser') methodLine = `Internal ${tenantName} account: no invitation needed`;
  else if (advice.method === null) methodLine = 'Unknown';
  else if (advice.confidence === 'depends' || (advice.otherwise && advice.method === 'microsoftAccount')) {
    methodLine = `${cap(methodLabel(advice.method))} if they have one; otherwise ${methodWithArticle(advice.otherwise ?? 'emailOneTimePasscode')}`;
  } else methodLine = cap(methodLabel(advice.method));
  const confidenceLine =
    advice.confidence === 'certain'
      ? "Certain: decided by the tenant's settings and the domain"
      : advice.confidence === 'likely'
        ? advice.method === 'workOrSchoolAccount' && !advice.reasons.some((r) => /could not check/.test(r))
          ? 'Likely: Microsoft checks the person, not only the domain (see why)'
          : 'Likely: something could not be checked just now'
        : 'Depends on whether they have a personal Microsoft account, which cannot be known in advance';
  const syncLine = advice.syncAvailable === true ? 'Available' : advice.syncAvailable === false ? 'Not available' : 'Depends on how they sign in';
  const blocker = advice.blockedBy;
  // The red box says why, which setting and who can change it: the lists keep only what it does not.
  const reasons = blocker ? advice.reasons.filter((r) => r !== blocker.explanation) : advice.reasons;
  const warnings = blocker ? advice.warnings.filter((w) => w !== refusalWarning(email.display, blocker)) : advice.warnings;
  return {
    title: advice.subject === 'existingGuest' ? 'How this guest signs in' : 'Which sign-in they will get',
    email: email.display,
    methodLine,
    confidenceLine,
    syncLine,
    isBlocked: blocker !== null,
    blockedExplanation: blocker?.explanation ?? '',
    blockedSetting: blocker ? blockingSettingTitle(blocker.setting) : '',
    blockedWhoCanChange: blocker?.whoCanChange ?? '',
    reasonsTitle: blocker ? 'Other settings that would also refuse it' : 'Why',
    reasons,
    nextSteps: advice.guestNextSteps,
    warnings,
    hasTenantLink: advice.tenantSignInUrl !== null,
    // "Your sign-in link" and its button are for the guest; anyone else is given the link to pass on.
    isGuestReader: readerIsTheGuest,
    tenantLinkTitle: readerIsTheGuest ? 'Your sign-in link' : `The ${tenantName} sign-in link, to give them`,
    tenantSignInUrl: advice.tenantSignInUrl ?? '',
    tenantName: tenantName,
  };
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
