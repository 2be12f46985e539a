/**
 * What the approval cards share (templates cards/approvalRequest.json, approvalPending.json,
 * approvalSubmitted.json): the status line, notice and outcome, the request's facts, durations and
 * names in words, and the input ids. Everything the user typed enters a card only as data.
 */
import { reasonForApprover } from '../../../domain/approvalPolicy';
import type { ApprovalRequest, ApprovalState } from '../../../usecases/approvals/model';
import { formatInstant, requestTitle, signInMethodLabel } from '../../../usecases/approvals/texts';
import type { AccessTerms } from '../../../usecases/approvals/notifications';
import { accessEndSentence } from '../../../domain/accessEnd';

export const REQUEST_CARD = 'approvalRequest';
export const PENDING_CARD = 'approvalPending';
export const SUBMITTED_CARD = 'approvalSubmitted';

/** Most users Teams auto-refreshes a card for (refresh.userIds). */
export const MAX_REFRESH_USERS = 60;

/** Input ids carry the request id so several requests can share one card (the pending list). */
export const reasonInputId = (requestId: string): string => `reason-${requestId}`;
export const questionInputId = (requestId: string): string => `question-${requestId}`;
export const answerInputId = (requestId: string): string => `answer-${requestId}`;

export interface Fact {
  title: string;
  value: string;
}

export type Tone = 'default' | 'good' | 'attention' | 'warning' | 'accent';

/** The status line, notice and outcome that the approver's and the requester's cards share. */
export interface RequestStatusFields {
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

export const STATE_LABELS: Record<ApprovalState, { label: string; tone: Tone }> = {
  pending: { label: 'Waiting for a decision', tone: 'accent' },
  approved: { label: 'Approved', tone: 'good' },
  rejected: { label: 'Rejected', tone: 'attention' },
  cancelled: { label: 'Cancelled by the requester', tone: 'default' },
  expired: { label: 'Expired without a decision', tone: 'warning' },
};

export function statusDetail(request: ApprovalRequest, now: Date): string {
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
export function requestFacts(request: ApprovalRequest, reader: 'approver' | 'requester' = 'approver', access: AccessTerms | null = null): Fact[] {
  const s = request.subject;
  const facts: Fact[] = [{ title: 'Requested by', value: request.requester.name }];
  if (s.kind === 'invitation') {
    facts.push(
      { title: 'Guest', value: s.guestName },
      { title: 'Email', value: s.guestEmail },
      { title: 'Site', value: s.siteUrl ? `${s.siteName} (${s.siteUrl})` : s.siteName },
      { title: 'Sign-in', value: s.signInSummary ?? signInMethodLabel(s.signInMethod) },
    );
    if (access) facts.push({ title: 'Access', value: accessFact(access, reader) });
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

export function outcomeOf(request: ApprovalRequest): { text: string; tone: Tone } {
  if (request.state === 'rejected') {
    return { text: `Reason: ${request.decisionNote ?? '(none given)'}`, tone: 'attention' };
  }
  if (request.state !== 'approved') return { text: '', tone: 'default' };
  if (!request.outcome) return { text: 'Carrying out the approved request…', tone: 'accent' };
  const tone: Tone =
    request.outcome.status === 'succeeded' ? 'good' : request.outcome.status === 'manualActionRequired' ? 'warning' : 'attention';
  return { text: request.outcome.message, tone };
}

export function statusFields(
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


/**
 * "Access ends on 30 May 2027 if approved today · Sponsor: Megan Bowen (the requester)": the end
 * from GUEST_ACCESS_DAYS (or the site's own period), and the sponsor, who is never the approver.
 */
export function accessFact(access: AccessTerms, reader: 'approver' | 'requester'): string {
  const end = `${accessEndSentence(access.endsAt)}${access.ifApprovedNow && access.endsAt !== null ? ' if approved today' : ''}`;
  const sponsor = reader === 'requester' ? 'you' : `${access.sponsorName} (the requester)`;
  return `${end} · Sponsor: ${sponsor}`;
}
