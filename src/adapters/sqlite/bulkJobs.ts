import { randomUUID } from 'node:crypto';
import type { Statement } from 'better-sqlite3';
import type { Migration, SqliteDatabase } from './database';
import type { SignInMethod } from '../../domain/signInAdvice';
import { resultsLinkSecretMigration } from '../../usecases/bulk/resultsLink';

/**
 * Bulk invitation jobs and their rows, in the embedded store. Every state change of a job is
 * compare-and-set on its version, so two clicks (or two processes) yield one outcome. Rows are
 * the unit of progress: the runner only ever moves a row forward, and each move is written
 * before the next step, so a restarted process resumes exactly where the last one stopped.
 */

/**
 * draft      validated, waiting for Confirm (rows staged, nothing sent);
 * queued     confirmed, not yet picked up by a runner;
 * running    a runner holds the lease and works through the rows;
 * cancelling cancel asked: no new invitation starts, what is in flight finishes;
 * completed / cancelled / failed: final. `discarded`: a draft cancelled or superseded.
 */
export type BulkJobState = 'draft' | 'queued' | 'running' | 'cancelling' | 'completed' | 'cancelled' | 'failed' | 'discarded';

export const ACTIVE_JOB_STATES: readonly BulkJobState[] = ['queued', 'running', 'cancelling'];

/**
 * pending       to invite (or find) and then add;
 * invited       the guest exists (invited by us, or found), membership still to do;
 * done          invited/found and a member of the group;
 * failed        gave up with a reason (feed the results file back in to retry);
 * invalid       refused at validation (reason in error);
 * duplicate     the same address and site earlier in the file;
 * skipped       already done in an earlier run (results file with error "success");
 * needsApproval an approver has to decide: sent for approval when the job runs (if the approvals
 *               feature is plugged in; otherwise not sent);
 * sentForApproval  submitted to the approvals feature (approvalRequestId); an approver's decision
 *               carries out the invitation, outside this job;
 * cancelled     not sent because the job was cancelled.
 */
export type BulkRowState =
  | 'pending'
  | 'invited'
  | 'done'
  | 'failed'
  | 'invalid'
  | 'duplicate'
  | 'skipped'
  | 'needsApproval'
  | 'sentForApproval'
  | 'cancelled';

export interface BulkSite {
  groupId: string;
  siteName: string;
  siteUrl: string;
}

/** What the validation found, shown on the summary card and kept with the job. */
export interface BulkValidationSummary {
  sourceName: string;
  format: string;
  rows: number;
  valid: number;
  invalid: number;
  /** First invalid rows (row number, address, reason). */
  invalidRows: Array<{ rowNumber: number; email: string; reason: string }>;
  duplicates: number;
  internal: number;
  blocked: number;
  alreadyDone: number;
  needsApproval: number;
  approvalReasons: string[];
  /**
   * Predicted sign-in method → number of rows. Keys: a SignInMethod, "unknown", or
   * "<method>><otherwise>" when it depends on the guest (e.g. a Microsoft account if they have one).
   */
  methods: Record<string, number>;
  /** Sites the rows go to → number of rows (rows without a site column use the default site). */
  sites: Array<{ siteName: string; rows: number }>;
  /** Rows to be sent when confirmed. */
  toSend: number;
  /**
   * Rows whose domain is internationalised or mixes scripts (they may imitate another domain):
   * the owner must tick that they checked them before Confirm. Absent in drafts staged before.
   */
  lookAlikes?: number;
  /** The first of them, with the Unicode and ASCII forms. */
  lookAlikeRows?: Array<{ rowNumber: number; display: string; ascii: string; reason: string }>;
}

export interface BulkJob {
  id: string;
  tenantId: string;
  requestedBy: { id: string; name: string };
  /** Conversation the request came from. */
  conversationId: string | null;
  /** Bot Framework conversation reference (JSON) for proactive progress updates. */
  conversationRef: Record<string, unknown> | null;
  /** The progress card's activity id, updated in place. */
  progressActivityId: string | null;
  defaultSite: BulkSite | null;
  state: BulkJobState;
  summary: BulkValidationSummary;
  /** Why the job failed (user-facing), when it did. */
  error: string | null;
  leaseOwner: string | null;
  /** ms since epoch. */
  leaseUntil: number | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  version: number;
}

export interface BulkRow {
  jobId: string;
  rowNumber: number;
  name: string;
  email: string;
  /** Normalised address (de-duplication and the invitation key); null for invalid rows. */
  emailKey: string | null;
  /** Null: the job's default site. */
  groupId: string | null;
  siteName: string | null;
  siteUrl: string | null;
  redirectUrl: string | null;
  sendEmail: boolean | null;
  message: string | null;
  predictedMethod: SignInMethod | null;
  state: BulkRowState;
  invitationRecordId: string | null;
  /** The invitation record's version right after this job locked it (so a resumed job knows the lock is its own). */
  lockVersion: number | null;
  userId: string | null;
  redeemUrl: string | null;
  inviteId: string | null;
  /** The script's `status` column (Graph invitation status or the guest's state). */
  status: string | null;
  /** The script's `error` column: 'success', or why it failed. */
  error: string | null;
  /** ISO time of the outcome. */
  time: string | null;
  attempts: number;
  /** ms since epoch; 0 = now. */
  nextAttemptAt: number;
  /** The approval request this row was sent to (state sentForApproval). */
  approvalRequestId: string | null;
}

export type NewBulkRow = Pick<BulkRow, 'rowNumber' | 'name' | 'email' | 'emailKey' | 'groupId' | 'siteName' | 'siteUrl' | 'redirectUrl' | 'sendEmail' | 'message' | 'predictedMethod' | 'state'> &
  Partial<Pick<BulkRow, 'userId' | 'redeemUrl' | 'inviteId' | 'status' | 'error' | 'time'>>;

export type BulkRowPatch = Partial<
  Pick<
    BulkRow,
    'state' | 'invitationRecordId' | 'lockVersion' | 'userId' | 'redeemUrl' | 'inviteId' | 'status' | 'error' | 'time' | 'attempts' | 'nextAttemptAt' | 'predictedMethod' | 'approvalRequestId' | 'sendEmail'
  >
>;

export type BulkJobPatch = Partial<
  Pick<BulkJob, 'state' | 'summary' | 'error' | 'leaseOwner' | 'leaseUntil' | 'startedAt' | 'finishedAt' | 'progressActivityId' | 'conversationId' | 'conversationRef' | 'defaultSite'>
>;

export type RowCounts = Record<BulkRowState, number>;

/** New guests of a job and whether Microsoft emailed them their invitation. */
export interface InvitationEmails {
  invited: number;
  emailed: number;
  notEmailed: number;
}

export const bulkMigrations: Migration[] = [
  {
    id: 'bulk/001-jobs-and-rows',
    up: `
      CREATE TABLE bulk_jobs (
        id TEXT PRIMARY KEY,
        tenant_id TEXT NOT NULL,
        requested_by_id TEXT NOT NULL,
        requested_by_name TEXT NOT NULL,
        conversation_id TEXT,
        conversation_ref TEXT,
        progress_activity_id TEXT,
        default_site TEXT,
        state TEXT NOT NULL,
        summary TEXT NOT NULL,
        error TEXT,
        lease_owner TEXT,
        lease_until INTEGER,
        created_at INTEGER NOT NULL,
        started_at INTEGER,
        finished_at INTEGER,
        version INTEGER NOT NULL DEFAULT 1
      );
      CREATE INDEX bulk_jobs_state ON bulk_jobs (state);
      CREATE INDEX bulk_jobs_requester ON bulk_jobs (tenant_id, requested_by_id, created_at);
      CREATE TABLE bulk_rows (
        job_id TEXT NOT NULL REFERENCES bulk_jobs (id) ON DELETE CASCADE,
        row_number INTEGER NOT NULL,
        name TEXT NOT NULL,
        email TEXT NOT NULL,
        email_key TEXT,
        group_id TEXT,
        site_name TEXT,
        site_url TEXT,
        redirect_url TEXT,
        send_email INTEGER,
        message TEXT,
        predicted_method TEXT,
        state TEXT NOT NULL,
        invitation_record_id TEXT,
        lock_version INTEGER,
        user_id TEXT,
        redeem_url TEXT,
        invite_id TEXT,
        status TEXT,
        error TEXT,
        time TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (job_id, row_number)
      ) WITHOUT ROWID;
      CREATE INDEX bulk_rows_work ON bulk_rows (job_id, state, row_number);
      CREATE INDEX bulk_rows_dedupe ON bulk_rows (job_id, email_key, group_id);
    `,
  },
  {
    id: 'bulk/002-rows-approval-request',
    up: 'ALTER TABLE bulk_rows ADD COLUMN approval_request_id TEXT;',
  },
  resultsLinkSecretMigration,
];

interface JobRow {
  id: string;
  tenant_id: string;
  requested_by_id: string;
  requested_by_name: string;
  conversation_id: string | null;
  conversation_ref: string | null;
  progress_activity_id: string | null;
  default_site: string | null;
  state: string;
  summary: string;
  error: string | null;
  lease_owner: string | null;
  lease_until: number | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  version: number;
}

interface RowRow {
  job_id: string;
  row_number: number;
  name: string;
  email: string;
  email_key: string | null;
  group_id: string | null;
  site_name: string | null;
  site_url: string | null;
  redirect_url: string | null;
  send_email: number | null;
  message: string | null;
  predicted_method: string | null;
  state: string;
  invitation_record_id: string | null;
  lock_version: number | null;
  user_id: string | null;
  redeem_url: string | null;
  invite_id: string | null;
  status: string | null;
  error: string | null;
  time: string | null;
  attempts: number;
  next_attempt_at: number;
  approval_request_id: string | null;
}

function jobFromRow(r: JobRow): BulkJob {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    requestedBy: { id: r.requested_by_id, name: r.requested_by_name },
    conversationId: r.conversation_id,
    conversationRef: r.conversation_ref ? (JSON.parse(r.conversation_ref) as Record<string, unknown>) : null,
    progressActivityId: r.progress_activity_id,
    defaultSite: r.default_site ? (JSON.parse(r.default_site) as BulkSite) : null,
    state: r.state as BulkJobState,
    summary: JSON.parse(r.summary) as BulkValidationSummary,
    error: r.error,
    leaseOwner: r.lease_owner,
    leaseUntil: r.lease_until,
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    version: r.version,
  };
}

function rowFromRow(r: RowRow): BulkRow {
  return {
    jobId: r.job_id,
    rowNumber: r.row_number,
    name: r.name,
    email: r.email,
    emailKey: r.email_key,
    groupId: r.group_id,
    siteName: r.site_name,
    siteUrl: r.site_url,
    redirectUrl: r.redirect_url,
    sendEmail: r.send_email === null ? null : r.send_email === 1,
    message: r.message,
    predictedMethod: r.predicted_method as SignInMethod | null,
    state: r.state as BulkRowState,
    invitationRecordId: r.invitation_record_id,
    lockVersion: r.lock_version,
    userId: r.user_id,
    redeemUrl: r.redeem_url,
    inviteId: r.invite_id,
    status: r.status,
    error: r.error,
    time: r.time,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    approvalRequestId: r.approval_request_id,
  };
}

const JOB_COLUMNS: Record<keyof BulkJobPatch, string> = {
  state: 'state',
  summary: 'summary',
  error: 'error',
  leaseOwner: 'lease_owner',
  leaseUntil: 'lease_until',
  startedAt: 'started_at',
  finishedAt: 'finished_at',
  progressActivityId: 'progress_activity_id',
  conversationId: 'conversation_id',
  conversationRef: 'conversation_ref',
  defaultSite: 'default_site',
};

const ROW_COLUMNS: Record<keyof BulkRowPatch, string> = {
  state: 'state',
  invitationRecordId: 'invitation_record_id',
  lockVersion: 'lock_version',
  userId: 'user_id',
  redeemUrl: 'redeem_url',
  inviteId: 'invite_id',
  status: 'status',
  error: 'error',
  time: 'time',
  attempts: 'attempts',
  nextAttemptAt: 'next_attempt_at',
  predictedMethod: 'predicted_method',
  approvalRequestId: 'approval_request_id',
  sendEmail: 'send_email',
};

function sqlValue(value: unknown): string | number | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number' || typeof value === 'string') return value;
  return JSON.stringify(value);
}

const ROW_STATES: readonly BulkRowState[] = [
  'pending',
  'invited',
  'done',
  'failed',
  'invalid',
  'duplicate',
  'skipped',
  'needsApproval',
  'sentForApproval',
  'cancelled',
];

export function emptyCounts(): RowCounts {
  return Object.fromEntries(ROW_STATES.map((s) => [s, 0])) as RowCounts;
}

/** SQLite-backed jobs and rows. Synchronous underneath (better-sqlite3); cheap enough to call per row. */
export class BulkJobStore {
  private readonly insertRowStmt;
  private readonly getJobStmt;
  /** Prepared row updates by column set: a job makes several per row, so preparing each time shows. */
  private readonly rowUpdates = new Map<string, Statement<Array<string | number | null>>>();

  constructor(
    private readonly db: SqliteDatabase,
    private readonly clock: () => number = Date.now,
    private readonly newId: () => string = randomUUID,
  ) {
    this.insertRowStmt = db.prepare(
      `INSERT INTO bulk_rows (job_id, row_number, name, email, email_key, group_id, site_name, site_url, redirect_url,
        send_email, message, predicted_method, state, user_id, redeem_url, invite_id, status, error, time)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.getJobStmt = db.prepare<[string], JobRow>('SELECT * FROM bulk_jobs WHERE id = ?');
  }

  createDraft(input: {
    tenantId: string;
    requestedBy: { id: string; name: string };
    conversationId: string | null;
    defaultSite: BulkSite | null;
    summary: BulkValidationSummary;
  }): BulkJob {
    const id = this.newId();
    this.db
      .prepare(
        `INSERT INTO bulk_jobs (id, tenant_id, requested_by_id, requested_by_name, conversation_id, default_site, state, summary, created_at, version)
         VALUES (?, ?, ?, ?, ?, ?, 'draft', ?, ?, 1)`,
      )
      .run(
        id,
        input.tenantId,
        input.requestedBy.id,
        input.requestedBy.name,
        input.conversationId,
        input.defaultSite ? JSON.stringify(input.defaultSite) : null,
        JSON.stringify(input.summary),
        this.clock(),
      );
    const job = this.get(id);
    if (!job) throw new Error('bulk job vanished after insert');
    return job;
  }

  get(id: string): BulkJob | null {
    const r = this.getJobStmt.get(id);
    return r ? jobFromRow(r) : null;
  }

  /** Compare-and-set: null when the job changed since `expectedVersion` (re-read and decide). */
  update(id: string, expectedVersion: number, patch: BulkJobPatch): BulkJob | null {
    const sets: string[] = [];
    const values: Array<string | number | null> = [];
    for (const [field, column] of Object.entries(JOB_COLUMNS) as Array<[keyof BulkJobPatch, string]>) {
      if (!(field in patch)) continue;
      sets.push(`${column} = ?`);
      values.push(sqlValue(patch[field]));
    }
    sets.push('version = version + 1');
    const info = this.db.prepare(`UPDATE bulk_jobs SET ${sets.join(', ')} WHERE id = ? AND version = ?`).run(...values, id, expectedVersion);
    return info.changes === 1 ? this.get(id) : null;
  }

  /** Moves a job from one of `from` to `patch.state` (CAS retried on version races only while the state still fits). */
  transition(id: string, from: readonly BulkJobState[], patch: BulkJobPatch): BulkJob | null {
    for (let i = 0; i < 5; i++) {
      const job = this.get(id);
      if (!job || !from.includes(job.state)) return null;
      const updated = this.update(id, job.version, patch);
      if (updated) return updated;
    }
    return null;
  }

  /** Jobs a runner should be working on: confirmed and not finished. */
  listActive(): BulkJob[] {
    return this.db
      .prepare<string[], JobRow>(`SELECT * FROM bulk_jobs WHERE state IN (${ACTIVE_JOB_STATES.map(() => '?').join(', ')}) ORDER BY created_at`)
      .all(...ACTIVE_JOB_STATES)
      .map(jobFromRow);
  }

  listByRequester(tenantId: string, requesterId: string, limit = 10): BulkJob[] {
    return this.db
      .prepare<[string, string, number], JobRow>(
        'SELECT * FROM bulk_jobs WHERE tenant_id = ? AND requested_by_id = ? ORDER BY created_at DESC LIMIT ?',
      )
      .all(tenantId, requesterId, limit)
      .map(jobFromRow);
  }

  insertRows(jobId: string, rows: readonly NewBulkRow[]): void {
    const run = this.db.transaction((batch: readonly NewBulkRow[]) => {
      for (const r of batch) {
        this.insertRowStmt.run(
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
        );
      }
    });
    run(rows);
  }

  /** Rows without a site get the default site chosen at confirm. */
  assignDefaultSite(jobId: string, site: BulkSite): void {
    this.db
      .prepare('UPDATE bulk_rows SET group_id = ?, site_name = ?, site_url = ? WHERE job_id = ? AND group_id IS NULL')
      .run(site.groupId, site.siteName, site.siteUrl, jobId);
  }

  updateRow(jobId: string, rowNumber: number, patch: BulkRowPatch): void {
    const sets: string[] = [];
    const values: Array<string | number | null> = [];
    for (const [field, column] of Object.entries(ROW_COLUMNS) as Array<[keyof BulkRowPatch, string]>) {
      if (!(field in patch)) continue;
      sets.push(`${column} = ?`);
      values.push(sqlValue(patch[field]));
    }
    if (sets.length === 0) return;
    const sql = `UPDATE bulk_rows SET ${sets.join(', ')} WHERE job_id = ? AND row_number = ?`;
    let stmt = this.rowUpdates.get(sql);
    if (!stmt) {
      stmt = this.db.prepare<Array<string | number | null>>(sql);
      this.rowUpdates.set(sql, stmt);
    }
    stmt.run(...values, jobId, rowNumber);
  }

  getRow(jobId: string, rowNumber: number): BulkRow | null {
    const r = this.db.prepare<[string, number], RowRow>('SELECT * FROM bulk_rows WHERE job_id = ? AND row_number = ?').get(jobId, rowNumber);
    return r ? rowFromRow(r) : null;
  }

  /** Work still to do, due now, after `afterRow` (keyset paging: never holds the whole job). */
  dueRows(jobId: string, afterRow: number, now: number, limit: number): BulkRow[] {
    return this.db
      .prepare<[string, number, number, number], RowRow>(
        `SELECT * FROM bulk_rows WHERE job_id = ? AND state IN ('pending', 'invited') AND row_number > ? AND next_attempt_at <= ?
         ORDER BY row_number LIMIT ?`,
      )
      .all(jobId, afterRow, now, limit)
      .map(rowFromRow);
  }

  /** Rows in one state after `afterRow`, in file order (keyset paging). */
  rowsInState(jobId: string, state: BulkRowState, afterRow: number, limit: number): BulkRow[] {
    return this.db
      .prepare<[string, BulkRowState, number, number], RowRow>(
        'SELECT * FROM bulk_rows WHERE job_id = ? AND state = ? AND row_number > ? ORDER BY row_number LIMIT ?',
      )
      .all(jobId, state, afterRow, limit)
      .map(rowFromRow);
  }

  /** Earliest retry time among unfinished rows; null when nothing is left. */
  nextDue(jobId: string): number | null {
    const r = this.db
      .prepare<[string], { t: number | null }>(
        "SELECT MIN(next_attempt_at) AS t FROM bulk_rows WHERE job_id = ? AND state IN ('pending', 'invited')",
      )
      .get(jobId);
    return r?.t ?? null;
  }

  /** Every row in file order, a page at a time (for the results CSV). */
  *rowsInOrder(jobId: string, pageSize = 500): Generator<BulkRow> {
    let after = 0;
    const page = this.db.prepare<[string, number, number], RowRow>(
      'SELECT * FROM bulk_rows WHERE job_id = ? AND row_number > ? ORDER BY row_number LIMIT ?',
    );
    for (;;) {
      const rows = page.all(jobId, after, pageSize);
      for (const r of rows) yield rowFromRow(r);
      const last = rows[rows.length - 1];
      if (!last || rows.length < pageSize) return;
      after = last.row_number;
    }
  }

  /**
   * The guests this job newly invited (rows done with an invitation link), and how many of them
   * Microsoft emailed: a row's own sendEmail, else `defaultSend` (SEND_INVITATION_EMAIL).
   */
  invitationEmails(jobId: string, defaultSend: boolean): InvitationEmails {
    const r = this.db
      .prepare<[number, string], { invited: number; emailed: number | null }>(
        `SELECT COUNT(*) AS invited, SUM(CASE WHEN COALESCE(send_email, ?) = 1 THEN 1 ELSE 0 END) AS emailed
           FROM bulk_rows WHERE job_id = ? AND state = 'done' AND redeem_url IS NOT NULL`,
      )
      .get(defaultSend ? 1 : 0, jobId);
    const invited = r?.invited ?? 0;
    const emailed = r?.emailed ?? 0;
    return { invited, emailed, notEmailed: invited - emailed };
  }

  /** Done rows with an invitation link that Microsoft did not email, in file order (keyset paging). */
  rowsNotEmailed(jobId: string, defaultSend: boolean, afterRow: number, limit: number): BulkRow[] {
    return this.db
      .prepare<[string, number, number, number], RowRow>(
        `SELECT * FROM bulk_rows WHERE job_id = ? AND state = 'done' AND redeem_url IS NOT NULL AND COALESCE(send_email, ?) = 0
           AND row_number > ? ORDER BY row_number LIMIT ?`,
      )
      .all(jobId, defaultSend ? 1 : 0, afterRow, limit)
      .map(rowFromRow);
  }

  counts(jobId: string): RowCounts {
    const counts = emptyCounts();
    const rows = this.db
      .prepare<[string], { state: string; n: number }>('SELECT state, COUNT(*) AS n FROM bulk_rows WHERE job_id = ? GROUP BY state')
      .all(jobId);
    for (const r of rows) counts[r.state as BulkRowState] = r.n;
    return counts;
  }

  /** Marks every unfinished row cancelled (after a cancel, once nothing is in flight). */
  cancelRemaining(jobId: string, reason: string, time: string): number {
    return this.db
      .prepare("UPDATE bulk_rows SET state = 'cancelled', error = ?, time = ? WHERE job_id = ? AND state = 'pending'")
      .run(reason, time, jobId).changes;
  }

  /** Drafts nobody confirmed: removed with their rows. */
  discardDraftsOlderThan(cutoff: number): number {
    return this.db.prepare("DELETE FROM bulk_jobs WHERE state IN ('draft', 'discarded') AND created_at < ?").run(cutoff).changes;
  }

  delete(jobId: string): void {
    this.db.prepare('DELETE FROM bulk_jobs WHERE id = ?').run(jobId);
  }

  now(): number {
    return this.clock();
  }
}
