import { isDirectoryError } from '../ports/Directory';
import { ACTIVE_JOB_STATES, type BulkJob } from '../../domain/bulkJob';
import { ChunkRun, type JobRun } from './jobRun';
import type { MessageLease } from './messageLease';
import type { RowWork } from './rowWork';
import type { BulkApprovals, BulkRunnerLogger, BulkRunnerOptions, RunnerSettings } from './runnerOptions';
import { BULK_QUEUE, gaveUpReason, rowsMessage, type BulkWork } from './workMessages';

/** How often a chunk whose message's renewals are failing looks whether one has landed. */
const LAPSED_RECHECK_MS = 100;

/**
 * The work one queue message names: planning a job (approvals, then one message per chunk of
 * rows) or working a chunk of rows to the end. Both may run twice for the same message (a lease
 * lost mid-way, a crash): every step is idempotent, the invitation records being the guard.
 */

export interface QueuedWorkContext {
  deps: BulkRunnerOptions;
  o: RunnerSettings;
  rows: RowWork;
  logger: BulkRunnerLogger;
  now(): number;
  sleep(ms: number): Promise<void>;
  /** This process's run of the job (made on first use). */
  jobRun(job: BulkJob): Promise<JobRun>;
  report(run: JobRun, force?: boolean): Promise<void>;
  /** Ends the job when no row is left to do (one instance wins and tells the requester). */
  finishIfDone(jobId: string): Promise<void>;
  /** Re-reads the job into the run (cancel seen); null when it is gone or no longer active. */
  refresh(run: JobRun): Promise<BulkJob | null>;
  /** The process is stopping. */
  stopping(): boolean;
  /** A message was sent: look at the queue again now. */
  nudge(): void;
}

/** Told once a chunk's invitations have all started: the next message may be taken while they land. */
export type Dispatched = () => void;

/** How the work of one message ended. */
export type WorkOutcome = 'done' | 'lost' | 'stopping';

export class QueuedWork {
  constructor(private readonly c: QueuedWorkContext) {}

  private iso(): string {
    return new Date(this.c.now()).toISOString();
  }

  async run(work: BulkWork, lease: MessageLease, dispatched: Dispatched): Promise<WorkOutcome> {
    const job = await this.c.deps.jobs.get(work.jobId);
    // A finished, discarded or removed job: nothing is left to do for this message.
    if (!job || !ACTIVE_JOB_STATES.includes(job.state)) return 'done';
    const run = await this.c.jobRun(job);
    run.held++;
    try {
      return work.kind === 'plan' ? await this.plan(run, lease) : await this.chunk(run, lease, work.from, work.to, dispatched);
    } finally {
      run.held--;
    }
  }

  // ---- planning ----

  private async plan(run: JobRun, lease: MessageLease): Promise<WorkOutcome> {
    const { jobs, queue } = this.c.deps;
    const jobId = run.job.id;
    const approvals = this.c.deps.approvals;
    if (approvals) {
      const outcome = await this.submitForApproval(run, lease, approvals);
      if (outcome !== 'done') return outcome;
    }
    let cursor = 0;
    for (;;) {
      if (lease.lost) return 'lost';
      if (this.c.stopping()) return 'stopping';
      // Every row still to do, due now or later.
      const page = await jobs.dueRows(jobId, cursor, Number.MAX_SAFE_INTEGER, this.c.o.pageSize);
      const first = page[0];
      const last = page[page.length - 1];
      if (!first || !last) break;
      await queue.send(BULK_QUEUE, rowsMessage(jobId, first.rowNumber, last.rowNumber));
      this.c.nudge();
      cursor = last.rowNumber;
    }
    // Nothing to send (every row needs an approver, or was done before): the job ends here.
    await this.c.finishIfDone(jobId);
    return 'done';
  }

  /**
   * Sends the rows that need an approver to the approvals feature, one request per row (the
   * approver decides per guest; an approved request is carried out by the single-invitation code,
   * on the same invitation record). Each row is marked with its request id once submitted; a
   * repeated plan only submits rows not yet marked, and a repeat submission returns the pending
   * request.
   */
  private async submitForApproval(run: JobRun, lease: MessageLease, approvals: BulkApprovals): Promise<WorkOutcome> {
    const { jobs, invitations } = this.c.deps;
    let cursor = 0;
    for (;;) {
      if (lease.lost) return 'lost';
      if (this.c.stopping()) return 'stopping';
      if (!(await this.c.refresh(run)) || run.cancel) return 'done';
      const page = await jobs.rowsInState(run.job.id, 'needsApproval', cursor, this.c.o.pageSize);
      if (page.length === 0) return 'done';
      cursor = page[page.length - 1]?.rowNumber ?? cursor;
      const job = run.job;
      for (const row of page) {
        if (run.cancel || lease.lost) break;
        if (!row.emailKey || !row.groupId) {
          await jobs.updateRow(job.id, row.rowNumber, { state: 'failed', error: 'No site to add this guest to.', time: this.iso() });
          continue;
        }
        // Approved (and carried out) since an earlier run of the same file: nothing to ask.
        const record = await invitations.findByKey({ tenantId: job.tenantId, emailNormalised: row.emailKey, groupId: row.groupId });
        if (record?.state === 'completed') {
          await jobs.updateRow(job.id, row.rowNumber, this.c.rows.doneFrom(record));
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
              // The row's own end (a date, or days from the invitation) goes with the request.
              ...(row.accessEnd ? { accessEnd: row.accessEnd } : {}),
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
          this.c.logger.warn({ jobId: job.id, row: row.rowNumber, err: String(e) }, 'bulk row could not be sent for approval');
          await jobs.updateRow(job.id, row.rowNumber, {
            state: 'failed',
            error: `could not be sent for approval: ${isDirectoryError(e) ? e.userMessage : 'unexpected error'}`,
            time: this.iso(),
          });
        }
      }
      await this.c.report(run);
    }
  }

  // ---- a chunk of rows ----

  /**
   * Works the rows from..to until each is finished: a pass invites (or finds) the due rows and
   * adds them, lets everything in flight land, then waits for the rows put off for a retry. A
   * cancelled job's rows not yet sent are marked cancelled; guests already invited are still added.
   */
  private async chunk(jobRun: JobRun, lease: MessageLease, from: number, to: number, dispatched: Dispatched): Promise<WorkOutcome> {
    const { jobs } = this.c.deps;
    const jobId = jobRun.job.id;
    const run = new ChunkRun(jobRun, lease, () => this.c.stopping());
    const span = to - from + 1;
    let outcome: WorkOutcome = 'done';
    try {
      for (;;) {
        if (!(await this.c.refresh(jobRun))) return 'done';
        if (lease.lost) return (outcome = 'lost');
        if (this.c.stopping()) return (outcome = 'stopping');
        if (lease.lapsed()) {
          // Its renewals are failing: nothing starts until one lands (or it turns out lost).
          await new Promise<void>((resolve) => setTimeout(resolve, LAPSED_RECHECK_MS));
          continue;
        }
        if (jobRun.cancel) await this.cancelPending(jobId, from, to);
        // The chunk's rows still to do, due now or later (at most `span`: every row of the range).
        const left = (await jobs.dueRows(jobId, from - 1, Number.MAX_SAFE_INTEGER, span)).filter((r) => r.rowNumber <= to);
        if (left.length === 0) break;
        const now = this.c.now();
        const due = left.filter((r) => r.nextAttemptAt <= now);
        if (due.length > 0) {
          await this.c.rows.processPage(run, due);
          dispatched();
          await this.settle(run);
          await this.c.report(jobRun);
          // With a directory that answers without I/O, a job is nothing but promise callbacks and
          // would starve the event loop (turns, timers, SQLite finalisers): give it a turn.
          await new Promise<void>((resolve) => setImmediate(resolve));
          continue;
        }
        const next = Math.min(...left.map((r) => r.nextAttemptAt));
        const wait = next - now;
        if (wait > 0) await this.c.sleep(Math.min(wait, this.c.o.progressIntervalMs));
        await this.c.report(jobRun);
      }
    } finally {
      // Whatever stopped the chunk, what is in flight lands and its guests are added.
      await this.settle(run);
    }
    await this.c.finishIfDone(jobId);
    return outcome;
  }

  private async settle(run: ChunkRun): Promise<void> {
    await run.drain();
    this.c.rows.flushAllMembers(run);
    await run.drain();
  }

  /** A cancelled job: the chunk's rows not yet sent are marked cancelled (invited guests are still added). */
  private async cancelPending(jobId: string, from: number, to: number): Promise<void> {
    const pending = (await this.c.deps.jobs.rowsInState(jobId, 'pending', from - 1, to - from + 1)).filter((r) => r.rowNumber <= to);
    for (const row of pending) {
      await this.c.deps.jobs.updateRow(jobId, row.rowNumber, { state: 'cancelled', error: 'Cancelled before it was sent.', time: this.iso() });
    }
  }

  // ---- poison ----

  /**
   * The message was received more than maxDequeues times: every attempt stopped before its rows
   * were finished. Its rows still to do are marked failed with the reason (a plan message: every
   * row of the job still to do), counted on the finished card and listed in the results file.
   */
  async giveUp(work: BulkWork, dequeues: number): Promise<number> {
    const { jobs } = this.c.deps;
    const job = await jobs.get(work.jobId);
    if (!job || !ACTIVE_JOB_STATES.includes(job.state)) return 0;
    const [from, to] = work.kind === 'rows' ? [work.from, work.to] : [1, Number.MAX_SAFE_INTEGER];
    const error = gaveUpReason(dequeues);
    let failed = 0;
    let cursor = from - 1;
    for (;;) {
      const page = (await jobs.dueRows(job.id, cursor, Number.MAX_SAFE_INTEGER, this.c.o.pageSize)).filter((r) => r.rowNumber <= to);
      const last = page[page.length - 1];
      if (!last) break;
      for (const row of page) {
        await jobs.updateRow(job.id, row.rowNumber, { state: 'failed', error, time: this.iso() });
        failed++;
      }
      cursor = last.rowNumber;
    }
    this.c.logger.error({ jobId: job.id, kind: work.kind, dequeues, rowsFailed: failed }, 'bulk work given up after repeated failures');
    await this.c.finishIfDone(job.id);
    return failed;
  }
}
