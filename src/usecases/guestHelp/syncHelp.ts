/** "How do I sync the files?": what OneDrive B2B Sync needs, and whether the asker can have it. */
import type { SignInMethod } from '../../domain/signInAdvice';
import { providerTurnedOff } from '../../domain/tenantSettingRules';
import { RESET_NEEDED_WARNING } from '../../domain/newGuestPrediction';
import { signInUrlFor } from '../../domain/signInWording';
import type { Asker } from './asker';

/** The answer's content; the Teams layer shows it as the syncHelp card. */
export interface SyncHelpAnswer {
  title: string;
  summary: string;
  /** What sync needs (empty when none of it is the asker's concern). */
  requirements: string[];
  steps: string[];
  /** What works instead, when sync does not. */
  alternatives: string[];
  tenantSignInUrl: string;
  tenantName: string;
  hasTenantLink: boolean;
  /** Offer "Ask an admin to reset my sign-in". */
  showReset: boolean;
}

const SYNC_REQUIREMENTS = [
  'A Microsoft Entra work or school account: personal accounts (Microsoft account, Google, one-time passcode) cannot sync.',
  'Content shared with you at site, library or folder level: single shared files cannot be synced.',
  'A real guest account: content reached through an "Anyone" link cannot be synced.',
];

function syncSteps(email: string | null, tenantName: string, accepted: boolean): string[] {
  return [
    ...(accepted
      ? []
      : ['Accept the invitation first: open the invitation link (from the invitation email or the person who invited you) and sign in with your work or school account.']),
    'Open the site, library or folder from the link you were given, and sign in with your work or school account.',
    'Browse to the library or folder you want, then select Sync.',
    'When the browser asks to open "Microsoft OneDrive", allow it.',
    `If OneDrive asks you to sign in, use the same address${email ? ` (${email})` : ''}.`,
    `Confirm where to put the files: they go in a folder named after ${tenantName}.`,
    'Close the wizard; the files start syncing (the OneDrive cloud icon shows progress).',
  ];
}

/** Why sync is not for this guest, in their method's own terms. */
function noSyncReason(method: SignInMethod | null): string {
  switch (method) {
    case 'samlWsFedFederation':
      return "You sign in through your organisation's own sign-in (SAML/WS-Fed federation), not with a Microsoft Entra work or school account, and OneDrive B2B Sync needs one.";
    case 'googleFederation':
      return 'You sign in with a Google account, and OneDrive B2B Sync needs a Microsoft Entra work or school account.';
    case 'microsoftAccount':
      return 'You sign in with a personal Microsoft account, and OneDrive B2B Sync needs a Microsoft Entra work or school account.';
    case 'emailOneTimePasscode':
      return 'You sign in with one-time passcodes, and OneDrive B2B Sync needs a Microsoft Entra work or school account.';
    default:
      return 'You do not sign in with a Microsoft Entra work or school account, and OneDrive B2B Sync needs one.';
  }
}

export function syncHelpAnswer(asker: Asker): SyncHelpAnswer {
  const policies = asker.policies;
  const link = signInUrlFor(policies.tenantId);
  const common: SyncHelpAnswer = {
    summary: '',
    title: 'Syncing shared files with OneDrive',
    requirements: SYNC_REQUIREMENTS,
    steps: [],
    alternatives: [],
    tenantSignInUrl: link,
    tenantName: policies.tenantDisplayName,
    hasTenantLink: false,
    showReset: false,
  };
  const browserAlternatives = (otp: boolean): string[] => [
    otp
      ? `Open the files in your browser, signing in with the "Sign in to ${policies.tenantDisplayName}" button below.`
      : `Open the files in your browser from the ${policies.tenantDisplayName} site you were given.`,
    'Use the Files tab of the team (or channel) in Teams.',
  ];
  if (asker.kind === 'unknown') {
    return { ...common, summary: "I can't look up your account from this chat; here is what sync needs and how to set it up.", steps: syncSteps(null, policies.tenantDisplayName, false) };
  }
  if (asker.kind === 'member') {
    return {
      ...common,
      summary: `You are a member of ${policies.tenantDisplayName}: open the library and select Sync. The guest requirements below do not apply to you.`,
      requirements: [],
    };
  }
  if (asker.user.externalUserState !== 'Accepted') {
    const method = asker.advice?.method ?? null;
    const work = method === 'workOrSchoolAccount';
    return {
      ...common,
      title: work ? common.title : 'Working with the shared files',
      summary: work
        ? 'You have not accepted your invitation yet. You will most likely sign in with your work or school account, so sync will be available once you have accepted.'
        : 'You have not accepted your invitation yet. With the sign-in you are likely to get, sync will not be available; the browser and Teams will work.',
      requirements: work ? SYNC_REQUIREMENTS : [],
      steps: work ? syncSteps(asker.email, policies.tenantDisplayName, false) : [],
      alternatives: work ? [] : browserAlternatives(false),
    };
  }
  const stranded = providerTurnedOff(asker.method, asker.user, policies);
  if (stranded) {
    return {
      ...common,
      title: 'You cannot sign in right now',
      summary: `${stranded.replace(/^They /, 'You ')} Until an admin resets your sign-in (redemption), you cannot open or sync the files.`,
      requirements: [],
      showReset: true,
    };
  }
  if (asker.method === 'workOrSchoolAccount') {
    return {
      ...common,
      summary: 'You sign in with your work or school account, so you can sync libraries and folders shared with you.',
      steps: syncSteps(asker.email, policies.tenantDisplayName, true),
    };
  }
  const otp = asker.method === 'emailOneTimePasscode';
  const nowHasTenant = asker.advice?.warnings.includes(RESET_NEEDED_WARNING) === true;
  // Nothing can be synced with this sign-in: no "what sync needs" list, no steps, only what works.
  return {
    ...common,
    title: 'Working with the shared files',
    summary: `Sync is not available to you. ${noSyncReason(asker.method)}`,
    requirements: [],
    alternatives: [
      ...browserAlternatives(otp),
      ...(nowHasTenant
        ? ['Your organisation now has Microsoft Entra ID: ask an admin to reset your sign-in; after you accept again with your work account, sync works.']
        : []),
    ],
    hasTenantLink: otp,
    showReset: nowHasTenant,
  };
}
