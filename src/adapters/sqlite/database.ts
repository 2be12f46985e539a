import type BetterSqlite3 from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { NodeSqliteDatabase, nodeSqlite } from './nodeSqlite';

/**
 * The SQLite connection every repository uses: the part of better-sqlite3's API the adapters call,
 * with better-sqlite3's semantics (named parameters without prefix in the object, `changes`,
 * `lastInsertRowid`, transactions with deferred/immediate/exclusive and nesting through
 * savepoints, pragma). A better-sqlite3 `Database` is one as it is; on Node's built-in
 * `node:sqlite` it is a `NodeSqliteDatabase` (nodeSqlite.ts).
 */
export interface SqliteDatabase {
  readonly open: boolean;
  readonly inTransaction: boolean;
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- better-sqlite3's own bound, so its Database fits
  prepare<P extends unknown[] | {} = unknown[], R = unknown>(source: string): SqliteStatement<P, R>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- better-sqlite3's own bound, so its Database fits
  transaction<F extends (...args: any[]) => unknown>(fn: F): SqliteTransaction<F>;
  exec(source: string): this;
  pragma(source: string, options?: { simple?: boolean }): unknown;
  close(): this;
}

export interface SqliteRunResult {
  changes: number;
  lastInsertRowid: number | bigint;
}

interface Statement<P extends unknown[], R> {
  run(...params: P): SqliteRunResult;
  get(...params: P): R | undefined;
  all(...params: P): R[];
  iterate(...params: P): IterableIterator<R>;
  /** Rows become their first column's value (for plain statements only; see `prepared`). */
  pluck(toggleState?: boolean): this;
}

/** A prepared statement; `P` the parameters (a tuple, or one object of named parameters), `R` a row. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- better-sqlite3's own bound
export type SqliteStatement<P extends unknown[] | {} = unknown[], R = unknown> = P extends unknown[] ? Statement<P, R> : Statement<[P], R>;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- better-sqlite3's own bound
type Arguments<F extends (...args: any[]) => unknown> = F extends (...args: infer A) => unknown ? A : never;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- better-sqlite3's own bound
export interface SqliteTransaction<F extends (...args: any[]) => unknown> {
  (...params: Arguments<F>): ReturnType<F>;
  default(...params: Arguments<F>): ReturnType<F>;
  deferred(...params: Arguments<F>): ReturnType<F>;
  /** Takes the write lock at BEGIN: what a writer that another process may race must use. */
  immediate(...params: Arguments<F>): ReturnType<F>;
  exclusive(...params: Arguments<F>): ReturnType<F>;
}

/**
 * Which SQLite binding a connection runs on. better-sqlite3 when its native add-on loads (always on
 * Node 20, where it is the only one; on 22 and 24 when it was built or downloaded for that Node's
 * ABI); otherwise Node's built-in node:sqlite (Node 22.16+ and 24).
 */
export type SqliteDriver = 'better-sqlite3' | 'node:sqlite';

let betterSqlite3: { ok: true; Database: typeof BetterSqlite3 } | { ok: false; failure: string } | undefined;

/**
 * better-sqlite3 if its native add-on loads in this Node (tried once, on an in-memory database).
 * It is an optional dependency: where its add-on can be neither downloaded nor built at install
 * (a Node 22/24 machine without a compiler or without access to its prebuilt binaries), npm
 * leaves it out and the store runs on node:sqlite. Its add-on is built for one Node ABI: a
 * node_modules installed under Node 20 and run by Node 22 has it, and it fails to load here.
 */
function betterSqlite3Loads(): { ok: true; Database: typeof BetterSqlite3 } | { ok: false; failure: string } {
  if (!betterSqlite3) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional dependency, loaded only when present
      const Database = require('better-sqlite3') as typeof BetterSqlite3;
      new Database(':memory:').close();
      betterSqlite3 = { ok: true, Database };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      betterSqlite3 = { ok: false, failure: `better-sqlite3 did not load: ${message.split('\n').join(' ')}` };
    }
  }
  return betterSqlite3;
}

/** The drivers this Node can run, preferred first. */
export function availableSqliteDrivers(): SqliteDriver[] {
  const drivers: SqliteDriver[] = [];
  if (betterSqlite3Loads().ok) drivers.push('better-sqlite3');
  if ('module' in nodeSqlite()) drivers.push('node:sqlite');
  return drivers;
}

/**
 * better-sqlite3 first: it is the tested path on every runtime it loads on (the only one on
 * Node 20), and node:sqlite is still Stability 1.1 "active development" on Node 22 (release
 * candidate from 24.15). node:sqlite when better-sqlite3's add-on does not match this Node (an
 * install made for another Node version, or one where the add-on could not be built).
 */
export function defaultSqliteDriver(): SqliteDriver {
  const better = betterSqlite3Loads();
  if (better.ok) return 'better-sqlite3';
  const builtIn = nodeSqlite();
  if ('module' in builtIn) return 'node:sqlite';
  throw new Error(`No SQLite driver in Node ${process.versions.node}: ${better.failure}; ${builtIn.failure}`);
}

const drivers = new WeakMap<SqliteDatabase, SqliteDriver>();

/** The driver a connection opened here runs on. */
export function sqliteDriverOf(db: SqliteDatabase): SqliteDriver {
  const driver = drivers.get(db);
  if (!driver) throw new Error('not a connection opened by openDatabase');
  return driver;
}

/** A bare connection to `file` on `driver` (default: defaultSqliteDriver()). */
export function connectSqlite(file: string, driver: SqliteDriver = defaultSqliteDriver()): SqliteDatabase {
  let db: SqliteDatabase;
  if (driver === 'better-sqlite3') {
    const better = betterSqlite3Loads();
    if (!better.ok) throw new Error(better.failure);
    db = new better.Database(file);
  } else {
    const builtIn = nodeSqlite();
    if (!('module' in builtIn)) throw new Error(builtIn.failure);
    db = new NodeSqliteDatabase(builtIn.module, file);
  }
  drivers.set(db, driver);
  return db;
}

const statementCaches = new WeakMap<SqliteDatabase, Map<string, SqliteStatement>>();

/**
 * The statement for `sql` on `db`, prepared on first use and reused after: preparing parses and
 * plans the SQL, which on a per-activity path cost more than running it. Only for statements used
 * plainly (run/get/all): a statement switched to pluck mode would stay switched.
 */
export function prepared<P extends unknown[] = unknown[], R = unknown>(db: SqliteDatabase, sql: string): SqliteStatement<P, R> {
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
  return statement as unknown as SqliteStatement<P, R>;
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
export function openDatabase(file: string, migrations: readonly Migration[], options: { driver?: SqliteDriver } = {}): SqliteDatabase {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const db = connectSqlite(file, options.driver);
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
