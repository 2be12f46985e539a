import type { Actor } from '../../domain/actor';
import type { AccountAction } from '../../domain/lifecycle';
import type { WorkHandler } from '../scheduling/workRunner';
import {
  approveRenewal,
  handOverSponsorship,
  keepWaiting,
  letAccessEnd,
  recordRenewalDecisionRefused,
  recordRenewalRejected,
  removeGuest,
  removeReviewedGuest,
  renewAccess,
  resendInvitation,
  withdrawInvitation,
  type RenewalDecisionRefusal,
  type RenewInput,
  type RenewOutcome,
  type ResendInput,
} from './actions';
import { lifecycleHandlers } from './handlers';
import type { ActionOutcome, LifecycleDeps, Refusal } from './model';
import type { Sponsor } from './ports';
import { guestsOfSite, myGuests, scheduleForGuest, type GuestListOptions, type GuestRow } from './queries';
import { recordGuestAccess, type RecordAccessInput, type RecordAccessResult } from './recordAccess';
import type { LifecycleWorkKind } from './schedule';

/**
 * The guest lifecycle, as the Teams layer and the invitation paths call it: each method returns
 * data (outcomes, rows); reminders and notices go out through the LifecycleNotifier port.
 */
export interface GuestLifecycle {
  /** At invitation (chat, approval, bulk): record the access and schedule its reminders and end. */
  recordAccess(input: RecordAccessInput): Promise<RecordAccessResult>;
  resend(actor: Actor, input: ResendInput): Promise<ActionOutcome<{ redeemUrl: string | null }>>;
  withdraw(actor: Actor, input: { accessId: string }): Promise<ActionOutcome<{ accountAction: AccountAction }>>;
  keepWaiting(actor: Actor, input: { accessId: string; reminderToken: string }): Promise<ActionOutcome<{ nextReminderAt: string | null }>>;
  renew(actor: Actor, input: RenewInput): Promise<RenewOutcome>;
  approveRenewal(approver: Actor, input: RenewInput): Promise<ActionOutcome<{ endsAt: string | null }>>;
  /** Audits an approver's rejection of a renewal request (the request's own record says it was rejected). */
  renewalRejected(approver: Actor, input: RenewInput & { requestId: string }): Promise<void>;
  /** Audits a click on a renewal request by someone who may not decide it. */
  renewalDecisionRefused(actor: Actor, input: { accessId: string; requestId: string; decision: 'approve' | 'reject'; reason: RenewalDecisionRefusal }): Promise<void>;
  letEnd(actor: Actor, input: RenewInput): Promise<ActionOutcome<{ endsAt: string | null }>>;
  remove(actor: Actor, input: { accessId: string }): Promise<ActionOutcome<{ accountAction: AccountAction }>>;
  /** Remove decided in an access review, whose rights the review checked (an owner, or an approver it escalated to). */
  removeReviewed(reviewer: Actor, input: { accessId: string }): Promise<ActionOutcome<{ accountAction: AccountAction }>>;
  handOver(actor: Actor, input: { accessId: string; newSponsor: Sponsor }): Promise<ActionOutcome<{ sponsor: Sponsor }>>;
  myGuests(actor: Actor, options?: GuestListOptions): Promise<GuestRow[]>;
  guestsOfSite(actor: Actor, site: { groupId: string; siteName: string }, options?: GuestListOptions): Promise<{ kind: 'list'; rows: GuestRow[] } | Refusal>;
  scheduleFor(actor: Actor, email: string): ReturnType<typeof scheduleForGuest>;
  /** The due-work handlers, by kind, for the ScheduledWorkRunner. */
  readonly handlers: Record<LifecycleWorkKind, WorkHandler>;
}

export function createGuestLifecycle(deps: LifecycleDeps): GuestLifecycle {
  return {
    recordAccess: (input) => recordGuestAccess(deps, input),
    resend: (actor, input) => resendInvitation(deps, actor, input),
    withdraw: (actor, input) => withdrawInvitation(deps, actor, input),
    keepWaiting: (actor, input) => keepWaiting(deps, actor, input),
    renew: (actor, input) => renewAccess(deps, actor, input),
    approveRenewal: (approver, input) => approveRenewal(deps, approver, input),
    renewalRejected: (approver, input) => recordRenewalRejected(deps, approver, input),
    renewalDecisionRefused: (actor, input) => recordRenewalDecisionRefused(deps, actor, input),
    letEnd: (actor, input) => letAccessEnd(deps, actor, input),
    remove: (actor, input) => removeGuest(deps, actor, input),
    removeReviewed: (reviewer, input) => removeReviewedGuest(deps, reviewer, input),
    handOver: (actor, input) => handOverSponsorship(deps, actor, input),
    myGuests: (actor, options) => myGuests(deps, actor, options),
    guestsOfSite: (actor, site, options) => guestsOfSite(deps, actor, site, options),
    scheduleFor: (actor, email) => scheduleForGuest(deps, actor, email),
    handlers: lifecycleHandlers(deps),
  };
}
