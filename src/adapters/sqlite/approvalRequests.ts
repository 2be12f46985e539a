/**
 * Approval requests in the embedded store (table approval_requests): one row per request, decided
 * at most once by a compare-and-set on (state, version). Every state change is a single UPDATE
 * guarded by `state = 'pending' AND version = ?`, so it holds across processes sharing the SQLite
 * file. The deliveries log and the requester notices (approvalDeliveries.ts, approvalNotices.ts)
 * are part of the same repository; a decision or an outcome is written in one transaction with its
 * companions (audit row, lease, outbox notice) through the audit log's and lease store's Sync methods.
 */
import { randomUUID } from 'node:crypto';
import type { ApprovalCompanionWriters } from '../approvalCompanions';
import { prepared, type SqliteDatabase } from './database';
import { toRequest, type RequestRow } from './approvalSchema';
import { SqliteApprovalDeliveries } from './approvalDeliveries';
import { SqliteRequesterNotices } from './approvalNotices';
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
} from '../../usecases/approvals/model';
import type {
  ApprovalRequestRepository,
  DecisionCompanions,
  FirstOutcomeResult,
  OutcomeCompanions,
} from '../../usecases/approvals/ports';

export class SqliteApprovalRequestRepository implements ApprovalRequestRepository {
  private readonly deliveries: SqliteApprovalDeliveries;
  private readonly notices: SqliteRequesterNotices;

  /** `companions` use the same database (they are written in this repository's transactions). */
  constructor(
    private readonly db: SqliteDatabase,
    private readonly companions: ApprovalCompanionWriters,
  ) {
    this.deliveries = new SqliteApprovalDeliveries(db);
    this.notices = new SqliteRequesterNotices(db);
  }

  async create(input: NewApprovalRequest, id: string = randomUUID()): Promise<ApprovalRequest> {
    return this.createSync(input, id);
  }

  async get(id: string): Promise<ApprovalRequest | null> {
    return this.getSync(id);
  }

  async decide(id: string, expectedVersion: number, decision: Decision, companions?: DecisionCompanions): Promise<CasResult> {
    return this.db
      .transaction((): CasResult => {
        const result = this.decideSync(id, expectedVersion, decision);
        if (!result.won || !companions) return result;
        this.companions.audit.appendSync(companions.audit);
        if (companions.lease) {
          if (!this.companions.leases) throw new Error('SqliteApprovalRequestRepository: no lease store to take a lease in');
          this.companions.leases.acquireSync(companions.lease.key, companions.lease.holderId, companions.lease.ttlMs);
        }
        return result;
      })
      .immediate();
  }

  async recordFirstOutcome(
    id: string,
    outcome: { status: ApprovalOutcomeStatus; message: string; at: string },
    companions: OutcomeCompanions,
  ): Promise<FirstOutcomeResult> {
    return this.db
      .transaction((): FirstOutcomeResult => {
        const first = this.recordFirstOutcomeSync(id, outcome.status, outcome.message, outcome.at);
        if (!first.won) return first;
        this.notices.supersedeNotices(id);
        const notice = this.notices.recordPendingNotice({
          ...companions.notice,
          requestId: id,
          requesterId: first.request.requester.userId,
          requestVersion: first.request.version,
        });
        this.companions.audit.appendSync(companions.audit);
        return { won: true, request: first.request, notice };
      })
      .immediate();
  }

  async listUndeliveredFor(recipientId: string): Promise<ApprovalRequest[]> {
    return this.deliveries.listUndeliveredFor(recipientId);
  }

  async recordDelivery(delivery: NewDelivery): Promise<Delivery> {
    return this.deliveries.recordDelivery(delivery);
  }

  async listDeliveries(requestId: string): Promise<Delivery[]> {
    return this.deliveries.listDeliveries(requestId);
  }

  async listCardCopies(requestId: string): Promise<Delivery[]> {
    return this.deliveries.listCardCopies(requestId);
  }

  async recordPendingNotice(notice: NewRequesterNotice): Promise<RequesterNotice> {
    return this.notices.recordPendingNotice(notice);
  }

  async getNotice(id: number): Promise<RequesterNotice | null> {
    return this.notices.getNotice(id);
  }

  async listNotices(requestId: string): Promise<RequesterNotice[]> {
    return this.notices.listNotices(requestId);
  }

  async listPendingNoticesFor(requesterId: string): Promise<RequesterNotice[]> {
    return this.notices.listPendingNoticesFor(requesterId);
  }

  async listPendingNoticesForConversation(conversationId: string): Promise<RequesterNotice[]> {
    return this.notices.listPendingNoticesForConversation(conversationId);
  }

  async listNoticesDueForRetry(lastAttemptBeforeIso: string, maxAttempts: number): Promise<RequesterNotice[]> {
    return this.notices.listNoticesDueForRetry(lastAttemptBeforeIso, maxAttempts);
  }

  async claimNotice(id: number, nowIso: string, leaseUntilIso: string): Promise<boolean> {
    return this.notices.claimNotice(id, nowIso, leaseUntilIso);
  }

  async markNoticeDelivered(id: number, at: string): Promise<void> {
    this.notices.markNoticeDelivered(id, at);
  }

  async releaseNotice(id: number, error: string | null): Promise<void> {
    this.notices.releaseNotice(id, error);
  }

  async supersedeNotice(id: number): Promise<void> {
    this.notices.supersedeNotice(id);
  }

  async supersedeNotices(requestId: string): Promise<void> {
    this.notices.supersedeNotices(requestId);
  }

  private createSync(input: NewApprovalRequest, id: string): ApprovalRequest {
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

  private getSync(id: string): ApprovalRequest | null {
    const row = prepared<[string], RequestRow>(this.db, 'SELECT * FROM approval_requests WHERE id = ?').get(id);
    return row ? toRequest(row) : null;
  }

  private mustGet(id: string): ApprovalRequest {
    const r = this.getSync(id);
    if (!r) throw new Error(`approval request ${id} vanished`);
    return r;
  }

  /** Open requests of a tenant, oldest first. */
  async listPending(tenantId: string): Promise<ApprovalRequest[]> {
    return prepared<[string], RequestRow>(
        this.db,
        `SELECT * FROM approval_requests WHERE tenant_id = ? AND state = 'pending' ORDER BY created_at, id`,
      )
      .all(tenantId)
      .map(toRequest);
  }

  /** Pending requests whose expiry time is at or before `nowIso`, across tenants. */
  async listDueForExpiry(nowIso: string): Promise<ApprovalRequest[]> {
    return prepared<[string], RequestRow>(
        this.db,
        `SELECT * FROM approval_requests WHERE state = 'pending' AND expires_at <= ? ORDER BY expires_at, id`,
      )
      .all(nowIso)
      .map(toRequest);
  }

  /** A pending invitation request for the same guest and site (to refuse duplicates). */
  async findPendingInvitation(tenantId: string, guestEmail: string, groupId: string): Promise<ApprovalRequest | null> {
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
  async findPendingReset(tenantId: string, guestUserId: string): Promise<ApprovalRequest | null> {
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

  /**
   * Decides a pending request if it is still at `expectedVersion`. Exactly one of any number of
   * concurrent callers (in any process) wins; the others get the request as it now stands.
   */
  private decideSync(id: string, expectedVersion: number, decision: Decision): CasResult {
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
    return changes === 1 ? { won: true, request: this.mustGet(id) } : { won: false, current: this.getSync(id) };
  }

  /** Records an approver's question on a pending request (it stays pending). */
  async requestInfo(id: string, expectedVersion: number, by: { name: string }, question: string, at: string): Promise<CasResult> {
    const changes = prepared(
        this.db,
        `UPDATE approval_requests
            SET version = version + 1, info_requested_by_name = ?, info_question = ?, info_requested_at = ?
          WHERE id = ? AND state = 'pending' AND version = ?`,
      )
      .run(by.name, question, at, id, expectedVersion).changes;
    return changes === 1 ? { won: true, request: this.mustGet(id) } : { won: false, current: this.getSync(id) };
  }

  /** Appends the requester's answer to the justification and clears the open question. */
  async appendJustification(id: string, expectedVersion: number, justification: string): Promise<CasResult> {
    const changes = prepared(
        this.db,
        `UPDATE approval_requests
            SET version = version + 1, justification = ?,
                info_requested_by_name = NULL, info_question = NULL, info_requested_at = NULL
          WHERE id = ? AND state = 'pending' AND version = ?`,
      )
      .run(justification, id, expectedVersion).changes;
    return changes === 1 ? { won: true, request: this.mustGet(id) } : { won: false, current: this.getSync(id) };
  }

  /**
   * Records the outcome unless one is already there: when a restarted process resumes a request
   * another process is still finishing, exactly one of them records (and so notifies).
   */
  private recordFirstOutcomeSync(id: string, status: ApprovalOutcomeStatus, message: string, at: string): CasResult {
    const changes = prepared(
        this.db,
        `UPDATE approval_requests SET outcome_status = ?, outcome_message = ?, outcome_at = ?, version = version + 1
          WHERE id = ? AND state = 'approved' AND outcome_status IS NULL`,
      )
      .run(status, message, at, id).changes;
    return changes === 1 ? { won: true, request: this.mustGet(id) } : { won: false, current: this.getSync(id) };
  }

  /** Approved requests that were never carried out (the process stopped in between). */
  async listApprovedWithoutOutcome(decidedBeforeIso: string): Promise<ApprovalRequest[]> {
    return prepared<[string], RequestRow>(
        this.db,
        `SELECT * FROM approval_requests WHERE state = 'approved' AND outcome_status IS NULL AND decided_at <= ?
          ORDER BY decided_at, id`,
      )
      .all(decidedBeforeIso)
      .map(toRequest);
  }
}
