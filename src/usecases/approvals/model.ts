/**
 * Approval requests as the approvals use case sees them: one record per request, decided at most
 * once by a compare-and-set on its version; the log of every card and notice delivered for it;
 * and the notices to requesters that did not arrive, kept until they are sent again.
 */
import type { SignInMethod } from '../../domain/signInAdvice';

/**
 * Where a posted message lives: the Teams layer's conversation reference, kept as plain JSON.
 * The use case only compares conversation ids; the notifier reads the rest.
 */
export interface ConversationAddress {
  conversation?: { id?: string };
}

export type ApprovalKind = 'invitation' | 'redemptionReset';
export type ApprovalState = 'pending' | 'approved' | 'rejected' | 'cancelled' | 'expired';
/** What happened when an approved request was carried out. */
export type ApprovalOutcomeStatus = 'succeeded' | 'failed' | 'manualActionRequired';

/** A guest to invite into a site, as the direct invitation flow would have done it. */
export interface InvitationSubject {
  kind: 'invitation';
  guestName: string;
  guestEmail: string;
  groupId: string;
  siteName: string;
  siteUrl: string | null;
  /** Predicted sign-in method for the guest (null when unknown). */
  signInMethod: SignInMethod | null;
  /** One plain-words line about the sign-in method, e.g. "One-time passcode by email". */
  signInSummary: string | null;
  /** Policy warnings the requester saw (e.g. "sync will not be available to this guest"). */
  warnings: string[];
  /** The end of access asked for (a bulk row's own), stored form as InvitationRequest.accessEnd; absent: the site's period. */
  accessEnd?: string;
}

/** A guest asking for their redemption to be reset (e.g. stuck on one-time passcodes). */
export interface RedemptionResetSubject {
  kind: 'redemptionReset';
  guestUserId: string;
  guestName: string;
  guestEmail: string;
  /** Where the guest lands after redeeming again. */
  redirectUrl: string;
  /** How they redeemed so far, when known. */
  currentMethod: SignInMethod | null;
}

export type ApprovalSubject = InvitationSubject | RedemptionResetSubject;

export interface Requester {
  userId: string;
  name: string;
  tenantId: string;
}

export interface ApprovalRequest {
  id: string;
  kind: ApprovalKind;
  tenantId: string;
  state: ApprovalState;
  version: number;
  requester: Requester;
  /** Stored conversation reference key (conversation id) the requester asked from: where they are told the result. */
  requesterConversationId: string | null;
  subject: ApprovalSubject;
  justification: string;
  /** Why approval is needed, in plain words. */
  reasons: string[];
  createdAt: string;
  expiresAt: string;
  decidedAt: string | null;
  decidedBy: { userId: string; name: string } | null;
  /** Reject reason, or the note recorded with an expiry/cancellation. */
  decisionNote: string | null;
  infoRequest: { byName: string; question: string; at: string } | null;
  outcome: { status: ApprovalOutcomeStatus; message: string; at: string } | null;
}

export interface NewApprovalRequest {
  tenantId: string;
  requester: Requester;
  requesterConversationId: string | null;
  subject: ApprovalSubject;
  justification: string;
  reasons: string[];
  createdAt: string;
  expiresAt: string;
}

export type DeliveryAudience = 'approver' | 'owner' | 'channel' | 'requester';
export type DeliveryPurpose = 'card' | 'update' | 'notice';
export type DeliveryStatus = 'sent' | 'failed' | 'unreachable';

export interface Delivery {
  id: number;
  requestId: string;
  audience: DeliveryAudience;
  recipientId: string | null;
  recipientName: string | null;
  purpose: DeliveryPurpose;
  status: DeliveryStatus;
  conversation: ConversationAddress | null;
  activityId: string | null;
  error: string | null;
  at: string;
}

export type NewDelivery = Omit<Delivery, 'id'>;

export type NoticeTone = 'good' | 'warning' | 'attention' | 'accent';

/**
 * pending     not delivered yet: sent when the requester's chat is next seen, or by the sweep;
 * delivered   reached the requester on a later attempt;
 * superseded  the request changed (or a newer notice went out) since: sending it would mislead.
 */
export type RequesterNoticeState = 'pending' | 'delivered' | 'superseded';

/** A notice to a requester that did not arrive, kept so it can be sent again. */
export interface RequesterNotice {
  id: number;
  requestId: string;
  requesterId: string;
  /** The request's version the notice was written for: any later change makes it stale. */
  requestVersion: number;
  /** The banner the card carried (e.g. an approver's question); null for a plain decision notice. */
  notice: { text: string; tone: NoticeTone } | null;
  /** The invitation link the decision notice carried (only held here until it is delivered). */
  redeemUrl: string | null;
  state: RequesterNoticeState;
  /** Sends tried so far, the first (failed) one included. */
  attempts: number;
  createdAt: string;
  lastAttemptAt: string;
  lastError: string | null;
  deliveredAt: string | null;
}

export interface NewRequesterNotice {
  requestId: string;
  requesterId: string;
  requestVersion: number;
  notice: { text: string; tone: NoticeTone } | null;
  redeemUrl: string | null;
  error: string | null;
  at: string;
  /**
   * Kept before the first send (an outbox entry): no attempt yet, and held by the sender until
   * this time, so that a crash before it is sent leaves it for the sweep instead of losing it.
   */
  claimedUntil?: string;
}

/** The decision states a pending request can move to. */
export type DecisionState = Exclude<ApprovalState, 'pending'>;

export interface Decision {
  state: DecisionState;
  by: { userId: string; name: string } | null;
  note: string | null;
  at: string;
}

/** won: this call decided the request. Otherwise `current` is what someone else made of it (null: no such request). */
export type CasResult = { won: true; request: ApprovalRequest } | { won: false; current: ApprovalRequest | null };

/** A new request as every store first keeps it: pending, undecided, version 1, with its own copies of the input's lists. */
export function newApprovalRequest(id: string, input: NewApprovalRequest): ApprovalRequest {
  return {
    id,
    kind: input.subject.kind,
    tenantId: input.tenantId,
    state: 'pending',
    version: 1,
    requester: { userId: input.requester.userId, name: input.requester.name, tenantId: input.tenantId },
    requesterConversationId: input.requesterConversationId,
    subject: structuredClone(input.subject),
    justification: input.justification,
    reasons: [...input.reasons],
    createdAt: input.createdAt,
    expiresAt: input.expiresAt,
    decidedAt: null,
    decidedBy: null,
    decisionNote: null,
    infoRequest: null,
    outcome: null,
  };
}

/** The order requests are listed in: oldest first, then by id. */
export const byCreated = (a: ApprovalRequest, b: ApprovalRequest): number =>
  a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
