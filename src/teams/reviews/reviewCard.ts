/** Data and builder for cards/review.json: one site's access review, as an owner or an approver sees it. */
import { methodLabel } from '../../domain/signInWording';
import type { InactivityVerdict } from '../../domain/inactivity';
import type { ReviewGuestRow, ReviewPerson, ReviewView } from '../../usecases/reviews/ports';
import { expandCard, type AdaptiveCard } from '../cards';

export type Tone = 'default' | 'good' | 'attention' | 'warning' | 'accent';

export interface ReviewCardFact {
  title: string;
  value: string;
}

export interface ReviewCardGuest {
  roundId: string;
  userId: string;
  name: string;
  email: string;
  /** "  · INACTIVE" when flagged, else empty. */
  flag: string;
  facts: ReviewCardFact[];
  decided: boolean;
  decision: string;
  decisionColor: 'Good' | 'Attention' | 'Warning' | 'Default';
  removeWarning: string;
  removeTitle: string;
}

export interface ReviewCardData {
  roundId: string;
  heading: string;
  summary: string;
  banner: string;
  hasBanner: boolean;
  notice: string;
  noticeStyle: Tone;
  hasNotice: boolean;
  signInWarning: string;
  hasSignInWarning: boolean;
  guests: ReviewCardGuest[];
  hasMore: boolean;
  moreText: string;
  hasUndecided: boolean;
}

const DAY_MS = 24 * 60 * 60_000;

export function formatDay(iso: string | null): string {
  if (!iso || !Number.isFinite(Date.parse(iso))) return 'unknown';
  return new Date(iso).toLocaleDateString('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
}

function ago(iso: string, now: Date): string {
  const days = Math.max(0, Math.floor((now.getTime() - Date.parse(iso)) / DAY_MS));
  if (days === 0) return 'today';
  return days === 1 ? 'yesterday' : `${days} days ago`;
}

const BASIS: Record<string, string> = {
  interactive: 'interactive',
  nonInteractive: 'non-interactive, e.g. Teams',
  successful: 'successful sign-in',
};

/** "Last sign-in" as a reviewer reads it: when, which kind, and why it is unknown when it is. */
export function lastSignInText(row: ReviewGuestRow, now: Date): string {
  const a: InactivityVerdict = row.activity;
  if (a.status === 'unknown') {
    if (a.reason === 'noDate') return 'unknown (nothing recorded)';
    return 'unknown (no access to sign-in data)';
  }
  if (row.lastSignInAt) {
    const basis = a.status !== 'excluded' && a.basis && BASIS[a.basis] ? ` (${BASIS[a.basis]})` : '';
    return `${formatDay(row.lastSignInAt)}, ${ago(row.lastSignInAt, now)}${basis}`;
  }
  if (a.status === 'excluded') return 'none recorded';
  return a.basis === 'invitation' ? `never: has not accepted the invitation (sent ${ago(a.lastActivityAt, now)})` : `none recorded since accepting (${ago(a.lastActivityAt, now)})`;
}

function decisionText(row: ReviewGuestRow): { text: string; color: ReviewCardGuest['decisionColor'] } {
  const d = row.decision;
  if (!d) return { text: '', color: 'Default' };
  const when = formatDay(d.at);
  if (d.decision === 'keep') return { text: `Kept by ${d.by.name} on ${when}`, color: 'Good' };
  switch (d.outcome) {
    case 'removed':
      return { text: `Removed by ${d.by.name} on ${when}`, color: 'Attention' };
    case 'alreadyEnded':
      return { text: `Removal decided by ${d.by.name} on ${when}; the access had already ended`, color: 'Default' };
    case 'needsAdmin':
      return { text: `Removal decided by ${d.by.name} on ${when}; an administrator has the remaining steps`, color: 'Warning' };
    case 'failed':
      return { text: `Removal decided by ${d.by.name} on ${when} but not done: ${d.note ?? 'try again'}`, color: 'Warning' };
    default:
      return { text: `Removal decided by ${d.by.name} on ${when}; in progress`, color: 'Warning' };
  }
}

function guestFacts(row: ReviewGuestRow, now: Date): ReviewCardFact[] {
  const facts: ReviewCardFact[] = [
    { title: 'Sponsor', value: row.sponsor ?? (row.tracked ? 'unknown' : 'none in Entra') },
    { title: 'Invited', value: row.invitedAt ? formatDay(row.invitedAt) : 'unknown' },
    { title: 'Accepted', value: row.acceptedAt ? formatDay(row.acceptedAt) : 'not yet' },
    { title: 'Access ends', value: row.tracked ? (row.endsAt ? formatDay(row.endsAt) : 'no end date') : 'not set (not invited through the bot)' },
    { title: 'Signs in with', value: row.signInMethod ? methodLabel(row.signInMethod) : row.acceptedAt ? 'unknown' : 'not yet (has not accepted)' },
    { title: 'Last sign-in', value: lastSignInText(row, now) },
  ];
  return facts;
}

export function reviewCardData(view: ReviewView, now: Date, options: { notice?: { text: string; tone: Tone } | null; escalation?: { owners: ReviewPerson[] } | null } = {}): ReviewCardData {
  const parts = [`Started ${formatDay(view.startedAt)}`];
  parts.push(view.undecided === 0 ? 'every guest has a decision' : `${view.undecided} of ${view.rows.length + view.more} guests to decide`);
  if (view.escalateAt && !view.escalated && view.undecided > 0) parts.push(`goes to the guest approvers on ${formatDay(view.escalateAt)} if still open`);
  const inactiveCount = view.rows.filter((r) => r.inactive).length;
  if (inactiveCount > 0) parts.push(`${inactiveCount} inactive for ${view.inactiveDays} days or more`);
  const escalation = options.escalation;
  const banner = escalation
    ? `The site's owners${escalation.owners.length ? ` (${escalation.owners.map((o) => o.name).join(', ')})` : ''} did not finish this review in time, so it comes to you as a guest approver.`
    : view.escalated && view.viewer.as === 'approver'
      ? 'This review was passed to the guest approvers because the owners did not finish it in time.'
      : '';
  const signInWarning =
    view.signInsUnavailable === 'licenceMissing'
      ? 'Last sign-in unknown: reading it needs Microsoft Entra ID P1 or P2 in this tenant. Nobody is flagged inactive.'
      : view.signInsUnavailable === 'permissionMissing'
        ? 'Last sign-in unknown: the bot needs the Microsoft Graph permission AuditLog.Read.All (and Entra ID P1). Nobody is flagged inactive.'
        : '';
  return {
    roundId: view.roundId,
    heading: `Access review: ${view.siteName}`,
    summary: `${parts.join(' · ')}.`,
    banner,
    hasBanner: banner !== '',
    notice: options.notice?.text ?? '',
    noticeStyle: options.notice?.tone ?? 'accent',
    hasNotice: Boolean(options.notice?.text),
    signInWarning,
    hasSignInWarning: signInWarning !== '',
    guests: view.rows.map((row) => {
      const decision = decisionText(row);
      return {
        roundId: view.roundId,
        userId: row.userId,
        name: row.name,
        email: row.email,
        flag: row.inactive ? '  · INACTIVE' : '',
        facts: guestFacts(row, now),
        decided: row.decision !== null,
        decision: decision.text,
        decisionColor: decision.color,
        removeWarning: `${row.name} loses access to ${view.siteName}. Their sponsor is told.`,
        removeTitle: `Remove ${row.name}`,
      };
    }),
    hasMore: view.more > 0,
    moreText: view.more > 0 ? `${view.more} more ${view.more === 1 ? 'guest' : 'guests'}: decide these and the card shows the next.` : '',
    hasUndecided: view.undecided > 0,
  };
}

export function reviewCard(view: ReviewView, now: Date, options: Parameters<typeof reviewCardData>[2] = {}): AdaptiveCard {
  return expandCard('review', reviewCardData(view, now, options));
}
