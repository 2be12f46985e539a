/**
 * The audit log port: an append-only record of who did what. Every feature that changes
 * something a person would ask about later (an invitation, an approval, a reset) appends here.
 */

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** What happened, by whom, to what. `action` is "<subject>.<verb>", e.g. 'invitation.requested'. */
export interface AuditEventInput {
  actorId: string;
  actorName: string;
  action: string;
  subjectType: string;
  subjectId: string;
  details?: { [key: string]: JsonValue };
}

export interface AuditEvent extends Required<AuditEventInput> {
  /** Position in the log: strictly increasing, the order events were appended. */
  seq: number;
  /** ISO 8601 timestamp from the log's clock. */
  at: string;
}

export interface AuditFilter {
  subjectType?: string;
  subjectId?: string;
  actorId?: string;
  action?: string;
  /** Only events at or after this instant. */
  since?: Date;
  /** At most this many events (the most recent ones); default 100, at most 1000. */
  limit?: number;
}

/** An event that cannot be recorded (missing fields, details not JSON). Nothing is written. */
export class AuditEventError extends Error {
  constructor(reason: string, options?: { cause: unknown }) {
    super(`Cannot record the audit event: ${reason}.`, options);
    this.name = 'AuditEventError';
  }
}

export const DEFAULT_AUDIT_LIMIT = 100;
export const MAX_AUDIT_LIMIT = 1000;

/** One page of the events recorded in a time range: `from` inclusive, `to` exclusive. */
export interface AuditRange {
  from: Date;
  to: Date;
  /** Only events after this position (the previous page's `next`); none = from the start of the range. */
  after?: number | null;
  /** At most this many events (default and cap MAX_AUDIT_LIMIT). */
  limit?: number;
}

export interface AuditPage {
  /** In the order they happened (by position), oldest first. */
  events: AuditEvent[];
  /** The `after` of the next page; null when this page ended the range. */
  next: number | null;
}

/**
 * Append-only: nothing rewrites an event, and the only deletion is retention (pruneBefore,
 * AUDIT_RETENTION_DAYS). Never holds secrets: callers put ids and outcomes in `details`, not
 * tokens or redeem URLs.
 */
export interface AuditLog {
  /** Records the event (rejects with AuditEventError, writing nothing, when it is malformed). */
  append(event: AuditEventInput): Promise<AuditEvent>;
  /** Matching events in the order they happened (oldest first); with a limit, the most recent ones. */
  list(filter?: AuditFilter): Promise<AuditEvent[]>;
  /** The events recorded in [from, to), a page at a time (exports read the whole range this way). */
  listRange(range: AuditRange): Promise<AuditPage>;
  /** Deletes every event recorded before `before` (retention); returns how many went. */
  pruneBefore(before: Date): Promise<number>;
}

/**
 * Checks an event and returns its details as JSON text; throws AuditEventError when it cannot
 * be recorded. Shared by every adapter, so they refuse exactly the same events.
 */
export function validateAuditEvent(event: AuditEventInput): string {
  for (const field of ['actorId', 'action', 'subjectType', 'subjectId'] as const) {
    if (typeof event[field] !== 'string' || event[field].trim() === '') throw new AuditEventError(`${field} is required`);
  }
  if (typeof event.actorName !== 'string') throw new AuditEventError('actorName must be a string');
  const details = event.details ?? {};
  try {
    const json = JSON.stringify(details);
    if (typeof json !== 'string') throw new TypeError('not JSON');
    return json;
  } catch (cause) {
    throw new AuditEventError('details must be JSON', { cause });
  }
}

/** The limit a filter asks for, clamped to 1..MAX_AUDIT_LIMIT (default DEFAULT_AUDIT_LIMIT). */
export function auditLimit(filter: AuditFilter): number {
  const requested = Number.isFinite(filter.limit) ? Math.trunc(filter.limit as number) : DEFAULT_AUDIT_LIMIT;
  return Math.min(Math.max(requested, 1), MAX_AUDIT_LIMIT);
}

/** The page size a range query asks for, clamped to 1..MAX_AUDIT_LIMIT (default MAX_AUDIT_LIMIT). */
export function auditPageLimit(range: AuditRange): number {
  const requested = Number.isFinite(range.limit) ? Math.trunc(range.limit as number) : MAX_AUDIT_LIMIT;
  return Math.min(Math.max(requested, 1), MAX_AUDIT_LIMIT);
}

/** A range whose ends are not valid dates, or that ends before it starts, is a caller's bug. */
export function validateAuditRange(range: AuditRange): { from: string; to: string; after: number } {
  const from = range.from.getTime();
  const to = range.to.getTime();
  if (!Number.isFinite(from) || !Number.isFinite(to)) throw new RangeError('audit range: from and to must be valid dates');
  if (to < from) throw new RangeError('audit range: to is before from');
  return { from: range.from.toISOString(), to: range.to.toISOString(), after: range.after ?? 0 };
}

/**
 * Every event of a range, page by page (an export streams it without holding the whole range).
 */
export async function* auditEventsInRange(audit: Pick<AuditLog, 'listRange'>, from: Date, to: Date, pageSize = MAX_AUDIT_LIMIT): AsyncGenerator<AuditEvent> {
  let after: number | null = null;
  for (;;) {
    const page: AuditPage = await audit.listRange({ from, to, after, limit: pageSize });
    for (const event of page.events) yield event;
    if (page.next === null) return;
    after = page.next;
  }
}
