import { systemClock, type Clock } from '../../domain/clock';
import {
  scheduleListLimit,
  validateScheduleBatch,
  validateScheduleInput,
  type ClaimOptions,
  type ScheduledPayload,
  type ScheduledWork,
  type ScheduledWorkRepository,
  type ScheduleInput,
  type ScheduleResult,
  type WorkSettlement,
} from '../../usecases/ports/scheduler';
import { prepared, type Migration, type SqliteDatabase } from './database';

/** Durable due work (the rules are in src/usecases/ports/scheduler.ts). Times are epoch ms. */
export const scheduledWorkMigrations: readonly Migration[] = [
  {
    id: 'scheduledWork/001-create',
    up: `
      CREATE TABLE scheduled_work (
        kind          TEXT NOT NULL,
        subject       TEXT NOT NULL,
        due_at        INTEGER NOT NULL,
        payload       TEXT NOT NULL,
        attempts      INTEGER NOT NULL DEFAULT 0,
        last_error    TEXT,
        claimed_by    TEXT,
        claimed_until INTEGER,
        created_at    INTEGER NOT NULL,
        updated_at    INTEGER NOT NULL,
        version       INTEGER NOT NULL,
        PRIMARY KEY (kind, subject)
      );
      CREATE INDEX scheduled_work_by_due ON scheduled_work (due_at, kind, subject);
      CREATE INDEX scheduled_work_by_subject ON scheduled_work (subject, due_at);
    `,
  },
];

interface WorkRow {
  kind: string;
  subject: string;
  due_at: number;
  payload: string;
  attempts: number;
  last_error: string | null;
  claimed_by: string | null;
  claimed_until: number | null;
  created_at: number;
  updated_at: number;
  version: number;
}

const COLUMNS = 'kind, subject, due_at, payload, attempts, last_error, claimed_by, claimed_until, created_at, updated_at, version';

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function fromRow(row: WorkRow): ScheduledWork {
  return {
    kind: row.kind,
    subject: row.subject,
    dueAt: iso(row.due_at),
    payload: JSON.parse(row.payload) as ScheduledPayload,
    attempts: row.attempts,
    lastError: row.last_error,
    claimedBy: row.claimed_by,
    claimedUntil: row.claimed_until === null ? null : iso(row.claimed_until),
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
    version: row.version,
  };
}

/**
 * Scheduled work in SQLite. A claim is one IMMEDIATE transaction (so two processes on one file
 * cannot both take an item); every other write is one statement guarded by version.
 */
export class SqliteScheduledWorkRepository implements ScheduledWorkRepository {
  private readonly clock: Clock;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly holders: { isAliveSync(holderId: string): boolean },
    options: { clock?: Clock } = {},
  ) {
    this.clock = options.clock ?? systemClock;
  }

  private selectOne(kind: string, subject: string): WorkRow | undefined {
    return prepared<[string, string], WorkRow>(this.db, `SELECT ${COLUMNS} FROM scheduled_work WHERE kind = ? AND subject = ?`).get(kind, subject);
  }

  async schedule(input: ScheduleInput, options: { replace?: boolean } = {}): Promise<ScheduleResult> {
    validateScheduleInput(input);
    const now = this.clock.now().getTime();
    const dueAt = Date.parse(input.dueAt);
    const payload = JSON.stringify(input.payload ?? {});
    const write = this.db.transaction((): ScheduleResult => {
      const existing = this.selectOne(input.kind, input.subject);
      if (existing && !options.replace) return { work: fromRow(existing), created: false };
      if (existing) {
        prepared(
          this.db,
          `UPDATE scheduled_work SET due_at = ?, payload = ?, attempts = 0, last_error = NULL, updated_at = ?, version = version + 1
           WHERE kind = ? AND subject = ?`,
        ).run(dueAt, payload, now, input.kind, input.subject);
      } else {
        prepared(
          this.db,
          `INSERT INTO scheduled_work (${COLUMNS}) VALUES (?, ?, ?, ?, 0, NULL, NULL, NULL, ?, ?, 1)`,
        ).run(input.kind, input.subject, dueAt, payload, now, now);
      }
      return { work: fromRow(this.selectOne(input.kind, input.subject) as WorkRow), created: true };
    });
    return write.immediate();
  }

  async scheduleNew(inputs: readonly ScheduleInput[]): Promise<ScheduleResult[]> {
    validateScheduleBatch(inputs);
    const out: ScheduleResult[] = [];
    // One file, one writer at a time: each is its own short transaction, as schedule is.
    for (const input of inputs) out.push(await this.schedule(input));
    return out;
  }

  async get(kind: string, subject: string): Promise<ScheduledWork | null> {
    const row = this.selectOne(kind, subject);
    return row ? fromRow(row) : null;
  }

  async listBySubject(subject: string): Promise<ScheduledWork[]> {
    return prepared<[string], WorkRow>(this.db, `SELECT ${COLUMNS} FROM scheduled_work WHERE subject = ? ORDER BY due_at, kind, subject`)
      .all(subject)
      .map(fromRow);
  }

  async list(options: { limit?: number; dueBefore?: string } = {}): Promise<ScheduledWork[]> {
    const before = options.dueBefore === undefined ? Number.MAX_SAFE_INTEGER : Date.parse(options.dueBefore);
    return prepared<[number, number], WorkRow>(
      this.db,
      `SELECT ${COLUMNS} FROM scheduled_work WHERE due_at < ? ORDER BY due_at, kind, subject LIMIT ?`,
    )
      .all(before, scheduleListLimit(options.limit))
      .map(fromRow);
  }

  async claimDue(holderId: string, options: ClaimOptions): Promise<ScheduledWork[]> {
    const limit = Math.max(0, Math.trunc(options.limit));
    if (limit === 0) return [];
    const claim = this.db.transaction((): ScheduledWork[] => {
      const now = this.clock.now().getTime();
      const claimed: ScheduledWork[] = [];
      // Soonest first; items held by a live holder are skipped (liveness is decided here, not in SQL).
      const candidates = prepared<[number], WorkRow>(
        this.db,
        `SELECT ${COLUMNS} FROM scheduled_work WHERE due_at <= ? ORDER BY due_at, kind, subject`,
      ).all(now);
      const take = prepared(
        this.db,
        `UPDATE scheduled_work SET claimed_by = ?, claimed_until = ?, updated_at = ?, version = version + 1
         WHERE kind = ? AND subject = ? AND version = ?`,
      );
      for (const row of candidates) {
        if (claimed.length >= limit) break;
        const held = row.claimed_by !== null && row.claimed_until !== null && row.claimed_until > now && this.holders.isAliveSync(row.claimed_by);
        if (held) continue;
        if (take.run(holderId, now + options.leaseMs, now, row.kind, row.subject, row.version).changes !== 1) continue;
        claimed.push(fromRow({ ...row, claimed_by: holderId, claimed_until: now + options.leaseMs, updated_at: now, version: row.version + 1 }));
      }
      return claimed;
    });
    return claim.immediate();
  }

  async settle(kind: string, subject: string, holderId: string, version: number, settlement: WorkSettlement): Promise<boolean> {
    const now = this.clock.now().getTime();
    const apply = this.db.transaction((): boolean => {
      const row = this.selectOne(kind, subject);
      if (!row || row.claimed_by !== holderId) return false;
      if (row.version !== version) {
        prepared(
          this.db,
          'UPDATE scheduled_work SET claimed_by = NULL, claimed_until = NULL, updated_at = ?, version = version + 1 WHERE kind = ? AND subject = ?',
        ).run(now, kind, subject);
        return false;
      }
      if (settlement.outcome === 'done') {
        prepared(this.db, 'DELETE FROM scheduled_work WHERE kind = ? AND subject = ? AND version = ?').run(kind, subject, version);
        return true;
      }
      if (settlement.outcome === 'reschedule') {
        prepared(
          this.db,
          `UPDATE scheduled_work SET due_at = ?, payload = ?, attempts = 0, last_error = NULL, claimed_by = NULL, claimed_until = NULL,
             updated_at = ?, version = version + 1 WHERE kind = ? AND subject = ? AND version = ?`,
        ).run(Date.parse(settlement.dueAt), settlement.payload ? JSON.stringify(settlement.payload) : row.payload, now, kind, subject, version);
        return true;
      }
      prepared(
        this.db,
        `UPDATE scheduled_work SET due_at = ?, attempts = attempts + 1, last_error = ?, claimed_by = NULL, claimed_until = NULL,
           updated_at = ?, version = version + 1 WHERE kind = ? AND subject = ? AND version = ?`,
      ).run(Date.parse(settlement.dueAt), settlement.error, now, kind, subject, version);
      return true;
    });
    return apply.immediate();
  }

  async cancel(kind: string, subject: string): Promise<boolean> {
    return prepared(this.db, 'DELETE FROM scheduled_work WHERE kind = ? AND subject = ?').run(kind, subject).changes === 1;
  }
}
