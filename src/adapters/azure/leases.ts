/**
 * Holders and owned leases in Azure Table storage (the rules are in src/usecases/ports/leases.ts):
 * several instances share them, and every decision is an ETag compare-and-set, so of N instances
 * racing for one lease exactly one wins.
 *
 * Table `<prefix>Holders`, one entity per running process:
 *   PartitionKey 'holder', RowKey tableKey(holderId); host, pid, startedAt, expiresAt (epoch ms by
 *   the bot's clock). start() writes it and a heartbeat upserts it every ttl/3; stop() deletes it.
 *   isAlive(id) is one point read. prune() is the only query (one small partition, at start-up).
 * Table `<prefix>Leases`, one entity per lease key (one partition each: no hot partition):
 *   PartitionKey tableKey(key), RowKey 'lease'; holderId, until (epoch ms), done (boolean).
 *
 * Transactions: acquire of a free key = 1 (insert; "already exists" means somebody has it), of a
 * taken key = 3 (insert refused, read, then a replace conditional on the read's ETag, or refused
 * with no write when its live holder still has it), plus 1 to read that holder's heartbeat;
 * renew and release = 2 (read, conditional write); complete = 1 (upsert); isComplete = 1.
 * Conditional writes: https://learn.microsoft.com/rest/api/storageservices/update-entity2 (If-Match).
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { odata, type TableClient } from '@azure/data-tables';
import { systemClock, type Clock } from '../../domain/clock';
import { HeartbeatRun, type HolderRegistry, type LeaseStore } from '../../usecases/ports/leases';
import type { AzureStorageAccount } from './account';
import { deleteIfMatch, getOrNull, insertIfAbsent, isNotFound, listAll, replaceIfMatch, tableKey } from './tables';

interface HolderEntity {
  host: string;
  pid: number;
  startedAt: number;
  expiresAt: number;
}

interface LeaseEntity {
  holderId: string;
  until: number;
  done: boolean;
  updatedAt: number;
}

const HOLDER_PARTITION = 'holder';
const LEASE_ROW = 'lease';

/** True when a process with this id runs on this machine (signal 0 only checks). */
function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface AzureHolderOptions {
  /** A holder whose heartbeat is older than this is dead (HOLDER_TTL_MS; default 10 s). */
  ttlMs?: number;
  clock?: Clock;
  host?: string;
  pid?: number;
  /** Told when a heartbeat could not be written (storage down): the next beat tries again. */
  onBeatError?: (error: unknown) => void;
}

/**
 * This process as a holder in Table storage. The heartbeat is an unref'd timer, so it never keeps
 * the process alive; a beat that fails (storage unreachable) is retried by the next one, and if
 * storage stays away longer than the ttl, other instances rightly treat this one as dead.
 */
export class AzureHolderRegistry implements HolderRegistry {
  readonly holderId: string;
  readonly ttlMs: number;
  private readonly clock: Clock;
  private readonly host: string;
  private readonly pid: number;
  private readonly startedAt: number;
  private readonly run: HeartbeatRun;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly account: AzureStorageAccount,
    private readonly options: AzureHolderOptions = {},
  ) {
    this.ttlMs = Math.max(300, options.ttlMs ?? 10_000);
    this.clock = options.clock ?? systemClock;
    this.host = options.host ?? os.hostname();
    this.pid = options.pid ?? process.pid;
    this.holderId = `${this.host}:${this.pid}:${randomUUID().slice(0, 8)}`;
    this.startedAt = this.clock.now().getTime();
    this.run = new HeartbeatRun(this.ttlMs / 3);
  }

  private table(): Promise<TableClient> {
    return this.account.table('Holders');
  }

  /** Registers this holder and keeps its heartbeat going until stop(). */
  async start(): Promise<void> {
    this.stopped = false;
    if (!this.timer) {
      this.timer = setInterval(() => {
        this.beat().catch((error: unknown) => this.options.onBeatError?.(error));
      }, Math.max(100, Math.floor(this.ttlMs / 3)));
      this.timer.unref();
    }
    await this.beat();
  }

  /** One heartbeat: 1 transaction (an upsert). */
  async beat(): Promise<void> {
    if (this.stopped) return;
    const table = await this.table();
    const entity: HolderEntity = { host: this.host, pid: this.pid, startedAt: this.startedAt, expiresAt: this.clock.now().getTime() + this.ttlMs };
    await table.upsertEntity({ partitionKey: HOLDER_PARTITION, rowKey: tableKey(this.holderId), ...entity }, 'Replace', {
      abortSignal: AbortSignal.timeout(Math.max(1000, Math.floor(this.ttlMs / 3))),
    });
    // Visible to others by now at the latest.
    if (!this.stopped) this.run.beat(this.clock.now().getTime(), entity.expiresAt);
  }

  unbrokenSince(): number | null {
    return this.run.unbrokenSince(this.clock.now().getTime());
  }

  /** Stops the heartbeat and removes the registration (everything this process held is free). Never rejects. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.run.end();
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    try {
      // Bounded: shutdown must not wait on a storage that is down (the heartbeat then runs out).
      const table = await this.table();
      await table.deleteEntity(HOLDER_PARTITION, tableKey(this.holderId), { abortSignal: AbortSignal.timeout(3000) });
    } catch (error) {
      // Gone already, or storage unreachable: the heartbeat then simply runs out.
      if (!isNotFound(error)) this.options.onBeatError?.(error);
    }
  }

  async isAlive(holderId: string): Promise<boolean> {
    if (holderId === this.holderId) return true;
    const row = await getOrNull<HolderEntity>(await this.table(), HOLDER_PARTITION, tableKey(holderId));
    if (!row) return false;
    if (row.expiresAt <= this.clock.now().getTime()) return false;
    // Same machine: a process that is gone is dead now, not when its heartbeat runs out.
    if (row.host === this.host && row.pid !== this.pid && !processRuns(row.pid)) return false;
    return true;
  }

  /** Removes registrations long dead (housekeeping, at start-up): one query of the holders' partition. */
  async prune(olderThanMs = 60 * 60_000): Promise<number> {
    const table = await this.table();
    const cutoff = this.clock.now().getTime() - olderThanMs;
    const dead = await listAll<HolderEntity>(table, odata`PartitionKey eq ${HOLDER_PARTITION} and expiresAt lt ${cutoff}`);
    let removed = 0;
    for (const row of dead) if (await deleteIfMatch(table, row.partitionKey as string, row.rowKey as string, row.etag)) removed += 1;
    return removed;
  }
}

/** Leases in Table storage: one entity per key, taken and changed only by ETag compare-and-set. */
export class AzureLeaseStore implements LeaseStore {
  private readonly clock: Clock;

  constructor(
    private readonly account: AzureStorageAccount,
    private readonly holders: Pick<HolderRegistry, 'isAlive'>,
    options: { clock?: Clock } = {},
  ) {
    this.clock = options.clock ?? systemClock;
  }

  private table(): Promise<TableClient> {
    return this.account.table('Leases');
  }

  private now(): number {
    return this.clock.now().getTime();
  }

  async acquire(key: string, holderId: string, ttlMs: number): Promise<boolean> {
    const table = await this.table();
    const pk = tableKey(key);
    const entity = (now: number): { partitionKey: string; rowKey: string } & LeaseEntity => ({
      partitionKey: pk,
      rowKey: LEASE_ROW,
      holderId,
      until: now + ttlMs,
      done: false,
      updatedAt: now,
    });
    // A free key (never taken, or released) is one insert; "already exists" means look closer.
    if (await insertIfAbsent(table, entity(this.now()))) return true;
    const row = await getOrNull<LeaseEntity>(table, pk, LEASE_ROW);
    if (!row) {
      // Released between the insert and the read: one more try, as a fresh insert.
      return insertIfAbsent(table, entity(this.now()));
    }
    if (row.done) return false;
    const now = this.now();
    if (row.until > now && (await this.holders.isAlive(row.holderId))) return false;
    // Past its time or its holder is dead: take it, unless someone else changed it since the read.
    return replaceIfMatch(table, entity(now), row.etag);
  }

  async renew(key: string, holderId: string, ttlMs: number): Promise<boolean> {
    const table = await this.table();
    const pk = tableKey(key);
    const row = await getOrNull<LeaseEntity>(table, pk, LEASE_ROW);
    if (!row || row.done || row.holderId !== holderId) return false;
    const now = this.now();
    return replaceIfMatch(table, { partitionKey: pk, rowKey: LEASE_ROW, holderId, until: now + ttlMs, done: false, updatedAt: now }, row.etag);
  }

  async release(key: string, holderId: string): Promise<void> {
    const table = await this.table();
    const pk = tableKey(key);
    const row = await getOrNull<LeaseEntity>(table, pk, LEASE_ROW);
    if (!row || row.done || row.holderId !== holderId) return;
    await deleteIfMatch(table, pk, LEASE_ROW, row.etag);
  }

  async complete(key: string, holderId: string): Promise<void> {
    const table = await this.table();
    const now = this.now();
    // Unconditional: once done, done for good, whoever held it (as the SQLite store does).
    await table.upsertEntity<LeaseEntity>({ partitionKey: tableKey(key), rowKey: LEASE_ROW, holderId, until: now, done: true, updatedAt: now }, 'Replace');
  }

  async isComplete(key: string): Promise<boolean> {
    const row = await getOrNull<LeaseEntity>(await this.table(), tableKey(key), LEASE_ROW);
    return row?.done === true;
  }
}
