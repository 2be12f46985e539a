/**
 * The log of every card and notice delivered for an approval request (table approval_deliveries):
 * each posted copy can be updated later, and every failed delivery is on record. Synchronous
 * statements; SqliteApprovalRequestRepository exposes them through its async port.
 */
import { prepared, type SqliteDatabase } from './database';
import { toDelivery, toRequest, type DeliveryRow, type RequestRow } from './approvalSchema';
import type { ApprovalRequest, Delivery, NewDelivery } from '../../usecases/approvals/model';

export class SqliteApprovalDeliveries {
  constructor(private readonly db: SqliteDatabase) {}

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
}
