/**
 * Durable scheduled work in Azure Table storage (the rules are in src/usecases/ports/scheduler.ts):
 * reminders, ends and sweeps shared by every instance, each due item acted on by one of them.
 *
 * Keys: table `<prefix>ScheduledWork`, PartitionKey `work|<bucket>` (32 buckets by the item's subject:
 * records.ts `bucketOf`), so that every write of an item is one atomic entity group transaction over
 * its three rows, which share the subject and so the bucket:
 * - RowKey `w|<tableKey(kind)>|<tableKey(subject)>`: the item (identity kind + subject). `get` is a
 *   point read; `schedule` creates it with create-if-absent (409: it exists), so of N concurrent
 *   schedules of one pair exactly one creates it.
 * - RowKey `d|<numberKey(dueAt ms)>|<tableKey(kind)>|<tableKey(subject)>|<numberKey(version)>`: the
 *   due index, a copy of the item, soonest first in key order. `claimDue` is the RowKey range
 *   `d|` … `d|<now + 1 ms>` in each bucket (32 queries in parallel, each a seek: only what is due
 *   is read, however much future work there is), merged here; `list` the same range up to
 *   `dueBefore`.
 * - RowKey `s|<tableKey(subject)>|<tableKey(kind)>`: the subject index, a copy of the item.
 *   `listBySubject` ("what is scheduled for jane@…") is one RowKey range `s|<subject>|`.
 *
 * Compare-and-set: the due row's key holds the item's version, and every write deletes the due row
 * of the version it read and creates the one of the next version, in the same transaction as the
 * item and subject rows. A write made from a stale read therefore finds its due row gone (404) and
 * the whole transaction is refused: of two claimers of one item exactly one succeeds, and a settle
 * after the item was rescheduled, cancelled or taken over changes nothing. (A delete in an entity
 * group transaction cannot carry If-Match, hence the version in the key; writes that replace the
 * item row after reading it also carry its ETag as If-Match:
 * https://learn.microsoft.com/rest/api/storageservices/performing-entity-group-transactions.)
 *
 * A claim held by a holder that is dead (its heartbeat in `<prefix>Holders` ran out: leases.ts) is
 * free at once, as in the SQLite adapter; a live holder's claim only when its time runs out.
 *
 * Buckets rather than one partition: a bulk job schedules three items per guest, and Azurite (the
 * tests' and the benchmark's storage) scans a partition on every point operation, so one partition
 * made each guest's scheduling slower than the last. Each bucket alone holds Table storage's ~2,000
 * operations per second per partition (https://learn.microsoft.com/azure/storage/tables/scalability-targets).
 * Items written by the earlier one-partition layout (`work`) are moved to their buckets on first use.
 *
 * Transactions: schedule 2 when new (read, create), 1 when it exists and is kept, 2 with replace;
 * scheduleNew 1 per bucket per 33 new items (2 more per item when one of them existed); get 1; listBySubject 1; list 32 (per 1,000 rows of a bucket); claimDue 32 queries (one per bucket) + 1 per item claimed + 1 per
 * distinct live-looking holder whose claim is checked; settle 2 (read, write); cancel 2.
 */
import { odata, type TableClient, type TransactionAction } from '@azure/data-tables';
import { systemClock, type Clock } from '../../domain/clock';
import type { HolderRegistry } from '../../usecases/ports/leases';
import {
  newScheduledWork,
  scheduleListLimit,
  validateScheduleBatch,
  validateScheduleInput,
  type ClaimOptions,
  type ScheduledWork,
  type ScheduledWorkRepository,
  type ScheduleInput,
  type ScheduleResult,
  type WorkSettlement,
} from '../../usecases/ports/scheduler';
import { compareWork } from '../memory/scheduledWork';
import type { AzureStorageAccount } from './account';
import { fromJsonProperties, getOrNull, isNotFound, jsonProperties, listAll, numberKey, tableKey } from './tables';
import { allBuckets, bucketOf, MAX_BATCH, onceUntilDone, prefixEnd, readPartitions, submitIfAll } from './records';

/** The partitions: `work|<bucket of the subject>`; before 2026-12 everything was in `work` (moved on first use). */
const PARTITIONS = 'work|';
const BUCKETS = 32;
const LEGACY_PARTITION = 'work';
const partitionOf = (subject: string): string => `${PARTITIONS}${bucketOf(subject, BUCKETS)}`;
const BUCKET_PARTITIONS = allBuckets(BUCKETS).map((b) => `${PARTITIONS}${b}`);
const DUE = 'd|';
/** Tries of a write that lost a race to another writer before giving up (each re-reads first). */
const WRITE_TRIES = 8;

type Entity = { partitionKey: string; rowKey: string } & Record<string, unknown>;

const itemKey = (kind: string, subject: string): string => `w|${tableKey(kind)}|${tableKey(subject)}`;
const subjectKey = (kind: string, subject: string): string => `s|${tableKey(subject)}|${tableKey(kind)}`;
/** Times before 1970 sort first (the key cannot hold a negative number). */
const dueMs = (iso: string): number => Math.max(0, Date.parse(iso));
const dueKey = (work: ScheduledWork): string =>
  `${DUE}${numberKey(dueMs(work.dueAt))}|${tableKey(work.kind)}|${tableKey(work.subject)}|${numberKey(work.version, 12)}`;

function rows(work: ScheduledWork, partitionKey = partitionOf(work.subject)): { item: Entity; due: Entity; subject: Entity } {
  const fields = { kind: work.kind, subject: work.subject, version: work.version, ...jsonProperties(work) };
  return {
    item: { partitionKey, rowKey: itemKey(work.kind, work.subject), ...fields },
    due: { partitionKey, rowKey: dueKey(work), ...fields },
    subject: { partitionKey, rowKey: subjectKey(work.kind, work.subject), ...fields },
  };
}

/** The actions that move an item from `from` (as read, with the item row's ETag if known) to `to`. */
function moveActions(from: ScheduledWork, to: ScheduledWork, etag: string | null): TransactionAction[] {
  const next = rows(to);
  return [
    ['delete', { partitionKey: partitionOf(from.subject), rowKey: dueKey(from) }],
    ['create', next.due],
    etag ? ['update', next.item, 'Replace', { etag }] : ['upsert', next.item, 'Replace'],
    ['upsert', next.subject, 'Replace'],
  ];
}

/** The actions that remove an item last read as `from` (refused if it changed since). */
function removeActions(from: ScheduledWork, partitionKey = partitionOf(from.subject)): TransactionAction[] {
  return [
    ['delete', { partitionKey, rowKey: dueKey(from) }],
    ['delete', { partitionKey, rowKey: itemKey(from.kind, from.subject) }],
    ['delete', { partitionKey, rowKey: subjectKey(from.kind, from.subject) }],
  ];
}

const toWork = (row: Record<string, unknown>): ScheduledWork => fromJsonProperties<ScheduledWork>(row);

export class AzureScheduledWorkRepository implements ScheduledWorkRepository {
  private readonly clock: Clock;

  constructor(
    private readonly account: AzureStorageAccount,
    private readonly holders: Pick<HolderRegistry, 'isAlive'>,
    options: { clock?: Clock } = {},
  ) {
    this.clock = options.clock ?? systemClock;
  }

  /** Moves items of the one-partition layout once per process (see moveLegacy) before the table is used. */
  private readonly legacyMoved = onceUntilDone(async () => this.moveLegacy(await this.account.table('ScheduledWork')));

  private async table(): Promise<TableClient> {
    const table = await this.account.table('ScheduledWork');
    await this.legacyMoved();
    return table;
  }

  /**
   * Items written by a version that kept everything in one partition (`work`) are moved, once, to
   * their buckets (one query per process start finds none afterwards): each item's three rows are
   * created in its bucket (kept if there already) and then deleted from the old partition. Stop
   * instances of the old version before starting this one: an old instance still writing to `work`
   * would write where nobody reads.
   */
  private async moveLegacy(table: TableClient): Promise<void> {
    const items = await listAll<Record<string, unknown>>(
      table,
      odata`PartitionKey eq ${LEGACY_PARTITION} and RowKey ge ${'w|'} and RowKey lt ${prefixEnd('w|')}`,
    );
    for (const row of items) {
      const work = toWork(row);
      const moved = rows(work);
      if (!(await submitIfAll(table, [['create', moved.item], ['create', moved.due], ['upsert', moved.subject, 'Replace']]))) {
        if (!(await getOrNull(table, moved.item.partitionKey, moved.item.rowKey))) throw new Error('scheduled work: an item could not be moved to its bucket');
      }
      for (const [, entity] of removeActions(work, LEGACY_PARTITION) as Array<['delete', { partitionKey: string; rowKey: string }]>) {
        await table.deleteEntity(entity.partitionKey, entity.rowKey).catch((e: unknown) => {
          if (!isNotFound(e)) throw e;
        });
      }
    }
  }

  private nowIso(): string {
    return this.clock.now().toISOString();
  }

  private async read(kind: string, subject: string): Promise<{ work: ScheduledWork; etag: string } | null> {
    const row = await getOrNull<Record<string, unknown>>(await this.table(), partitionOf(subject), itemKey(kind, subject));
    return row ? { work: toWork(row), etag: row.etag } : null;
  }

  async schedule(input: ScheduleInput, options: { replace?: boolean } = {}): Promise<ScheduleResult> {
    validateScheduleInput(input);
    const table = await this.table();
    const dueAt = new Date(input.dueAt).toISOString();
    const payload = structuredClone(input.payload ?? {});
    for (let attempt = 0; attempt < WRITE_TRIES; attempt++) {
      const existing = await this.read(input.kind, input.subject);
      const now = this.nowIso();
      if (existing && !options.replace) return { work: existing.work, created: false };
      if (existing) {
        const moved: ScheduledWork = {
          ...existing.work,
          dueAt,
          payload,
          attempts: 0,
          lastError: null,
          updatedAt: now,
          version: existing.work.version + 1,
        };
        if (await submitIfAll(table, moveActions(existing.work, moved, existing.etag))) return { work: moved, created: true };
        continue; // changed meanwhile: read again
      }
      const work: ScheduledWork = newScheduledWork(input, dueAt, payload, now);
      const fresh = rows(work);
      // The item row's create is refused (409) when another schedule of the pair came first.
      if (await submitIfAll(table, [['create', fresh.item], ['create', fresh.due], ['upsert', fresh.subject, 'Replace']])) return { work, created: true };
    }
    throw new Error('scheduled work: could not write the item (it kept changing)');
  }

  /**
   * Creates every item in one entity group transaction per 33 items (three rows each; Table
   * storage takes at most 100 operations in one): 1 transaction for a new guest access's work
   * instead of a read and a create per item. When an item's row exists (409) the transaction
   * writes nothing, and the items of that chunk are scheduled one by one (kept where they exist).
   */
  async scheduleNew(inputs: readonly ScheduleInput[]): Promise<ScheduleResult[]> {
    validateScheduleBatch(inputs);
    const table = await this.table();
    const out: ScheduleResult[] = new Array<ScheduleResult>(inputs.length);
    const perChunk = Math.floor(MAX_BATCH / 3);
    // One transaction holds one partition: the items of one bucket go together (a guest's items share one).
    const byBucket = new Map<string, number[]>();
    inputs.forEach((input, i) => {
      const key = partitionOf(input.subject);
      byBucket.set(key, [...(byBucket.get(key) ?? []), i]);
    });
    const chunks = [...byBucket.values()].flatMap((group) =>
      Array.from({ length: Math.ceil(group.length / perChunk) }, (_, i) => group.slice(i * perChunk, (i + 1) * perChunk)),
    );
    for (const chunk of chunks) {
      const now = this.nowIso();
      const made = chunk.map((i) => {
        const input = inputs[i] as ScheduleInput;
        return newScheduledWork(input, new Date(input.dueAt).toISOString(), structuredClone(input.payload ?? {}), now);
      });
      // Every row is new: a subject row never outlives its item (they are removed together). An
      // inconsistency would refuse the transaction and send the chunk through schedule(), which upserts.
      const actions: TransactionAction[] = made.flatMap((work) => {
        const r = rows(work);
        return [['create', r.item], ['create', r.due], ['create', r.subject]] as TransactionAction[];
      });
      if (await submitIfAll(table, actions)) {
        made.forEach((work, j) => (out[chunk[j] as number] = { work, created: true }));
        continue;
      }
      for (const i of chunk) out[i] = await this.schedule(inputs[i] as ScheduleInput);
    }
    return out;
  }

  /**
   * Migration only (the SQLite-to-Azure tool; not a port method): writes an item of another store
   * as it is (due time, payload, attempts, version), without its claim (the other store's holders
   * do not exist here). Create-if-absent by kind + subject: false when the pair exists already.
   */
  async importWork(source: ScheduledWork): Promise<boolean> {
    const work: ScheduledWork = { ...structuredClone(source), dueAt: new Date(source.dueAt).toISOString(), claimedBy: null, claimedUntil: null };
    const r = rows(work);
    const table = await this.table();
    if (await submitIfAll(table, [['create', r.item], ['create', r.due], ['upsert', r.subject, 'Replace']])) return true;
    if (await this.read(work.kind, work.subject)) return false;
    throw new Error('scheduled work import: refused, and the item is not there; run it again');
  }

  async get(kind: string, subject: string): Promise<ScheduledWork | null> {
    return (await this.read(kind, subject))?.work ?? null;
  }

  async listBySubject(subject: string): Promise<ScheduledWork[]> {
    const prefix = `s|${tableKey(subject)}|`;
    const found = await listAll<Record<string, unknown>>(
      await this.table(),
      odata`PartitionKey eq ${partitionOf(subject)} and RowKey ge ${prefix} and RowKey lt ${prefixEnd(prefix)}`,
    );
    return found.map(toWork).sort(compareWork);
  }

  async list(options: { limit?: number; dueBefore?: string } = {}): Promise<ScheduledWork[]> {
    const limit = scheduleListLimit(options.limit);
    const upper = options.dueBefore === undefined ? prefixEnd(DUE) : `${DUE}${numberKey(dueMs(options.dueBefore))}`;
    return this.dueRows(upper, limit, () => true);
  }

  /**
   * Due rows below `upper`, soonest first, at most `limit` accepted by `accept`: each bucket's due
   * index read in key order up to its own `limit` (and the rows due at the same time as its last,
   * so ties are ordered by kind and subject exactly as the other adapters order them), then merged.
   */
  private async dueRows(
    upper: string,
    limit: number,
    accept: (work: ScheduledWork) => boolean | Promise<boolean>,
  ): Promise<ScheduledWork[]> {
    const table = await this.table();
    const found: ScheduledWork[] = [];
    await readPartitions<Record<string, unknown>>(table, BUCKET_PARTITIONS, odata`RowKey ge ${DUE} and RowKey lt ${upper}`, () => {
      let taken = 0;
      let lastDue: string | null = null;
      return async (row) => {
        const work = toWork(row);
        if (taken >= limit && work.dueAt !== lastDue) return false;
        if (await accept(work)) {
          found.push(work);
          taken++;
          lastDue = work.dueAt;
        }
        return true;
      };
    });
    return found.sort(compareWork).slice(0, limit);
  }

  async claimDue(holderId: string, options: ClaimOptions): Promise<ScheduledWork[]> {
    const limit = Math.max(0, Math.trunc(options.limit));
    if (limit === 0) return [];
    const nowMs = this.clock.now().getTime();
    const alive = new Map<string, Promise<boolean>>();
    const isAlive = (id: string): Promise<boolean> => {
      let known = alive.get(id);
      if (!known) {
        known = this.holders.isAlive(id);
        alive.set(id, known);
      }
      return known;
    };
    const free = async (work: ScheduledWork): Promise<boolean> => {
      if (work.claimedBy === null || work.claimedUntil === null) return true;
      if (Date.parse(work.claimedUntil) <= nowMs) return true;
      return !(await isAlive(work.claimedBy));
    };
    // Candidates: due now and free; a few more than the limit, as some may be taken by another claimer first.
    const candidates = await this.dueRows(`${DUE}${numberKey(nowMs + 1)}`, limit * 2, free);
    const table = await this.table();
    const claimed: ScheduledWork[] = [];
    for (const work of candidates) {
      if (claimed.length >= limit) break;
      const next: ScheduledWork = {
        ...work,
        claimedBy: holderId,
        claimedUntil: new Date(nowMs + options.leaseMs).toISOString(),
        updatedAt: new Date(nowMs).toISOString(),
        version: work.version + 1,
      };
      // Refused (its due row of this version is gone) when another claimer or writer came first.
      if (await submitIfAll(table, moveActions(work, next, null))) claimed.push(next);
    }
    return claimed;
  }

  async settle(kind: string, subject: string, holderId: string, version: number, settlement: WorkSettlement): Promise<boolean> {
    const table = await this.table();
    for (let attempt = 0; attempt < WRITE_TRIES; attempt++) {
      const current = await this.read(kind, subject);
      if (!current || current.work.claimedBy !== holderId) return false;
      const row = current.work;
      const now = this.nowIso();
      const base: ScheduledWork = { ...row, claimedBy: null, claimedUntil: null, updatedAt: now, version: row.version + 1 };
      if (row.version !== version) {
        // Rescheduled while this holder ran it: keep the new due time, drop only this holder's claim.
        if (await submitIfAll(table, moveActions(row, base, current.etag))) return false;
        continue;
      }
      let actions: TransactionAction[];
      if (settlement.outcome === 'done') actions = removeActions(row);
      else if (settlement.outcome === 'reschedule') {
        actions = moveActions(
          row,
          {
            ...base,
            dueAt: new Date(settlement.dueAt).toISOString(),
            payload: structuredClone(settlement.payload ?? row.payload),
            attempts: 0,
            lastError: null,
          },
          current.etag,
        );
      } else {
        actions = moveActions(row, { ...base, dueAt: new Date(settlement.dueAt).toISOString(), attempts: row.attempts + 1, lastError: settlement.error }, current.etag);
      }
      if (await submitIfAll(table, actions)) return true;
      // Changed between the read and the write: read again (a newer version then drops only the claim).
    }
    return false;
  }

  async cancel(kind: string, subject: string): Promise<boolean> {
    const table = await this.table();
    for (let attempt = 0; attempt < WRITE_TRIES; attempt++) {
      const current = await this.read(kind, subject);
      if (!current) return false;
      if (await submitIfAll(table, removeActions(current.work))) return true;
    }
    throw new Error('scheduled work: could not cancel the item (it kept changing)');
  }
}
