import { randomUUID } from 'node:crypto';
import { isDirectoryError } from '../ports/Directory';
import { systemClock, type Clock } from '../../domain/clock';
import { realSleep, type Sleep } from '../ports/pacer';
import { ACTIVE_JOB_STATES, type BulkJob } from '../../domain/bulkJob';
import { detached, type BulkQueueDepth } from '../../shared/bulkTelemetry';
import { JobRun } from './jobRun';
import { measureProgress, type BulkProgress } from './progress';
import { RowWork } from './rowWork';
import { runnerSettings, silentLogger, type BulkApprovals, type BulkRunnerLogger, type BulkRunnerOptions, type RunnerSettings } from './runnerOptions';

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
 * The row steps are in rowWork.ts; this file holds the job: its lease, passes, approvals, end.
 */

export class BulkRunner {
  private readonly clock: Clock;
  private readonly sleep: Sleep;
  private readonly logger: BulkRunnerLogger;
  private readonly runs = new Map<string, { run: JobRun; done: Promise<void> }>();
  /** Starts being decided (the job read and leased): a second start of the same job waits for none. */
  private readonly starting = new Set<string>();
  private readonly runnerId: string;
  private stopping = false;
  private readonly o: RunnerSettings;
  private readonly rows: RowWork;

  constructor(private readonly deps: BulkRunnerOptions) {
    this.clock = deps.clock ?? systemClock;
    this.sleep = deps.sleep ?? realSleep;
    this.logger = deps.logger ?? silentLogger;
    this.runnerId = deps.runnerId ?? deps.holders?.holderId ?? `runner-${randomUUID()}`;
    this.o = runnerSettings(deps);
    this.rows = new RowWork({
      deps,
      o: this.o,
      runnerId: this.runnerId,
      logger: this.logger,
      now: () => this.now(),
      alive: (holderId) => this.alive(holderId),
    });
  }

  private now(): number {
    return this.clock.now().getTime();
  }

  private iso(): string {
    return new Date(this.now()).toISOString();
  }

  /** Whether `holderId` still runs (without a registry: until its lease or lock runs out). */
  private async alive(holderId: string | null): Promise<boolean> {
    if (!holderId || holderId === this.runnerId) return true;
    return this.deps.holders ? this.deps.holders.isAlive(holderId) : true;
  }

  /**
   * Starts (in the background) a confirmed job, unless this process already runs it or another
   * live runner holds its lease. Resolves to whether it started here, once the lease is taken;
   * the job itself runs on without being waited for.
   */
  async start(jobId: string): Promise<boolean> {
    if (this.stopping || this.runs.has(jobId) || this.starting.has(jobId)) return false;
    this.starting.add(jobId);
    try {
      const now = this.now();
      const job = await this.deps.jobs.get(jobId);
      if (!job || !ACTIVE_JOB_STATES.includes(job.state)) return false;
      // Another runner holds the job while its lease runs and it is alive; a dead runner's job is taken at once.
      if (job.leaseOwner && job.leaseOwner !== this.runnerId && (job.leaseUntil ?? 0) > now && (await this.alive(job.leaseOwner))) return false;
      const leased = await this.deps.jobs.update(job.id, job.version, {
        state: job.state === 'queued' ? 'running' : job.state,
        leaseOwner: this.runnerId,
        leaseUntil: now + this.o.leaseMs,
        startedAt: job.startedAt ?? now,
      });
      if (!leased || this.stopping) return false;
      const run = new JobRun(leased, now);
      const done = detached(() => this.execute(run))
        .catch((e: unknown) => this.fail(run, e))
        .finally(() => {
          this.runs.delete(jobId);
        });
      this.runs.set(jobId, { run, done });
      return true;
    } finally {
      this.starting.delete(jobId);
    }
  }

  /**
   * Picks up every unfinished job (confirmed, running when its runner died, or cancelling) that
   * no live runner holds. Run at start-up and then every RECOVERY_INTERVAL_MS.
   */
  async resumeAll(): Promise<string[]> {
    const started: string[] = [];
    for (const job of await this.deps.jobs.listActive()) {
      if (await this.start(job.id)) started.push(job.id);
    }
    if (started.length) this.logger.info({ jobs: started }, 'resumed bulk invitation jobs');
    return started;
  }

  /** Asks a job to stop: no new invitation starts; in-flight ones finish and their guests are still added. */
  async requestCancel(jobId: string): Promise<BulkJob | null> {
    const job = await this.deps.jobs.transition(jobId, ['queued', 'running'], { state: 'cancelling' });
    const local = this.runs.get(jobId);
    if (local) local.run.cancel = true;
    else if (job) await this.start(jobId);
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
  async depth(): Promise<BulkQueueDepth> {
    const active = await this.deps.jobs.listActive();
    let rowsWaiting = 0;
    for (const job of active) {
      const counts = await this.deps.jobs.counts(job.id);
      rowsWaiting += counts.pending + counts.invited;
    }
    return { jobs: active.length, rowsWaiting };
  }

  async progress(jobId: string): Promise<BulkProgress | null> {
    const job = await this.deps.jobs.get(jobId);
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
      if (!(await this.refresh(run))) return; // lease lost to another runner
      if (run.cancel || run.job.state === 'cancelling') break;
      const page = await jobs.dueRows(jobId, cursor, this.now(), this.o.pageSize);
      if (page.length === 0) {
        // End of a pass: let in-flight work land, then see what is left to retry.
        await run.drain();
        this.rows.flushAllMembers(run);
        await run.drain();
        const next = await jobs.nextDue(jobId);
        if (next === null) break;
        cursor = 0;
        const wait = next - this.now();
        if (wait > 0) await this.sleep(Math.min(wait, this.o.progressIntervalMs));
        await this.report(run);
        continue;
      }
      cursor = page[page.length - 1]?.rowNumber ?? cursor;
      await this.rows.processPage(run, page);
      await this.report(run);
      // With a directory that answers without I/O, a job is nothing but promise callbacks and
      // would starve the event loop: the bot's turns, timers and the finalisers that free
      // SQLite statements (memory grew with the file's length) all wait for a turn.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    await run.drain();
    this.rows.flushAllMembers(run);
    await run.drain();
    await this.finish(run);
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
      if (!(await this.refresh(run))) return false;
      if (run.cancel || run.job.state === 'cancelling') return true;
      const page = await jobs.rowsInState(run.job.id, 'needsApproval', cursor, this.o.pageSize);
      if (page.length === 0) return true;
      cursor = page[page.length - 1]?.rowNumber ?? cursor;
      const job = run.job;
      for (const row of page) {
        if (run.cancel) return true;
        if (!row.emailKey || !row.groupId) {
          await jobs.updateRow(job.id, row.rowNumber, { state: 'failed', error: 'No site to add this guest to.', time: this.iso() });
          continue;
        }
        // Approved (and carried out) since an earlier run of the same file: nothing to ask.
        const record = await invitations.findByKey({ tenantId: job.tenantId, emailNormalised: row.emailKey, groupId: row.groupId });
        if (record?.state === 'completed') {
          await jobs.updateRow(job.id, row.rowNumber, this.rows.doneFrom(record));
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
          await jobs.updateRow(job.id, row.rowNumber, {
            state: 'sentForApproval',
            approvalRequestId: receipt.requestId,
            status: 'PendingApproval',
            error: `sent for approval (request ${receipt.requestId})`,
            time: this.iso(),
          });
        } catch (e) {
          this.logger.warn({ jobId: job.id, row: row.rowNumber, err: String(e) }, 'bulk row could not be sent for approval');
          await jobs.updateRow(job.id, row.rowNumber, {
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
  private async refresh(run: JobRun): Promise<boolean> {
    for (let i = 0; i < 5; i++) {
      const job = await this.deps.jobs.get(run.job.id);
      if (!job || job.leaseOwner !== this.runnerId) {
        this.logger.warn({ jobId: run.job.id }, 'bulk job lease lost; stopping here');
        return false;
      }
      if (job.state === 'cancelling') run.cancel = true;
      const renewed = await this.deps.jobs.update(job.id, job.version, { leaseUntil: this.now() + this.o.leaseMs });
      if (renewed) {
        run.job = renewed;
        return true;
      }
    }
    return true;
  }

  // ---- progress and the end ----

  private async measure(job: BulkJob, run: JobRun | null): Promise<BulkProgress> {
    return measureProgress(job, await this.deps.jobs.counts(job.id), run, this.now());
  }

  private async report(run: JobRun, force = false): Promise<void> {
    const now = this.now();
    if (!force && now - run.lastReportAt < this.o.progressIntervalMs) return;
    run.lastReportAt = now;
    if (!this.deps.onProgress) return;
    try {
      await this.deps.onProgress(run.job, await this.measure(run.job, run));
    } catch (e) {
      this.logger.warn({ jobId: run.job.id, err: String(e) }, 'bulk progress report failed');
    }
  }

  private async finish(run: JobRun): Promise<void> {
    const { jobs } = this.deps;
    const cancelled = run.cancel || run.job.state === 'cancelling';
    if (cancelled) await jobs.cancelRemaining(run.job.id, 'Cancelled before it was sent.', this.iso());
    const finished = await jobs.transition(run.job.id, ['running', 'cancelling', 'queued'], {
      state: cancelled ? 'cancelled' : 'completed',
      finishedAt: this.now(),
      leaseOwner: null,
      leaseUntil: null,
    });
    if (!finished) return;
    run.job = finished;
    const progress = await this.measure(finished, run);
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
    const failed = await this.deps.jobs.transition(run.job.id, ['running', 'cancelling'], {
      state: 'failed',
      error: 'The job stopped because of an unexpected error. Send the results file back to retry what is left.',
      finishedAt: this.now(),
      leaseOwner: null,
      leaseUntil: null,
    });
    if (failed) {
      try {
        await this.deps.onFinished?.(failed, await this.measure(failed, run));
      } catch {
        // Reported above; nothing more to do.
      }
    }
  }
}
