/**
 * Approval requests in the embedded store: one row per request, decided at most once by a
 * compare-and-set on (state, version); plus a log of every card and notice delivered for a
 * request, so each posted copy can be updated later and every failed delivery is on record; and
 * the notices to requesters that did not arrive, kept until they are sent again.
 */
import { randomUUID } from 'node:crypto';
import type { ConversationReference } from 'botbuilder';
import { prepared, type Migration, type SqliteDatabase } from './database';
import type { SignInMethod } from '../../domain/signInAdvice';

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
  conversation: Partial<ConversationReference> | null;
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

export const approvalMigrations: Migration[] = [
  {
    id: 'approvals/001-create',
    up: `
      CREATE TABLE approval_requests (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        tenant_id TEXT NOT NULL,
        state TEXT NOT NULL,
        version INTEGER NOT NULL,
        requester_id TEXT NOT NULL,
        requester_name TEXT NOT NULL,
        requester_conversation_id TEXT,
        subject TEXT NOT NULL,
        justification TEXT NOT NULL,
        reasons TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        decided_at TEXT,
        decided_by_id TEXT,
        decided_by_name TEXT,
        decision_note TEXT,
        info_requested_by_name TEXT,
        info_question TEXT,
        info_requested_at TEXT,
        outcome_status TEXT,
        outcome_message TEXT,
        outcome_at TEXT
      );
      CREATE INDEX approval_requests_pending ON approval_requests (state, expires_at);
      CREATE INDEX approval_requests_requester ON approval_requests (requester_id, state);
      CREATE TABLE approval_deliveries (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        request_id TEXT NOT NULL REFERENCES approval_requests (id),
        audience TEXT NOT NULL,
        recipient_id TEXT,
        recipient_name TEXT,
        purpose TEXT NOT NULL,
        status TEXT NOT NULL,
        conversation TEXT,
        activity_id TEXT,
        error TEXT,
        at TEXT NOT NULL
      );
      CREATE INDEX approval_deliveries_request ON approval_deliveries (request_id, purpose, status);
    `,
  },
  {
    // Notices to requesters that failed are kept to be sent again; claimed_until is a short lease
    // so that two turns (or two processes) never send the same one twice.
    id: 'approvals/002-requester-notices',
    up: `
      CREATE TABLE approval_requester_notices (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        request_id TEXT NOT NULL REFERENCES approval_requests (id),
        requester_id TEXT NOT NULL,
        request_version INTEGER NOT NULL,
        notice TEXT,
        redeem_url TEXT,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        last_attempt_at TEXT NOT NULL,
        last_error TEXT,
        claimed_until TEXT,
        delivered_at TEXT
      );
      CREATE INDEX approval_requester_notices_requester ON approval_requester_notices (requester_id, state);
      CREATE INDEX approval_requester_notices_due ON approval_requester_notices (state, last_attempt_at);
      CREATE INDEX approval_requester_notices_request ON approval_requester_notices (request_id, state);
    `,
  },
  {
    // Every activity asks "does this person have approval cards that never reached them?".
    id: 'approvals/003-deliveries-by-recipient',
    up: `CREATE INDEX approval_deliveries_recipient ON approval_deliveries (recipient_id, purpose, status);`,
  },
];

interface RequestRow {
  id: string;
  kind: string;
  tenant_id: string;
  state: string;
  version: number;
  requester_id: string;
  requester_name: string;
  requester_conversation_id: string | null;
  subject: string;
  justification: string;
  reasons: string;
  created_at: string;
  expires_at: string;
  decided_at: string | null;
  decided_by_id: string | null;
  decided_by_name: string | null;
  decision_note: string | null;
  info_requested_by_name: string | null;
  info_question: string | null;
  info_requested_at: string | null;
  outcome_status: string | null;
  outcome_message: string | null;
  outcome_at: string | null;
}

interface DeliveryRow {
  id: number;
  request_id: string;
  audience: string;
  recipient_id: string | null;
  recipient_name: string | null;
  purpose: string;
  status: string;
  conversation: string | null;
  activity_id: string | null;
  error: string | null;
  at: string;
}

interface NoticeRow {
  id: number;
  request_id: string;
  requester_id: string;
  request_version: number;
  notice: string | null;
  redeem_url: string | null;
  state: string;
  attempts: number;
  created_at: string;
  last_attempt_at: string;
  last_error: string | null;
  claimed_until: string | null;
  delivered_at: string | null;
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

function parseJson<T>(text: string | null, fallback: T): T {
  if (text === null) return fallback;
  return JSON.parse(text) as T;
}

function toRequest(row: RequestRow): ApprovalRequest {
  return {
    id: row.id,
    kind: row.kind as ApprovalKind,
    tenantId: row.tenant_id,
    state: row.state as ApprovalState,
    version: row.version,
    requester: { userId: row.requester_id, name: row.requester_name, tenantId: row.tenant_id },
    requesterConversationId: row.requester_conversation_id,
    subject: JSON.parse(row.subject) as ApprovalSubject,
    justification: row.justification,
    reasons: parseJson<string[]>(row.reasons, []),
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    decidedAt: row.decided_at,
    decidedBy:
      row.decided_by_name !== null ? { userId: row.decided_by_id ?? '', name: row.decided_by_name } : null,
    decisionNote: row.decision_note,
    infoRequest:
      row.info_question !== null && row.info_requested_at !== null
        ? { byName: row.info_requested_by_name ?? '', question: row.info_question, at: row.info_requested_at }
        : null,
    outcome:
      row.outcome_status !== null && row.outcome_at !== null
        ? { status: row.outcome_status as ApprovalOutcomeStatus, message: row.outcome_message ?? '', at: row.outcome_at }
        : null,
  };
}

function toDelivery(row: DeliveryRow): Delivery {
  return {
    id: row.id,
    requestId: row.request_id,
    audience: row.audience as DeliveryAudience,
    recipientId: row.recipient_id,
    recipientName: row.recipient_name,
    purpose: row.purpose as DeliveryPurpose,
    status: row.status as DeliveryStatus,
    conversation: parseJson<Partial<ConversationReference> | null>(row.conversation, null),
    activityId: row.activity_id,
    error: row.error,
    at: row.at,
  };
}

function toNotice(row: NoticeRow): RequesterNotice {
  return {
    id: row.id,
    requestId: row.request_id,
    requesterId: row.requester_id,
    requestVersion: row.request_version,
    notice: parseJson<{ text: string; tone: NoticeTone } | null>(row.notice, null),
    redeemUrl: row.redeem_url,
    state: row.state as RequesterNoticeState,
    attempts: row.attempts,
    createdAt: row.created_at,
    lastAttemptAt: row.last_attempt_at,
    lastError: row.last_error,
    deliveredAt: row.delivered_at,
  };
}

/**
 * The approval_requests and approval_deliveries tables. Every state change is a single
 * UPDATE guarded by `state = 'pending' AND version = ?`, so it holds across processes
 * sharing the SQLite file, not only within one.
 */
export class ApprovalRequestStore {
  constructor(private readonly db: SqliteDatabase) {}

  create(input: NewApprovalRequest, id: string = randomUUID()): ApprovalRequest {
    prepared(
        this.db,
        `INSERT INTO approval_requests (id, kind, tenant_id, state, version, requester_id, requester_name,
           requester_conversation_id, subject, justification, reasons, created_at, expires_at)
         VALUES (?, ?, ?, 'pending', 1, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        id,
        input.subject.kind,
        input.tenantId,
        input.requester.userId,
        input.requester.name,
        input.requesterConversationId,
        JSON.stringify(input.subject),
        input.justification,
        JSON.stringify(input.reasons),
        input.createdAt,
        input.expiresAt,
      );
    return this.mustGet(id);
  }

  get(id: string): ApprovalRequest | null {
    const row = prepared<[string], RequestRow>(this.db, 'SELECT * FROM approval_requests WHERE id = ?').get(id);
    return row ? toRequest(row) : null;
  }

  private mustGet(id: string): ApprovalRequest {
    const r = this.get(id);
    if (!r) throw new Error(`approval request ${id} vanished`);
    return r;
  }

  /** Open requests of a tenant, oldest first. */
  listPending(tenantId: string): ApprovalRequest[] {
    return prepared<[string], RequestRow>(
        this.db,
        `SELECT * FROM approval_requests WHERE tenant_id = ? AND state = 'pending' ORDER BY created_at, id`,
      )
      .all(tenantId)
      .map(toRequest);
  }

  /** Pending requests whose expiry time is at or before `nowIso`, across tenants. */
  listDueForExpiry(nowIso: string): ApprovalRequest[] {
    return prepared<[string], RequestRow>(
        this.db,
        `SELECT * FROM approval_requests WHERE state = 'pending' AND expires_at <= ? ORDER BY expires_at, id`,
      )
      .all(nowIso)
      .map(toRequest);
  }

  /** A pending invitation request for the same guest and site (to refuse duplicates). */
  findPendingInvitation(tenantId: string, guestEmail: string, groupId: string): ApprovalRequest | null {
    const row = prepared<[string, string, string], RequestRow>(
        this.db,
        `SELECT * FROM approval_requests
          WHERE tenant_id = ? AND state = 'pending' AND kind = 'invitation'
            AND lower(json_extract(subject, '$.guestEmail')) = lower(?) AND json_extract(subject, '$.groupId') = ?
          ORDER BY created_at LIMIT 1`,
      )
      .get(tenantId, guestEmail, groupId);
    return row ? toRequest(row) : null;
  }

  /** A pending reset request for the same guest. */
  findPendingReset(tenantId: string, guestUserId: string): ApprovalRequest | null {
    const row = prepared<[string, string], RequestRow>(
        this.db,
        `SELECT * FROM approval_requests
          WHERE tenant_id = ? AND state = 'pending' AND kind = 'redemptionReset'
            AND json_extract(subject, '$.guestUserId') = ?
          ORDER BY created_at LIMIT 1`,
      )
      .get(tenantId, guestUserId);
    return row ? toRequest(row) : null;
  }

  /** Runs `work` in one transaction (with the audit log, which shares this database). */
  atomically<T>(work: () => T): T {
    return this.db.transaction(work).immediate();
  }

  /**
   * Decides a pending request if it is still at `expectedVersion`. Exactly one of any number of
   * concurrent callers (in any process) wins; the others get the request as it now stands.
   */
  decide(id: string, expectedVersion: number, decision: Decision): CasResult {
    const changes = prepared(
        this.db,
        `UPDATE approval_requests
            SET state = ?, version = version + 1, decided_at = ?, decided_by_id = ?, decided_by_name = ?, decision_note = ?
          WHERE id = ? AND state = 'pending' AND version = ?`,
      )
      .run(
        decision.state,
        decision.at,
        decision.by?.userId ?? null,
        decision.by?.name ?? null,
        decision.note,
        id,
        expectedVersion,
      ).changes;
    return changes === 1 ? { won: true, request: this.mustGet(id) } : { won: false, current: this.get(id) };
  }

  /** Records an approver's question on a pending request (it stays pending). */
  requestInfo(id: string, expectedVersion: number, by: { name: string }, question: string, at: string): CasResult {
    const changes = prepared(
        this.db,
        `UPDATE approval_requests
            SET version = version + 1, info_requested_by_name = ?, info_question = ?, info_requested_at = ?
          WHERE id = ? AND state = 'pending' AND version = ?`,
      )
      .run(by.name, question, at, id, expectedVersion).changes;
    return changes === 1 ? { won: true, request: this.mustGet(id) } : { won: false, current: this.get(id) };
  }

  /** Appends the requester's answer to the justification and clears the open question. */
  appendJustification(id: string, expectedVersion: number, justification: string): CasResult {
    const changes = prepared(
        this.db,
        `UPDATE approval_requests
            SET version = version + 1, justification = ?,
                info_requested_by_name = NULL, info_question = NULL, info_requested_at = NULL
          WHERE id = ? AND state = 'pending' AND version = ?`,
      )
      .run(justification, id, expectedVersion).changes;
    return changes === 1 ? { won: true, request: this.mustGet(id) } : { won: false, current: this.get(id) };
  }

  /** Records how carrying out an approved request went. Only the winner of `decide` calls this. */
  recordOutcome(id: string, status: ApprovalOutcomeStatus, message: string, at: string): ApprovalRequest {
    prepared(
        this.db,
        `UPDATE approval_requests SET outcome_status = ?, outcome_message = ?, outcome_at = ?, version = version + 1
          WHERE id = ? AND state = 'approved'`,
      )
      .run(status, message, at, id);
    return this.mustGet(id);
  }

  /**
   * Records the outcome unless one is already there: when a restarted process resumes a request
   * another process is still finishing, exactly one of them records (and so notifies).
   */
  recordFirstOutcome(id: string, status: ApprovalOutcomeStatus, message: string, at: string): CasResult {
    const changes = prepared(
        this.db,
        `UPDATE approval_requests SET outcome_status = ?, outcome_message = ?, outcome_at = ?, version = version + 1
          WHERE id = ? AND state = 'approved' AND outcome_status IS NULL`,
      )
      .run(status, message, at, id).changes;
    return changes === 1 ? { won: true, request: this.mustGet(id) } : { won: false, current: this.get(id) };
  }

  /** Approved requests that were never carried out (the process stopped in between). */
  listApprovedWithoutOutcome(decidedBeforeIso: string): ApprovalRequest[] {
    return prepared<[string], RequestRow>(
        this.db,
        `SELECT * FROM approval_requests WHERE state = 'approved' AND outcome_status IS NULL AND decided_at <= ?
          ORDER BY decided_at, id`,
      )
      .all(decidedBeforeIso)
      .map(toRequest);
  }

  /**
   * Pending requests whose card could not be delivered to this person (never chatted with the
   * bot, or the send failed) and has not reached them since.
   */
  listUndeliveredFor(recipientId: string): ApprovalRequest[] {
    return prepared<[string, string], RequestRow>(
        this.db,
        // Runs on every activity: it starts from this person's failed deliveries (an index; CROSS
        // JOIN keeps that order in SQLite), not from every pending request.
        `SELECT DISTINCT r.* FROM approval_deliveries d CROSS JOIN approval_requests r ON r.id = d.request_id
          WHERE d.recipient_id = ? AND d.purpose = 'card' AND d.status IN ('unreachable', 'failed')
            AND r.state = 'pending'
            AND NOT EXISTS (SELECT 1 FROM approval_deliveries s
                             WHERE s.request_id = r.id AND s.recipient_id = ? AND s.purpose = 'card' AND s.status = 'sent')
          ORDER BY r.created_at, r.id`,
      )
      .all(recipientId, recipientId)
      .map(toRequest);
  }

  recordDelivery(d: NewDelivery): Delivery {
    const info = prepared(
        this.db,
        `INSERT INTO approval_deliveries (request_id, audience, recipient_id, recipient_name, purpose, status,
           conversation, activity_id, error, at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        d.requestId,
        d.audience,
        d.recipientId,
        d.recipientName,
        d.purpose,
        d.status,
        d.conversation ? JSON.stringify(d.conversation) : null,
        d.activityId,
        d.error,
        d.at,
      );
    return { ...d, id: Number(info.lastInsertRowid) };
  }

  /** Every delivery attempt for a request, in order. */
  listDeliveries(requestId: string): Delivery[] {
    return prepared<[string], DeliveryRow>(this.db, 'SELECT * FROM approval_deliveries WHERE request_id = ? ORDER BY id')
      .all(requestId)
      .map(toDelivery);
  }

  /** The posted copies of a request's card (each can be updated in place). */
  listCardCopies(requestId: string): Delivery[] {
    return prepared<[string], DeliveryRow>(
        this.db,
        `SELECT * FROM approval_deliveries
          WHERE request_id = ? AND purpose = 'card' AND status = 'sent' AND activity_id IS NOT NULL ORDER BY id`,
      )
      .all(requestId)
      .map(toDelivery);
  }

  // ------------------------------------------------------------ requester notices to send again

  /** Keeps a notice that did not reach the requester, to be sent again. */
  recordPendingNotice(n: NewRequesterNotice): RequesterNotice {
    const info = prepared(
        this.db,
        `INSERT INTO approval_requester_notices (request_id, requester_id, request_version, notice, redeem_url, state,
           attempts, created_at, last_attempt_at, last_error, claimed_until)
         VALUES (?, ?, ?, ?, ?, 'pending', 1, ?, ?, ?, ?)`,
      )
      .run(
        n.requestId,
        n.requesterId,
        n.requestVersion,
        n.notice ? JSON.stringify(n.notice) : null,
        n.redeemUrl,
        n.at,
        n.at,
        n.error,
        n.claimedUntil ?? null,
      );
    return this.mustGetNotice(Number(info.lastInsertRowid));
  }

  getNotice(id: number): RequesterNotice | null {
    const row = prepared<[number], NoticeRow>(this.db, 'SELECT * FROM approval_requester_notices WHERE id = ?').get(id);
    return row ? toNotice(row) : null;
  }

  private mustGetNotice(id: number): RequesterNotice {
    const n = this.getNotice(id);
    if (!n) throw new Error(`requester notice ${id} vanished`);
    return n;
  }

  /** Every kept notice of a request, oldest first. */
  listNotices(requestId: string): RequesterNotice[] {
    return prepared<[string], NoticeRow>(this.db, 'SELECT * FROM approval_requester_notices WHERE request_id = ? ORDER BY id')
      .all(requestId)
      .map(toNotice);
  }

  /** Pending notices for a requester, oldest first. */
  listPendingNoticesFor(requesterId: string): RequesterNotice[] {
    return prepared<[string], NoticeRow>(
        this.db,
        `SELECT * FROM approval_requester_notices WHERE requester_id = ? AND state = 'pending' ORDER BY id`,
      )
      .all(requesterId)
      .map(toNotice);
  }

  /** Pending notices about requests made from this conversation (e.g. a group chat), oldest first. */
  listPendingNoticesForConversation(conversationId: string): RequesterNotice[] {
    return prepared<[string], NoticeRow>(
        this.db,
        `SELECT n.* FROM approval_requester_notices n JOIN approval_requests r ON r.id = n.request_id
          WHERE r.requester_conversation_id = ? AND n.state = 'pending' ORDER BY n.id`,
      )
      .all(conversationId)
      .map(toNotice);
  }

  /** Pending notices last tried at or before `lastAttemptBeforeIso` with fewer than `maxAttempts` tries. */
  listNoticesDueForRetry(lastAttemptBeforeIso: string, maxAttempts: number): RequesterNotice[] {
    return prepared<[string, number], NoticeRow>(
        this.db,
        `SELECT * FROM approval_requester_notices
          WHERE state = 'pending' AND last_attempt_at <= ? AND attempts < ? ORDER BY last_attempt_at, id`,
      )
      .all(lastAttemptBeforeIso, maxAttempts)
      .map(toNotice);
  }

  /**
   * Takes a pending notice for one send attempt until `leaseUntilIso`. Exactly one of any number
   * of concurrent callers (in any process) gets it; a lease left by a process that stopped runs out.
   */
  claimNotice(id: number, nowIso: string, leaseUntilIso: string): boolean {
    return (
      prepared(
          this.db,
          `UPDATE approval_requester_notices SET claimed_until = ?, attempts = attempts + 1, last_attempt_at = ?
            WHERE id = ? AND state = 'pending' AND (claimed_until IS NULL OR claimed_until <= ?)`,
        )
        .run(leaseUntilIso, nowIso, id, nowIso).changes === 1
    );
  }

  /** The claimed send arrived. */
  markNoticeDelivered(id: number, at: string): void {
    prepared(
        this.db,
        `UPDATE approval_requester_notices SET state = 'delivered', delivered_at = ?, claimed_until = NULL, last_error = NULL
          WHERE id = ? AND state = 'pending'`,
      )
      .run(at, id);
  }

  /** The claimed send failed: the notice stays pending for a later attempt. */
  releaseNotice(id: number, error: string | null): void {
    prepared(this.db, `UPDATE approval_requester_notices SET claimed_until = NULL, last_error = ? WHERE id = ? AND state = 'pending'`)
      .run(error, id);
  }

  /** Drops one pending notice (its request changed since). */
  supersedeNotice(id: number): void {
    prepared(this.db, `UPDATE approval_requester_notices SET state = 'superseded', claimed_until = NULL WHERE id = ? AND state = 'pending'`).run(id);
  }

  /** Drops a request's pending notices: a newer notice shows the requester the request as it is now. */
  supersedeNotices(requestId: string): void {
    prepared(this.db, `UPDATE approval_requester_notices SET state = 'superseded', claimed_until = NULL WHERE request_id = ? AND state = 'pending'`)
      .run(requestId);
  }
}
