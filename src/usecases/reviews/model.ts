import type { Actor } from '../../domain/actor';
import type { Clock } from '../../domain/clock';
import type { InactivitySettings } from '../../domain/inactivity';
import type { Logger } from '../../shared/logger';
import type { AuditLog } from '../ports/auditLog';
import type { ScheduledWorkRepository } from '../ports/scheduler';
import type { GuestAccessRepository } from '../lifecycle/ports';
import type { ReviewApprovers, ReviewDirectory, ReviewNotifier, ReviewRemovals, ReviewRound, ReviewRoundRepository, ReviewView } from './ports';

export const DAY_MS = 24 * 60 * 60_000;

/** The access reviews' settings, from the configuration (README, Access reviews). */
export interface ReviewSettings {
  /** ACCESS_REVIEWS: periodic reviews on. "review <site>" works either way. */
  periodic: boolean;
  /** REVIEW_INTERVAL_DAYS. */
  intervalDays: number;
  /** REVIEW_ESCALATE_DAYS; 0 = never escalate. */
  escalateDays: number;
  inactivity: InactivitySettings;
  /** The tenant this bot serves: whose sites the periodic review goes through. */
  tenantId: string;
}

/** Everything the review use cases need, handed in by the composition root. */
export interface ReviewDeps {
  rounds: ReviewRoundRepository;
  access: Pick<GuestAccessRepository, 'get' | 'listByGroup' | 'listByTenant'>;
  work: ScheduledWorkRepository;
  directory: ReviewDirectory;
  approvers: ReviewApprovers;
  removals: ReviewRemovals;
  notifier: ReviewNotifier;
  audit: AuditLog;
  clock: Clock;
  settings: ReviewSettings;
  logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
}

/** A card shows at most this many guests (undecided first); deciding some shows the next. */
export const MAX_REVIEW_ROWS = 15;

/** The audit subject of a review round. */
export const AUDIT_SUBJECT = 'accessReview';

/** The kinds of due work of the reviews (for the one ScheduledWorkRunner's handler map). */
export const REVIEW_WORK = {
  /** Subject: the tenant id. Starts the period's round of every site with guests, then comes back next period. */
  cycle: 'review.cycle',
  /** Subject: a round id. Sends the round's card to each owner once. */
  deliver: 'review.deliver',
  /** Subject: a round id. Sends what is still undecided to the approvers once. */
  escalate: 'review.escalate',
} as const;

export type ReviewWorkKind = (typeof REVIEW_WORK)[keyof typeof REVIEW_WORK];

/** Why a review action was refused; `message` is safe to show in chat. */
export interface ReviewRefusal {
  kind: 'refused';
  reason: 'notFound' | 'notAllowed' | 'noGuests' | 'invalidInput';
  message: string;
}

export type ReviewOutcome =
  | { kind: 'done'; view: ReviewView; message: string }
  /** A replay (double click, another instance, someone else first): nothing changed now. */
  | { kind: 'already'; view: ReviewView; message: string }
  | ReviewRefusal;

export function refused(reason: ReviewRefusal['reason'], message: string): ReviewRefusal {
  return { kind: 'refused', reason, message };
}

/**
 * The right `actor` holds over a round, asked at the click (never taken from the card): an
 * owner of the site now, or a guest approver. Another tenant's round holds none.
 */
export async function reviewerRight(deps: Pick<ReviewDeps, 'directory' | 'approvers'>, actor: Actor, round: ReviewRound): Promise<'owner' | 'approver' | null> {
  if (actor.tenantId.toLowerCase() !== round.tenantId.toLowerCase()) return null;
  if (await deps.directory.isOwner(round.groupId, actor.userId)) return 'owner';
  if (await deps.approvers.isApprover(actor.userId)) return 'approver';
  return null;
}

export async function audit(
  deps: Pick<ReviewDeps, 'audit'>,
  actor: { id: string; name: string },
  action: string,
  round: ReviewRound,
  details: Record<string, string | number | boolean | null>,
): Promise<void> {
  await deps.audit.append({ actorId: actor.id, actorName: actor.name, action, subjectType: AUDIT_SUBJECT, subjectId: round.id, details: { groupId: round.groupId, ...details } });
}
