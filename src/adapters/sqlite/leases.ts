import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Migration, SqliteDatabase } from './database';

/**
 * Owned leases and once-claims, so that work survives a crash without being done twice.
 *
 * A *holder* is one running process (later: one instance). It is registered in the store with a
 * heartbeat; a holder whose heartbeat stopped (or, on this machine, whose process id is gone) is
 * dead, and everything it held is free at once instead of at a fixed expiry.
 *
 * A *lease* is a named claim (`approval:<id>`, `redeliver:<request>:<user>`, `welcome:<chat>` …)
 * taken by compare-and-set: free when absent, past its time, or held by a dead holder. A lease
 * can be *completed*: from then on nobody takes it again ("once").
 *
 * These two small interfaces are all the rest of the bot knows, so an Azure Table adapter can
 * carry the same rules (ETag compare-and-set) across instances.
 */

export interface HolderRegistry {
  /** This process's holder id. */
  readonly holderId: string;
  /** Whether `holderId` (this process or another) is still alive. */
  isAlive(holderId: string): boolean;
}

export interface LeaseStore {
  /** Takes `key` for `holderId` until now + ttlMs, when free; true when taken. A completed key is never taken again. */
  acquire(key: string, holderId: string, ttlMs: number): boolean;
  /** Extends a lease still held by `holderId`; false when it is no longer theirs. */
  renew(key: string, holderId: string, ttlMs: number): boolean;
  /** Frees a lease held by `holderId` (someone may take it again). */
  release(key: string, holderId: string): void;
  /** Marks the work done for good: the key can never be taken again. */
  complete(key: string, holderId: string): void;
  /** Whether the key was completed. */
  isComplete(key: string): boolean;
}

export const leaseMigrations: Migration[] = [
  {
    id: 'core/004-holders-and-leases',
    up: `
      CREATE TABLE holders (
        holder_id    TEXT PRIMARY KEY,
        host         TEXT NOT NULL,
        pid          INTEGER NOT NULL,
        started_at   INTEGER NOT NULL,
        heartbeat_at INTEGER NOT NULL,
        expires_at   INTEGER NOT NULL
      );
      CREATE TABLE leases (
        key        TEXT PRIMARY KEY,
        holder_id  TEXT NOT NULL,
        until      INTEGER NOT NULL,
        done       INTEGER NOT NULL DEFAULT 0,
        updated_at INTEGER NOT NULL
      );
    `,
  },
];

interface HolderRow {
  holder_id: string;
  host: string;
  pid: number;
  expires_at: number;
}

/** True when a process with this id runs on this machine (signal 0 only checks). */
function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface SqliteHolderOptions {
  /** A holder whose heartbeat is older than this is dead (default 10 s). */
  ttlMs?: number;
  clock?: () => number;
  host?: string;
  pid?: number;
}

/**
 * The holder registry in SQLite: this process registers itself and renews its heartbeat every
 * ttl/3 while it runs (an unref'd timer, so it never keeps the process alive); stop() removes the
 * row so a clean shutdown frees everything at once.
 */
export class SqliteHolderRegistry implements HolderRegistry {
  readonly holderId: string;
  readonly ttlMs: number;
  private readonly clock: () => number;
  private readonly host: string;
  private readonly pid: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: SqliteDatabase,
    options: SqliteHolderOptions = {},
  ) {
    this.ttlMs = Math.max(300, options.ttlMs ?? 10_000);
    this.clock = options.clock ?? Date.now;
    this.host = options.host ?? os.hostname();
    this.pid = options.pid ?? process.pid;
    this.holderId = `${this.host}:${this.pid}:${randomUUID().slice(0, 8)}`;
  }

  /** Registers this holder and keeps its heartbeat going until stop(). */
  start(): void {
    this.beat();
    if (this.timer) return;
    this.timer = setInterval(() => {
      try {
        this.beat();
      } catch {
        // The database is closing; the next beat (or none) decides.
      }
    }, Math.max(100, Math.floor(this.ttlMs / 3)));
    this.timer.unref();
  }

  beat(): void {
    const now = this.clock();
    this.db
      .prepare(
        `INSERT INTO holders (holder_id, host, pid, started_at, heartbeat_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (holder_id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at, expires_at = excluded.expires_at`,
      )
      .run(this.holderId, this.host, this.pid, now, now, now + this.ttlMs);
  }

  /** Stops the heartbeat and removes the registration (everything this process held is free). */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.db.open) this.db.prepare('DELETE FROM holders WHERE holder_id = ?').run(this.holderId);
  }

  isAlive(holderId: string): boolean {
    if (holderId === this.holderId) return true;
    const row = this.db.prepare<[string], HolderRow>('SELECT holder_id, host, pid, expires_at FROM holders WHERE holder_id = ?').get(holderId);
    if (!row) return false;
    if (row.expires_at <= this.clock()) return false;
    // Same machine: a process that is gone is dead now, not when its heartbeat runs out.
    if (row.host === this.host && row.pid !== this.pid && !processRuns(row.pid)) return false;
    return true;
  }

  /** Removes registrations long dead (housekeeping). */
  prune(olderThanMs = 60 * 60_000): number {
    return this.db.prepare('DELETE FROM holders WHERE expires_at < ?').run(this.clock() - olderThanMs).changes;
  }
}

interface LeaseRow {
  key: string;
  holder_id: string;
  until: number;
  done: number;
}

/** Leases in SQLite; each acquire is one IMMEDIATE transaction, so two processes cannot both win. */
export class SqliteLeaseStore implements LeaseStore {
  private readonly clock: () => number;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly holders: HolderRegistry,
    options: { clock?: () => number } = {},
  ) {
    this.clock = options.clock ?? Date.now;
  }

  acquire(key: string, holderId: string, ttlMs: number): boolean {
    return this.acquireSync(key, holderId, ttlMs);
  }

  /** The acquire itself, for SQLite adapters that take a lease inside their own transaction (nests as a savepoint). */
  acquireSync(key: string, holderId: string, ttlMs: number): boolean {
    const take = this.db.transaction((): boolean => {
      const now = this.clock();
      const row = this.db.prepare<[string], LeaseRow>('SELECT key, holder_id, until, done FROM leases WHERE key = ?').get(key);
      if (row) {
        if (row.done) return false;
        const held = row.until > now && this.holders.isAlive(row.holder_id);
        if (held) return false;
        this.db.prepare('UPDATE leases SET holder_id = ?, until = ?, updated_at = ? WHERE key = ?').run(holderId, now + ttlMs, now, key);
        return true;
      }
      this.db.prepare('INSERT INTO leases (key, holder_id, until, done, updated_at) VALUES (?, ?, ?, 0, ?)').run(key, holderId, now + ttlMs, now);
      return true;
    });
    return take.immediate();
  }

  renew(key: string, holderId: string, ttlMs: number): boolean {
    const now = this.clock();
    return (
      this.db.prepare('UPDATE leases SET until = ?, updated_at = ? WHERE key = ? AND holder_id = ? AND done = 0').run(now + ttlMs, now, key, holderId)
        .changes === 1
    );
  }

  release(key: string, holderId: string): void {
    this.db.prepare('DELETE FROM leases WHERE key = ? AND holder_id = ? AND done = 0').run(key, holderId);
  }

  complete(key: string, holderId: string): void {
    const now = this.clock();
    this.db
      .prepare(
        `INSERT INTO leases (key, holder_id, until, done, updated_at) VALUES (?, ?, ?, 1, ?)
         ON CONFLICT (key) DO UPDATE SET done = 1, holder_id = excluded.holder_id, updated_at = excluded.updated_at`,
      )
      .run(key, holderId, now, now);
  }

  isComplete(key: string): boolean {
    const row = this.db.prepare<[string], { done: number }>('SELECT done FROM leases WHERE key = ?').get(key);
    return row?.done === 1;
  }
}
