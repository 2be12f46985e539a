/**
 * What the Table storage record repositories (invitations, approvals, reset requests, bulk jobs)
 * share beyond tables.ts: entity group transactions that report a lost race as `false`, ordered
 * numeric ids without a central counter, descending key parts for newest-first ranges, a small
 * ETag cache, and audit events written at most once when an outbox is replayed.
 *
 * Entity group transactions (https://learn.microsoft.com/rest/api/storageservices/performing-entity-group-transactions):
 * at most 100 operations, one partition of one table, all or nothing; the response carries each
 * entity's new ETag.
 */
import { odata, type TableClient, type TableEntityResult, type TransactionAction } from '@azure/data-tables';
import type { AuditEventInput, AuditLog } from '../../usecases/ports/auditLog';
import type { Clock } from '../../domain/clock';
import { getOrNull, isConflict, isNotFound, isPreconditionFailed } from './tables';

/** The largest entity group transaction Table storage accepts. */
export const MAX_BATCH = 100;

/**
 * Submits the actions as one entity group transaction. Returns the new ETag of each action's
 * entity, in the order of the actions ('' for a delete), or null when the transaction was refused
 * because an entity existed (409), had changed (412) or was missing (404): nothing was written then.
 */
export async function submitIfAll(table: TableClient, actions: TransactionAction[]): Promise<string[] | null> {
  if (actions.length === 0) return [];
  try {
    const response = await table.submitTransaction(actions);
    // The sub-responses come in the order of the requests (the batch protocol's changeset order).
    return actions.map((_, i) => response.subResponses[i]?.etag ?? '');
  } catch (e) {
    if (isConflict(e) || isPreconditionFailed(e) || isNotFound(e)) return null;
    throw e;
  }
}

/**
 * Increasing numbers for ids that must be numbers and keep the order they were made in (notice
 * and delivery ids): the wall clock in microseconds, bumped past the last one this process made.
 * Two processes may make the same number in the same millisecond; callers insert with
 * create-if-absent and take the next number when it was taken (`nextAfter`).
 */
export class OrderedIds {
  private last = 0;

  next(): number {
    const candidate = Date.now() * 1000 + Math.floor(Math.random() * 100);
    this.last = Math.max(candidate, this.last + 1);
    return this.last;
  }
}

/** One sequence per process: every repository here orders its inserts by it. */
export const orderedIds = new OrderedIds();

const DESC_BASE = 8_999_999_999_999_999;

/** A key part that sorts newest first: the larger n, the smaller the key (0 ≤ n ≤ 8.99e15). */
export function descKey(n: number): string {
  return String(DESC_BASE - n).padStart(16, '0');
}

/** The first key after every key starting with `prefix` (prefix ranges: ge prefix and lt upper). */
export function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

/**
 * The bucket of a partition spread over `buckets` partitions (`00`…, two hex digits, at most 256):
 * FNV-1a of the value, so every instance puts one value in the same bucket.
 *
 * Why spread a partition: Table storage finds an entity by PartitionKey and RowKey through its
 * index whatever a partition's size, but Azurite (the emulator every test and the benchmark use)
 * scans the whole partition on every point read and write, so a partition that grows with a bulk
 * job makes each row's writes slower than the last. A few buckets keep every partition small; the
 * price is one query over a PartitionKey range where a single partition was read.
 */
export function bucketOf(value: string, buckets: number): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < value.length; i++) {
    hash ^= value.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return ((hash >>> 0) % buckets).toString(16).padStart(2, '0');
}

/** Every bucket `bucketOf` can give for `buckets`, in key order. */
export function allBuckets(buckets: number): string[] {
  return Array.from({ length: buckets }, (_, i) => i.toString(16).padStart(2, '0'));
}

/**
 * Reads `filter` in each of `partitions` (one query each, in parallel, each in its partition's key
 * order), handing every row to the visitor made for its partition until that visitor answers
 * false. One query per partition rather than one over a PartitionKey range: with `PartitionKey eq`
 * Table storage seeks to the RowKey range; over a PartitionKey range it reads every row in it.
 */
export async function readPartitions<T extends object>(
  table: TableClient,
  partitions: readonly string[],
  filter: string,
  visitor: (partition: string) => (row: TableEntityResult<T>) => boolean | Promise<boolean>,
): Promise<void> {
  await Promise.all(
    partitions.map(async (partition) => {
      const visit = visitor(partition);
      const query = odata`PartitionKey eq ${partition}` + (filter ? ` and ${filter}` : '');
      for await (const row of table.listEntities<T>({ queryOptions: { filter: query } })) {
        if (!(await visit(row))) break;
      }
    }),
  );
}

/**
 * `work` run at most once per process while it succeeds: every caller awaits the same run, and a
 * failed run is forgotten so that the next call tries again (storage may be back by then).
 */
export function onceUntilDone(work: () => Promise<void>): () => Promise<void> {
  let run: Promise<void> | null = null;
  return () => {
    if (!run) {
      run = work();
      run.catch(() => (run = null));
    }
    return run;
  };
}

/** Where a table notes that the rows of its earlier layout were moved. */
const LAYOUT_NOTE = { partitionKey: 'layout', rowKey: 'bucketed' } as const;

/** True when `partitionKey` is the one the layout note lives in (a move skips it). */
export const isLayoutNote = (partitionKey: string): boolean => partitionKey === LAYOUT_NOTE.partitionKey;

/**
 * Moves a table's rows from an earlier layout once for all processes: nothing when the table's
 * note says the move was done (one point read per process start), else `move` and then the note.
 * A move stopped half-way runs again from the start, so `move` must be idempotent.
 */
export async function moveLayoutOnce(table: TableClient, move: () => Promise<void>, clock: Clock): Promise<void> {
  if (await getOrNull(table, LAYOUT_NOTE.partitionKey, LAYOUT_NOTE.rowKey)) return;
  await move();
  await table.upsertEntity({ ...LAYOUT_NOTE, at: clock.now().toISOString() }, 'Replace');
}

/** A bounded map that forgets its oldest entries (ETags and key → id lookups seen by this process). */
export class BoundedCache<K, V> {
  private readonly map = new Map<K, V>();
  constructor(private readonly capacity = 5000) {}

  get(key: K): V | undefined {
    return this.map.get(key);
  }

  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.capacity) {
      const oldest = this.map.keys().next();
      if (!oldest.done) this.map.delete(oldest.value);
    }
  }

  delete(key: K): void {
    this.map.delete(key);
  }
}

/**
 * Appends an audit event kept in an outbox. On the first attempt (the writer that committed the
 * outbox) it simply appends. On a replay (the writer may have appended before it stopped) it
 * appends only if the log has no event with the same action, subject, actor and details, so a
 * replay never writes it twice.
 */
export async function appendAuditOnce(audit: AuditLog, event: AuditEventInput, replay: boolean): Promise<void> {
  if (replay) {
    const existing = await audit.list({ subjectType: event.subjectType, subjectId: event.subjectId, action: event.action, limit: 1000 });
    const details = JSON.stringify(event.details ?? {});
    if (existing.some((e) => e.actorId === event.actorId && JSON.stringify(e.details ?? {}) === details)) return;
  }
  await audit.append(event);
}

/** How long an outbox may stay on a record before another process completes it (its writer stopped). */
export const OUTBOX_GRACE_MS = 30_000;

/** `work` over `items` with at most `limit` in flight, results in the order of the items. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await work(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Point reads in flight at once when a list resolves its candidates. */
export const READ_PARALLELISM = 16;
