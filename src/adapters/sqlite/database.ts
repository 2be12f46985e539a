import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';

export type SqliteDatabase = Database.Database;

const statementCaches = new WeakMap<SqliteDatabase, Map<string, Database.Statement>>();

/**
 * The statement for `sql` on `db`, prepared on first use and reused after: preparing parses and
 * plans the SQL, which on a per-activity path cost more than running it. Only for statements used
 * plainly (run/get/all): a statement switched to pluck/raw/expand mode would stay switched.
 */
export function prepared<P extends unknown[] = unknown[], R = unknown>(db: SqliteDatabase, sql: string): Database.Statement<P, R> {
  let cache = statementCaches.get(db);
  if (!cache) {
    cache = new Map();
    statementCaches.set(db, cache);
  }
  let statement = cache.get(sql);
  if (!statement) {
    statement = db.prepare(sql);
    cache.set(sql, statement);
  }
  return statement as unknown as Database.Statement<P, R>;
}

/**
 * A schema change owned by one module. Ids are unique across the app and never reused:
 * "<module>/<NNN>-<what>", e.g. "invitations/001-create". They run once, in the order given.
 */
export interface Migration {
  id: string;
  up: string | ((db: SqliteDatabase) => void);
}

/**
 * Opens (creating if needed) the embedded SQLite database and applies pending migrations.
 * WAL + busy_timeout let a second process open the same file safely; each migration runs
 * in an IMMEDIATE transaction so two processes starting at once cannot both apply it.
 */
export function openDatabase(file: string, migrations: readonly Migration[]): SqliteDatabase {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const db = new Database(file);
  db.pragma('busy_timeout = 5000');
  if (file !== ':memory:') db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  applyMigrations(db, migrations);
  return db;
}

/** A migration failed; its own changes were rolled back, earlier migrations stay applied. */
export class MigrationError extends Error {
  constructor(
    readonly migrationId: string,
    options: { cause: unknown },
  ) {
    const reason = options.cause instanceof Error ? options.cause.message : String(options.cause);
    super(`Database migration "${migrationId}" failed and was rolled back: ${reason}`, options);
    this.name = 'MigrationError';
  }
}

/** Applies the migrations not yet recorded, each in its own transaction; returns the ids it applied. */
export function applyMigrations(db: SqliteDatabase, migrations: readonly Migration[]): string[] {
  const seen = new Set<string>();
  for (const m of migrations) {
    if (seen.has(m.id)) throw new Error(`Duplicate migration id: ${m.id}`);
    seen.add(m.id);
  }
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    id TEXT PRIMARY KEY,
    applied_at TEXT NOT NULL
  )`);
  const applied: string[] = [];
  const isApplied = db.prepare<[string], { id: string }>('SELECT id FROM schema_migrations WHERE id = ?');
  const record = db.prepare('INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?)');
  for (const m of migrations) {
    const run = db.transaction(() => {
      if (isApplied.get(m.id)) return;
      if (typeof m.up === 'string') db.exec(m.up);
      else m.up(db);
      record.run(m.id, new Date().toISOString());
      applied.push(m.id);
    });
    try {
      run.immediate();
    } catch (cause) {
      throw new MigrationError(m.id, { cause });
    }
  }
  return applied;
}
