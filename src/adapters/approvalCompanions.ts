import type { ApprovalAuditEvent } from '../usecases/approvals/ports';

/**
 * Where an approval repository writes a decision's or an outcome's companions (its audit event,
 * the carry-out lease) in the same step as the record itself: the synchronous parts of the
 * adapter's own audit log and lease store (SQLite: inside one transaction; memory: one step).
 */
export interface ApprovalCompanionWriters {
  audit: { appendSync(event: ApprovalAuditEvent): unknown };
  leases?: { acquireSync(key: string, holderId: string, ttlMs: number): boolean };
}
