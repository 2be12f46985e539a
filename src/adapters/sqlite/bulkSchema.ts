import type { Migration } from './database';
import type { SignInMethod } from '../../domain/signInAdvice';
import type { BulkJob, BulkJobPatch, BulkJobState, BulkRow, BulkRowPatch, BulkRowState, BulkSite, BulkValidationSummary } from '../../domain/bulkJob';

/** The bulk tables in SQLite: their migrations and how a database row maps to a job or a row. */

/** The jobs and rows tables (the results-link secret has its own migration, resultsLinkSecret.ts). */
export const bulkTableMigrations: Migration[] = [
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
  {
    // The access end a row of the file asked for ('2027-05-30' or '90d'); NULL: the site's period.
    id: 'bulk/003-rows-access-end',
    up: 'ALTER TABLE bulk_rows ADD COLUMN access_end TEXT;',
  },
  {
    // 1 from the compare-and-set that ends a job until its bulkJob.finished event is written.
    id: 'bulk/004-jobs-finished-event-pending',
    up: `
      ALTER TABLE bulk_jobs ADD COLUMN finished_event_pending INTEGER NOT NULL DEFAULT 0;
      CREATE INDEX bulk_jobs_finished_event_pending ON bulk_jobs (created_at) WHERE finished_event_pending = 1;
    `,
  },
];

export interface JobRow {
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
  finished_event_pending: number;
  version: number;
}

export interface RowRow {
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
  access_end: string | null;
}

export function jobFromRow(r: JobRow): BulkJob {
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
    finishedEventPending: r.finished_event_pending === 1,
    version: r.version,
  };
}

export function rowFromRow(r: RowRow): BulkRow {
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
    accessEnd: r.access_end ?? null,
  };
}

export const JOB_COLUMNS: Record<keyof BulkJobPatch, string> = {
  state: 'state',
  summary: 'summary',
  error: 'error',
  leaseOwner: 'lease_owner',
  leaseUntil: 'lease_until',
  startedAt: 'started_at',
  finishedAt: 'finished_at',
  finishedEventPending: 'finished_event_pending',
  progressActivityId: 'progress_activity_id',
  conversationId: 'conversation_id',
  conversationRef: 'conversation_ref',
  defaultSite: 'default_site',
};

export const ROW_COLUMNS: Record<keyof BulkRowPatch, string> = {
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
  accessEnd: 'access_end',
};

export function sqlValue(value: unknown): string | number | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number' || typeof value === 'string') return value;
  return JSON.stringify(value);
}

