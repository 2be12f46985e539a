import type { Directory } from '../ports/Directory';
import type { InvitationRepository } from '../ports/invitations';
import type { HolderRegistry } from '../ports/leases';
import type { ApprovalSubmission } from '../invite/ports';
import type { AccessRecording } from '../invite/accessRecording';
import type { SignInAdvisorPort } from '../signIn/signInAdvisor';
import type { InvitationPacer, Sleep } from '../ports/pacer';
import type { WorkQueue } from '../ports/workQueue';
import type { Clock } from '../../domain/clock';
import type { BulkJob } from '../../domain/bulkJob';
import type { BulkJobRepository } from './ports';
import type { BulkProgress } from './progress';

export interface BulkRunnerLogger {
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
  error(obj: Record<string, unknown>, msg: string): void;
}

export const silentLogger: BulkRunnerLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * The approvals feature's intake (ApprovalService satisfies it). It de-duplicates: a request
 * identical to one still waiting returns that one's id, so a resumed job or a re-sent file does
 * not ask twice.
 */
export interface BulkApprovalGateway {
  submit(submission: ApprovalSubmission): Promise<{ requestId: string; duplicate: boolean }>;
}

export interface BulkApprovals {
  gateway: BulkApprovalGateway;
  /** The approval card shows the predicted sign-in method. */
  advisor: SignInAdvisorPort;
}

export interface BulkRunnerOptions {
  jobs: BulkJobRepository;
  /** Where the job's work waits for whichever instance takes it (the store's work queue). */
  queue: WorkQueue;
  invitations: InvitationRepository;
  directory: Directory;
  /**
   * Paces POST /invitations (INVITES_PER_5S per 5 s); null when the directory paces every
   * invitation itself (GraphDirectory with the process's shared pacer).
   */
  pacer: InvitationPacer | null;
  /** SEND_INVITATION_EMAIL, unless a row says otherwise (the Entra template's sendEmail column). */
  sendInvitationEmail: boolean;
  /** Rows that need an approver are submitted here; without it they are not sent. */
  approvals?: BulkApprovals | null;
  /**
   * Each guest a row adds is recorded with the guest lifecycle (sponsor: the person who started
   * the job; end: the row's own, else the site's period). Null: nothing is recorded.
   */
  access?: AccessRecording | null;
  clock?: Clock;
  /** Waits between passes over rows waiting for a retry (default: a timer). */
  sleep?: Sleep;
  /** Called at a steady pace while a job runs (and once at the end). Errors are logged, not thrown. */
  onProgress?: (job: BulkJob, progress: BulkProgress) => void | Promise<void>;
  /** Called once when a job completes, is cancelled or fails. */
  onFinished?: (job: BulkJob, progress: BulkProgress) => void | Promise<void>;
  /**
   * Writes a job's bulkJob.finished audit event. The compare-and-set that ends a job marks the
   * event pending (finishedEventPending) and names the instance that writes it; the mark is
   * cleared once it is written. Recovery (resumeAll) writes it in the stead of an instance that
   * died in between, with `recovering` true: then it first looks whether the event is on the record
   * already (written just before the crash), so it is written once. Throws when it could not
   * write it: the mark stays and recovery tries again. Absent: no mark, no event.
   */
  recordFinished?: (job: BulkJob, progress: BulkProgress, recovering: boolean) => Promise<void>;
  logger?: BulkRunnerLogger;
  /** Minimum ms between two progress reports (default 3,000). */
  progressIntervalMs?: number;
  /**
   * Invitations in flight at once (default 32): waiting for the pacer or for Graph's answer. The
   * writes of an invitation's records after that do not hold a slot. The pace is at most
   * maxInFlight ÷ the time a slot is held (Little's law): 16 held it below Graph's 30 a second
   * on Azure Storage (one instance: 0.83-0.86 of the limit, 0.94 with 32); 48 (with the slot
   * held through the writes) drew 429s with two instances, more sends at once on a busy machine
   * reaching Graph later than the pacer counted them.
   */
  maxInFlight?: number;
  /** Directory attempts per row before it is marked failed (default 5). */
  maxAttempts?: number;
  /** First backoff without Retry-After (doubles each attempt; default 1,000 ms) and its cap (default 60,000 ms). */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** How long an attempt owns an invitation record (default 2 min, as the single-invite flow). */
  lockMs?: number;
  /** How long an instance's claim on queueing a job lasts (default 30 s). */
  leaseMs?: number;
  /** Rows read from the store at a time, and rows per queue message (default 100). */
  pageSize?: number;
  /**
   * How long a received message stays hidden from other instances without renewal (default
   * 10 s; renewed every third of it while worked): after a kill, its rows are taken over this
   * long after the last renewal.
   */
  visibilityMs?: number;
  /** A message received more than this many times is not tried again: its unfinished rows fail (BULK_MAX_DEQUEUES, default 5). */
  maxDequeues?: number;
  /** After a message's work failed, it shows again after this long, doubling each time (default 10 s, at most 5 min). */
  retryDelayMs?: number;
  /** Messages worked at once by this process (default 2: one fills the pace while the other's last invitations land). */
  messagesInFlight?: number;
  /** The longest wait between two looks at an empty queue (default 1 s; shorter right after work). */
  pollMs?: number;
  /** Identifies this process in job leases (default: the holder id, else a random one). */
  runnerId?: string;
  /**
   * Whether the runner holding a job's lease, or the attempt holding an invitation's lock, is
   * still alive: a dead one's job is taken over at once instead of when its lease runs out.
   */
  holders?: HolderRegistry;
  /** How soon a row whose invitation another live attempt holds is looked at again (default 250 ms). */
  lockRecheckMs?: number;
}

export type RunnerSettings = Required<
  Pick<
    BulkRunnerOptions,
    | 'progressIntervalMs'
    | 'maxInFlight'
    | 'maxAttempts'
    | 'baseBackoffMs'
    | 'maxBackoffMs'
    | 'lockMs'
    | 'leaseMs'
    | 'pageSize'
    | 'lockRecheckMs'
    | 'visibilityMs'
    | 'maxDequeues'
    | 'retryDelayMs'
    | 'messagesInFlight'
    | 'pollMs'
  >
>;

export function runnerSettings(o: BulkRunnerOptions): RunnerSettings {
  return {
    progressIntervalMs: o.progressIntervalMs ?? 3000,
    maxInFlight: o.maxInFlight ?? 32,
    maxAttempts: o.maxAttempts ?? 5,
    baseBackoffMs: o.baseBackoffMs ?? 1000,
    maxBackoffMs: o.maxBackoffMs ?? 60_000,
    lockMs: o.lockMs ?? 120_000,
    leaseMs: o.leaseMs ?? 30_000,
    pageSize: o.pageSize ?? 100,
    lockRecheckMs: o.lockRecheckMs ?? 250,
    visibilityMs: Math.max(1000, o.visibilityMs ?? 10_000),
    maxDequeues: o.maxDequeues ?? 5,
    retryDelayMs: o.retryDelayMs ?? 10_000,
    messagesInFlight: o.messagesInFlight ?? 2,
    pollMs: o.pollMs ?? 1000,
  };
}
