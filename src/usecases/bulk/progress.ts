import type { BulkJob, RowCounts } from '../../domain/bulkJob';

/** Where a job stands, as the progress and done cards show it. */
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
  /**
   * Of the failed rows, those given up because every attempt at them stopped (BULK_MAX_DEQUEUES);
   * counted once the job has ended (0 before).
   */
  gaveUp: number;
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

/** The numbers of a job from its row counts and, when it runs here, this run's pace. */
export function measureProgress(job: BulkJob, counts: RowCounts, run: { startedAt: number; finishedThisRun: number } | null, now: number): BulkProgress {
  const total = counts.pending + counts.invited + counts.done + counts.failed + counts.cancelled;
  const remaining = counts.pending + counts.invited;
  const elapsedMs = run ? Math.max(1, now - run.startedAt) : 0;
  const ratePerMinute = run && elapsedMs > 0 ? (run.finishedThisRun * 60_000) / elapsedMs : 0;
  const secondsLeft = ratePerMinute > 0 ? Math.ceil((remaining / ratePerMinute) * 60) : null;
  return {
    jobId: job.id,
    state: job.state,
    total,
    done: counts.done,
    failed: counts.failed,
    cancelled: counts.cancelled,
    gaveUp: 0,
    remaining,
    ratePerMinute: Math.round(ratePerMinute * 10) / 10,
    finishedThisRun: run?.finishedThisRun ?? 0,
    elapsedMs,
    secondsLeft: remaining === 0 ? 0 : secondsLeft,
    counts,
  };
}
