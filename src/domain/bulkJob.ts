import type { SignInMethod } from './signInAdvice';

/**
 * Bulk invitation jobs and their rows. Every state change of a job is compare-and-set on its
 * version, so two clicks (or two processes) yield one outcome. Rows are the unit of progress:
 * the runner only ever moves a row forward, and each move is written before the next step, so a
 * restarted process resumes exactly where the last one stopped.
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
  /**
   * The header cells of the columns read, in file order, as written (for the plain Name,Email
   * layout: "Name,Email,Access days" says what was understood). Absent in drafts staged before.
   */
  columns?: string[];
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
  /**
   * The access end each site's rows get from the settings (GUEST_ACCESS_DAYS, per-site
   * overrides; null = no end), as of staging. Absent without the guest lifecycle.
   */
  accessEnds?: Array<{ siteName: string; endsAt: string | null }>;
  /** Rows that name their own end (the file's end-date or days column). */
  ownAccessEnd?: number;
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
  /**
   * The instance putting the job's work in the queue (until leaseUntil), then "work-queue" once
   * it is there (leaseUntil null): the rows are worked by whichever instance takes each message.
   */
  leaseOwner: string | null;
  /** ms since epoch. */
  leaseUntil: number | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  /**
   * The job has ended and its `bulkJob.finished` audit event is not written yet: set by the
   * compare-and-set that ends the job, cleared once the event is on the record. While it is set,
   * `leaseOwner` / `leaseUntil` name the instance writing it; recovery writes it in its stead when
   * that instance died or its lease ran out. False for a job that has not ended.
   */
  finishedEventPending: boolean;
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
  /**
   * The access end the file asked for (its end-date or days column), stored as `2027-05-30` or
   * `90d` (accessEnd.ts); null: the site's period (GUEST_ACCESS_DAYS …). Once the guest's access
   * is recorded: the end it got, `2027-05-30` or `none`.
   */
  accessEnd: string | null;
}

export type NewBulkRow = Pick<BulkRow, 'rowNumber' | 'name' | 'email' | 'emailKey' | 'groupId' | 'siteName' | 'siteUrl' | 'redirectUrl' | 'sendEmail' | 'message' | 'predictedMethod' | 'state'> &
  Partial<Pick<BulkRow, 'userId' | 'redeemUrl' | 'inviteId' | 'status' | 'error' | 'time' | 'accessEnd'>>;

/** A staged row as every store first keeps it: not yet worked (no record, no attempts, no approval). */
export function newBulkRow(jobId: string, r: NewBulkRow): BulkRow {
  return {
    jobId,
    rowNumber: r.rowNumber,
    name: r.name,
    email: r.email,
    emailKey: r.emailKey,
    groupId: r.groupId,
    siteName: r.siteName,
    siteUrl: r.siteUrl,
    redirectUrl: r.redirectUrl,
    sendEmail: r.sendEmail,
    message: r.message,
    predictedMethod: r.predictedMethod,
    state: r.state,
    invitationRecordId: null,
    lockVersion: null,
    userId: r.userId ?? null,
    redeemUrl: r.redeemUrl ?? null,
    inviteId: r.inviteId ?? null,
    status: r.status ?? null,
    error: r.error ?? null,
    time: r.time ?? null,
    attempts: 0,
    nextAttemptAt: 0,
    approvalRequestId: null,
    accessEnd: r.accessEnd ?? null,
  };
}

export type BulkRowPatch = Partial<
  Pick<
    BulkRow,
    'state' | 'invitationRecordId' | 'lockVersion' | 'userId' | 'redeemUrl' | 'inviteId' | 'status' | 'error' | 'time' | 'attempts' | 'nextAttemptAt' | 'predictedMethod' | 'approvalRequestId' | 'sendEmail' | 'accessEnd'
  >
>;

export type BulkJobPatch = Partial<
  Pick<
    BulkJob,
    'state' | 'summary' | 'error' | 'leaseOwner' | 'leaseUntil' | 'startedAt' | 'finishedAt' | 'finishedEventPending' | 'progressActivityId' | 'conversationId' | 'conversationRef' | 'defaultSite'
  >
>;

export type RowCounts = Record<BulkRowState, number>;

/** New guests of a job and whether Microsoft emailed them their invitation. */
export interface InvitationEmails {
  invited: number;
  emailed: number;
  notEmailed: number;
}

export const ROW_STATES: readonly BulkRowState[] = [
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


/** Rows still to work on (invite or find, then add). */
export const UNFINISHED_ROW_STATES: readonly BulkRowState[] = ['pending', 'invited'];

/** Jobs nobody confirmed (removed after a while). */
export const DRAFT_JOB_STATES: readonly BulkJobState[] = ['draft', 'discarded'];

export function isFinishedJob(job: Pick<BulkJob, 'state'>): boolean {
  return job.state === 'completed' || job.state === 'cancelled' || job.state === 'failed';
}

/** What a new draft is made of. */
export interface NewBulkJob {
  tenantId: string;
  requestedBy: { id: string; name: string };
  conversationId: string | null;
  defaultSite: BulkSite | null;
  summary: BulkValidationSummary;
}
