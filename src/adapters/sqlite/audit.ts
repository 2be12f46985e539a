import type { SqliteDatabase } from './database';

/** The current time. Injected so tests (and replays) control timestamps. */
export type Clock = () => Date;

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
  /** ISO 8601 timestamp from the store's clock. */
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

interface AuditRow {
  seq: number;
  at: string;
  actor_id: string;
  actor_name: string;
  action: string;
  subject_type: string;
  subject_id: string;
  details: string;
}

/**
 * Append-only record of who did what (table audit_events, migration core/003; triggers in the
 * database refuse UPDATE and DELETE). Never holds secrets: callers put ids and outcomes in
 * `details`, not tokens or redeem URLs.
 */
export class AuditLog {
  private readonly insert;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly clock: Clock = () => new Date(),
  ) {
    this.insert = db.prepare<[string, string, string, string, string, string, string]>(
      `INSERT INTO audit_events (at, actor_id, actor_name, action, subject_type, subject_id, details)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
  }

  append(event: AuditEventInput): AuditEvent {
    return this.appendSync(event);
  }

  /** The append itself, for SQLite adapters that write an event inside their own transaction. */
  appendSync(event: AuditEventInput): AuditEvent {
    for (const field of ['actorId', 'action', 'subjectType', 'subjectId'] as const) {
      if (typeof event[field] !== 'string' || event[field].trim() === '') throw new AuditEventError(`${field} is required`);
    }
    if (typeof event.actorName !== 'string') throw new AuditEventError('actorName must be a string');
    const details = event.details ?? {};
    let detailsJson: string;
    try {
      detailsJson = JSON.stringify(details);
    } catch (cause) {
      throw new AuditEventError('details must be JSON', { cause });
    }
    const at = this.clock().toISOString();
    const { lastInsertRowid } = this.insert.run(
      at,
      event.actorId,
      event.actorName,
      event.action,
      event.subjectType,
      event.subjectId,
      detailsJson,
    );
    return {
      seq: Number(lastInsertRowid),
      at,
      actorId: event.actorId,
      actorName: event.actorName,
      action: event.action,
      subjectType: event.subjectType,
      subjectId: event.subjectId,
      details: JSON.parse(detailsJson) as { [key: string]: JsonValue },
    };
  }

  /** Matching events in the order they happened (oldest first); with a limit, the most recent ones. */
  list(filter: AuditFilter = {}): AuditEvent[] {
    // ISO strings from toISOString() sort as time, so a text comparison is a time comparison.
    const conditions: Array<[sql: string, value: string | undefined]> = [
      ['subject_type = ?', filter.subjectType],
      ['subject_id = ?', filter.subjectId],
      ['actor_id = ?', filter.actorId],
      ['action = ?', filter.action],
      ['at >= ?', filter.since?.toISOString()],
    ];
    const where: string[] = [];
    const params: Array<string | number> = [];
    for (const [sql, value] of conditions) {
      if (value === undefined) continue;
      where.push(sql);
      params.push(value);
    }
    const requested = Number.isFinite(filter.limit) ? Math.trunc(filter.limit as number) : DEFAULT_AUDIT_LIMIT;
    const limit = Math.min(Math.max(requested, 1), MAX_AUDIT_LIMIT);
    params.push(limit);
    const sql = `SELECT * FROM (
        SELECT * FROM audit_events ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY seq DESC LIMIT ?
      ) ORDER BY seq ASC`;
    return this.db
      .prepare<Array<string | number>, AuditRow>(sql)
      .all(...params)
      .map((row) => ({
        seq: row.seq,
        at: row.at,
        actorId: row.actor_id,
        actorName: row.actor_name,
        action: row.action,
        subjectType: row.subject_type,
        subjectId: row.subject_id,
        details: JSON.parse(row.details) as { [key: string]: JsonValue },
      }));
  }
}
