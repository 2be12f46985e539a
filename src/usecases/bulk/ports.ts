import type {
  BulkJob,
  BulkJobPatch,
  BulkJobState,
  BulkRow,
  BulkRowPatch,
  BulkRowState,
  BulkSite,
  InvitationEmails,
  NewBulkJob,
  NewBulkRow,
  RowCounts,
} from '../../domain/bulkJob';
import type { BulkProgress } from './progress';
import type { ApprovalSettings } from '../../domain/approvalPolicy';
import type { CsvLimits, CsvSource } from './parseInvitationCsv';

/**
 * The bulk feature's ports: where jobs and rows are kept, where the results-link secret is kept,
 * and how progress reaches the person who asked. Every method is async, so any store (the
 * embedded SQLite one, memory in tests, a cloud table) can stand behind them.
 */

/**
 * Bulk jobs and their rows. Not found is `null`; compare-and-set on a job's version reports a
 * lost race as `null` (re-read and decide), never as an error. Row pages are in file order
 * (row number ascending) and keyset-paged: `afterRow` is the last row number already seen.
 */
export interface BulkJobRepository {
  /** A new job in state `draft`, version 1. */
  createDraft(input: NewBulkJob): Promise<BulkJob>;
  get(id: string): Promise<BulkJob | null>;
  /** Compare-and-set: null when the job changed since `expectedVersion` (or does not exist). */
  update(id: string, expectedVersion: number, patch: BulkJobPatch): Promise<BulkJob | null>;
  /** Moves a job from one of `from` to `patch.state`; null when the job is in none of them (or gone). */
  transition(id: string, from: readonly BulkJobState[], patch: BulkJobPatch): Promise<BulkJob | null>;
  /** Jobs a runner should be working on (queued, running, cancelling), oldest first. */
  listActive(): Promise<BulkJob[]>;
  /** Ended jobs whose bulkJob.finished event is not written yet (finishedEventPending), oldest first. */
  listFinishedEventPending(): Promise<BulkJob[]>;
  /** A requester's jobs in a tenant, newest first. */
  listByRequester(tenantId: string, requesterId: string, limit?: number): Promise<BulkJob[]>;
  /** Adds rows to a job. Idempotent per row number: a row already there is kept as it is. */
  insertRows(jobId: string, rows: readonly NewBulkRow[]): Promise<void>;
  /** Rows without a site get the default site chosen at confirm. */
  assignDefaultSite(jobId: string, site: BulkSite): Promise<void>;
  /** Changes one row (no-op when it does not exist). */
  updateRow(jobId: string, rowNumber: number, patch: BulkRowPatch): Promise<void>;
  getRow(jobId: string, rowNumber: number): Promise<BulkRow | null>;
  /** Rows still to do (pending or invited) due at `now` (ms since epoch), after `afterRow`. */
  dueRows(jobId: string, afterRow: number, now: number, limit: number): Promise<BulkRow[]>;
  /** Rows in one state after `afterRow`. */
  rowsInState(jobId: string, state: BulkRowState, afterRow: number, limit: number): Promise<BulkRow[]>;
  /** Every row after `afterRow` (the results file, a page at a time). */
  rowsAfter(jobId: string, afterRow: number, limit: number): Promise<BulkRow[]>;
  /** Earliest retry time among unfinished rows; null when nothing is left. */
  nextDue(jobId: string): Promise<number | null>;
  /**
   * The guests this job newly invited (rows done with an invitation link), and how many of them
   * Microsoft emailed: a row's own sendEmail, else `defaultSend` (SEND_INVITATION_EMAIL).
   */
  invitationEmails(jobId: string, defaultSend: boolean): Promise<InvitationEmails>;
  /** Done rows with an invitation link that Microsoft did not email, after `afterRow`. */
  rowsNotEmailed(jobId: string, defaultSend: boolean, afterRow: number, limit: number): Promise<BulkRow[]>;
  /** Rows per state (every state present, zero when none; all zero for an unknown job). */
  counts(jobId: string): Promise<RowCounts>;
  /** Marks every pending row cancelled; returns how many. */
  cancelRemaining(jobId: string, reason: string, time: string): Promise<number>;
  /** Removes drafts (and discarded drafts) created before `cutoff` (ms since epoch), with their rows. */
  discardDraftsOlderThan(cutoff: number): Promise<number>;
  /** Removes a job with its rows (no-op when it does not exist). */
  delete(jobId: string): Promise<void>;
}

/**
 * The secret that signs results links, made on first use and kept, so links survive a restart
 * and are valid on every instance sharing the store. Two instances asking at once get the same.
 */
export interface ResultsLinkSecretStore {
  /** At least 32 bytes. */
  getOrCreate(): Promise<Buffer>;
}

/**
 * How a job's progress reaches the person who asked (data in; the Teams layer renders cards).
 * Errors are logged by the caller, never thrown into the job.
 */
export interface BulkJobNotifier {
  /** The job moved on: update its card. */
  progress(job: BulkJob, progress: BulkProgress): Promise<CardPosted>;
  /** The job completed, was cancelled or failed: final card and a short message to the requester. */
  finished(job: BulkJob, progress: BulkProgress, emails: InvitationEmails): Promise<CardPosted>;
  /** Invitation emails asked for from the job's card have gone out. */
  emailsSent(job: BulkJob, progress: BulkProgress, emails: InvitationEmails, outcome: EmailOutcome): Promise<CardPosted>;
}

/**
 * The id of the message a notifier posted when the job had no card to update yet (the job
 * remembers it, so later updates go to that card); null when it updated the job's card.
 */
export type CardPosted = string | null;

/** What re-sending the invitation emails of a job did. */
export interface EmailOutcome {
  sent: number;
  failed: number;
}

/** The bulk feature's settings, built from the configuration by the composition root. */
export interface BulkSettings {
  /** Who approves, and when (APPROVAL_POLICY, PARTNER_DOMAINS). */
  approvals: ApprovalSettings;
  /** The approver group (APPROVER_GROUP_ID, or the demo tenant's in local mode); approvers may manage any job. */
  approverGroupId: string | null;
  /** BULK_MAX_BYTES, BULK_MAX_ROWS. */
  limits: CsvLimits;
  /** INVITES_PER_5S. */
  invitesPer5s: number;
  /** SEND_INVITATION_EMAIL. */
  sendInvitationEmail: boolean;
  /** Where the results route is reachable (PUBLIC_BASE_URL, or the local address). */
  publicBaseUrl: string;
  /** RESULTS_LINK_TTL_MINUTES in ms. */
  resultsLinkTtlMs: number;
}

/** Fetches an attached file (a Teams file download URL), at most `maxBytes`. */
export type FileDownload = (downloadUrl: string, maxBytes: number) => Promise<CsvSource>;
