import { randomUUID } from 'node:crypto';
import type { Migration, SqliteDatabase, SqliteStatement as Statement } from './database';
import { bulkTableMigrations, JOB_COLUMNS, jobFromRow, sqlValue, type JobRow } from './bulkSchema';
import { SqliteBulkRows } from './bulkRows';
import { resultsLinkSecretMigration } from './resultsLinkSecret';
import { systemClock, type Clock } from '../../domain/clock';
import {
  ACTIVE_JOB_STATES,
  DRAFT_JOB_STATES,
  type BulkJob,
  type BulkJobPatch,
  type BulkJobState,
  type BulkRow,
  type BulkRowPatch,
  type BulkRowState,
  type BulkSite,
  type InvitationEmails,
  type NewBulkJob,
  type NewBulkRow,
  type RowCounts,
} from '../../domain/bulkJob';
import type { BulkJobRepository } from '../../usecases/bulk/ports';

/** Every bulk table, in order (the ids are those of the databases already out there). */
export const bulkMigrations: Migration[] = [...bulkTableMigrations, resultsLinkSecretMigration];

type Value = string | number | null;

/**
 * Bulk jobs and their rows in the embedded store (BulkJobRepository). Job changes are
 * compare-and-set on the version column; synchronous underneath (SQLite).
 */
export class SqliteBulkJobRepository implements BulkJobRepository {
  private readonly rows: SqliteBulkRows;
  private readonly clock: Clock;
  private readonly newId: () => string;
  private readonly insertJobStmt: Statement<Value[]>;
  private readonly getJobStmt: Statement<[string], JobRow>;
  private readonly listActiveStmt: Statement<string[], JobRow>;
  private readonly listFinishedEventPendingStmt: Statement<[], JobRow>;
  private readonly byRequesterStmt: Statement<[string, string, number], JobRow>;
  private readonly discardStmt: Statement<[number]>;
  private readonly deleteStmt: Statement<[string]>;
  private readonly jobUpdates = new Map<string, Statement<Value[]>>();

  constructor(
    private readonly db: SqliteDatabase,
    options: { clock?: Clock; newId?: () => string } = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.newId = options.newId ?? randomUUID;
    this.rows = new SqliteBulkRows(db);
    this.insertJobStmt = db.prepare<Value[]>(
      `INSERT INTO bulk_jobs (id, tenant_id, requested_by_id, requested_by_name, conversation_id, default_site, state, summary, created_at, version)
       VALUES (?, ?, ?, ?, ?, ?, 'draft', ?, ?, 1)`,
    );
    this.getJobStmt = db.prepare('SELECT * FROM bulk_jobs WHERE id = ?');
    this.listActiveStmt = db.prepare(
      `SELECT * FROM bulk_jobs WHERE state IN (${ACTIVE_JOB_STATES.map(() => '?').join(', ')}) ORDER BY created_at, rowid`,
    );
    this.listFinishedEventPendingStmt = db.prepare('SELECT * FROM bulk_jobs WHERE finished_event_pending = 1 ORDER BY created_at, rowid');
    this.byRequesterStmt = db.prepare(
      'SELECT * FROM bulk_jobs WHERE tenant_id = ? AND requested_by_id = ? ORDER BY created_at DESC, rowid DESC LIMIT ?',
    );
    this.discardStmt = db.prepare(`DELETE FROM bulk_jobs WHERE state IN (${DRAFT_JOB_STATES.map((s) => `'${s}'`).join(', ')}) AND created_at < ?`);
    this.deleteStmt = db.prepare('DELETE FROM bulk_jobs WHERE id = ?');
  }

  // ---- jobs (synchronous internals, for composing transactions inside the SQLite adapter) ----

  getSync(id: string): BulkJob | null {
    const r = this.getJobStmt.get(id);
    return r ? jobFromRow(r) : null;
  }

  updateSync(id: string, expectedVersion: number, patch: BulkJobPatch): BulkJob | null {
    const sets: string[] = [];
    const values: Value[] = [];
    for (const [field, column] of Object.entries(JOB_COLUMNS) as Array<[keyof BulkJobPatch, string]>) {
      if (!(field in patch)) continue;
      sets.push(`${column} = ?`);
      values.push(sqlValue(patch[field]));
    }
    sets.push('version = version + 1');
    const sql = `UPDATE bulk_jobs SET ${sets.join(', ')} WHERE id = ? AND version = ?`;
    let stmt = this.jobUpdates.get(sql);
    if (!stmt) {
      stmt = this.db.prepare<Value[]>(sql);
      this.jobUpdates.set(sql, stmt);
    }
    const info = stmt.run(...values, id, expectedVersion);
    return info.changes === 1 ? this.getSync(id) : null;
  }

  // ---- BulkJobRepository ----

  async createDraft(input: NewBulkJob): Promise<BulkJob> {
    const id = this.newId();
    this.insertJobStmt.run(
      id,
      input.tenantId,
      input.requestedBy.id,
      input.requestedBy.name,
      input.conversationId,
      input.defaultSite ? JSON.stringify(input.defaultSite) : null,
      JSON.stringify(input.summary),
      this.clock.now().getTime(),
    );
    const job = this.getSync(id);
    if (!job) throw new Error('bulk job vanished after insert');
    return job;
  }

  async get(id: string): Promise<BulkJob | null> {
    return this.getSync(id);
  }

  async update(id: string, expectedVersion: number, patch: BulkJobPatch): Promise<BulkJob | null> {
    return this.updateSync(id, expectedVersion, patch);
  }

  async transition(id: string, from: readonly BulkJobState[], patch: BulkJobPatch): Promise<BulkJob | null> {
    // Read and write in one step (nothing can come between them on this connection), retried
    // on a version race with another connection only while the state still fits.
    for (let i = 0; i < 5; i++) {
      const job = this.getSync(id);
      if (!job || !from.includes(job.state)) return null;
      const updated = this.updateSync(id, job.version, patch);
      if (updated) return updated;
    }
    return null;
  }

  async listActive(): Promise<BulkJob[]> {
    return this.listActiveStmt.all(...ACTIVE_JOB_STATES).map(jobFromRow);
  }

  async listFinishedEventPending(): Promise<BulkJob[]> {
    return this.listFinishedEventPendingStmt.all().map(jobFromRow);
  }

  async listByRequester(tenantId: string, requesterId: string, limit = 10): Promise<BulkJob[]> {
    return this.byRequesterStmt.all(tenantId, requesterId, limit).map(jobFromRow);
  }

  async insertRows(jobId: string, rows: readonly NewBulkRow[]): Promise<void> {
    this.rows.insertSync(jobId, rows);
  }

  async assignDefaultSite(jobId: string, site: BulkSite): Promise<void> {
    this.rows.assignDefaultSiteSync(jobId, site);
  }

  async updateRow(jobId: string, rowNumber: number, patch: BulkRowPatch): Promise<void> {
    this.rows.updateSync(jobId, rowNumber, patch);
  }

  async getRow(jobId: string, rowNumber: number): Promise<BulkRow | null> {
    return this.rows.getSync(jobId, rowNumber);
  }

  async dueRows(jobId: string, afterRow: number, now: number, limit: number): Promise<BulkRow[]> {
    return this.rows.dueSync(jobId, afterRow, now, limit);
  }

  async rowsInState(jobId: string, state: BulkRowState, afterRow: number, limit: number): Promise<BulkRow[]> {
    return this.rows.inStateSync(jobId, state, afterRow, limit);
  }

  async rowsAfter(jobId: string, afterRow: number, limit: number): Promise<BulkRow[]> {
    return this.rows.afterSync(jobId, afterRow, limit);
  }

  async nextDue(jobId: string): Promise<number | null> {
    return this.rows.nextDueSync(jobId);
  }

  async invitationEmails(jobId: string, defaultSend: boolean): Promise<InvitationEmails> {
    return this.rows.invitationEmailsSync(jobId, defaultSend);
  }

  async rowsNotEmailed(jobId: string, defaultSend: boolean, afterRow: number, limit: number): Promise<BulkRow[]> {
    return this.rows.notEmailedSync(jobId, defaultSend, afterRow, limit);
  }

  async counts(jobId: string): Promise<RowCounts> {
    return this.rows.countsSync(jobId);
  }

  async cancelRemaining(jobId: string, reason: string, time: string): Promise<number> {
    return this.rows.cancelRemainingSync(jobId, reason, time);
  }

  async discardDraftsOlderThan(cutoff: number): Promise<number> {
    return this.discardStmt.run(cutoff).changes;
  }

  async delete(jobId: string): Promise<void> {
    this.deleteStmt.run(jobId);
  }
}
