/**
 * What the approvals use case needs from storage: every method async, "not found" is null, a lost
 * compare-and-set is data (`{ won: false, current }`), never an exception. A write that must land
 * together with others (a decision with its audit row and carrying-out lease; an outcome with its
 * audit row and the requester's notice) is ONE method taking the companion writes as arguments:
 * the SQLite adapter writes them in one transaction, the in-memory adapter in one synchronous step.
 */
import type { SignInMethod } from '../../domain/signInAdvice';
import type {
  ApprovalOutcomeStatus,
  ApprovalRequest,
  CasResult,
  Decision,
  Delivery,
  NewApprovalRequest,
  NewDelivery,
  NewRequesterNotice,
  RequesterNotice,
} from './model';

/** An audit event as the approvals write it (the shape of the audit log's input). */
export interface ApprovalAuditEvent {
  actorId: string;
  actorName: string;
  action: string;
  subjectType: string;
  subjectId: string;
  details?: { [key: string]: string | number | boolean | null | string[] };
}

/** A named lease taken for `holderId` until now + ttlMs (see the LeaseStore port). */
export interface LeaseClaim {
  key: string;
  holderId: string;
  ttlMs: number;
}

/** Written together with a decision, and only when the decision wins. */
export interface DecisionCompanions {
  audit: ApprovalAuditEvent;
  /** For an approval: this process's lease on carrying it out, taken in the same step. */
  lease?: LeaseClaim;
}

/** Written together with the first outcome of an approved request, and only when it is the first. */
export interface OutcomeCompanions {
  audit: ApprovalAuditEvent;
  /**
   * The requester's notice, kept before it is sent (an outbox entry) so that a crash before the send
   * leaves it for the sweep. The request's older pending notices are superseded in the same step, and
   * the notice is written for the request's version after the outcome.
   */
  notice: Omit<NewRequesterNotice, 'requestId' | 'requesterId' | 'requestVersion'>;
}

export type FirstOutcomeResult =
  | { won: true; request: ApprovalRequest; notice: RequesterNotice }
  | { won: false; current: ApprovalRequest | null };

/** Approval requests, the log of their deliveries (posted card copies) and the requester notices to send again. */
export interface ApprovalRequestRepository {
  // ---------------------------------------------------------------- requests
  create(input: NewApprovalRequest, id?: string): Promise<ApprovalRequest>;
  get(id: string): Promise<ApprovalRequest | null>;
  /** Open requests of a tenant, oldest first. */
  listPending(tenantId: string): Promise<ApprovalRequest[]>;
  /** Pending requests whose expiry time is at or before `nowIso`, across tenants, soonest first. */
  listDueForExpiry(nowIso: string): Promise<ApprovalRequest[]>;
  /** The oldest pending invitation request for the same guest (address compared case-insensitively) and site. */
  findPendingInvitation(tenantId: string, guestEmail: string, groupId: string): Promise<ApprovalRequest | null>;
  /** The oldest pending reset request for the same guest. */
  findPendingReset(tenantId: string, guestUserId: string): Promise<ApprovalRequest | null>;
  /**
   * Decides a pending request if it is still at `expectedVersion`. Exactly one of any number of
   * concurrent callers (in any process) wins; the others get the request as it now stands. The
   * companions are written with the winning decision, or not at all.
   */
  decide(id: string, expectedVersion: number, decision: Decision, companions?: DecisionCompanions): Promise<CasResult>;
  /** Records an approver's question on a pending request (it stays pending). */
  requestInfo(id: string, expectedVersion: number, by: { name: string }, question: string, at: string): Promise<CasResult>;
  /** Replaces the justification (the requester's answer appended) and clears the open question. */
  appendJustification(id: string, expectedVersion: number, justification: string): Promise<CasResult>;
  /**
   * Records how carrying out an approved request went, unless an outcome is already there: of two
   * processes finishing the same request, exactly one records (and so notifies).
   */
  recordFirstOutcome(
    id: string,
    outcome: { status: ApprovalOutcomeStatus; message: string; at: string },
    companions: OutcomeCompanions,
  ): Promise<FirstOutcomeResult>;
  /** Approved requests decided at or before `decidedBeforeIso` that were never carried out, oldest decision first. */
  listApprovedWithoutOutcome(decidedBeforeIso: string): Promise<ApprovalRequest[]>;
  /** Pending requests whose card could not reach this person and has not reached them since, oldest first. */
  listUndeliveredFor(recipientId: string): Promise<ApprovalRequest[]>;

  // ---------------------------------------------------------------- deliveries
  recordDelivery(delivery: NewDelivery): Promise<Delivery>;
  /** Every delivery attempt for a request, in the order recorded. */
  listDeliveries(requestId: string): Promise<Delivery[]>;
  /** The posted copies of a request's card (sent, with an activity id), in the order posted. */
  listCardCopies(requestId: string): Promise<Delivery[]>;

  // ---------------------------------------------------------------- requester notices to send again
  /** Keeps a notice that did not reach the requester (or is about to be sent), pending. */
  recordPendingNotice(notice: NewRequesterNotice): Promise<RequesterNotice>;
  getNotice(id: number): Promise<RequesterNotice | null>;
  /** Every kept notice of a request, oldest first. */
  listNotices(requestId: string): Promise<RequesterNotice[]>;
  /** Pending notices for a requester, oldest first. */
  listPendingNoticesFor(requesterId: string): Promise<RequesterNotice[]>;
  /** Pending notices about requests made from this conversation, oldest first. */
  listPendingNoticesForConversation(conversationId: string): Promise<RequesterNotice[]>;
  /** Pending notices last tried at or before the cutoff with fewer than `maxAttempts` tries, oldest attempt first. */
  listNoticesDueForRetry(lastAttemptBeforeIso: string, maxAttempts: number): Promise<RequesterNotice[]>;
  /**
   * Takes a pending notice for one send attempt until `leaseUntilIso` (counting the attempt).
   * Exactly one of any number of concurrent callers gets it; a lease left by a stopped process runs out.
   */
  claimNotice(id: number, nowIso: string, leaseUntilIso: string): Promise<boolean>;
  /** The claimed send arrived. */
  markNoticeDelivered(id: number, at: string): Promise<void>;
  /** The claimed send failed: the notice stays pending for a later attempt. */
  releaseNotice(id: number, error: string | null): Promise<void>;
  /** Drops one pending notice (its request changed since). */
  supersedeNotice(id: number): Promise<void>;
  /** Drops a request's pending notices: a newer notice shows the request as it is now. */
  supersedeNotices(requestId: string): Promise<void>;
}

// -------------------------------------------------------------------- reset requests

export type ResetRequestStatus = 'open' | 'done' | 'declined';

export interface NewResetRequest {
  tenantId: string;
  userId: string;
  userName: string;
  email: string;
  redeemedWith: SignInMethod | null;
  /** Why the guest wants it, in plain words (from the bot, not typed by the guest). */
  reason: string;
}

export interface ResetRequest extends NewResetRequest {
  id: string;
  status: ResetRequestStatus;
  requestedAt: string;
  updatedAt: string;
}

export interface ResetRequestReceipt {
  request: ResetRequest;
  /** True when an open request from this guest already existed (nothing new was written). */
  alreadyOpen: boolean;
}

/** Where reset requests go (the guest-help feature submits here). */
export interface ResetRequestSink {
  submit(request: NewResetRequest): Promise<ResetRequestReceipt>;
}

/** The audit event a reset-request repository writes with a new request (every adapter the same). */
export function resetRequestedAudit(request: ResetRequest): ApprovalAuditEvent {
  return {
    actorId: request.userId,
    actorName: request.userName,
    action: 'redemptionReset.requested',
    subjectType: 'resetRequest',
    subjectId: request.id,
    details: { redeemedWith: request.redeemedWith, tenantId: request.tenantId },
  };
}

/** The audit event a reset-request repository writes when it closes a request. */
export function resetClosedAudit(id: string, status: 'done' | 'declined', by: { userId: string; name: string }): ApprovalAuditEvent {
  return {
    actorId: by.userId,
    actorName: by.name,
    action: `redemptionReset.${status === 'done' ? 'completed' : 'declined'}`,
    subjectType: 'resetRequest',
    subjectId: id,
  };
}

/** Guests' recorded reset requests: at most one open per guest, audited on every change. */
export interface ResetRequestRepository extends ResetRequestSink {
  /** Records a request (with its audit row), unless the guest already has an open one: then that one. */
  submit(request: NewResetRequest): Promise<ResetRequestReceipt>;
  /** The guest's open request, if any. */
  findOpen(tenantId: string, userId: string): Promise<ResetRequest | null>;
  /** A tenant's open requests, oldest first. */
  listOpen(tenantId: string): Promise<ResetRequest[]>;
  /** Closes an open request (with its audit row). False if it was not open (or does not exist). */
  close(id: string, status: 'done' | 'declined', by: { userId: string; name: string }): Promise<boolean>;
}
