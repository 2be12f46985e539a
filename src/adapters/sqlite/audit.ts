import { type Clock, systemClock } from '../../domain/clock';
import {
  auditLimit,
  validateAuditEvent,
  type AuditEvent,
  type AuditEventInput,
  type AuditFilter,
  type AuditLog,
  type JsonValue,
} from '../../usecases/ports/auditLog';
import { prepared, type SqliteDatabase } from './database';

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
 * The audit log in SQLite (table audit_events, migration core/003; triggers in the database
 * refuse UPDATE and DELETE).
 */
export class SqliteAuditLog implements AuditLog {
  private readonly insert;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly clock: Clock = systemClock,
  ) {
    this.insert = db.prepare<[string, string, string, string, string, string, string]>(
      `INSERT INTO audit_events (at, actor_id, actor_name, action, subject_type, subject_id, details)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
  }

  async append(event: AuditEventInput): Promise<AuditEvent> {
    return this.appendSync(event);
  }

  /** append() for other SQLite repositories composing one transaction (it joins the caller's). */
  appendSync(event: AuditEventInput): AuditEvent {
    const detailsJson = validateAuditEvent(event);
    const at = this.clock.now().toISOString();
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

  async list(filter: AuditFilter = {}): Promise<AuditEvent[]> {
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
    params.push(auditLimit(filter));
    const sql = `SELECT * FROM (
        SELECT * FROM audit_events ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY seq DESC LIMIT ?
      ) ORDER BY seq ASC`;
    // At most 32 shapes of this statement (which filters are set), so each is prepared once.
    return prepared<Array<string | number>, AuditRow>(this.db, sql)
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
