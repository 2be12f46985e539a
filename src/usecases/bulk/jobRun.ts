import type { BulkJob, BulkRow } from '../../domain/bulkJob';

/** One job's run in this process: what is in flight, the members waiting to be added, the pace. */
export class JobRun {
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
