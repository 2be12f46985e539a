import { startOne, type PacerWindowStore, type StartAnswer } from '../../usecases/ports/pacerWindow';
import { prepared, type Migration, type SqliteDatabase } from './database';

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

/** The shared pacer window in SQLite (the rules are in src/usecases/ports/pacerWindow.ts). */
export class SqlitePacerWindowStore implements PacerWindowStore {
  constructor(private readonly db: SqliteDatabase) {}

  tryStart(name: string, limit: number, windowMs: number, at: () => number): Promise<number> {
    return startOne(this, name, limit, windowMs, at);
  }

  async tryStartSome(name: string, limit: number, windowMs: number, at: () => number, count: number): Promise<StartAnswer> {
    const attempt = this.db.transaction((): StartAnswer => {
      // Read inside the transaction: after any wait for another process's write lock.
      const now = at();
      const hold = prepared<[string], { not_before: number }>(this.db, 'SELECT not_before FROM pacer_holds WHERE name = ?').get(name);
      if (hold && hold.not_before > now) return { started: 0, waitMs: hold.not_before - now };
      prepared(this.db, 'DELETE FROM pacer_starts WHERE name = ? AND at <= ?').run(name, now - windowMs);
      const recent = prepared<[string, number, number], { at: number }>(
        this.db,
        'SELECT at FROM pacer_starts WHERE name = ? AND at > ? ORDER BY at DESC LIMIT ?',
      ).all(name, now - windowMs, limit);
      if (recent.length >= limit) {
        const oldestCounted = recent[recent.length - 1]?.at ?? now;
        return { started: 0, waitMs: Math.max(1, oldestCounted + windowMs - now) };
      }
      const started = Math.max(1, Math.min(Math.floor(count), limit - recent.length));
      const insert = prepared(this.db, 'INSERT INTO pacer_starts (name, at) VALUES (?, ?)');
      for (let i = 0; i < started; i++) insert.run(name, now);
      return { started, waitMs: 0 };
    });
    // IMMEDIATE: two processes cannot both see a free slot and both take it.
    return attempt.immediate();
  }

  async moveStart(name: string, from: number, to: number): Promise<void> {
    prepared(
      this.db,
      'UPDATE pacer_starts SET at = ? WHERE rowid = (SELECT rowid FROM pacer_starts WHERE name = ? AND at = ? LIMIT 1)',
    ).run(to, name, from);
  }

  async holdOff(name: string, until: number): Promise<void> {
    prepared(
      this.db,
      `INSERT INTO pacer_holds (name, not_before) VALUES (?, ?)
       ON CONFLICT (name) DO UPDATE SET not_before = max(not_before, excluded.not_before)`,
    ).run(name, until);
  }

  async countSince(name: string, since: number): Promise<number> {
    return prepared<[string, number], { n: number }>(this.db, 'SELECT count(*) AS n FROM pacer_starts WHERE name = ? AND at > ?').get(name, since)?.n ?? 0;
  }
}
