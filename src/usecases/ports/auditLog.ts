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

/**
 * Append-only: nothing rewrites or deletes an event. Never holds secrets: callers put ids and
 * outcomes in `details`, not tokens or redeem URLs.
 */
export interface AuditLog {
  /** Records the event (rejects with AuditEventError, writing nothing, when it is malformed). */
  append(event: AuditEventInput): Promise<AuditEvent>;
  /** Matching events in the order they happened (oldest first); with a limit, the most recent ones. */
  list(filter?: AuditFilter): Promise<AuditEvent[]>;
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
