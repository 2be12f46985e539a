import type { JsonValue } from './auditLog';

/**
 * Durable due work: reminders, expiries, sweeps. No timer that dies with the process: a piece of
 * work is a record with a due time, kept in the store, claimed by compare-and-set so one instance
 * acts, retried with backoff when its handler fails, and caught up after downtime (everything past
 * due runs, once, oldest first).
 *
 * Identity is kind + subject: scheduling the same pair again keeps the one record (or moves it,
 * with `replace`). A claim belongs to a holder (usecases/ports/leases.ts): it is free again when
 * its time runs out or when its holder is dead, whichever comes first, so work held by a crashed
 * instance is picked up at once.
 *
 * Every write is one compare-and-set on one record, so an adapter over Azure Table storage can
 * carry it with ETags (If-Match on `version`); nothing needs a transaction across records. A
 * claim is per item: list due candidates (soonest first), then take each with If-Match, skipping
 * the ones another claimer changed first. `claimDue` may return fewer than `limit` for that
 * reason; the runner simply claims again.
 */

/** What a handler gets along with the work: small, JSON, no secrets or personal data beyond ids. */
export type ScheduledPayload = { [key: string]: JsonValue };

export interface ScheduledWork {
  /** What to do: routes the work to its handler ('lifecycle.renewalReminder' …). */
  kind: string;
  /** What it is about ('<guest access id>' …). With kind, the record's identity. */
  subject: string;
  /** ISO time from which it may run. */
  dueAt: string;
  payload: ScheduledPayload;
  /** Failed runs since it was last scheduled (0 until a handler fails). */
  attempts: number;
  /** Why the last run failed (a short, user-safe reason), null when none. */
  lastError: string | null;
  /** The holder running it now, null when nobody claimed it. */
  claimedBy: string | null;
  /** ISO time the claim runs out (earlier if its holder dies), null when unclaimed. */
  claimedUntil: string | null;
  createdAt: string;
  updatedAt: string;
  /** Bumped on every write: complete / retry / reschedule act only on the version they claimed. */
  version: number;
}

export interface ScheduleInput {
  kind: string;
  subject: string;
  dueAt: string;
  payload?: ScheduledPayload;
}

export interface ScheduleResult {
  work: ScheduledWork;
  /** True when this call created the record (or, with replace, changed it). */
  created: boolean;
}

export interface ClaimOptions {
  /** How long the claim holds if the holder stays alive but never finishes. */
  leaseMs: number;
  /** At most this many items per claim. */
  limit: number;
}

/** What a holder does with work it claimed, once its handler returned. */
export type WorkSettlement =
  /** Done: the record goes away (scheduling the pair again makes a new one). */
  | { outcome: 'done' }
  /** Run again at dueAt (the next reminder of a series), with this payload; attempts start over. */
  | { outcome: 'reschedule'; dueAt: string; payload?: ScheduledPayload }
  /** Failed: run again at dueAt (backoff), attempts + 1, the reason kept. */
  | { outcome: 'retry'; dueAt: string; error: string };

export interface ScheduledWorkRepository {
  /**
   * Creates the work when kind + subject has none. When it has one: kept as is (created false),
   * or with `replace` its due time and payload are replaced and its attempts start over (a claim
   * in flight keeps running; its settle then finds a newer version and leaves the new due time).
   */
  schedule(input: ScheduleInput, options?: { replace?: boolean }): Promise<ScheduleResult>;
  /**
   * `schedule` without replace for several items at once (distinct kind + subject pairs): each is
   * created when its pair has none, kept as is when it has one. Results in input order. For work
   * that is most likely new (a guest access just recorded), a store that can writes all of it in
   * one request (one entity group transaction on Azure Table storage, instead of a read and a
   * write per item); the outcome is the same as scheduling each in turn.
   */
  scheduleNew(inputs: readonly ScheduleInput[]): Promise<ScheduleResult[]>;
  get(kind: string, subject: string): Promise<ScheduledWork | null>;
  /** Everything scheduled about one subject, soonest first (visibility: "what is scheduled for …"). */
  listBySubject(subject: string): Promise<ScheduledWork[]>;
  /** Everything scheduled, soonest first, at most `limit` (default 100). */
  list(options?: { limit?: number; dueBefore?: string }): Promise<ScheduledWork[]>;
  /**
   * Claims work due now (dueAt <= the store clock's now), soonest first, for `holderId`: work not
   * claimed, or whose claim ran out, or whose holder is dead. Each item is claimed by
   * compare-and-set: of two concurrent claimers exactly one gets it. The returned records carry the
   * claim and the version to settle with.
   */
  claimDue(holderId: string, options: ClaimOptions): Promise<ScheduledWork[]>;
  /**
   * Settles work claimed at `version` by `holderId`. Returns false (and changes nothing but
   * dropping this holder's claim) when the record moved on meanwhile: rescheduled, cancelled, or
   * claimed by someone else after this claim ran out.
   */
  settle(kind: string, subject: string, holderId: string, version: number, settlement: WorkSettlement): Promise<boolean>;
  /** Removes the work whatever its state; true when there was some. */
  cancel(kind: string, subject: string): Promise<boolean>;
}

/** The store's identity of a piece of work, for logs and maps. */
export function workKey(work: { kind: string; subject: string }): string {
  return `${work.kind}|${work.subject}`;
}

export const DEFAULT_SCHEDULE_LIST_LIMIT = 100;
export const MAX_SCHEDULE_LIST_LIMIT = 1000;

export function scheduleListLimit(limit: number | undefined): number {
  const n = Number.isFinite(limit) ? Math.trunc(limit as number) : DEFAULT_SCHEDULE_LIST_LIMIT;
  return Math.min(Math.max(n, 1), MAX_SCHEDULE_LIST_LIMIT);
}

/** A new, unclaimed item of work, as every adapter creates it. */
export function newScheduledWork(input: Pick<ScheduleInput, 'kind' | 'subject'>, dueAt: string, payload: ScheduledPayload, now: string): ScheduledWork {
  return {
    kind: input.kind,
    subject: input.subject,
    dueAt,
    payload,
    attempts: 0,
    lastError: null,
    claimedBy: null,
    claimedUntil: null,
    createdAt: now,
    updatedAt: now,
    version: 1,
  };
}

/** Refuses malformed work before anything is written (every adapter the same). */
export function validateScheduleInput(input: ScheduleInput): void {
  if (typeof input.kind !== 'string' || input.kind.trim() === '') throw new TypeError('scheduled work needs a kind');
  if (typeof input.subject !== 'string' || input.subject.trim() === '') throw new TypeError('scheduled work needs a subject');
  if (!Number.isFinite(Date.parse(input.dueAt))) throw new TypeError('scheduled work needs a valid dueAt');
  JSON.stringify(input.payload ?? {});
}

/** The inputs of one `scheduleNew`: each valid, no kind + subject pair twice. */
export function validateScheduleBatch(inputs: readonly ScheduleInput[]): void {
  const seen = new Set<string>();
  for (const input of inputs) {
    validateScheduleInput(input);
    const key = workKey(input);
    if (seen.has(key)) throw new TypeError('scheduled work: the same kind and subject twice in one batch');
    seen.add(key);
  }
}
