/**
 * What the bulk queue carries. A confirmed job is queued as one `plan` message; whoever receives
 * it sends the rows that need an approver to the approvals feature, then splits the rows still to
 * do into `rows` messages of up to `chunkSize` rows each (a range of row numbers). Any instance
 * works any message; a message is deleted only once every row in it is finished, so rows to do
 * always have a message in the queue (visible, or leased by the instance working them).
 */

/** The queue's name (the storage queue `<prefix>-bulk-rows` on Azure). */
export const BULK_QUEUE = 'bulk-rows';

/** The job's lease owner while its work is in the queue (no single runner holds it). */
export const QUEUED_OWNER = 'work-queue';

export type BulkWork = { v: 1; kind: 'plan'; jobId: string } | { v: 1; kind: 'rows'; jobId: string; from: number; to: number };

export function planMessage(jobId: string): string {
  return JSON.stringify({ v: 1, kind: 'plan', jobId } satisfies BulkWork);
}

export function rowsMessage(jobId: string, from: number, to: number): string {
  return JSON.stringify({ v: 1, kind: 'rows', jobId, from, to } satisfies BulkWork);
}

/** The work a message names, or null when it is not one of ours (it is then removed, and logged). */
export function parseWork(body: string): BulkWork | null {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return null;
  }
  if (!value || typeof value !== 'object') return null;
  const w = value as Record<string, unknown>;
  if (w.v !== 1 || typeof w.jobId !== 'string' || w.jobId.length === 0 || w.jobId.length > 200) return null;
  if (w.kind === 'plan') return { v: 1, kind: 'plan', jobId: w.jobId };
  if (w.kind === 'rows' && Number.isSafeInteger(w.from) && Number.isSafeInteger(w.to) && (w.from as number) <= (w.to as number)) {
    return { v: 1, kind: 'rows', jobId: w.jobId, from: w.from as number, to: w.to as number };
  }
  return null;
}

/**
 * The reason a row gets when its message was received more than the limit (BULK_MAX_DEQUEUES)
 * without being finished: every attempt at it stopped (the instance was killed or hit an
 * unexpected error). Shown in the results file's error column; counted on the finished card.
 */
export function gaveUpReason(dequeues: number): string {
  return `${GAVE_UP_PREFIX} ${dequeues === 1 ? '1 attempt: it' : `${dequeues} attempts: each`} stopped before this row was finished (the bot restarted or hit an unexpected error). Send the results file back to retry it.`;
}

export const GAVE_UP_PREFIX = 'Gave up after';

export function isGaveUp(error: string | null): boolean {
  return error?.startsWith(GAVE_UP_PREFIX) ?? false;
}
