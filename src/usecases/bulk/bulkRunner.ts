import { randomUUID } from 'node:crypto';
import { DirectoryError, isDirectoryError, type Directory } from '../ports/Directory';
import type { DirectoryUser } from '../../domain/tenant';
import type { InvitationPatch, InvitationRecord, InvitationRepository } from '../../adapters/sqlite/invitations';
import type { ApprovalSubmission } from '../invite/inviteGuest';
import type { SignInAdvisorPort } from '../signIn/signInAdvisor';
import { ACTIVE_JOB_STATES, type BulkJob, type BulkJobStore, type BulkRow, type BulkRowPatch, type RowCounts } from '../../adapters/sqlite/bulkJobs';
import { systemTimerClock as systemClock, type TimerClock as Clock, type InvitationPacer } from '../ports/pacer';
import { countInvitationSent, detached, startBulkBatch, type BulkBatchCounts, type BulkQueueDepth } from '../../shared/telemetry';

/**
 * The background bulk invitation job.
 *
 * Exactly once, whatever happens: every row goes through the same invitation record as a
 * single invitation (InvitationRepository.claim on tenant + address + site), each step is
 * written before the next one starts, and before inviting anybody the runner looks the
 * addresses up (in bulk): a guest who already exists — including one whose invitation went
 * through just before a crash — is added to the site, never invited a second time.
 *
 * Throughput: invitations start as fast as the pacer allows (the tenant's /invitations limit)
 * with several in flight; memberships are added 20 per request while invitations continue.
 */

export interface BulkProgress {
  jobId: string;
  state: BulkJob['state'];
  /** Rows the job sends (valid rows of the file). */
  total: number;
  /** Invited (or found) and added to the site. */
  done: number;
  failed: number;
  /** Not sent because of a cancel. */
  cancelled: number;
  remaining: number;
  /** Rows finished per minute in this run. */
  ratePerMinute: number;
  /** Rows finished in this run, and over how long (ms): the honest pace for short jobs. */
  finishedThisRun: number;
  elapsedMs: number;
  /** Estimated seconds left; null until a rate is known. */
  secondsLeft: number | null;
  counts: RowCounts;
}

export interface BulkRunnerLogger {
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
  error(obj: Record<string, unknown>, msg: string): void;
}

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

const silentLogger: BulkRunnerLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * Who holds what, read synchronously while start() decides (the SQLite holder registry has it).
 * Temporary: goes when start() awaits the async HolderRegistry port (src/usecases/ports/leases.ts).
 */
export interface BulkHolders {
  readonly holderId: string;
  isAliveSync(holderId: string): boolean;
}

export interface BulkRunnerOptions {
  jobs: BulkJobStore;
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
  clock?: Clock;
  /** Called at a steady pace while a job runs (and once at the end). Errors are logged, not thrown. */
  onProgress?: (job: BulkJob, progress: BulkProgress) => void | Promise<void>;
  /** Called once when a job completes, is cancelled or fails. */
  onFinished?: (job: BulkJob, progress: BulkProgress) => void | Promise<void>;
  logger?: BulkRunnerLogger;
  /** Minimum ms between two progress reports (default 3,000). */
  progressIntervalMs?: number;
  /** Invitations in flight at once (default 16). */
  maxInFlight?: number;
  /** Directory attempts per row before it is marked failed (default 5). */
  maxAttempts?: number;
  /** First backoff without Retry-After (doubles each attempt; default 1,000 ms) and its cap (default 60,000 ms). */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** How long an attempt owns an invitation record (default 2 min, as the single-invite flow). */
  lockMs?: number;
  /** How long a runner's claim on a job lasts without renewal (default 30 s). */
  leaseMs?: number;
  /** Rows read from the store at a time (default 100). */
  pageSize?: number;
  /** Identifies this process in job leases (default: the holder id, else a random one). */
  runnerId?: string;
  /**
   * Whether the runner holding a job's lease, or the attempt holding an invitation's lock, is
   * still alive: a dead one's job is taken over at once instead of when its lease runs out.
   */
  holders?: BulkHolders;
  /** How soon a row whose invitation another live attempt holds is looked at again (default 250 ms). */
  lockRecheckMs?: number;
}

const MEMBERS_PER_REQUEST = 20;

/** A transient or throttled failure with when to try again. */
interface Deferral {
  error: DirectoryError;
  waitMs: number;
}

function errorMessage(e: unknown): string {
  if (isDirectoryError(e)) return e.userMessage;
  return 'Something went wrong while sending this invitation.';
}

class JobRun {
  readonly startedAt: number;
  finishedThisRun = 0;
  lastReportAt = 0;
  cancel = false;
  inFlight = 0;
  private readonly waiters: Array<() => void> = [];
  readonly pending = new Set<Promise<void>>();
  readonly members = new Map<string, BulkRow[]>();
  /**
   * Invitation record id → the version this run last wrote. A row's record is changed three or
   * four times; starting from the known version saves a read each time (a race still re-reads).
   */
  readonly recordVersions = new Map<string, number>();

  constructor(
    public job: BulkJob,
    now: number,
  ) {
    this.startedAt = now;
  }

  track(p: Promise<void>): void {
    this.pending.add(p);
    void p.finally(() => {
      this.pending.delete(p);
    });
  }

  async slot(max: number): Promise<void> {
    while (this.inFlight >= max) await new Promise<void>((resolve) => this.waiters.push(resolve));
    this.inFlight++;
  }

  release(): void {
    this.inFlight--;
    this.waiters.shift()?.();
  }

  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }
}

export class BulkRunner {
  private readonly clock: Clock;
  private readonly logger: BulkRunnerLogger;
  private readonly runs = new Map<string, { run: JobRun; done: Promise<void> }>();
  private readonly runnerId: string;
  private stopping = false;
  private readonly o: Required<
    Pick<BulkRunnerOptions, 'progressIntervalMs' | 'maxInFlight' | 'maxAttempts' | 'baseBackoffMs' | 'maxBackoffMs' | 'lockMs' | 'leaseMs' | 'pageSize' | 'lockRecheckMs'>
  >;

  constructor(private readonly deps: BulkRunnerOptions) {
    this.clock = deps.clock ?? systemClock;
    this.logger = deps.logger ?? silentLogger;
    this.runnerId = deps.runnerId ?? deps.holders?.holderId ?? `runner-${randomUUID()}`;
    this.o = {
      progressIntervalMs: deps.progressIntervalMs ?? 3000,
      maxInFlight: deps.maxInFlight ?? 16,
      maxAttempts: deps.maxAttempts ?? 5,
      baseBackoffMs: deps.baseBackoffMs ?? 1000,
      maxBackoffMs: deps.maxBackoffMs ?? 60_000,
      lockMs: deps.lockMs ?? 120_000,
      leaseMs: deps.leaseMs ?? 30_000,
      pageSize: deps.pageSize ?? 100,
      lockRecheckMs: deps.lockRecheckMs ?? 250,
    };
  }

  /** Whether `holderId` still runs (without a registry: until its lease or lock runs out). */
  private alive(holderId: string | null): boolean {
    if (!holderId || holderId === this.runnerId) return true;
    return this.deps.holders ? this.deps.holders.isAliveSync(holderId) : true;
  }

  /**
   * Starts (in the background) a confirmed job, unless this process already runs it or another
   * live runner holds its lease. Returns whether it started here. The turn never waits on this.
   */
  start(jobId: string): boolean {
    if (this.stopping || this.runs.has(jobId)) return false;
    const now = this.clock.now();
    const job = this.deps.jobs.get(jobId);
    if (!job || !ACTIVE_JOB_STATES.includes(job.state)) return false;
    // Another runner holds the job while its lease runs and it is alive; a dead runner's job is taken at once.
    if (job.leaseOwner && job.leaseOwner !== this.runnerId && (job.leaseUntil ?? 0) > now && this.alive(job.leaseOwner)) return false;
    const leased = this.deps.jobs.update(job.id, job.version, {
      state: job.state === 'queued' ? 'running' : job.state,
      leaseOwner: this.runnerId,
      leaseUntil: now + this.o.leaseMs,
      startedAt: job.startedAt ?? now,
    });
    if (!leased) return false;
    const run = new JobRun(leased, now);
    const done = detached(() => this.execute(run))
      .catch((e: unknown) => this.fail(run, e))
      .finally(() => {
        this.runs.delete(jobId);
      });
    this.runs.set(jobId, { run, done });
    return true;
  }

  /**
   * Picks up every unfinished job (confirmed, running when its runner died, or cancelling) that
   * no live runner holds. Run at start-up and then every RECOVERY_INTERVAL_MS.
   */
  resumeAll(): string[] {
    const started: string[] = [];
    for (const job of this.deps.jobs.listActive()) {
      if (this.start(job.id)) started.push(job.id);
    }
    if (started.length) this.logger.info({ jobs: started }, 'resumed bulk invitation jobs');
    return started;
  }

  /** Asks a job to stop: no new invitation starts; in-flight ones finish and their guests are still added. */
  requestCancel(jobId: string): BulkJob | null {
    const job = this.deps.jobs.transition(jobId, ['queued', 'running'], { state: 'cancelling' });
    const local = this.runs.get(jobId);
    if (local) local.run.cancel = true;
    else if (job) this.start(jobId);
    return job;
  }

  isRunning(jobId: string): boolean {
    return this.runs.has(jobId);
  }

  /** Resolves when the job's run in this process ends (immediately when not running here). */
  async whenFinished(jobId: string): Promise<void> {
    await this.runs.get(jobId)?.done;
  }

  /** Stops starting new work and waits for the current runs to wind down (process shutdown). */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const { run } of this.runs.values()) run.cancel = true;
    await Promise.all([...this.runs.values()].map((r) => r.done));
  }

  /** Jobs confirmed and not finished, and their rows still to do: the bulk queue gauges (telemetry). */
  depth(): BulkQueueDepth {
    const active = this.deps.jobs.listActive();
    let rowsWaiting = 0;
    for (const job of active) {
      const counts = this.deps.jobs.counts(job.id);
      rowsWaiting += counts.pending + counts.invited;
    }
    return { jobs: active.length, rowsWaiting };
  }

  progress(jobId: string): BulkProgress | null {
    const job = this.deps.jobs.get(jobId);
    if (!job) return null;
    const local = this.runs.get(jobId)?.run;
    return this.measure(job, local ?? null);
  }

  // ---- the job ----

  private async execute(run: JobRun): Promise<void> {
    const { jobs } = this.deps;
    const jobId = run.job.id;
    this.logger.info({ jobId, runner: this.runnerId }, 'bulk job running');
    const approvals = this.deps.approvals;
    if (approvals && !(await this.submitForApproval(run, approvals))) return;
    let cursor = 0;
    for (;;) {
      if (!this.refresh(run)) return; // lease lost to another runner
      if (run.cancel || run.job.state === 'cancelling') break;
      const now = this.clock.now();
      const page = jobs.dueRows(jobId, cursor, now, this.o.pageSize);
      if (page.length === 0) {
        // End of a pass: let in-flight work land, then see what is left to retry.
        await run.drain();
        this.flushAllMembers(run);
        await run.drain();
        const next = jobs.nextDue(jobId);
        if (next === null) break;
        cursor = 0;
        const wait = next - this.clock.now();
        if (wait > 0) await this.clock.sleep(Math.min(wait, this.o.progressIntervalMs));
        await this.report(run);
        continue;
      }
      cursor = page[page.length - 1]?.rowNumber ?? cursor;
      await this.processPage(run, page);
      await this.report(run);
      // With a directory that answers without I/O, a job is nothing but promise callbacks and
      // would starve the event loop: the bot's turns, timers and the finalisers that free
      // SQLite statements (memory grew with the file's length) all wait for a turn.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    await run.drain();
    this.flushAllMembers(run);
    await run.drain();
    await this.finish(run);
  }

  /** The row update for a row whose invitation record is already completed: the guest is in. */
  private doneFrom(record: InvitationRecord): BulkRowPatch {
    return {
      state: 'done',
      invitationRecordId: record.id,
      userId: record.userId,
      redeemUrl: record.redeemUrl,
      inviteId: record.invitationId,
      status: 'PendingAcceptance',
      error: 'success',
      time: this.iso(),
    };
  }

  /**
   * Sends the rows that need an approver to the approvals feature, one request per row (the
   * approver decides per guest; an approved request is carried out by the single-invitation code,
   * on the same invitation record). Each row is marked with its request id once submitted; a
   * resumed job only submits rows not yet marked, and a repeat submission returns the pending
   * request. False when the lease was lost.
   */
  private async submitForApproval(run: JobRun, approvals: BulkApprovals): Promise<boolean> {
    const { jobs, invitations } = this.deps;
    let cursor = 0;
    for (;;) {
      if (!this.refresh(run)) return false;
      if (run.cancel || run.job.state === 'cancelling') return true;
      const page = jobs.rowsInState(run.job.id, 'needsApproval', cursor, this.o.pageSize);
      if (page.length === 0) return true;
      cursor = page[page.length - 1]?.rowNumber ?? cursor;
      const job = run.job;
      for (const row of page) {
        if (run.cancel) return true;
        if (!row.emailKey || !row.groupId) {
          jobs.updateRow(job.id, row.rowNumber, { state: 'failed', error: 'No site to add this guest to.', time: this.iso() });
          continue;
        }
        // Approved (and carried out) since an earlier run of the same file: nothing to ask.
        const record = await invitations.findByKey({ tenantId: job.tenantId, emailNormalised: row.emailKey, groupId: row.groupId });
        if (record?.state === 'completed') {
          jobs.updateRow(job.id, row.rowNumber, this.doneFrom(record));
          continue;
        }
        try {
          const advice = await approvals.advisor.advise(row.email);
          const receipt = await approvals.gateway.submit({
            request: {
              email: row.email,
              displayName: row.name || row.email,
              groupId: row.groupId,
              requestedBy: { userId: job.requestedBy.id, name: job.requestedBy.name, tenantId: job.tenantId },
              conversationRefKey: job.conversationId,
              source: `bulk:${job.id}`,
            },
            target: { groupId: row.groupId, siteName: row.siteName ?? '', siteUrl: row.siteUrl ?? '' },
            advice,
            justification: `Row ${row.rowNumber} of the bulk invitation file ${job.summary.sourceName}.`,
          });
          jobs.updateRow(job.id, row.rowNumber, {
            state: 'sentForApproval',
            approvalRequestId: receipt.requestId,
            status: 'PendingApproval',
            error: `sent for approval (request ${receipt.requestId})`,
            time: this.iso(),
          });
        } catch (e) {
          this.logger.warn({ jobId: job.id, row: row.rowNumber, err: String(e) }, 'bulk row could not be sent for approval');
          jobs.updateRow(job.id, row.rowNumber, {
            state: 'failed',
            error: `could not be sent for approval: ${isDirectoryError(e) ? e.userMessage : 'unexpected error'}`,
            time: this.iso(),
          });
        }
      }
      await this.report(run);
    }
  }

  /** Re-reads the job and renews the lease; false when another runner has taken it over. */
  private refresh(run: JobRun): boolean {
    for (let i = 0; i < 5; i++) {
      const job = this.deps.jobs.get(run.job.id);
      if (!job || job.leaseOwner !== this.runnerId) {
        this.logger.warn({ jobId: run.job.id }, 'bulk job lease lost; stopping here');
        return false;
      }
      if (job.state === 'cancelling') run.cancel = true;
      const renewed = this.deps.jobs.update(job.id, job.version, { leaseUntil: this.clock.now() + this.o.leaseMs });
      if (renewed) {
        run.job = renewed;
        return true;
      }
    }
    return true;
  }

  /**
   * One page of rows is one `bulk.batch` span (telemetry): it ends once the page's invitations
   * have landed, while the job already goes on with the next page.
   */
  private async processPage(run: JobRun, page: BulkRow[]): Promise<void> {
    const batch = startBulkBatch(run.job.id, page.length);
    const counts: BulkBatchCounts = { lookups: 0, invitations: 0, existing: 0 };
    const invitations: Array<Promise<void>> = [];
    try {
      await batch.within(() => this.dispatchPage(run, page, counts, invitations));
    } catch (e) {
      batch.end(counts, e);
      throw e;
    }
    void Promise.allSettled(invitations).then(() => batch.end(counts));
  }

  private async dispatchPage(run: JobRun, page: BulkRow[], counts: BulkBatchCounts, invitations: Array<Promise<void>>): Promise<void> {
    const toLookUp: BulkRow[] = [];
    for (const row of page) {
      if (row.state === 'invited' && row.userId) {
        this.queueMember(run, row);
        continue;
      }
      const ready = await this.claimAndLock(run, row);
      if (ready) toLookUp.push(ready);
    }
    if (toLookUp.length === 0) return;
    counts.lookups = toLookUp.length;

    let found: Map<string, DirectoryUser>;
    try {
      found = await this.deps.directory.findUsersByEmail(toLookUp.map((r) => r.email));
    } catch (e) {
      for (const row of toLookUp) await this.defer(run, row, e);
      return;
    }

    for (const row of toLookUp) {
      const user = found.get(row.email.trim().toLowerCase()) ?? (row.emailKey ? found.get(row.emailKey) : undefined);
      if (user) {
        counts.existing++;
        await this.recordFound(run, row, user);
        continue;
      }
      if (run.cancel) break;
      await run.slot(this.o.maxInFlight);
      const invitation = this.invite(run, row).finally(() => {
        run.release();
      });
      counts.invitations++;
      invitations.push(invitation);
      run.track(invitation);
    }
  }

  /**
   * Claims the row's invitation record and decides what is left to do. Returns the row (with
   * its record locked by this job) when the directory step is needed, null otherwise.
   */
  private async claimAndLock(run: JobRun, row: BulkRow): Promise<BulkRow | null> {
    const { jobs, invitations } = this.deps;
    const job = run.job;
    if (!row.emailKey || !row.groupId) {
      jobs.updateRow(job.id, row.rowNumber, { state: 'failed', error: 'No site to add this guest to.', time: this.iso() });
      run.finishedThisRun++;
      return null;
    }
    const { record } = await invitations.claim({
      tenantId: job.tenantId,
      emailNormalised: row.emailKey,
      groupId: row.groupId,
      emailDisplay: row.email,
      displayName: row.name || row.email,
      siteName: row.siteName ?? '',
      siteUrl: row.siteUrl ?? '',
      requestedBy: job.requestedBy,
      conversationRefKey: job.conversationId,
      source: `bulk:${job.id}`,
      predictedMethod: row.predictedMethod,
    });
    const base = { invitationRecordId: record.id };
    if (record.state === 'completed') {
      jobs.updateRow(job.id, row.rowNumber, this.doneFrom(record));
      run.finishedThisRun++;
      return null;
    }
    if ((record.state === 'invited' || record.state === 'partial') && record.userId) {
      const invited: BulkRow = { ...row, ...base, state: 'invited', userId: record.userId, redeemUrl: record.redeemUrl, inviteId: record.invitationId };
      jobs.updateRow(job.id, row.rowNumber, {
        ...base,
        state: 'invited',
        userId: record.userId,
        redeemUrl: record.redeemUrl,
        inviteId: record.invitationId,
        status: 'PendingAcceptance',
      });
      this.queueMember(run, invited);
      return null;
    }

    const now = this.clock.now();
    const lockedByOther =
      record.lockedUntil !== null && Date.parse(record.lockedUntil) > now && record.version !== row.lockVersion && this.alive(record.lockedBy);
    if (lockedByOther) {
      // Someone else alive (a single invitation, another job) is sending this one right now: look
      // again shortly, so the row goes on as soon as they release it, not when their lock runs out.
      const until = Date.parse(record.lockedUntil ?? '') || now + this.o.baseBackoffMs;
      jobs.updateRow(job.id, row.rowNumber, { ...base, nextAttemptAt: Math.min(until, now + this.o.lockRecheckMs) });
      return null;
    }
    // Written before the lock itself so that a crash in between still recognises the lock as ours.
    const lockVersion = record.version + 1;
    jobs.updateRow(job.id, row.rowNumber, { ...base, lockVersion });
    const locked = await invitations.update(record.id, record.version, {
      lockedUntil: new Date(now + this.o.lockMs).toISOString(),
      lockedBy: this.runnerId,
      attempts: record.attempts + 1,
    });
    if (!locked) {
      // Someone else changed the record first: the version noted above may be exactly that of
      // their lock, which must never be taken for ours.
      jobs.updateRow(job.id, row.rowNumber, { lockVersion: null, nextAttemptAt: now + Math.min(this.o.baseBackoffMs, this.o.lockRecheckMs) });
      return null;
    }
    run.recordVersions.set(locked.id, locked.version);
    return { ...row, invitationRecordId: record.id, lockVersion };
  }

  private async recordFound(run: JobRun, row: BulkRow, user: DirectoryUser): Promise<void> {
    const status = user.kind === 'member' ? 'member' : (user.externalUserState ?? 'PendingAcceptance');
    await this.patchRecord(run, row, {
      state: 'invited',
      userId: user.id,
      outcomeKind: user.kind === 'member' ? 'internalUser' : 'existingGuest',
      lockedUntil: null,
      lastError: null,
    });
    this.deps.jobs.updateRow(run.job.id, row.rowNumber, { state: 'invited', userId: user.id, status });
    this.queueMember(run, { ...row, state: 'invited', userId: user.id, status });
  }

  private async invite(run: JobRun, row: BulkRow): Promise<void> {
    await this.deps.pacer?.acquire();
    if (run.cancel) {
      await this.patchRecord(run, row, { lockedUntil: null });
      return;
    }
    try {
      const result = await this.deps.directory.invite({
        email: row.email,
        displayName: row.name,
        redirectUrl: row.redirectUrl ?? row.siteUrl ?? '',
        sendInvitationMessage: row.sendEmail ?? this.deps.sendInvitationEmail,
        ...(row.message ? { message: row.message } : {}),
      });
      countInvitationSent('bulk');
      await this.patchRecord(run, row, {
        state: 'invited',
        outcomeKind: 'newGuest',
        userId: result.userId,
        redeemUrl: result.redeemUrl,
        invitationId: result.invitationId,
        lockedUntil: null,
        lastError: null,
      });
      const patch = { state: 'invited' as const, userId: result.userId, redeemUrl: result.redeemUrl, inviteId: result.invitationId, status: result.status };
      this.deps.jobs.updateRow(run.job.id, row.rowNumber, patch);
      this.queueMember(run, { ...row, ...patch });
    } catch (e) {
      if (isDirectoryError(e) && e.code === 'throttled') this.deps.pacer?.holdOff(e.retryAfterMs ?? this.o.baseBackoffMs);
      await this.defer(run, row, e);
    }
  }

  // ---- memberships, 20 per request ----

  private queueMember(run: JobRun, row: BulkRow): void {
    if (!row.groupId || !row.userId) return;
    const queue = run.members.get(row.groupId) ?? [];
    queue.push(row);
    run.members.set(row.groupId, queue);
    if (queue.length >= MEMBERS_PER_REQUEST) this.flushMembers(run, row.groupId);
  }

  private flushAllMembers(run: JobRun): void {
    for (const groupId of [...run.members.keys()]) this.flushMembers(run, groupId);
  }

  private flushMembers(run: JobRun, groupId: string): void {
    const queue = run.members.get(groupId) ?? [];
    run.members.delete(groupId);
    for (let i = 0; i < queue.length; i += MEMBERS_PER_REQUEST) {
      run.track(this.addMembers(run, groupId, queue.slice(i, i + MEMBERS_PER_REQUEST)));
    }
  }

  private async addMembers(run: JobRun, groupId: string, rows: BulkRow[]): Promise<void> {
    const byUser = new Map<string, BulkRow[]>();
    for (const r of rows) if (r.userId) byUser.set(r.userId, [...(byUser.get(r.userId) ?? []), r]);
    try {
      const result = await this.deps.directory.addMembers(groupId, [...byUser.keys()]);
      for (const userId of [...result.added, ...result.alreadyMembers]) {
        for (const row of byUser.get(userId) ?? []) await this.completeRow(run, row);
      }
      for (const { userId, error } of result.failed) {
        // A user created seconds ago can briefly be unknown to the group endpoint: retry.
        const retry = error.retryable || error.code === 'notFound';
        for (const row of byUser.get(userId) ?? []) await this.defer(run, row, error, retry);
      }
    } catch (e) {
      for (const row of rows) await this.defer(run, row, e);
    }
  }

  private async completeRow(run: JobRun, row: BulkRow): Promise<void> {
    await this.patchRecord(run, row, { state: 'completed', lockedUntil: null, lastError: null });
    this.deps.jobs.updateRow(run.job.id, row.rowNumber, {
      state: 'done',
      error: 'success',
      status: row.status ?? 'PendingAcceptance',
      time: this.iso(),
    });
    run.finishedThisRun++;
  }

  // ---- failures ----

  /**
   * Throttled and transient faults come back later (Retry-After, or exponential backoff) until
   * the row has had maxAttempts; anything else, or too many attempts, fails the row with the reason.
   */
  private async defer(run: JobRun, row: BulkRow, e: unknown, retryable?: boolean): Promise<void> {
    const current = this.deps.jobs.getRow(run.job.id, row.rowNumber);
    const attempts = (current?.attempts ?? row.attempts) + 1;
    const canRetry = (retryable ?? (isDirectoryError(e) && e.retryable)) && attempts < this.o.maxAttempts;
    const invited = row.state === 'invited' && row.userId !== null;
    if (!isDirectoryError(e)) this.logger.error({ jobId: run.job.id, row: row.rowNumber, err: String(e) }, 'bulk row failed unexpectedly');
    if (canRetry) {
      const deferral = this.deferral(e, attempts);
      if (!invited) await this.patchRecord(run, row, { lockedUntil: null });
      this.deps.jobs.updateRow(run.job.id, row.rowNumber, { attempts, nextAttemptAt: this.clock.now() + deferral.waitMs });
      return;
    }
    const message = errorMessage(e);
    await this.patchRecord(run, row, invited ? { state: 'partial', lastError: message, lockedUntil: null } : { state: 'failed', lastError: message, lockedUntil: null });
    this.deps.jobs.updateRow(run.job.id, row.rowNumber, { state: 'failed', attempts, error: message, time: this.iso() });
    run.finishedThisRun++;
  }

  private deferral(e: unknown, attempts: number): Deferral {
    const error = isDirectoryError(e) ? e : new DirectoryError('transient', errorMessage(e), { cause: e });
    const backoff = Math.min(this.o.maxBackoffMs, this.o.baseBackoffMs * 2 ** Math.max(0, attempts - 1));
    const waitMs = error.code === 'throttled' && error.retryAfterMs !== undefined ? Math.min(error.retryAfterMs, this.o.maxBackoffMs) : backoff;
    return { error, waitMs };
  }

  /** Updates the row's invitation record (compare-and-set, re-read on a race). */
  private async patchRecord(run: JobRun, row: BulkRow, patch: InvitationPatch): Promise<InvitationRecord | null> {
    const id = row.invitationRecordId;
    if (!id) return null;
    const settle = (updated: InvitationRecord): InvitationRecord => {
      if (updated.state === 'completed' || updated.state === 'failed') run.recordVersions.delete(id);
      else run.recordVersions.set(id, updated.version);
      return updated;
    };
    const known = run.recordVersions.get(id);
    if (known !== undefined) {
      const updated = await this.deps.invitations.update(id, known, patch);
      if (updated) return settle(updated);
    }
    for (let i = 0; i < 5; i++) {
      const record = await this.deps.invitations.get(id);
      if (!record) return null;
      const updated = await this.deps.invitations.update(record.id, record.version, patch);
      if (updated) return settle(updated);
    }
    this.logger.warn({ row: row.rowNumber }, 'invitation record kept changing; update skipped');
    return null;
  }

  // ---- progress and the end ----

  private measure(job: BulkJob, run: JobRun | null): BulkProgress {
    const counts = this.deps.jobs.counts(job.id);
    const total = counts.pending + counts.invited + counts.done + counts.failed + counts.cancelled;
    const remaining = counts.pending + counts.invited;
    const elapsedMs = run ? Math.max(1, this.clock.now() - run.startedAt) : 0;
    const ratePerMinute = run && elapsedMs > 0 ? (run.finishedThisRun * 60_000) / elapsedMs : 0;
    const secondsLeft = ratePerMinute > 0 ? Math.ceil((remaining / ratePerMinute) * 60) : null;
    return {
      jobId: job.id,
      state: job.state,
      total,
      done: counts.done,
      failed: counts.failed,
      cancelled: counts.cancelled,
      remaining,
      ratePerMinute: Math.round(ratePerMinute * 10) / 10,
      finishedThisRun: run?.finishedThisRun ?? 0,
      elapsedMs,
      secondsLeft: remaining === 0 ? 0 : secondsLeft,
      counts,
    };
  }

  private async report(run: JobRun, force = false): Promise<void> {
    const now = this.clock.now();
    if (!force && now - run.lastReportAt < this.o.progressIntervalMs) return;
    run.lastReportAt = now;
    if (!this.deps.onProgress) return;
    try {
      await this.deps.onProgress(run.job, this.measure(run.job, run));
    } catch (e) {
      this.logger.warn({ jobId: run.job.id, err: String(e) }, 'bulk progress report failed');
    }
  }

  private async finish(run: JobRun): Promise<void> {
    const { jobs } = this.deps;
    const cancelled = run.cancel || run.job.state === 'cancelling';
    if (cancelled) jobs.cancelRemaining(run.job.id, 'Cancelled before it was sent.', this.iso());
    const finished = jobs.transition(run.job.id, ['running', 'cancelling', 'queued'], {
      state: cancelled ? 'cancelled' : 'completed',
      finishedAt: this.clock.now(),
      leaseOwner: null,
      leaseUntil: null,
    });
    if (!finished) return;
    run.job = finished;
    const progress = this.measure(finished, run);
    this.logger.info({ jobId: finished.id, state: finished.state, done: progress.done, failed: progress.failed }, 'bulk job finished');
    await this.report(run, true);
    try {
      await this.deps.onFinished?.(finished, progress);
    } catch (e) {
      this.logger.warn({ jobId: finished.id, err: String(e) }, 'bulk finish notification failed');
    }
  }

  private async fail(run: JobRun, e: unknown): Promise<void> {
    this.logger.error({ jobId: run.job.id, err: String(e) }, 'bulk job crashed');
    await run.drain().catch(() => undefined);
    const failed = this.deps.jobs.transition(run.job.id, ['running', 'cancelling'], {
      state: 'failed',
      error: 'The job stopped because of an unexpected error. Send the results file back to retry what is left.',
      finishedAt: this.clock.now(),
      leaseOwner: null,
      leaseUntil: null,
    });
    if (failed) {
      try {
        await this.deps.onFinished?.(failed, this.measure(failed, run));
      } catch {
        // Reported above; nothing more to do.
      }
    }
  }

  private iso(): string {
    return new Date(this.clock.now()).toISOString();
  }
}
