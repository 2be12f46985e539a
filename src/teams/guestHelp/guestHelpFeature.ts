import type { Attachment, InvokeResponse } from 'botbuilder';
import { isDirectoryError, type Directory } from '../../usecases/ports/Directory';
import type { DirectoryUser, GroupInfo, TenantPolicies, UserSummary } from '../../domain/tenant';
import { extractEmail, type EmailAddress } from '../../domain/email';
import { trimEndChars } from '../../domain/text';
import type { SignInAdvice, SignInMethod } from '../../domain/signInAdvice';
import {
  blockingSettingTitle,
  methodFromIdentities,
  methodLabel,
  methodWithArticle,
  OTP_CODE_VALID_MINUTES,
  OTP_SESSION_HOURS,
  otpSignInAdvice,
  providerTurnedOff,
  refusalWarning,
  RESET_NEEDED_WARNING,
  signInUrlFor,
} from '../../domain/signInRules';
import type { Logger } from '../../shared/logger';
import type { InvitationRecord, InvitationRepository, InvitationState } from '../../adapters/sqlite/invitations';
import type { ResetRequestSink } from '../../adapters/sqlite/resetRequests';
import { InvalidEmailError, type SignInAdvisorPort } from '../../usecases/signIn/signInAdvisor';
import { expandCard, renderCard, cardAttachment, type AdaptiveCard } from '../cards';
import {
  GUEST_HELP_DIALOG_ID,
  GuestHelpDialog,
  type GuestHelpDialogOptions,
  type GuestHelpResponder,
  type GuestHelpTopic,
} from './GuestHelpDialog';
import type { BotFeature } from '../bot/feature';
import type { Actor } from '../../domain/actor';
import { cardInvokeResponse } from '../bot/invokeResponse';

export const RESET_VERB = 'guestHelp.requestReset';

export interface GuestHelpServices {
  directory: Directory;
  advisor: SignInAdvisorPort;
  resetRequests: ResetRequestSink;
  /** Who invited a guest, and to which site: named in the "I lost access" answer when present. */
  invitations?: Pick<InvitationRepository, 'listByEmail'>;
  logger?: Pick<Logger, 'info' | 'warn'>;
}

// ---------------------------------------------------------------------------------------------
// Understanding the question

const SIGN_IN_WORDS = /\b(sign[- ]?in|log[- ]?in|get|method|account)\b/i;
const OTHER_FEATURES = /^\s*(invite|add|remove|approve|reject|bulk|import|upload)\b|\b(csv|approv\w*)\b/i;
const QUESTION = /\?\s*$|^\s*(why|how|what|where|when|who|which|can|could|do|does|did|is|are|will|should)\b/i;
const GUEST_WORDS = /\b(guest|sign\w*|log\w*|access|account|password|code|site|files?|library|teams)\b/i;

/**
 * Whether `second` occurs after the first occurrence of `first`: what `first.*second` tests,
 * without its backtracking (which retried from every match of `first`: quadratic).
 */
function laterInText(text: string, first: RegExp, second: RegExp): boolean {
  const found = first.exec(text);
  return found !== null && second.test(text.slice(found.index + found[0].length));
}

/** What a message asks, or null when it is none of guest help's business. */
export function classifyGuestQuestion(text: string): GuestHelpTopic | null {
  const t = text.trim();
  if (!t) return null;
  const mentionsAddress = extractEmail(t).kind !== 'none';
  if (mentionsAddress) {
    return SIGN_IN_WORDS.test(t) && !OTHER_FEATURES.test(t) ? 'advice' : null;
  }
  if (laterInText(t, /\bwhat\s+(sign[- ]?in|login)\b/i, /\b(get|use|have)\b/i) || /\bwhat will (they|he|she|the guest) (get|use)\b/i.test(t)) {
    return 'advice';
  }
  if (/\b(codes?|passcodes?|otp|one[- ]time)\b/i.test(t)) return 'otp';
  if (/\b(sync\w*|onedrive)\b/i.test(t)) return 'sync';
  if (
    laterInText(t, /\b(lost|lose|losing|removed|revoked|no longer|can'?t|cannot|denied)\b/i, /\baccess\b/i) ||
    laterInText(t, /\baccess\b/i, /\b(lost|removed|revoked|denied|gone)\b/i) ||
    /\blocked out\b/i.test(t)
  ) {
    return 'lostAccess';
  }
  if (/^(?:guest help|help me sign in|sign-?in help)$/i.test(trimEndChars(t, '.!? \t').trim())) return 'menu';
  return null;
}

/** An unrecognised question that guest help should answer with its menu rather than a guess. */
function isUnansweredGuestQuestion(text: string, askerIsGuest: boolean): boolean {
  if (!QUESTION.test(text) || OTHER_FEATURES.test(text) || /\binvit\w*/i.test(text)) return false;
  return askerIsGuest || GUEST_WORDS.test(text);
}

// ---------------------------------------------------------------------------------------------
// Who is asking

type Asker =
  | { kind: 'unknown'; policies: TenantPolicies }
  | { kind: 'member'; policies: TenantPolicies; user: DirectoryUser }
  | {
      kind: 'guest';
      policies: TenantPolicies;
      user: DirectoryUser;
      email: string | null;
      advice: SignInAdvice | null;
      /** How they redeemed; null while pending or unknown. */
      method: SignInMethod | null;
    };

function guestAddress(user: DirectoryUser): string | null {
  return user.mail ?? user.otherMails[0] ?? null;
}

function day(iso: string | null): string {
  return iso ? iso.slice(0, 10) : 'an earlier date';
}

// ---------------------------------------------------------------------------------------------
// Answers

export class GuestHelpAnswers implements GuestHelpResponder {
  constructor(private readonly services: GuestHelpServices) {}

  /** `withAdvice: false` skips the sign-in advisor (answers that only need the account itself). */
  async whoIsAsking(actor: Actor | null, options: { withAdvice?: boolean } = {}): Promise<Asker> {
    const policies = await this.services.directory.readPolicies();
    // The actor id is only meaningful in the tenant whose directory we read.
    if (!actor || actor.tenantId !== policies.tenantId) return { kind: 'unknown', policies };
    const user = await this.services.directory.getUser(actor.userId);
    if (!user) return { kind: 'unknown', policies };
    if (user.kind === 'member') return { kind: 'member', policies, user };
    const email = guestAddress(user);
    let advice: SignInAdvice | null = null;
    if (email && options.withAdvice !== false) {
      try {
        advice = await this.services.advisor.advise(email, { user });
      } catch (e) {
        if (!(e instanceof InvalidEmailError)) throw e;
      }
    }
    const method =
      user.externalUserState === 'Accepted' ? methodFromIdentities(user.identities, policies) : null;
    return { kind: 'guest', policies, user, email, advice, method };
  }

  async answer(topic: Exclude<GuestHelpTopic, 'advice'>, actor: Actor | null): Promise<Attachment> {
    if (topic === 'menu') return menuCard();
    if (topic === 'lostAccess') return renderCard('lostAccessHelp', await this.lostAccess(actor));
    const asker = await this.whoIsAsking(actor);
    switch (topic) {
      case 'otp':
        return cardAttachment(otpCard(asker));
      case 'sync':
        return renderCard('syncHelp', syncData(asker));
    }
  }

  /**
   * "I lost access", from the asker's own account: for a guest, the groups they are still in
   * (with owners) and who invited them. Any directory failure gives the generic answer instead.
   */
  async lostAccess(actor: Actor | null): Promise<LostAccessData> {
    let asker: Asker;
    try {
      asker = await this.whoIsAsking(actor, { withAdvice: false });
    } catch (e) {
      this.fellBack('account', e);
      return lostAccessData(null, null);
    }
    if (asker.kind !== 'guest') return lostAccessData(asker, null);
    let groups: GuestGroups;
    try {
      groups = await this.guestGroups(asker.user.id);
    } catch (e) {
      this.fellBack('groups', e);
      return lostAccessData(asker, null);
    }
    return lostAccessData(asker, { ...groups, invitations: await this.invitationsOf(asker) });
  }

  private async guestGroups(userId: string): Promise<GuestGroups> {
    const all = await this.services.directory.listMemberGroups(userId);
    const shown = [...all].sort((a, b) => a.displayName.localeCompare(b.displayName)).slice(0, MAX_GROUPS_SHOWN);
    const withOwners = await Promise.all(
      shown.map(async (group) => ({ group, owners: await this.services.directory.listGroupOwners(group.id) })),
    );
    return { total: all.length, memberGroupIds: new Set(all.map((g) => g.id)), groups: withOwners };
  }

  /** The guest's invitations that reached the directory, one per group, newest first; none when the store fails. */
  private async invitationsOf(asker: Extract<Asker, { kind: 'guest' }>): Promise<InvitationRecord[]> {
    const repository = this.services.invitations;
    if (!repository) return [];
    const { user, policies } = asker;
    const addresses = [...new Set([user.mail, ...user.otherMails].filter((a): a is string => !!a).map((a) => a.toLowerCase()))];
    try {
      const lists = await Promise.all(addresses.map((a) => repository.listByEmail(policies.tenantId, a, { limit: 20 })));
      const newestPerGroup = new Map<string, InvitationRecord>();
      for (const record of lists.flat().sort((a, b) => b.createdAt.localeCompare(a.createdAt))) {
        // An address can outlive an account (deleted, invited again): only this account's invitations count.
        const ours = record.userId === null || record.userId === user.id;
        if (ours && INVITED_STATES.has(record.state) && !newestPerGroup.has(record.groupId)) {
          newestPerGroup.set(record.groupId, record);
        }
      }
      return [...newestPerGroup.values()].slice(0, MAX_INVITATIONS_SHOWN);
    } catch (e) {
      this.fellBack('invitations', e);
      return [];
    }
  }

  /** Logs why an answer is less specific than it could be: the failure's kind only, no names, ids or addresses. */
  private fellBack(step: 'account' | 'groups' | 'invitations', e: unknown): void {
    this.services.logger?.warn(
      {
        step,
        code: isDirectoryError(e) ? e.code : 'unexpected',
        graphCode: isDirectoryError(e) ? e.graphCode : undefined,
        errorType: e instanceof Error ? e.name : typeof e,
      },
      'lost-access answer: could not read the asker\'s access; answered without it',
    );
  }

  async advice(email: EmailAddress, actor: Actor | null): Promise<Attachment> {
    const asker = await this.whoIsAsking(actor);
    const advice = await this.services.advisor.advise(email.address);
    // Guests may ask about anyone, but only members learn who else is in the directory.
    const askingAboutSelf = asker.kind === 'guest' && asker.user.id === advice.existing?.userId;
    const redact = asker.kind !== 'member' && advice.existing !== null && !askingAboutSelf;
    return renderCard('signInAdvice', adviceData(redact ? redacted(advice) : advice, email, asker.policies, askingAboutSelf));
  }

  async requestReset(actor: Actor | null): Promise<InvokeResponse> {
    const asker = await this.whoIsAsking(actor);
    if (asker.kind !== 'guest' || asker.user.externalUserState !== 'Accepted' || !actor) {
      return cardInvokeResponse(
        expandCard('guestOtpHelp', {
          ...otpCardData(asker),
          showReset: false,
          hasResetStatus: true,
          resetStatus:
            'Only guests who have accepted their invitation can ask for a sign-in reset, so nothing was recorded.',
        }),
      );
    }
    const receipt = await this.services.resetRequests.submit({
      tenantId: asker.policies.tenantId,
      userId: asker.user.id,
      userName: asker.user.displayName,
      email: asker.email ?? asker.user.userPrincipalName,
      redeemedWith: asker.method,
      reason:
        asker.advice?.warnings.includes(RESET_NEEDED_WARNING) === true
          ? 'Redeemed with a one-time passcode; their organisation now has Microsoft Entra ID.'
          : `Asked from the guest help card (signs in with: ${asker.method ? methodLabel(asker.method) : 'unknown'}).`,
    });
    this.services.logger?.info(
      { userId: asker.user.id, requestId: receipt.request.id, alreadyOpen: receipt.alreadyOpen },
      'redemption reset requested',
    );
    const resetStatus = receipt.alreadyOpen
      ? `You already asked on ${day(receipt.request.requestedAt)}. Your request is recorded; an admin will review it.`
      : 'Recorded: an admin will review your request. Nothing changes until they reset your sign-in; then you accept the invitation again with your current account.';
    return cardInvokeResponse(
      expandCard('guestOtpHelp', { ...otpCardData(asker), showReset: false, hasResetStatus: true, resetStatus }),
    );
  }
}

function menuCard(): Attachment {
  return renderCard('guestHelpMenu', {
    title: 'Guest help',
    intro: "I'm not sure what you're asking. Here is what I can answer:",
    questions: [
      { title: 'Why do I get a code?', example: 'why did I get a code?' },
      { title: 'My code expired', example: 'my code expired' },
      { title: 'How do I sync files?', example: 'how do I sync?' },
      { title: 'I lost access', example: 'I lost access' },
      { title: 'What sign-in will someone get?', example: 'what sign-in will they get?' },
    ],
  });
}

const OTP_FACTS = (policies: TenantPolicies): string[] => [
  `A code is valid for ${OTP_CODE_VALID_MINUTES} minutes. If it expired, choose "Send code" again on the sign-in page to get a new one.`,
  `After you sign in, your session lasts ${OTP_SESSION_HOURS} hours; after that you get a new code.`,
  // Current guidance (the link itself is the card's button, shown once):
  // https://learn.microsoft.com/en-us/entra/external-id/one-time-passcode#sign-in-endpoints
  otpSignInAdvice(policies.tenantDisplayName),
];

interface OtpCardData extends Record<string, unknown> {
  title: string;
  intro: string;
  why: string[];
  facts: string[];
  resetAdvice: string[];
  hasTenantLink: boolean;
  tenantSignInUrl: string;
  tenantName: string;
  showReset: boolean;
  hasResetStatus: boolean;
  resetStatus: string;
}

function otpCardData(asker: Asker): OtpCardData {
  const policies = asker.policies;
  const base: OtpCardData = {
    title: 'Why you get a one-time passcode',
    intro: '',
    why: [],
    facts: [],
    resetAdvice: [],
    hasTenantLink: false,
    tenantSignInUrl: signInUrlFor(policies.tenantId),
    tenantName: policies.tenantDisplayName,
    showReset: false,
    hasResetStatus: false,
    resetStatus: '',
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

function otpCard(asker: Asker): AdaptiveCard {
  return expandCard('guestOtpHelp', otpCardData(asker));
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

function syncData(asker: Asker): Record<string, unknown> {
  const policies = asker.policies;
  const link = signInUrlFor(policies.tenantId);
  const common = {
    title: 'Syncing shared files with OneDrive',
    requirements: SYNC_REQUIREMENTS,
    steps: [] as string[],
    alternatives: [] as string[],
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

/** How much of a guest's access the lost-access answer names. */
const MAX_GROUPS_SHOWN = 5;
const MAX_OWNERS_SHOWN = 3;
const MAX_INVITATIONS_SHOWN = 3;

/** Invitation states in which the directory step happened: someone really invited this guest. */
const INVITED_STATES: ReadonlySet<InvitationState> = new Set<InvitationState>(['invited', 'completed', 'partial']);

interface GuestGroups {
  /** How many groups the guest is a direct member of (all of them, not only those shown). */
  total: number;
  memberGroupIds: ReadonlySet<string>;
  /** The first MAX_GROUPS_SHOWN by name, with their owners. */
  groups: Array<{ group: GroupInfo; owners: UserSummary[] }>;
}

interface GuestAccess extends GuestGroups {
  invitations: InvitationRecord[];
}

/** The data of cards/lostAccessHelp.json. */
export interface LostAccessData extends Record<string, unknown> {
  title: string;
  intro: string;
  /** Groups the guest is still a member of; `owners` is one line of names. */
  memberOf: Array<{ name: string; owners: string }>;
  invitedBy: string[];
  whoToAsk: string[];
  whatYouSee: string[];
  keepInMind: string[];
}

const WHAT_YOU_SEE = [
  'OneDrive shows a notification that the library cannot be synced.',
  'The OneDrive icon in the notification area shows an error.',
  'In the OneDrive activity center, a banner says "One or more libraries could not be synced"; select it to see how to resolve it.',
  'In the browser or in Teams, the site or files say you do not have access.',
];

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

function ownersLine(owners: readonly UserSummary[]): string {
  if (owners.length === 0) return 'none listed';
  const names = owners.slice(0, MAX_OWNERS_SHOWN).map((o) => o.displayName || 'an owner whose name I cannot read');
  const more = owners.length - names.length;
  return more > 0 ? `${names.join(', ')} and ${more} more` : names.join(', ');
}

/** The people who invited the guest, each once, newest invitation first. */
function inviterNames(invitations: readonly InvitationRecord[]): string[] {
  return [...new Set(invitations.map((r) => r.requestedBy.name).filter((n) => n.trim() !== ''))];
}

/**
 * The lost-access card's data. `asker` null: the account could not be read; `access` null: not a
 * guest, or their groups could not be read. Both give the generic answer.
 */
function lostAccessData(asker: Asker | null, access: GuestAccess | null): LostAccessData {
  const tenantName = asker?.policies.tenantDisplayName ?? 'this organisation';
  const guest = asker?.kind === 'guest' ? asker : null;
  // Only work-or-school guests can sync: OneDrive errors and synced copies are theirs alone
  // (and the unknown/members, who may sync). Pending guests never got in at all.
  const pending = guest !== null && guest.user.externalUserState !== 'Accepted';
  const canSync = !guest || guest.method === 'workOrSchoolAccount';
  const stranded = guest && !pending ? providerTurnedOff(guest.method, guest.user, guest.policies) : null;
  const keepInMind = [
    ...(canSync ? ['Files you synced stay on your device after access is removed; they simply stop updating.'] : []),
    'If access was removed by mistake, a site owner can add you back; a new invitation is only needed if your guest account was deleted.',
  ];
  if (guest?.method === 'emailOneTimePasscode' && !stranded) {
    keepInMind.unshift(`If you only cannot sign in: ${otpSignInAdvice(guest.policies.tenantDisplayName)}`);
  }
  if (stranded) {
    keepInMind.unshift(
      `${stranded.replace(/^They /, 'You ')} That alone stops you signing in: ask an admin to reset your sign-in (redemption) (say "why did I get a code?" for the button).`,
    );
  }
  if (pending) {
    keepInMind.unshift("You have not accepted your invitation yet: open the invitation link first (from the invitation email or the person who invited you).");
  }
  const generic: LostAccessData = {
    title: 'If you lost access',
    intro: `When a site owner removes your permission, or your guest account in ${tenantName} is deleted, you can no longer open what was shared with you.`,
    memberOf: [],
    invitedBy: [],
    whoToAsk:
      asker?.kind === 'member'
        ? ['Your IT help desk, or an owner of the site.']
        : ['The person who invited you, or an owner of the team or site you were using.'],
    whatYouSee: canSync ? [...WHAT_YOU_SEE] : [WHAT_YOU_SEE[WHAT_YOU_SEE.length - 1] ?? ''],
    keepInMind,
  };
  if (asker?.kind !== 'guest' || !access) return generic;

  const invitedBy = access.invitations.map(
    (r) =>
      `${r.requestedBy.name} invited you to ${r.siteName} on ${day(r.createdAt)}.${access.memberGroupIds.has(r.groupId) ? '' : ' You are not a member there now.'}`,
  );
  const inviters = inviterNames(access.invitations);

  if (access.total === 0) {
    return {
      ...generic,
      intro: `You are no longer a member of any team or site in ${tenantName}: access to those sites was removed.`,
      invitedBy,
      whoToAsk: [
        ...(inviters.length > 0
          ? inviters.map((name) => `${name}, who invited you: ask them to add you back.`)
          : ['The person who invited you: ask them to add you back.']),
        'Or an owner of the team or site you were using.',
      ],
    };
  }

  const shown = access.groups.length;
  return {
    ...generic,
    intro:
      `You are still a member of ${plural(access.total, 'team or group', 'teams or groups')} in ${tenantName}` +
      `${access.total > shown ? ` (the first ${shown} are listed)` : ''}. ` +
      'If what you can no longer open is listed, ask one of its owners to check your permission; if it is not, your membership of it was removed or it was shared with you another way.',
    memberOf: access.groups.map(({ group, owners }) => ({
      name: group.displayName || 'A group whose name I cannot read',
      owners: ownersLine(owners),
    })),
    invitedBy,
    whoToAsk: [
      ...(inviters.length > 0 ? inviters.map((name) => `${name}, who invited you.`) : ['The person who invited you.']),
      'An owner of the team or site you lost (the owners of those you are still in are listed above).',
    ],
  };
}

function redacted(advice: SignInAdvice): SignInAdvice {
  return {
    ...advice,
    reasons: ['This address already has a guest account here. Ask the site owner or the person who invited them for details.'],
    guestNextSteps: [],
    warnings: [],
    existing: null,
  };
}

function adviceData(advice: SignInAdvice, email: EmailAddress, policies: TenantPolicies, readerIsTheGuest: boolean): Record<string, unknown> {
  let methodLine: string;
  if (advice.subject === 'blocked') methodLine = 'None: an invitation would be refused';
  else if (advice.subject === 'internalUser') methodLine = `Internal ${policies.tenantDisplayName} account: no invitation needed`;
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
    tenantLinkTitle: readerIsTheGuest ? 'Your sign-in link' : `The ${policies.tenantDisplayName} sign-in link, to give them`,
    tenantSignInUrl: advice.tenantSignInUrl ?? '',
    tenantName: policies.tenantDisplayName,
  };
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

// ---------------------------------------------------------------------------------------------
// The feature

/**
 * Guest help: "why did I get a code?", "how do I sync?", "I lost access", "what sign-in will
 * jane@x.com get?", and the reset-request button. Best placed last among the features, since
 * it answers unrecognised guest questions with its menu.
 */
export function createGuestHelpFeature(services: GuestHelpServices): BotFeature {
  const answers = new GuestHelpAnswers(services);
  const dialog = new GuestHelpDialog(answers);

  return {
    name: 'guestHelp',
    dialogs: [dialog],

    async onMessage(dc, text, actor) {
      // Menu buttons send the question as text (imBack); hosts without imBack send it as value.
      const value = dc.context.activity.value as { guestHelpQuestion?: unknown } | undefined;
      const question = text || (typeof value?.guestHelpQuestion === 'string' ? value.guestHelpQuestion : '');
      const topic = classifyGuestQuestion(question);
      if (topic) {
        const options: GuestHelpDialogOptions = { topic, text: question };
        await dc.beginDialog(GUEST_HELP_DIALOG_ID, options);
        return true;
      }
      if (!QUESTION.test(question)) return false;
      const asker = await answers.whoIsAsking(actor);
      if (!isUnansweredGuestQuestion(question, asker.kind === 'guest')) return false;
      await dc.context.sendActivity({ attachments: [menuCard()] });
      return true;
    },

    async interrupt(dc, text, actor) {
      const topic = classifyGuestQuestion(text);
      if (topic === 'otp') {
        await dc.context.sendActivity({ attachments: [await answers.answer('otp', actor)] });
        return true;
      }
      if (topic === 'advice') {
        const found = extractEmail(text);
        if (found.kind === 'one') {
          await dc.context.sendActivity({ attachments: [await answers.advice(found.email, actor)] });
        } else {
          // Mid-flow we must not take the next message for ourselves: it belongs to the active dialog.
          await dc.context.sendActivity(
            'Ask me with the address, for example: "what sign-in will jane@fabrikam.com get?" — we carry on where we were.',
          );
        }
        return true;
      }
      return false;
    },

    actions: {
      [RESET_VERB]: async (_context, actor) => answers.requestReset(actor),
    },

    help: [
      { title: 'Why do I get a sign-in code?', example: 'why did I get a code?', audience: 'guests' },
      { title: 'How do I sync the files?', example: 'how do I sync?', audience: 'guests' },
      { title: 'I lost access', example: 'I lost access', audience: 'guests' },
      { title: 'Which sign-in will a guest get?', example: 'what sign-in will jane@fabrikam.com get?', audience: 'everyone' },
    ],
  };
}
