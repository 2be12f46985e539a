import { randomUUID } from 'node:crypto';
import { systemClock, type Clock } from '../../domain/clock';
import { realSleep, type Sleep } from '../ports/pacer';
import type { QueueMessage } from '../ports/workQueue';
import { ACTIVE_JOB_STATES, isFinishedJob, type BulkJob } from '../../domain/bulkJob';
import { detached, type BulkQueueDepth } from '../../shared/bulkTelemetry';
import { finishedRows, JobRun } from './jobRun';
import { MessageLease } from './messageLease';
import { measureProgress, type BulkProgress } from './progress';
import { QueuedWork, type Dispatched } from './queuedWork';
import { RowWork } from './rowWork';
import { runnerSettings, silentLogger, type BulkRunnerLogger, type BulkRunnerOptions, type RunnerSettings } from './runnerOptions';
import { BULK_QUEUE, isGaveUp, parseWork, planMessage, QUEUED_OWNER, type BulkWork } from './workMessages';

/**
 * The background bulk invitation jobs, worked from the store's work queue so that any instance
 * works any job, and an instance killed mid-job loses nothing and repeats nothing.
 *
 * Exactly once, whatever happens: every row goes through the same invitation record as a
 * single invitation (InvitationRepository.claim on tenant + address + site), each step is
 * written before the next one starts, and before inviting anybody the runner looks the
 * addresses up (in bulk): a guest who already exists — including one whose invitation went
 * through just before a crash — is added to the site, never invited a second time.
 *
 * The queue (workMessages.ts): confirming a job queues one plan message; the plan queues one
 * message per chunk of rows. A message is hidden while an instance works it (its lease, renewed
 * as it goes), deleted when its rows are finished, and seen again by another instance if this one
 * dies. A message received more than maxDequeues times is given up: its unfinished rows fail
 * with the reason, and are counted on the finished card. The instance that finishes the last row
 * ends the job (compare-and-set: one of them) and tells the requester.
 *
 * Throughput: invitations start as fast as the shared pacer allows (the tenant's /invitations
 * limit) with several in flight; two messages are worked at once, so one fills the pace while
 * the other's last invitations and memberships land. The row steps are in rowWork.ts, the work
 * of one message in queuedWork.ts; this file holds the queue loop, the jobs' ends and progress.
 */

/** Messages held at most per messagesInFlight slot, landing ones included. */
const MAX_HELD_PER_SLOT = 4;

export class BulkRunner {
  private readonly clock: Clock;
  private readonly sleep: Sleep;
  private readonly logger: BulkRunnerLogger;
  private readonly runnerId: string;
  private readonly o: RunnerSettings;
  private readonly rows: RowWork;
  private readonly work: QueuedWork;
  /** The jobs this process works on (any part of), by id. */
  private readonly jobRuns = new Map<string, JobRun>();
  /**
   * Messages being worked here, by message id. A chunk whose invitations have all started is
   * `landing`: it no longer counts against messagesInFlight, so the next chunk's claims and
   * look-ups overlap its last invitations and memberships (the pace never waits for them).
   */
  private readonly held = new Map<string, { work: BulkWork; done: Promise<void>; landing: boolean }>();
  private readonly waiters = new Map<string, Array<() => void>>();
  /** Final notifications being sent here, by job id (whenFinished waits for them). */
  private readonly finishing = new Map<string, Promise<void>>();
  /** Jobs whose bulkJob.finished event this process is writing now (at their end, or in recovery). */
  private readonly writingFinishedEvent = new Set<string>();
  private looping = false;
  private loopDone: Promise<void> = Promise.resolve();
  private wake: (() => void) | null = null;
  private nudges = 0;
  private stopping = false;

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
    this.work = new QueuedWork({
      deps,
      o: this.o,
      rows: this.rows,
      logger: this.logger,
      now: () => this.now(),
      sleep: (ms) => this.sleep(ms),
      jobRun: (job) => this.jobRun(job),
      report: (run, force) => this.report(run, force),
      finishIfDone: (jobId) => this.finishIfDone(jobId),
      refresh: (run) => this.refresh(run),
      stopping: () => this.stopping,
      nudge: () => this.nudge(),
    });
  }

  private now(): number {
    return this.clock.now().getTime();
  }

  /** Whether `holderId` still runs (without a registry: until its lease or lock runs out). */
  private async alive(holderId: string | null): Promise<boolean> {
    if (!holderId || holderId === this.runnerId) return true;
    return this.deps.holders ? this.deps.holders.isAlive(holderId) : true;
  }

  /**
   * Queues a confirmed job's work (unless it is already queued, or another live instance is
   * queueing it right now) and makes sure this process works the queue. True when this call
   * queued it.
   */
  async start(jobId: string): Promise<boolean> {
    if (this.stopping) return false;
    const job = await this.deps.jobs.get(jobId);
    if (!job || !ACTIVE_JOB_STATES.includes(job.state)) return false;
    this.ensureLoop();
    const queued = await this.queueJob(job);
    // Again: the loop may have ended (no active job) while the job was being queued.
    this.ensureLoop();
    return queued;
  }

  private async queueJob(job: BulkJob): Promise<boolean> {
    const { jobs, queue } = this.deps;
    const now = this.now();
    if (job.leaseOwner === QUEUED_OWNER) return false;
    // Another live instance is queueing it (or, before the queue, a runner of its own ran it).
    if (job.leaseOwner && job.leaseOwner !== this.runnerId && (job.leaseUntil ?? 0) > now && (await this.alive(job.leaseOwner))) return false;
    const claimed = await jobs.update(job.id, job.version, {
      state: job.state === 'queued' ? 'running' : job.state,
      leaseOwner: this.runnerId,
      leaseUntil: now + this.o.leaseMs,
      startedAt: job.startedAt ?? now,
    });
    if (!claimed) return false;
    // Sent before the job says so: a crash in between leaves a claim that runs out and is queued again.
    await queue.send(BULK_QUEUE, planMessage(job.id));
    this.nudge();
    let current: BulkJob | null = claimed;
    for (let i = 0; i < 5 && current?.leaseOwner === this.runnerId; i++) {
      if (await jobs.update(current.id, current.version, { leaseOwner: QUEUED_OWNER, leaseUntil: null })) break;
      current = await jobs.get(job.id);
    }
    this.logger.info({ jobId: job.id }, 'bulk job queued');
    return true;
  }

  /**
   * Makes sure every unfinished job (confirmed, cancelling, or left by a runner that died before
   * its work was queued) has its work in the queue, and that this process works the queue. Run
   * at start-up and then every RECOVERY_INTERVAL_MS. Returns the jobs this call queued.
   */
  async resumeAll(): Promise<string[]> {
    if (this.stopping) return [];
    this.ensureLoop();
    const queued: string[] = [];
    for (const job of await this.deps.jobs.listActive()) {
      if (await this.queueJob(job)) queued.push(job.id);
    }
    if (queued.length) this.logger.info({ jobs: queued }, 'resumed bulk invitation jobs');
    this.ensureLoop();
    await this.recoverFinishedEvents();
    return queued;
  }

  /**
   * Ended jobs whose bulkJob.finished event is still pending and whose writer is gone (died, or
   * its claim ran out without a registry to ask): the event is written here, after a
   * compare-and-set that makes this instance the writer (one of several recovering at once).
   */
  private async recoverFinishedEvents(): Promise<void> {
    if (!this.deps.recordFinished) return;
    let pending: BulkJob[];
    try {
      pending = await this.deps.jobs.listFinishedEventPending();
    } catch (e) {
      this.logger.warn({ err: e instanceof Error ? e.message : String(e) }, 'jobs with a pending finished event not listed; trying again later');
      return;
    }
    for (const job of pending) {
      if (this.stopping) return;
      if (!(await this.finishedEventWriterGone(job))) continue;
      const claimed = await this.deps.jobs.update(job.id, job.version, { leaseOwner: this.runnerId, leaseUntil: this.now() + this.o.leaseMs });
      if (!claimed) continue;
      this.logger.info({ jobId: job.id }, 'bulk job finished event written in recovery');
      try {
        await this.writeFinishedEvent(claimed, await this.measure(claimed, null), true);
      } catch (e) {
        this.logger.warn({ jobId: job.id, err: e instanceof Error ? e.message : String(e) }, 'bulk job finished event not recovered; trying again later');
      }
    }
  }

  /**
   * Whether nobody is writing the job's pending finished event any more: not this process, and
   * its writer is dead (asked of the holder registry), or, without a registry, its claim ran out.
   */
  private async finishedEventWriterGone(job: BulkJob): Promise<boolean> {
    if (this.writingFinishedEvent.has(job.id)) return false;
    const writer = job.leaseOwner;
    if (!writer || writer === this.runnerId) return true;
    if (this.deps.holders) return !(await this.deps.holders.isAlive(writer));
    return (job.leaseUntil ?? 0) <= this.now();
  }

  /**
   * Writes the pending bulkJob.finished event of an ended job, then clears the mark by
   * compare-and-set on the job as it is then. When the event cannot be written the mark stays,
   * and so does the claim until it runs out or this process ends: recovery tries again.
   */
  private async writeFinishedEvent(job: BulkJob, progress: BulkProgress, recovering: boolean): Promise<void> {
    const record = this.deps.recordFinished;
    if (!record || !job.finishedEventPending) return;
    this.writingFinishedEvent.add(job.id);
    try {
      await record(job, progress, recovering);
      for (let attempt = 0; attempt < 5; attempt++) {
        const current = await this.deps.jobs.get(job.id);
        if (!current?.finishedEventPending) return;
        if (await this.deps.jobs.update(current.id, current.version, { finishedEventPending: false, leaseOwner: null, leaseUntil: null })) return;
      }
      this.logger.warn({ jobId: job.id }, 'bulk job finished event written; its pending mark not cleared (recovery finds the event and clears it)');
    } finally {
      this.writingFinishedEvent.delete(job.id);
    }
  }

  /** Asks a job to stop: no new invitation starts; in-flight ones finish and their guests are still added. */
  async requestCancel(jobId: string): Promise<BulkJob | null> {
    const job = await this.deps.jobs.transition(jobId, ['queued', 'running'], { state: 'cancelling' });
    const local = this.jobRuns.get(jobId);
    if (local) local.cancel = true;
    if (job && job.leaseOwner !== QUEUED_OWNER) await this.start(jobId);
    else this.ensureLoop();
    return job;
  }

  /** Whether this process is working on part of the job now. */
  isRunning(jobId: string): boolean {
    return (this.jobRuns.get(jobId)?.held ?? 0) > 0;
  }

  /**
   * Resolves when the job has ended (wherever it was worked) and, when it ended here, its final
   * card was sent; at once when it is not active. Also resolves when this process stops.
   */
  async whenFinished(jobId: string): Promise<void> {
    const job = await this.deps.jobs.get(jobId);
    if (job && ACTIVE_JOB_STATES.includes(job.state) && !this.stopping) {
      await new Promise<void>((resolve) => {
        this.waiters.set(jobId, [...(this.waiters.get(jobId) ?? []), resolve]);
        this.ensureLoop();
      });
    }
    await this.finishing.get(jobId);
  }

  /**
   * Stops taking work: what is in flight lands, its guests are added, and each message held here
   * is handed back to the queue for another instance (or the next start).
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loopDone;
    await Promise.all([...this.held.values()].map((h) => h.done));
    for (const jobId of [...this.waiters.keys()]) this.resolveWaiters(jobId);
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
    return this.measure(job, this.jobRuns.get(jobId) ?? null);
  }

  // ---- the queue loop ----

  private nudge(): void {
    this.nudges++;
    this.wake?.();
  }

  private ensureLoop(): void {
    if (this.looping || this.stopping) return;
    this.looping = true;
    this.loopDone = detached(() => this.loop()).catch((e: unknown) => {
      this.looping = false;
      this.logger.error({ err: String(e) }, 'bulk queue loop stopped');
    });
  }

  /** Waits `ms`, or less when woken (a message sent here, a message worked here finished, stop). */
  private async pause(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      timer.unref();
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
    this.wake = null;
  }

  /**
   * Takes messages while there is room (messagesInFlight), looks again quickly after work and
   * more slowly when the queue stays empty (up to pollMs), and ends when no job is active (start,
   * resumeAll and whenFinished start it again).
   */
  private async loop(): Promise<void> {
    const { queue, jobs } = this.deps;
    let idle = 0;
    while (!this.stopping) {
      const starting = [...this.held.values()].filter((h) => !h.landing).length;
      const free = Math.min(this.o.messagesInFlight - starting, this.o.messagesInFlight * MAX_HELD_PER_SLOT - this.held.size);
      if (free > 0) {
        let messages: QueueMessage[] = [];
        try {
          messages = await queue.receive(BULK_QUEUE, free, this.o.visibilityMs);
        } catch (e) {
          this.logger.warn({ err: e instanceof Error ? e.message : String(e) }, 'bulk queue not reachable; trying again');
          await this.pause(this.o.pollMs);
          continue;
        }
        for (const message of messages) this.take(message);
        if (messages.length > 0) {
          idle = 0;
          continue;
        }
      }
      await this.checkWaiters();
      // Whether any job is left to wait for (the loop ends when none is): not at every empty look.
      if (this.held.size === 0 && idle % 5 === 1) {
        const mark = this.nudges;
        const active = await jobs.listActive().catch(() => null);
        if (active?.length === 0 && mark === this.nudges && !this.stopping) {
          this.looping = false;
          for (const jobId of [...this.waiters.keys()]) this.resolveWaiters(jobId);
          return;
        }
      }
      idle++;
      await this.pause(free > 0 ? Math.min(this.o.pollMs, 25 * 2 ** idle) : this.o.pollMs);
    }
    this.looping = false;
  }

  private take(message: QueueMessage): void {
    const work = parseWork(message.body);
    if (!work) {
      // Not ours (or from a newer version that wrote a format this one cannot read): logged, removed.
      this.logger.error({ messageId: message.id }, 'unreadable bulk queue message removed');
      void this.deps.queue.delete(BULK_QUEUE, message).catch(() => undefined);
      return;
    }
    const lease = new MessageLease(this.deps.queue, BULK_QUEUE, message, this.o.visibilityMs, (e) =>
      this.logger.warn({ jobId: work.jobId, err: e instanceof Error ? e.message : String(e) }, 'bulk message lease not renewed; trying again'),
    );
    const entry = { work, done: Promise.resolve(), landing: false };
    const dispatched = (): void => {
      if (entry.landing) return;
      entry.landing = true;
      this.wake?.();
    };
    entry.done = detached(() => this.handle(work, lease, dispatched))
      .catch((e: unknown) => this.logger.error({ jobId: work.jobId, err: String(e) }, 'bulk message handling failed'))
      .finally(() => {
        this.held.delete(message.id);
        this.wake?.();
      });
    this.held.set(message.id, entry);
  }

  private async handle(work: BulkWork, lease: MessageLease, dispatched: Dispatched): Promise<void> {
    const { dequeueCount } = lease.message;
    try {
      if (dequeueCount > this.o.maxDequeues) {
        await this.work.giveUp(work, dequeueCount - 1);
        await lease.complete();
        return;
      }
      const outcome = await this.work.run(work, lease, dispatched);
      if (outcome === 'done') await lease.complete();
      else if (outcome === 'stopping') await lease.handBack();
      else lease.abandon();
    } catch (e) {
      // Shown again after a while, doubling; after maxDequeues receipts it is given up (above).
      const delay = Math.min(this.o.retryDelayMs * 2 ** Math.max(0, dequeueCount - 1), 300_000);
      this.logger.error({ jobId: work.jobId, kind: work.kind, dequeueCount, err: String(e) }, 'bulk work failed; it will be tried again');
      await lease.retryAfter(delay).catch(() => lease.abandon());
    }
  }

  // ---- jobs ----

  private async jobRun(job: BulkJob): Promise<JobRun> {
    const known = this.jobRuns.get(job.id);
    if (known) {
      known.job = job;
      return known;
    }
    const run = new JobRun(job, this.now());
    this.jobRuns.set(job.id, run);
    run.baselineFinished = finishedRows(await this.deps.jobs.counts(job.id));
    this.logger.info({ jobId: job.id, runner: this.runnerId }, 'bulk job worked here');
    return run;
  }

  /** Re-reads the job into the run; null when it is gone or has ended. */
  private async refresh(run: JobRun): Promise<BulkJob | null> {
    const job = await this.deps.jobs.get(run.job.id);
    if (!job || !ACTIVE_JOB_STATES.includes(job.state)) return null;
    run.job = job;
    if (job.state === 'cancelling') run.cancel = true;
    return job;
  }

  private async measure(job: BulkJob, run: JobRun | null): Promise<BulkProgress> {
    const counts = await this.deps.jobs.counts(job.id);
    // The pace counts every instance's rows since this process started on the job.
    const pace = run ? { startedAt: run.startedAt, finishedThisRun: Math.max(run.finishedThisRun, finishedRows(counts) - (run.baselineFinished ?? finishedRows(counts))) } : null;
    const progress = measureProgress(job, counts, pace, this.now());
    if (isFinishedJob(job) && counts.failed > 0) progress.gaveUp = await this.countGaveUp(job.id);
    return progress;
  }

  /** Failed rows whose work was given up after too many attempts (the finished card counts them). */
  private async countGaveUp(jobId: string): Promise<number> {
    let n = 0;
    let cursor = 0;
    for (;;) {
      const page = await this.deps.jobs.rowsInState(jobId, 'failed', cursor, 500);
      const last = page[page.length - 1];
      if (!last) return n;
      n += page.filter((r) => isGaveUp(r.error)).length;
      cursor = last.rowNumber;
    }
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

  /** Ends the job when no row is left to do; the instance whose compare-and-set wins tells the requester. */
  private async finishIfDone(jobId: string): Promise<void> {
    const { jobs } = this.deps;
    const job = await jobs.get(jobId);
    if (!job || !ACTIVE_JOB_STATES.includes(job.state)) return;
    // One look for any row still to do (cheaper than counting every row, at the end of every chunk).
    if ((await jobs.nextDue(jobId)) !== null) return;
    // The same compare-and-set ends the job and marks its bulkJob.finished event pending, with this
    // instance as its writer: a crash before the event is written leaves the mark for recovery.
    const records = this.deps.recordFinished !== undefined;
    const now = this.now();
    const finished = await jobs.transition(jobId, ['running', 'cancelling', 'queued'], {
      state: job.state === 'cancelling' ? 'cancelled' : 'completed',
      finishedAt: now,
      finishedEventPending: records,
      leaseOwner: records ? this.runnerId : null,
      leaseUntil: records ? now + this.o.leaseMs : null,
    });
    if (!finished) return;
    const notified = this.notifyFinished(finished);
    this.finishing.set(jobId, notified);
    try {
      await notified;
    } finally {
      this.finishing.delete(jobId);
      this.jobRuns.delete(jobId);
      this.resolveWaiters(jobId);
    }
  }

  private async notifyFinished(finished: BulkJob): Promise<void> {
    const run = this.jobRuns.get(finished.id) ?? new JobRun(finished, this.now());
    run.job = finished;
    const progress = await this.measure(finished, run);
    this.logger.info({ jobId: finished.id, state: finished.state, done: progress.done, failed: progress.failed, gaveUp: progress.gaveUp }, 'bulk job finished');
    await this.report(run, true);
    try {
      await this.writeFinishedEvent(finished, progress, false);
    } catch (e) {
      this.logger.warn({ jobId: finished.id, err: e instanceof Error ? e.message : String(e) }, 'bulk job finished event not written; recovery tries again');
    }
    try {
      await this.deps.onFinished?.(finished, progress);
    } catch (e) {
      this.logger.warn({ jobId: finished.id, err: String(e) }, 'bulk finish notification failed');
    }
  }

  private resolveWaiters(jobId: string): void {
    const waiting = this.waiters.get(jobId) ?? [];
    this.waiters.delete(jobId);
    for (const resolve of waiting) resolve();
  }

  /** Jobs someone waits for that ended elsewhere (another instance finished them). */
  private async checkWaiters(): Promise<void> {
    for (const jobId of [...this.waiters.keys()]) {
      if (this.finishing.has(jobId)) continue;
      const job = await this.deps.jobs.get(jobId).catch(() => undefined);
      if (job === null || (job && !ACTIVE_JOB_STATES.includes(job.state))) this.resolveWaiters(jobId);
    }
  }
}
