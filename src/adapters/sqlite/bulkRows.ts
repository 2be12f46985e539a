import type { SqliteDatabase, SqliteStatement as Statement } from './database';
import { ROW_COLUMNS, rowFromRow, sqlValue, type RowRow } from './bulkSchema';
import { emptyCounts, type BulkRow, type BulkRowPatch, type BulkRowState, type BulkSite, type InvitationEmails, type NewBulkRow, type RowCounts } from '../../domain/bulkJob';

type Value = string | number | null;

/**
 * The rows of bulk jobs (table bulk_rows), synchronous underneath (SQLite) and cheap
 * enough to call per row. Used by SqliteBulkJobRepository; statements are prepared once.
 */
export class SqliteBulkRows {
  private readonly insertStmt: Statement<Value[]>;
  private readonly assignSiteStmt: Statement<[string, string, string, string]>;
  private readonly getStmt: Statement<[string, number], RowRow>;
  private readonly dueStmt: Statement<[string, number, number, number], RowRow>;
  private readonly inStateStmt: Statement<[string, BulkRowState, number, number], RowRow>;
  private readonly afterStmt: Statement<[string, number, number], RowRow>;
  private readonly nextDueStmt: Statement<[string], { t: number | null }>;
  private readonly emailsStmt: Statement<[number, string], { invited: number; emailed: number | null }>;
  private readonly notEmailedStmt: Statement<[string, number, number, number], RowRow>;
  private readonly countsStmt: Statement<[string], { state: string; n: number }>;
  private readonly cancelStmt: Statement<[string, string, string]>;
  /** Prepared row updates by column set: a job makes several per row, so preparing each time shows. */
  private readonly updates = new Map<string, Statement<Value[]>>();

  constructor(private readonly db: SqliteDatabase) {
    // Idempotent per (job, row number): a row already staged is kept as it is.
    this.insertStmt = db.prepare<Value[]>(
      `INSERT INTO bulk_rows (job_id, row_number, name, email, email_key, group_id, site_name, site_url, redirect_url,
        send_email, message, predicted_method, state, user_id, redeem_url, invite_id, status, error, time, access_end)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (job_id, row_number) DO NOTHING`,
    );
    this.assignSiteStmt = db.prepare('UPDATE bulk_rows SET group_id = ?, site_name = ?, site_url = ? WHERE job_id = ? AND group_id IS NULL');
    this.getStmt = db.prepare('SELECT * FROM bulk_rows WHERE job_id = ? AND row_number = ?');
    this.dueStmt = db.prepare(
      `SELECT * FROM bulk_rows WHERE job_id = ? AND state IN ('pending', 'invited') AND row_number > ? AND next_attempt_at <= ?
       ORDER BY row_number LIMIT ?`,
    );
    this.inStateStmt = db.prepare('SELECT * FROM bulk_rows WHERE job_id = ? AND state = ? AND row_number > ? ORDER BY row_number LIMIT ?');
    this.afterStmt = db.prepare('SELECT * FROM bulk_rows WHERE job_id = ? AND row_number > ? ORDER BY row_number LIMIT ?');
    this.nextDueStmt = db.prepare("SELECT MIN(next_attempt_at) AS t FROM bulk_rows WHERE job_id = ? AND state IN ('pending', 'invited')");
    this.emailsStmt = db.prepare(
      `SELECT COUNT(*) AS invited, SUM(CASE WHEN COALESCE(send_email, ?) = 1 THEN 1 ELSE 0 END) AS emailed
         FROM bulk_rows WHERE job_id = ? AND state = 'done' AND redeem_url IS NOT NULL`,
    );
    this.notEmailedStmt = db.prepare(
      `SELECT * FROM bulk_rows WHERE job_id = ? AND state = 'done' AND redeem_url IS NOT NULL AND COALESCE(send_email, ?) = 0
         AND row_number > ? ORDER BY row_number LIMIT ?`,
    );
    this.countsStmt = db.prepare('SELECT state, COUNT(*) AS n FROM bulk_rows WHERE job_id = ? GROUP BY state');
    this.cancelStmt = db.prepare("UPDATE bulk_rows SET state = 'cancelled', error = ?, time = ? WHERE job_id = ? AND state = 'pending'");
  }

  insertSync(jobId: string, rows: readonly NewBulkRow[]): void {
    const run = this.db.transaction((batch: readonly NewBulkRow[]) => {
      for (const r of batch) {
        this.insertStmt.run(
          jobId,
          r.rowNumber,
          r.name,
          r.email,
          r.emailKey,
          r.groupId,
          r.siteName,
          r.siteUrl,
          r.redirectUrl,
          sqlValue(r.sendEmail),
          r.message,
          r.predictedMethod,
          r.state,
          r.userId ?? null,
          r.redeemUrl ?? null,
          r.inviteId ?? null,
          r.status ?? null,
          r.error ?? null,
          r.time ?? null,
          r.accessEnd ?? null,
        );
      }
    });
    run(rows);
  }

  assignDefaultSiteSync(jobId: string, site: BulkSite): void {
    this.assignSiteStmt.run(site.groupId, site.siteName, site.siteUrl, jobId);
  }

  updateSync(jobId: string, rowNumber: number, patch: BulkRowPatch): void {
    const sets: string[] = [];
    const values: Value[] = [];
    for (const [field, column] of Object.entries(ROW_COLUMNS) as Array<[keyof BulkRowPatch, string]>) {
      if (!(field in patch)) continue;
      sets.push(`${column} = ?`);
      values.push(sqlValue(patch[field]));
    }
    if (sets.length === 0) return;
    const sql = `UPDATE bulk_rows SET ${sets.join(', ')} WHERE job_id = ? AND row_number = ?`;
    let stmt = this.updates.get(sql);
    if (!stmt) {
      stmt = this.db.prepare<Value[]>(sql);
      this.updates.set(sql, stmt);
    }
    stmt.run(...values, jobId, rowNumber);
  }

  getSync(jobId: string, rowNumber: number): BulkRow | null {
    const r = this.getStmt.get(jobId, rowNumber);
    return r ? rowFromRow(r) : null;
  }

  dueSync(jobId: string, afterRow: number, now: number, limit: number): BulkRow[] {
    return this.dueStmt.all(jobId, afterRow, now, limit).map(rowFromRow);
  }

  inStateSync(jobId: string, state: BulkRowState, afterRow: number, limit: number): BulkRow[] {
    return this.inStateStmt.all(jobId, state, afterRow, limit).map(rowFromRow);
  }

  afterSync(jobId: string, afterRow: number, limit: number): BulkRow[] {
    return this.afterStmt.all(jobId, afterRow, limit).map(rowFromRow);
  }

  nextDueSync(jobId: string): number | null {
    return this.nextDueStmt.get(jobId)?.t ?? null;
  }

  invitationEmailsSync(jobId: string, defaultSend: boolean): InvitationEmails {
    const r = this.emailsStmt.get(defaultSend ? 1 : 0, jobId);
    const invited = r?.invited ?? 0;
    const emailed = r?.emailed ?? 0;
    return { invited, emailed, notEmailed: invited - emailed };
  }

  notEmailedSync(jobId: string, defaultSend: boolean, afterRow: number, limit: number): BulkRow[] {
    return this.notEmailedStmt.all(jobId, defaultSend ? 1 : 0, afterRow, limit).map(rowFromRow);
  }

  countsSync(jobId: string): RowCounts {
    const counts = emptyCounts();
    for (const r of this.countsStmt.all(jobId)) counts[r.state as BulkRowState] = r.n;
    return counts;
  }

  cancelRemainingSync(jobId: string, reason: string, time: string): number {
    return this.cancelStmt.run(reason, time, jobId).changes;
  }
}
