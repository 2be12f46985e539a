import { expandCard, type AdaptiveCard } from '../../cards';
import type { BulkJob } from '../../../domain/bulkJob';
import type { BulkProgress } from '../../../usecases/bulk/progress';

/** Data of the `bulkProgress` template (cards/bulkProgress.json): a running job, updated in place. */
export interface BulkProgressCardData {
  jobId: string;
  sourceName: string;
  requestedBy: string;
  done: number;
  total: number;
  percent: number;
  failed: number;
  pace: string;
  timeLeft: string;
  stateText: string;
  canCancel: boolean;
  hasNotice: boolean;
  notice: string;
}

function timeLeftText(seconds: number | null): string {
  if (seconds === null) return 'working it out';
  if (seconds <= 0) return 'finishing';
  if (seconds < 90) return `about ${seconds} seconds`;
  return `about ${Math.round(seconds / 60)} minutes`;
}

/**
 * The pace as measured, never extrapolated from a burst: a few rows finished in a few
 * milliseconds are not "7,059 per minute". Under a minute it says how many in how long; from a
 * minute on, rows per minute over the whole run so far.
 */
export function paceText(progress: Pick<BulkProgress, 'finishedThisRun' | 'elapsedMs'>): string {
  const n = progress.finishedThisRun;
  if (n === 0) return 'none finished yet';
  const seconds = Math.max(1, Math.round(progress.elapsedMs / 1000));
  if (progress.elapsedMs < 60_000) return `${n.toLocaleString('en-US')} in ${seconds === 1 ? '1 second' : `${seconds} seconds`}`;
  return `${Math.round((n * 60_000) / progress.elapsedMs).toLocaleString('en-US')} per minute`;
}

export function bulkProgressCardData(job: BulkJob, progress: BulkProgress, invitesPer5s: number, notice: string | null = null): BulkProgressCardData {
  const finished = progress.done + progress.failed + progress.cancelled;
  const stateText =
    job.state === 'cancelling'
      ? 'Cancelling: invitations already on their way finish first.'
      : job.state === 'queued'
        ? 'Starting…'
        : `Sending up to ${invitesPer5s} invitations every 5 seconds (the tenant's limit is 150) and adding guests 20 at a time.`;
  return {
    jobId: job.id,
    sourceName: job.summary.sourceName,
    requestedBy: job.requestedBy.name,
    done: progress.done,
    total: progress.total,
    percent: progress.total > 0 ? Math.floor((finished * 100) / progress.total) : 100,
    failed: progress.failed,
    pace: paceText(progress),
    timeLeft: timeLeftText(progress.secondsLeft),
    stateText,
    canCancel: job.state === 'queued' || job.state === 'running',
    hasNotice: notice !== null,
    notice: notice ?? '',
  };
}

export function bulkProgressCard(data: BulkProgressCardData): AdaptiveCard {
  return expandCard('bulkProgress', { ...data });
}

export function progressCard(job: BulkJob, progress: BulkProgress, invitesPer5s: number, notice: string | null = null): AdaptiveCard {
  return bulkProgressCard(bulkProgressCardData(job, progress, invitesPer5s, notice));
}
