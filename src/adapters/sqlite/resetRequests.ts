import { randomUUID } from 'node:crypto';
import type { SignInMethod } from '../../domain/signInAdvice';
import type { Clock } from '../../domain/clock';
import { prepared, type Migration, type SqliteDatabase } from './database';
import type {
  NewResetRequest,
  ResetRequest,
  ResetRequestReceipt,
  ResetRequestRepository,
  ResetRequestStatus,
} from '../../usecases/approvals/ports';
import type { ApprovalCompanionWriters } from '../approvalCompanions';
import { resetClosedAudit, resetRequestedAudit } from '../../usecases/approvals/ports';

/**
 * Guests asking an admin to reset their redemption (e.g. they redeemed with a one-time passcode
 * and their organisation has since got Microsoft Entra ID). Recorded here and audited; the
 * approvals feature routes them to admins by wrapping this sink (usecases/approvals/resetApprovals.ts).
 */
export const resetRequestMigrations: readonly Migration[] = [
  {
    id: 'resetRequests/001-create',
    up: `
      CREATE TABLE reset_requests (
        id              TEXT PRIMARY KEY,
        tenant_id       TEXT NOT NULL,
        user_id         TEXT NOT NULL,
        user_name       TEXT NOT NULL,
        email           TEXT NOT NULL,
        redeemed_with   TEXT,
        reason          TEXT NOT NULL,
        status          TEXT NOT NULL CHECK (status IN ('open', 'done', 'declined')),
        requested_at    TEXT NOT NULL,
        updated_at      TEXT NOT NULL
      );
      -- One open request per guest: a second click finds the first.
      CREATE UNIQUE INDEX reset_requests_one_open_per_user ON reset_requests (tenant_id, user_id) WHERE status = 'open';
    `,
  },
];

export interface ResetRequestRow {
  id: string;
  tenant_id: string;
  user_id: string;
  user_name: string;
  email: string;
  redeemed_with: string | null;
  reason: string;
  status: ResetRequestStatus;
  requested_at: string;
  updated_at: string;
}

export function resetRequestFromRow(row: ResetRequestRow): ResetRequest {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    userId: row.user_id,
    userName: row.user_name,
    email: row.email,
    redeemedWith: row.redeemed_with as SignInMethod | null,
    reason: row.reason,
    status: row.status,
    requestedAt: row.requested_at,
    updatedAt: row.updated_at,
  };
}

/** The embedded store's reset requests (table from resetRequestMigrations), audited on every change in the same transaction. */
export class SqliteResetRequestRepository implements ResetRequestRepository {
  constructor(
    private readonly db: SqliteDatabase,
    private readonly clock: Clock,
    /** The audit log's synchronous append, on the same database. */
    private readonly audit: ApprovalCompanionWriters['audit'],
  ) {}

  async submit(input: NewResetRequest): Promise<ResetRequestReceipt> {
    return this.submitSync(input);
  }

  async findOpen(tenantId: string, userId: string): Promise<ResetRequest | null> {
    return this.findOpenSync(tenantId, userId);
  }

  async listOpen(tenantId: string): Promise<ResetRequest[]> {
    return prepared<[string], ResetRequestRow>(
        this.db,
        `SELECT * FROM reset_requests WHERE tenant_id = ? AND status = 'open' ORDER BY requested_at, id`,
      )
      .all(tenantId)
      .map(resetRequestFromRow);
  }

  async close(id: string, status: 'done' | 'declined', by: { userId: string; name: string }): Promise<boolean> {
    const now = this.clock.now().toISOString();
    return this.db.transaction(() => {
      const changed = prepared(this.db, `UPDATE reset_requests SET status = ?, updated_at = ? WHERE id = ? AND status = 'open'`)
        .run(status, now, id).changes;
      if (changed === 0) return false;
      this.audit.appendSync(resetClosedAudit(id, status, by));
      return true;
    }).immediate();
  }

  private findOpenSync(tenantId: string, userId: string): ResetRequest | null {
    const row = prepared<[string, string], ResetRequestRow>(
        this.db,
        `SELECT * FROM reset_requests WHERE tenant_id = ? AND user_id = ? AND status = 'open'`,
      )
      .get(tenantId, userId);
    return row ? resetRequestFromRow(row) : null;
  }

  private submitSync(input: NewResetRequest): ResetRequestReceipt {
    const run = this.db.transaction((): ResetRequestReceipt => {
      const existing = this.findOpenSync(input.tenantId, input.userId);
      if (existing) return { request: existing, alreadyOpen: true };
      const now = this.clock.now().toISOString();
      const request: ResetRequest = { ...input, id: randomUUID(), status: 'open', requestedAt: now, updatedAt: now };
      prepared(
          this.db,
          `INSERT INTO reset_requests
             (id, tenant_id, user_id, user_name, email, redeemed_with, reason, status, requested_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, 'open', ?, ?)`,
        )
        .run(
          request.id,
          request.tenantId,
          request.userId,
          request.userName,
          request.email,
          request.redeemedWith,
          request.reason,
          now,
          now,
        );
      this.audit.appendSync(resetRequestedAudit(request));
      return { request, alreadyOpen: false };
    });
    return run.immediate();
  }
}
