/**
 * Data for the approval card templates (cards/approvalRequest.json, approvalPending.json,
 * approvalSubmitted.json). Everything the user typed enters the card only through these
 * data objects; the templates hold no user text.
 */
import { expandCard, type AdaptiveCard } from '../cards';
import type { SignInMethod } from '../../domain/signInAdvice';
import { reasonForApprover } from '../../domain/approvalPolicy';
import type { ApprovalRequest, ApprovalState } from '../../usecases/approvals/model';

export const REQUEST_CARD = 'approvalRequest';
export const PENDING_CARD = 'approvalPending';
export const SUBMITTED_CARD = 'approvalSubmitted';

/** Input ids carry the request id so several requests can share one card (the pending list). */
export const reasonInputId = (requestId: string): string => `reason-${requestId}`;
export const questionInputId = (requestId: string): string => `question-${requestId}`;
export const answerInputId = (requestId: string): string => `answer-${requestId}`;

export interface Fact {
  title: string;
  value: string;
}

type Tone = 'default' | 'good' | 'attention' | 'warning' | 'accent';

/** The status line, notice and outcome that the approver's and the requester's cards share. */
export interface RequestStatusFields extends Record<string, unknown> {
  statusLabel: string;
  statusColor: Tone;
  statusDetail: string;
  hasStatusDetail: boolean;
  notice: string;
  noticeStyle: Tone;
  hasNotice: boolean;
  outcome: string;
  outcomeStyle: Tone;
  hasOutcome: boolean;
}

export interface ApprovalRequestCardData extends RequestStatusFields {
  requestId: string;
  version: number;
  heading: string;
  facts: Fact[];
  hasFacts: boolean;
  warnings: string[];
  hasWarnings: boolean;
  /** Paragraphs: the original justification, then each answer to an approver's question. */
  justification: string[];
  hasJustification: boolean;
  infoQuestion: string;
  hasInfoQuestion: boolean;
  showActions: boolean;
  reasonInputId: string;
  questionInputId: string;
  /** Teams user ids (MRIs, "29:…") whose client refreshes the card automatically; at most 60. */
  refreshUserIds: string[];
  /** False for cards about no particular request. */
  hasRefresh: boolean;
}

export interface PendingListItem extends Record<string, unknown> {
  requestId: string;
  version: number;
  heading: string;
  summary: string;
  facts: Fact[];
  warnings: string[];
  hasWarnings: boolean;
  /** Paragraphs: the original justification, then each answer to an approver's question. */
  justification: string[];
  hasJustification: boolean;
  infoQuestion: string;
  hasInfoQuestion: boolean;
  reasonInputId: string;
  questionInputId: string;
}

export interface PendingListCardData extends Record<string, unknown> {
  heading: string;
  notice: string;
  noticeStyle: Tone;
  hasNotice: boolean;
  hasNone: boolean;
  requests: PendingListItem[];
}

/**
 * The approved invitation as the requester sees it, the same as after a direct invitation: the
 * invitation link (while the guest has not accepted) with how to hand it over, what the guest will
 * see, and whether they can sync.
 */
export interface ApprovedInvitationView {
  redeemUrl: string | null;
  /** The invitation record, for "Send the invitation email". */
  recordId: string | null;
  linkHeading: string;
  emailStatus: string;
  dontOpen: string;
  canSendEmail: boolean;
  guestWillSee: string[];
  syncNote: string;
}

export interface SubmittedCardData extends RequestStatusFields {
  requestId: string;
  heading: string;
  facts: Fact[];
  approversText: string;
  hasApprovers: boolean;
  unreachableText: string;
  hasUnreachable: boolean;
  nextSteps: string[];
  hasNextSteps: boolean;
  infoQuestion: string;
  hasInfoQuestion: boolean;
  answerInputId: string;
  redeemUrl: string;
  hasRedeemUrl: boolean;
  linkHeading: string;
  emailStatus: string;
  dontOpen: string;
  canSendEmail: boolean;
  recordId: string;
  guestWillSee: string[];
  hasGuestWillSee: boolean;
  syncNote: string;
  hasSyncNote: boolean;
  showCancel: boolean;
}

const METHOD_LABELS: Record<SignInMethod, string> = {
  workOrSchoolAccount: 'Their work or school account (their organisation uses Microsoft Entra ID)',
  samlWsFedFederation: "Their organisation's own sign-in (SAML/WS-Fed federation)",
  googleFederation: 'Their Google account',
  microsoftAccount: 'A personal Microsoft account',
  emailOneTimePasscode: 'A one-time passcode sent by email (valid 30 minutes)',
  createMicrosoftAccount: 'They will be asked to create a Microsoft account',
};

export function signInMethodLabel(method: SignInMethod | null): string {
  return method ? METHOD_LABELS[method] : 'Not known yet';
}

/** "15 Jan 2025, 09:00 UTC": one fixed zone, so every copy of a card says the same. */
export function formatInstant(iso: string): string {
  const d = new Date(iso);
  return `${DATE_FORMAT.format(d)}, ${TIME_FORMAT.format(d)} UTC`;
}

// Built once: toLocale*String with options builds a new formatter on every call, which showed in
// the CPU profile of every approval card.
const DATE_FORMAT = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
const TIME_FORMAT = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', hour12: false, timeZone: 'UTC' });

/**
 * Time left until a deadline, rounded to the nearest unit: a 14-day request asked a moment ago
 * "expires in 14 days", not 13 (formatDuration floors, which suits "asked … ago").
 */
export function formatTimeLeft(ms: number): string {
  const minutes = Math.round(Math.max(0, ms) / 60_000);
  if (minutes < 1) return 'less than a minute';
  if (minutes < 60) return plural(minutes, 'minute');
  const hours = Math.round(minutes / 60);
  if (hours < 48) return plural(hours, 'hour');
  return plural(Math.round(hours / 24), 'day');
}

/** A rough duration in words: "just now", "5 minutes", "3 hours", "2 days". */
export function formatDuration(ms: number): string {
  const minutes = Math.floor(Math.max(0, ms) / 60_000);
  if (minutes < 1) return 'less than a minute';
  if (minutes < 60) return plural(minutes, 'minute');
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return plural(hours, 'hour');
  return plural(Math.floor(hours / 24), 'day');
}

/** Each paragraph is its own card line, so a long justification is not cut as one value. */
export function paragraphs(text: string): string[] {
  return text
    .split(/\n\s*\n/)
    .map((p) => p.trim())
    .filter((p) => p !== '');
}

function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

/** "Alex Wilber", "Alex Wilber and Megan Bowen", "A, B and C". */
export function joinNames(names: readonly string[]): string {
  if (names.length <= 1) return names[0] ?? '';
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1] ?? ''}`;
}

const STATE_LABELS: Record<ApprovalState, { label: string; tone: Tone }> = {
  pending: { label: 'Waiting for a decision', tone: 'accent' },
  approved: { label: 'Approved', tone: 'good' },
  rejected: { label: 'Rejected', tone: 'attention' },
  cancelled: { label: 'Cancelled by the requester', tone: 'default' },
  expired: { label: 'Expired without a decision', tone: 'warning' },
};

export function requestTitle(request: ApprovalRequest): string {
  return request.subject.kind === 'invitation'
    ? `Invite ${request.subject.guestName} to ${request.subject.siteName}`
    : `Reset the redemption of ${request.subject.guestName}`;
}

function statusDetail(request: ApprovalRequest, now: Date): string {
  switch (request.state) {
    case 'pending': {
      const left = Date.parse(request.expiresAt) - now.getTime();
      return `Asked ${formatInstant(request.createdAt)}; expires in ${formatTimeLeft(left)} (${formatInstant(request.expiresAt)}).`;
    }
    case 'approved':
    case 'rejected':
      return `${STATE_LABELS[request.state].label} by ${request.decidedBy?.name ?? 'an approver'} on ${formatInstant(request.decidedAt ?? request.createdAt)}.`;
    case 'cancelled':
      return `Cancelled by ${request.requester.name} on ${formatInstant(request.decidedAt ?? request.createdAt)}.`;
    case 'expired':
      return `No approver decided before ${formatInstant(request.expiresAt)}.`;
  }
}

/** The request's facts for its reader: "Why approval" speaks to the requester, and about them to approvers. */
export function requestFacts(request: ApprovalRequest, reader: 'approver' | 'requester' = 'approver'): Fact[] {
  const s = request.subject;
  const facts: Fact[] = [{ title: 'Requested by', value: request.requester.name }];
  if (s.kind === 'invitation') {
    facts.push(
      { title: 'Guest', value: s.guestName },
      { title: 'Email', value: s.guestEmail },
      { title: 'Site', value: s.siteUrl ? `${s.siteName} (${s.siteUrl})` : s.siteName },
      { title: 'Sign-in', value: s.signInSummary ?? signInMethodLabel(s.signInMethod) },
    );
  } else {
    facts.push(
      { title: 'Guest', value: s.guestName },
      { title: 'Email', value: s.guestEmail },
      { title: 'Signs in today with', value: signInMethodLabel(s.currentMethod) },
    );
  }
  const siteName = s.kind === 'invitation' ? s.siteName : null;
  const reasons = reader === 'approver' ? request.reasons.map((r) => reasonForApprover(r, request.requester.name, siteName)) : request.reasons;
  if (reasons.length > 0) facts.push({ title: 'Why approval', value: reasons.join(' ') });
  return facts;
}

function outcomeOf(request: ApprovalRequest): { text: string; tone: Tone } {
  if (request.state === 'rejected') {
    return { text: `Reason: ${request.decisionNote ?? '(none given)'}`, tone: 'attention' };
  }
  if (request.state !== 'approved') return { text: '', tone: 'default' };
  if (!request.outcome) return { text: 'Carrying out the approved request…', tone: 'accent' };
  const tone: Tone =
    request.outcome.status === 'succeeded' ? 'good' : request.outcome.status === 'manualActionRequired' ? 'warning' : 'attention';
  return { text: request.outcome.message, tone };
}

function statusFields(
  request: ApprovalRequest,
  detail: string,
  notice: { text: string; tone?: Tone } | null | undefined,
): RequestStatusFields {
  const state = STATE_LABELS[request.state];
  const outcome = outcomeOf(request);
  return {
    statusLabel: `${requestTitle(request)}: ${state.label}`,
    statusColor: state.tone,
    statusDetail: detail,
    hasStatusDetail: detail !== '',
    notice: notice?.text ?? '',
    noticeStyle: notice?.tone ?? 'accent',
    hasNotice: Boolean(notice?.text),
    outcome: outcome.text,
    outcomeStyle: outcome.tone,
    hasOutcome: outcome.text !== '',
  };
}

export interface RequestCardOptions {
  now: Date;
  /** Show Approve / Reject / Ask buttons (the viewer may decide and the request is pending). */
  showActions: boolean;
  notice?: { text: string; tone?: Tone } | null;
  refreshUserIds?: readonly string[];
  /** Extra warnings for approvers, e.g. "resets are disabled in this deployment". */
  approverWarnings?: readonly string[];
}

export function requestCardData(request: ApprovalRequest, options: RequestCardOptions): ApprovalRequestCardData {
  const detail = statusDetail(request, options.now);
  const warnings = [
    ...(request.subject.kind === 'invitation' ? request.subject.warnings : []),
    ...(options.approverWarnings ?? []),
  ];
  const question = request.state === 'pending' && request.infoRequest
    ? `${request.infoRequest.byName} asked the requester: ${request.infoRequest.question}`
    : '';
  return {
    requestId: request.id,
    version: request.version,
    heading: request.subject.kind === 'invitation' ? 'Guest invitation request' : 'Redemption reset request',
    ...statusFields(request, detail, options.notice),
    facts: requestFacts(request),
    hasFacts: true,
    warnings,
    // "Before you decide" is for a decision still to make.
    hasWarnings: warnings.length > 0 && request.state === 'pending',
    justification: paragraphs(request.justification),
    hasJustification: paragraphs(request.justification).length > 0,
    infoQuestion: question,
    hasInfoQuestion: question !== '',
    showActions: options.showActions && request.state === 'pending',
    reasonInputId: reasonInputId(request.id),
    questionInputId: questionInputId(request.id),
    refreshUserIds: [...(options.refreshUserIds ?? [])],
    hasRefresh: true,
  };
}

export function requestCard(request: ApprovalRequest, options: RequestCardOptions): AdaptiveCard {
  return expandCard(REQUEST_CARD, requestCardData(request, options));
}

/** A request card that reveals nothing about the request: for people who may not see it, or ids that do not exist. */
export function noticeOnlyCardData(message: string, tone: Tone = 'attention'): ApprovalRequestCardData {
  return {
    requestId: '',
    version: 0,
    heading: 'Guest approvals',
    statusLabel: 'Nothing was changed',
    statusColor: 'default',
    statusDetail: '',
    hasStatusDetail: false,
    notice: message,
    noticeStyle: tone,
    hasNotice: true,
    facts: [],
    hasFacts: false,
    warnings: [],
    hasWarnings: false,
    justification: [],
    hasJustification: false,
    infoQuestion: '',
    hasInfoQuestion: false,
    outcome: '',
    outcomeStyle: 'default',
    hasOutcome: false,
    showActions: false,
    reasonInputId: 'reason-none',
    questionInputId: 'question-none',
    refreshUserIds: [],
    hasRefresh: false,
  };
}

export function noticeOnlyCard(message: string, tone: Tone = 'attention'): AdaptiveCard {
  const card = expandCard(REQUEST_CARD, noticeOnlyCardData(message, tone));
  // The template drops the refresh clause to null; a card about nothing has none at all.
  if (card.refresh === null) delete card.refresh;
  return card;
}

export function pendingListCardData(
  requests: readonly ApprovalRequest[],
  now: Date,
  notice: { text: string; tone?: Tone } | null = null,
): PendingListCardData {
  return {
    heading: requests.length === 0 ? 'Pending approvals' : `Pending approvals (${requests.length})`,
    notice: notice?.text ?? '',
    noticeStyle: notice?.tone ?? 'accent',
    hasNotice: Boolean(notice?.text),
    hasNone: requests.length === 0,
    requests: requests.map((r) => {
      const question = r.infoRequest ? `${r.infoRequest.byName} asked the requester: ${r.infoRequest.question}` : '';
      const warnings = r.subject.kind === 'invitation' ? r.subject.warnings : [];
      return {
        requestId: r.id,
        version: r.version,
        heading: requestTitle(r),
        summary: `Asked by ${r.requester.name} ${formatDuration(now.getTime() - Date.parse(r.createdAt))} ago; expires in ${formatTimeLeft(Date.parse(r.expiresAt) - now.getTime())}.`,
        facts: requestFacts(r),
        warnings,
        hasWarnings: warnings.length > 0,
        justification: paragraphs(r.justification),
        hasJustification: paragraphs(r.justification).length > 0,
        infoQuestion: question,
        hasInfoQuestion: question !== '',
        reasonInputId: reasonInputId(r.id),
        questionInputId: questionInputId(r.id),
      };
    }),
  };
}

export function pendingListCard(
  requests: readonly ApprovalRequest[],
  now: Date,
  notice: { text: string; tone?: Tone } | null = null,
): AdaptiveCard {
  return expandCard(PENDING_CARD, pendingListCardData(requests, now, notice));
}

export interface SubmittedCardOptions {
  now: Date;
  /** Who got the card. */
  approvers?: readonly string[];
  /** Who could not be reached. */
  unreachable?: readonly string[];
  notice?: { text: string; tone?: Tone } | null;
  /** Shown to the requester once an approved invitation or reset produced one. */
  redeemUrl?: string | null;
  /** An approved invitation as a direct invitation's result shows it (link, what the guest sees, sync). */
  invitation?: ApprovedInvitationView | null;
}

export function submittedCardData(request: ApprovalRequest, options: SubmittedCardOptions): SubmittedCardData {
  const state = STATE_LABELS[request.state];
  const approvers = options.approvers ?? [];
  const unreachable = options.unreachable ?? [];
  const pending = request.state === 'pending';
  const nextSteps = pending
    ? [
        approvers.length > 0
          ? 'An approver reviews the request in Teams; you get a message here when they decide.'
          : 'The request is kept and waits for an approver: it reaches them as soon as one opens a chat with the bot or says "pending". If it is urgent, let an approver know. You get a message here when they decide.',
        request.subject.kind === 'invitation'
          ? 'If it is approved, the bot invites the guest and gives you the invitation link to pass on.'
          : 'If it is approved, your sign-in is reset and you get a new invitation link here.',
        `Without a decision the request expires on ${formatInstant(request.expiresAt)}.`,
        'You can cancel the request below while it is waiting.',
      ]
    : [];
  const question = pending && request.infoRequest ? `${request.infoRequest.byName} asks: ${request.infoRequest.question}` : '';
  return {
    requestId: request.id,
    heading: pending ? (approvers.length > 0 ? 'Sent for approval' : 'Recorded, waiting for an approver') : `Your request: ${state.label.toLowerCase()}`,
    ...statusFields(request, statusDetail(request, options.now), options.notice),
    facts: requestFacts(request, 'requester'),
    approversText: approvers.length > 0 ? `Sent for approval to ${joinNames(approvers)}.` : '',
    hasApprovers: approvers.length > 0,
    unreachableText:
      unreachable.length > 0
        ? `Could not reach ${joinNames(unreachable)} in Teams (they have not chatted with the bot yet); they get the request as soon as they open a chat with it, and can always see it with "pending".`
        : approvers.length === 0 && pending
          ? 'No approver could be reached in Teams yet. The request is recorded: approvers see it when they say "pending" to the bot.'
          : '',
    hasUnreachable: unreachable.length > 0 || (approvers.length === 0 && pending),
    nextSteps,
    hasNextSteps: nextSteps.length > 0,
    infoQuestion: question,
    hasInfoQuestion: question !== '',
    answerInputId: answerInputId(request.id),
    ...invitationFields(request, options),
    showCancel: pending,
  };
}

function invitationFields(request: ApprovalRequest, options: SubmittedCardOptions) {
  const view = options.invitation ?? null;
  const redeemUrl = view?.redeemUrl ?? options.redeemUrl ?? null;
  const guestName = request.subject.guestName;
  const guestEmail = request.subject.guestEmail;
  return {
    redeemUrl: redeemUrl ?? '',
    hasRedeemUrl: Boolean(redeemUrl),
    linkHeading: view?.linkHeading ?? `Invitation link for ${guestName}`,
    emailStatus: view?.emailStatus ?? `Send ${guestName} this link (a Teams chat or an email): they open it once to accept.`,
    dontOpen: view?.dontOpen ?? `Don't open this link yourself: it is for ${guestName} (${guestEmail}), who accepts it with their own account.`,
    canSendEmail: Boolean(redeemUrl) && (view?.canSendEmail ?? false),
    recordId: view?.recordId ?? '',
    guestWillSee: view?.guestWillSee ?? [],
    hasGuestWillSee: (view?.guestWillSee.length ?? 0) > 0,
    syncNote: view?.syncNote ?? '',
    hasSyncNote: Boolean(view?.syncNote),
  };
}

export function submittedCard(request: ApprovalRequest, options: SubmittedCardOptions): AdaptiveCard {
  return expandCard(SUBMITTED_CARD, submittedCardData(request, options));
}
