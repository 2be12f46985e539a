import type { Migration, SqliteDatabase } from './database';

/**
 * The start times of recent calls to a rate-limited endpoint, kept in the store so that every
 * process sharing it (and a process restarted a second ago) counts the same window: a restart
 * cannot burst past the tenant's limit, and two processes do not each take the whole of it.
 */
export interface PacerWindowStore {
  /**
   * Records a start at `now` when fewer than `limit` started within `windowMs` (and no hold-off
   * is in force): returns 0. Otherwise records nothing and returns how long to wait, in ms.
   */
  tryStart(name: string, limit: number, windowMs: number, now: number): number;
  /** Nobody starts before `until` (a 429's Retry-After applies to every caller). */
  holdOff(name: string, until: number): void;
  /** Starts within the window ending at `now`. */
  countSince(name: string, since: number): number;
}

export const pacerWindowMigrations: Migration[] = [
  {
    id: 'core/005-pacer-window',
    up: `
      CREATE TABLE pacer_starts (
        name TEXT NOT NULL,
        at   INTEGER NOT NULL
      );
      CREATE INDEX pacer_starts_by_name ON pacer_starts (name, at);
      CREATE TABLE pacer_holds (
        name      TEXT PRIMARY KEY,
        not_before INTEGER NOT NULL
      );
    `,
  },
];

export class SqlitePacerWindowStore implements PacerWindowStore {
  constructor(private readonly db: SqliteDatabase) {}

  tryStart(name: string, limit: number, windowMs: number, now: number): number {
    const attempt = this.db.transaction((): number => {
      const hold = this.db.prepare<[string], { not_before: number }>('SELECT not_before FROM pacer_holds WHERE name = ?').get(name);
      if (hold && hold.not_before > now) return hold.not_before - now;
      this.db.prepare('DELETE FROM pacer_starts WHERE name = ? AND at <= ?').run(name, now - windowMs);
      const recent = this.db
        .prepare<[string, number, number], { at: number }>('SELECT at FROM pacer_starts WHERE name = ? AND at > ? ORDER BY at DESC LIMIT ?')
        .all(name, now - windowMs, limit);
      if (recent.length >= limit) {
        const oldestCounted = recent[recent.length - 1]?.at ?? now;
        return Math.max(1, oldestCounted + windowMs - now);
      }
      this.db.prepare('INSERT INTO pacer_starts (name, at) VALUES (?, ?)').run(name, now);
      return 0;
    });
    // IMMEDIATE: two processes cannot both see a free slot and both take it.
    return attempt.immediate();
  }

  holdOff(name: string, until: number): void {
    this.db
      .prepare(
        `INSERT INTO pacer_holds (name, not_before) VALUES (?, ?)
         ON CONFLICT (name) DO UPDATE SET not_before = max(not_before, excluded.not_before)`,
      )
      .run(name, until);
  }

  countSince(name: string, since: number): number {
    return this.db.prepare<[string, number], { n: number }>('SELECT count(*) AS n FROM pacer_starts WHERE name = ? AND at > ?').get(name, since)?.n ?? 0;
  }
}
