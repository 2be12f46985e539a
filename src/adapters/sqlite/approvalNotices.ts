/**
 * Notices to requesters that did not arrive (table approval_requester_notices), kept until they
 * are sent again; claimed_until is a short lease so that two turns (or two processes) never send
 * the same one twice. Synchronous statements; SqliteApprovalRequestRepository exposes them
 * through its async port and composes them into its transactions.
 */
import { prepared, type SqliteDatabase } from './database';
import { toNotice, type NoticeRow } from './approvalSchema';
import type { NewRequesterNotice, RequesterNotice } from '../../usecases/approvals/model';

export class SqliteRequesterNotices {
  constructor(private readonly db: SqliteDatabase) {}

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
