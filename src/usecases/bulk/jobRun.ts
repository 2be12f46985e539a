import type { BulkJob, BulkRow, RowCounts } from '../../domain/bulkJob';
import type { MessageLease } from './messageLease';

/** Rows of a job past the point of work (what the pace is measured on). */
export function finishedRows(counts: RowCounts): number {
  return counts.done + counts.failed + counts.cancelled;
}

/**
 * One job as this process works it (whatever part of it the queue hands here): the job as last
 * read, the invitations in flight (at most maxInFlight for the job in this process), the pace
 * and when progress was last reported.
 */
export class JobRun {
  readonly startedAt: number;
  /** Rows finished when this process first worked the job: the pace counts every instance's rows from here. */
  baselineFinished: number | null = null;
  finishedThisRun = 0;
  lastReportAt = 0;
  cancel = false;
  inFlight = 0;
  /** Chunks of this job held here now. */
  held = 0;
  private readonly waiters: Array<() => void> = [];

  constructor(
    public job: BulkJob,
    now: number,
  ) {
    this.startedAt = now;
  }

  async slot(max: number): Promise<void> {
    while (this.inFlight >= max) await new Promise<void>((resolve) => this.waiters.push(resolve));
    this.inFlight++;
  }

  release(): void {
    this.inFlight--;
    this.waiters.shift()?.();
  }
}

/**
 * One message's rows being worked here: what is in flight for them and the members waiting to
 * be added (20 per request), kept per chunk so a chunk ends when its own rows have landed.
 * It stops starting invitations when the job is cancelled, the process stops, or the message's
 * lease was lost to another receiver.
 */
export class ChunkRun {
  readonly pending = new Set<Promise<void>>();
  readonly members = new Map<string, BulkRow[]>();
  /**
   * Invitation record id → the version this run last wrote. A row's record is changed three or
   * four times; starting from the known version saves a read each time (a race still re-reads).
   */
  readonly recordVersions = new Map<string, number>();
  /**
   * Invitation record id → when this run locked it (ms since epoch). An invitation is sent under
   * the lock only while this process's heartbeats have not broken since then (heldWithoutBreakSince).
   */
  readonly lockedAt = new Map<string, number>();
  constructor(
    readonly jobRun: JobRun,
    readonly lease: MessageLease,
    /** The process is stopping: the rest is handed back to the queue. */
    private readonly stopping: () => boolean,
  ) {}

  get job(): BulkJob {
    return this.jobRun.job;
  }

  /** No new invitation may start: cancelled, stopping, or the message is (or may be) someone else's now. */
  get cancel(): boolean {
    return this.jobRun.cancel || this.stopping() || this.lease.lapsed();
  }

  get finishedThisRun(): number {
    return this.jobRun.finishedThisRun;
  }

  set finishedThisRun(n: number) {
    this.jobRun.finishedThisRun = n;
  }

  slot(max: number): Promise<void> {
    return this.jobRun.slot(max);
  }

  release(): void {
    this.jobRun.release();
  }

  track(p: Promise<void>): void {
    this.pending.add(p);
    // then(forget, forget), not finally(): finally() returns a new promise that rejects with p's
    // error, and nobody awaits it, so a store fault mid-job would become an unhandled rejection
    // and stop the process. drain() still sees p's own rejection.
    const forget = (): void => {
      this.pending.delete(p);
    };
    p.then(forget, forget);
  }

  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }
}
