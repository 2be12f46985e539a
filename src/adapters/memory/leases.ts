import { randomUUID } from 'node:crypto';
import { systemClock, type Clock } from '../../domain/clock';
import { HeartbeatRun, type HolderRegistry, type LeaseStore } from '../../usecases/ports/leases';

/**
 * The holders' heartbeats, shared by every MemoryHolderRegistry made over it (several "processes"
 * in one test). A holder is alive while its heartbeat is newer than its ttl.
 */
export class MemoryHolderTable {
  readonly expiresAt = new Map<string, number>();
}

/** The holder registry in memory: register with start()/beat(), leave with stop(). */
export class MemoryHolderRegistry implements HolderRegistry {
  readonly holderId: string;
  readonly ttlMs: number;
  private readonly clock: Clock;
  private readonly run: HeartbeatRun;

  constructor(
    private readonly table: MemoryHolderTable = new MemoryHolderTable(),
    options: { ttlMs?: number; clock?: Clock; holderId?: string } = {},
  ) {
    this.ttlMs = Math.max(300, options.ttlMs ?? 10_000);
    this.clock = options.clock ?? systemClock;
    this.holderId = options.holderId ?? `memory:${randomUUID().slice(0, 8)}`;
    this.run = new HeartbeatRun(this.ttlMs / 3);
  }

  /** Registers this holder (nothing to keep beating: the process is the test). */
  start(): void {
    this.beat();
  }

  beat(): void {
    const now = this.clock.now().getTime();
    this.table.expiresAt.set(this.holderId, now + this.ttlMs);
    this.run.beat(now, now + this.ttlMs);
  }

  stop(): void {
    this.table.expiresAt.delete(this.holderId);
    this.run.end();
  }

  unbrokenSince(): number | null {
    return this.run.unbrokenSince(this.clock.now().getTime());
  }

  async isAlive(holderId: string): Promise<boolean> {
    return this.isAliveSync(holderId);
  }

  isAliveSync(holderId: string): boolean {
    if (holderId === this.holderId) return true;
    const expires = this.table.expiresAt.get(holderId);
    return expires !== undefined && expires > this.clock.now().getTime();
  }

  /** Removes registrations long dead (housekeeping). */
  prune(olderThanMs = 60 * 60_000): number {
    const cutoff = this.clock.now().getTime() - olderThanMs;
    let removed = 0;
    for (const [id, expires] of this.table.expiresAt) {
      if (expires < cutoff && this.table.expiresAt.delete(id)) removed += 1;
    }
    return removed;
  }
}

interface LeaseRow {
  holderId: string;
  until: number;
  done: boolean;
}

/** Leases in memory: each call is one synchronous step, so of N concurrent acquires exactly one wins. */
export class MemoryLeaseStore implements LeaseStore {
  private readonly rows = new Map<string, LeaseRow>();
  private readonly clock: Clock;

  constructor(
    private readonly holders: Pick<MemoryHolderRegistry, 'isAliveSync'>,
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

  /** acquire() for other memory repositories writing it in the same synchronous step. */
  acquireSync(key: string, holderId: string, ttlMs: number): boolean {
    const now = this.now();
    const row = this.rows.get(key);
    if (row) {
      if (row.done) return false;
      if (row.until > now && this.holders.isAliveSync(row.holderId)) return false;
    }
    this.rows.set(key, { holderId, until: now + ttlMs, done: false });
    return true;
  }

  async renew(key: string, holderId: string, ttlMs: number): Promise<boolean> {
    const row = this.rows.get(key);
    if (!row || row.done || row.holderId !== holderId) return false;
    row.until = this.now() + ttlMs;
    return true;
  }

  async release(key: string, holderId: string): Promise<void> {
    const row = this.rows.get(key);
    if (row && !row.done && row.holderId === holderId) this.rows.delete(key);
  }

  async complete(key: string, holderId: string): Promise<void> {
    this.rows.set(key, { holderId, until: this.now(), done: true });
  }

  async isComplete(key: string): Promise<boolean> {
    return this.rows.get(key)?.done === true;
  }
}
