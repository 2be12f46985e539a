import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { systemClock, type Clock } from '../../domain/clock';
import { HeartbeatRun, type HolderRegistry, type LeaseStore } from '../../usecases/ports/leases';
import { prepared, type Migration, type SqliteDatabase } from './database';

/** Owned leases and once-claims in SQLite (the rules are in src/usecases/ports/leases.ts). */
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
  clock?: Clock;
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
  private readonly clock: Clock;
  private readonly host: string;
  private readonly pid: number;
  private timer: NodeJS.Timeout | undefined;
  private readonly run: HeartbeatRun;

  constructor(
    private readonly db: SqliteDatabase,
    options: SqliteHolderOptions = {},
  ) {
    this.ttlMs = Math.max(300, options.ttlMs ?? 10_000);
    this.run = new HeartbeatRun(this.ttlMs / 3);
    this.clock = options.clock ?? systemClock;
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
    const now = this.clock.now().getTime();
    prepared(
        this.db,
        `INSERT INTO holders (holder_id, host, pid, started_at, heartbeat_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (holder_id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at, expires_at = excluded.expires_at`,
      ).run(this.holderId, this.host, this.pid, now, now, now + this.ttlMs);
    this.run.beat(this.clock.now().getTime(), now + this.ttlMs);
  }

  unbrokenSince(): number | null {
    return this.run.unbrokenSince(this.clock.now().getTime());
  }

  /** Stops the heartbeat and removes the registration (everything this process held is free). */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.run.end();
    if (this.db.open) prepared(this.db, 'DELETE FROM holders WHERE holder_id = ?').run(this.holderId);
  }

  async isAlive(holderId: string): Promise<boolean> {
    return this.isAliveSync(holderId);
  }

  /** isAlive() for SQLite repositories deciding inside a transaction. */
  isAliveSync(holderId: string): boolean {
    if (holderId === this.holderId) return true;
    const row = prepared<[string], HolderRow>(this.db, 'SELECT holder_id, host, pid, expires_at FROM holders WHERE holder_id = ?').get(holderId);
    if (!row) return false;
    if (row.expires_at <= this.clock.now().getTime()) return false;
    // Same machine: a process that is gone is dead now, not when its heartbeat runs out.
    if (row.host === this.host && row.pid !== this.pid && !processRuns(row.pid)) return false;
    return true;
  }

  /** Removes registrations long dead (housekeeping). */
  prune(olderThanMs = 60 * 60_000): number {
    return prepared(this.db, 'DELETE FROM holders WHERE expires_at < ?').run(this.clock.now().getTime() - olderThanMs).changes;
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
  private readonly clock: Clock;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly holders: Pick<SqliteHolderRegistry, 'isAliveSync'>,
    options: { clock?: Clock } = {},
  ) {
    this.clock = options.clock ?? systemClock;
  }

  private now(): number {
    return this.clock.now().getTime();
  }

  async acquire(key: string, holderId: string, ttlMs: number): Promise<boolean> {
    return this.acquireSync(key, holderId, ttlMs);
  }

  /** acquire() for other SQLite repositories composing one transaction (it joins the caller's). */
  acquireSync(key: string, holderId: string, ttlMs: number): boolean {
    const take = this.db.transaction((): boolean => {
      const now = this.now();
      const row = prepared<[string], LeaseRow>(this.db, 'SELECT key, holder_id, until, done FROM leases WHERE key = ?').get(key);
      if (row) {
        if (row.done) return false;
        const held = row.until > now && this.holders.isAliveSync(row.holder_id);
        if (held) return false;
        prepared(this.db, 'UPDATE leases SET holder_id = ?, until = ?, updated_at = ? WHERE key = ?').run(holderId, now + ttlMs, now, key);
        return true;
      }
      prepared(this.db, 'INSERT INTO leases (key, holder_id, until, done, updated_at) VALUES (?, ?, ?, 0, ?)').run(key, holderId, now + ttlMs, now);
      return true;
    });
    // Inside a caller's transaction this becomes a savepoint of it.
    return take.immediate();
  }

  async renew(key: string, holderId: string, ttlMs: number): Promise<boolean> {
    const now = this.now();
    return (
      prepared(this.db, 'UPDATE leases SET until = ?, updated_at = ? WHERE key = ? AND holder_id = ? AND done = 0').run(now + ttlMs, now, key, holderId)
        .changes === 1
    );
  }

  async release(key: string, holderId: string): Promise<void> {
    prepared(this.db, 'DELETE FROM leases WHERE key = ? AND holder_id = ? AND done = 0').run(key, holderId);
  }

  async complete(key: string, holderId: string): Promise<void> {
    const now = this.now();
    prepared(
      this.db,
      `INSERT INTO leases (key, holder_id, until, done, updated_at) VALUES (?, ?, ?, 1, ?)
       ON CONFLICT (key) DO UPDATE SET done = 1, holder_id = excluded.holder_id, updated_at = excluded.updated_at`,
    ).run(key, holderId, now, now);
  }

  async isComplete(key: string): Promise<boolean> {
    const row = prepared<[string], { done: number }>(this.db, 'SELECT done FROM leases WHERE key = ?').get(key);
    return row?.done === 1;
  }
}
