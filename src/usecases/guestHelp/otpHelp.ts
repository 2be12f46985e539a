/**
 * "Why do I get a code?": the answer about one-time passcodes, for the asker's own account.
 * https://learn.microsoft.com/en-us/entra/external-id/one-time-passcode
 */
import type { TenantPolicies } from '../../domain/tenant';
import { methodWithArticle, OTP_CODE_VALID_MINUTES, OTP_SESSION_HOURS, otpSignInAdvice, signInUrlFor } from '../../domain/signInWording';
import { providerTurnedOff } from '../../domain/tenantSettingRules';
import { RESET_NEEDED_WARNING } from '../../domain/newGuestPrediction';
import { day, type Asker } from './asker';

const OTP_FACTS = (policies: TenantPolicies): string[] => [
  `A code is valid for ${OTP_CODE_VALID_MINUTES} minutes. If it expired, choose "Send code" again on the sign-in page to get a new one.`,
  `After you sign in, your session lasts ${OTP_SESSION_HOURS} hours; after that you get a new code.`,
  // Current guidance (the link itself is the card's button, shown once):
  // https://learn.microsoft.com/en-us/entra/external-id/one-time-passcode#sign-in-endpoints
  otpSignInAdvice(policies.tenantDisplayName),
];

/** The answer's content; the Teams layer shows it as the guestOtpHelp card. */
export interface OtpHelpAnswer {
  title: string;
  intro: string;
  why: string[];
  facts: string[];
  resetAdvice: string[];
  /** Show the tenant-specific sign-in link (tenantSignInUrl). */
  hasTenantLink: boolean;
  tenantSignInUrl: string;
  tenantName: string;
  /** Offer "Ask an admin to reset my sign-in". */
  showReset: boolean;
}

export function otpHelpAnswer(asker: Asker): OtpHelpAnswer {
  const policies = asker.policies;
  const base: OtpHelpAnswer = {
    title: 'Why you get a one-time passcode',
    intro: '',
    why: [],
    facts: [],
    resetAdvice: [],
    hasTenantLink: false,
    tenantSignInUrl: signInUrlFor(policies.tenantId),
    tenantName: policies.tenantDisplayName,
    showReset: false,
  };
  if (asker.kind === 'unknown') {
    return {
      ...base,
      intro: `I can't look up your account from this chat, so here is how one-time passcodes work for guests of ${policies.tenantDisplayName}.`,
      why: [
        'Entra sends a one-time passcode only when nothing else applies: no Microsoft Entra work or school account for your address, no federation with your organisation, no Google federation, and no personal Microsoft account used.',
      ],
      facts: OTP_FACTS(policies),
      hasTenantLink: true,
    };
  }
  if (asker.kind === 'member') {
    return {
      ...base,
      title: 'About sign-in codes',
      intro: `You are a member of ${policies.tenantDisplayName}, not a guest, so guest one-time passcodes don't apply to you. A code you received is likely a verification step of your own sign-in (multi-factor authentication); your IT help desk can help.`,
    };
  }
  const { user } = asker;
  const domain = asker.advice?.domain ?? (asker.email ?? '').split('@')[1] ?? 'your domain';
  if (user.externalUserState !== 'Accepted') {
    const advice = asker.advice;
    return {
      ...base,
      title: 'Your invitation is not accepted yet',
      intro: `You haven't accepted your invitation to ${policies.tenantDisplayName} yet. ${advice?.method ? `When you do, you will most likely sign in with ${methodWithArticle(advice.method, 'you')}${advice.otherwise ? ` (otherwise: ${methodWithArticle(advice.otherwise, 'you')})` : ''}.` : ''}`.trim(),
      why: advice?.reasons ?? [],
      facts: advice && (advice.method === 'emailOneTimePasscode' || advice.otherwise === 'emailOneTimePasscode') ? OTP_FACTS(policies) : [],
      hasTenantLink: advice?.tenantSignInUrl !== null && advice?.tenantSignInUrl !== undefined,
    };
  }
  const stranded = providerTurnedOff(asker.method, user, policies);
  if (stranded) {
    return {
      ...base,
      title: 'You cannot sign in until an admin resets your sign-in',
      intro: `${stranded.replace(/^They /, 'You ')} Until an admin resets your sign-in (redemption), you cannot sign in to ${policies.tenantDisplayName}. After the reset you accept the invitation again and sign in with whatever applies to you now.`,
      resetAdvice: ['Choose "Ask an admin to reset my sign-in" below: the request goes to the approvers.'],
      showReset: true,
    };
  }
  if (asker.method !== 'emailOneTimePasscode') {
    const label = asker.method ? methodWithArticle(asker.method, 'you') : 'the account you used when you accepted';
    return {
      ...base,
      title: 'You do not sign in with one-time passcodes',
      intro: `You sign in to ${policies.tenantDisplayName} with ${label}, not with guest one-time passcodes. A code you received is likely a verification step (multi-factor authentication) of that sign-in.`,
      resetAdvice: [
        'If you want to sign in with a different kind of account, an admin can reset your sign-in; you then accept the invitation again.',
      ],
      showReset: true,
    };
  }
  const nowHasTenant = asker.advice?.warnings.includes(RESET_NEEDED_WARNING) === true;
  return {
    ...base,
    intro: `${user.displayName}, you accepted your invitation to ${policies.tenantDisplayName} on ${day(user.externalUserStateChangeDateTime)} with a one-time passcode sent to ${asker.email ?? 'your email address'}.`,
    why: [
      `Entra uses a one-time passcode only when nothing else applies. When you accepted, it found no Microsoft Entra work or school account for ${domain}, no federation with your organisation, and you did not sign in with a personal Microsoft account.`,
      'Entra keeps the method chosen when you accepted, so you keep getting codes.',
    ],
    facts: OTP_FACTS(policies),
    resetAdvice: nowHasTenant
      ? [
          `${domain} now has Microsoft Entra ID (a work account), but that does not change how you sign in here until an admin resets your sign-in (redemption).`,
          'After the reset you accept the invitation again with your work account, and OneDrive sync becomes possible.',
        ]
      : [
          'If you have since got a work or school account or a Microsoft account for this address, nothing changes until an admin resets your sign-in (redemption).',
        ],
    hasTenantLink: true,
    showReset: true,
  };
}
