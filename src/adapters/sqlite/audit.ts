import { type Clock, systemClock } from '../../domain/clock';
import {
  auditLimit,
  auditPageLimit,
  validateAuditRange,
  type AuditPage,
  type AuditRange,
  validateAuditEvent,
  type AuditEvent,
  type AuditEventInput,
  type AuditFilter,
  type AuditLog,
  type JsonValue,
} from '../../usecases/ports/auditLog';
import { prepared, type Migration, type SqliteDatabase } from './database';

/**
 * Retention (AUDIT_RETENTION_DAYS) is the one deletion: an event may go only while a prune
 * holding a cutoff later than the event is open (a gate row written and removed in the same
 * transaction as the DELETE, SqliteAuditLog.pruneBefore). Any other DELETE is still refused.
 * Applied after core/003 (the table and its append-only triggers).
 */
export const auditMigrations: readonly Migration[] = [
  {
    id: 'audit/001-retention',
    up: `
      CREATE TABLE audit_prune_gate (before TEXT NOT NULL);
      DROP TRIGGER audit_events_no_delete;
      CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
        WHEN NOT EXISTS (SELECT 1 FROM audit_prune_gate WHERE OLD.at < before)
        BEGIN SELECT RAISE(ABORT, 'audit_events is append-only (retention deletes only events before its cutoff)'); END;
    `,
  },
];

/** A row of audit_events as SQLite returns it (the migration tool reads them too). */
export interface AuditRow {
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
 * refuse UPDATE, and DELETE except retention's: auditMigrations).
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
      .map(auditEventFromRow);
  }

  async listRange(range: AuditRange): Promise<AuditPage> {
    const { from, to, after } = validateAuditRange(range);
    const limit = auditPageLimit(range);
    // The time index narrows the range; one row more than the page says whether another follows.
    const rows = prepared<[string, string, number, number], AuditRow>(
      this.db,
      'SELECT * FROM audit_events WHERE at >= ? AND at < ? AND seq > ? ORDER BY seq ASC LIMIT ?',
    ).all(from, to, after, limit + 1);
    const events = rows.slice(0, limit).map(auditEventFromRow);
    return { events, next: rows.length > limit ? (events.at(-1)?.seq ?? null) : null };
  }

  async pruneBefore(before: Date): Promise<number> {
    const cutoff = before.toISOString();
    const open = prepared<[string]>(this.db, 'INSERT INTO audit_prune_gate (before) VALUES (?)');
    const remove = prepared<[string, number]>(
      this.db,
      'DELETE FROM audit_events WHERE seq IN (SELECT seq FROM audit_events WHERE at < ? ORDER BY seq LIMIT ?)',
    );
    const close = prepared(this.db, 'DELETE FROM audit_prune_gate');
    // In batches, each its own short transaction, so appends from other turns are not held up long.
    const batch = this.db.transaction((): number => {
      open.run(cutoff);
      try {
        return remove.run(cutoff, PRUNE_BATCH).changes;
      } finally {
        close.run();
      }
    });
    let pruned = 0;
    for (;;) {
      const n = batch.immediate();
      pruned += n;
      if (n < PRUNE_BATCH) return pruned;
    }
  }
}

/** Events deleted per retention transaction. */
const PRUNE_BATCH = 5000;

export function auditEventFromRow(row: AuditRow): AuditEvent {
  return {
    seq: row.seq,
    at: row.at,
    actorId: row.actor_id,
    actorName: row.actor_name,
    action: row.action,
    subjectType: row.subject_type,
    subjectId: row.subject_id,
    details: JSON.parse(row.details) as { [key: string]: JsonValue },
  };
}
