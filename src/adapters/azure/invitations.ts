/**
 * Invitation records in Azure Table storage: the idempotency anchor of every invitation, shared by
 * every instance.
 *
 * Keys (two tables):
 *
 * - `<prefix>Invitations`: PartitionKey = tableKey(id), RowKey = 'r': the record (its JSON, split
 *   by jsonProperties) plus `state`, `createdAt`, `seq` for filters. `get` and `update` are point
 *   operations; `update` is a Replace with the ETag read (compare-and-set: every write bumps the
 *   version, so "ETag changed" means "version changed").
 * - `<prefix>InvitationKeys`: PartitionKey = `tableKey(tenantId)|<bucket of the address>` (16
 *   buckets, records.ts `bucketOf`, so a tenant's partitions stay small however many are invited;
 *   rows of the earlier one-partition-per-tenant layout are moved on first use, before any claim,
 *   and row `layout`/`bucketed` notes it), with two kinds of rows:
 *   - `k|<email>|<group>` (tableKey parts): the idempotency key. Holds the id, createdAt, seq and
 *     the record as first written (version 1). Created with create-if-absent: of N concurrent
 *     claims exactly one insert succeeds (409 for the others), so there is one record per key.
 *     `findByKey` reads it; `listByEmail` is a RowKey range `k|<email>|` within the partition.
 *   - `r|<requester>|<desc createdAt>|<desc seq>`: the requester index, immutable (requester and
 *     createdAt never change), in newest-first key order, in the bucket of the key row it names.
 *     `listByRequester` is that RowKey range in each bucket (a query each, up to the limit), merged.
 *   The two rows of a claim go in one entity group transaction (same partition): atomic.
 *
 * `importRecord` (the SQLite-to-Azure migration only) writes the same two rows for a record of
 * another store, its key row holding the record as imported instead of version 1, then its
 * record row.
 *
 * A claim is: that transaction, then the record row (create-if-absent). A process that stops
 * between the two leaves a key without a record; whoever reads the key next (a second claim,
 * findByKey, a list) writes the record from the key row's version-1 copy (create-if-absent, so
 * it is written once), so nothing is lost and nothing is written twice.
 *
 * `listByState` filters the records table on `state` across partitions (a scan): no use case
 * calls it on a turn or per row; operators and tools do.
 *
 * Transactions: a new claim 2, a repeated claim 3 (refused insert, key row, record), an update 1
 * when this process returned the version it updates (the ETag is cached), else 2; get 1;
 * findByKey 1 when this process has seen the key (key → id is immutable and cached), else 2.
 */
import { randomUUID } from 'node:crypto';
import { odata, type TableClient, type TableEntityResult } from '@azure/data-tables';
import { systemClock, type Clock } from '../../domain/clock';
import {
  normaliseEmailForKey,
  type ClaimResult,
  type InvitationDraft,
  type InvitationKey,
  type InvitationListOptions,
  type InvitationPatch,
  type InvitationRecord,
  type InvitationRepository,
  type InvitationState,
  newInvitationRecord,
} from '../../usecases/ports/invitations';
import type { AzureStorageAccount } from './account';
import { fromJsonProperties, fromTableKey, getOrNull, isConflict, isNotFound, isPreconditionFailed, jsonProperties, listAll, tableKey } from './tables';
import { allBuckets, BoundedCache, bucketOf, descKey, isLayoutNote, mapLimit, moveLayoutOnce, onceUntilDone, orderedIds, prefixEnd, readPartitions, READ_PARALLELISM, submitIfAll } from './records';

const DEFAULT_LIMIT = 50;
const RECORD_ROW = 'r';

const PATCHABLE = new Set<keyof InvitationPatch>([
  'displayName',
  'emailDisplay',
  'siteName',
  'siteUrl',
  'conversationRefKey',
  'predictedMethod',
  'actualMethod',
  'state',
  'outcomeKind',
  'invitationId',
  'redeemUrl',
  'userId',
  'lastError',
  'attempts',
  'lockedUntil',
  'lockedBy',
  'inviteAttemptedAt',
]);

interface Stored {
  record: InvitationRecord;
  etag: string;
  /** Insert order (the tie-break of equal createdAt in lists), kept on the row. */
  seq: number;
}

const keyRowKey = (email: string, groupId: string): string => `k|${tableKey(email)}|${tableKey(groupId)}`;
const KEY_BUCKETS = 16;
/** A tenant's key rows are spread over buckets by address: `<tenant>|<bucket of the address>`. */
const keyPartition = (tenantId: string, emailNormalised: string): string => `${tableKey(tenantId)}|${bucketOf(emailNormalised, KEY_BUCKETS)}`;
const tenantKeyPartitions = (tenantId: string): string[] => allBuckets(KEY_BUCKETS).map((b) => `${tableKey(tenantId)}|${b}`);
const copy = (r: InvitationRecord): InvitationRecord => ({ ...r, requestedBy: { ...r.requestedBy } });

export interface AzureInvitationDeps {
  clock?: Clock;
  newId?: () => string;
}

export class AzureInvitationRepository implements InvitationRepository {
  private readonly clock: Clock;
  private readonly newId: () => string;
  /** The ETag of the last version of a record this process read or wrote: an update of it is one request. */
  private readonly latest = new BoundedCache<string, Stored>();
  /** Idempotency key → id (never changes once written). */
  private readonly ids = new BoundedCache<string, string>();

  constructor(
    private readonly account: AzureStorageAccount,
    deps: AzureInvitationDeps = {},
  ) {
    this.clock = deps.clock ?? systemClock;
    this.newId = deps.newId ?? randomUUID;
  }

  private records(): Promise<TableClient> {
    return this.account.table('Invitations');
  }

  /** Moves the earlier layout once per process (see moveLegacy) before any key is read or claimed. */
  private readonly layoutChecked = onceUntilDone(async () => {
    const table = await this.account.table('InvitationKeys');
    await moveLayoutOnce(table, () => this.moveLegacy(table), this.clock);
  });

  private async keys(): Promise<TableClient> {
    const table = await this.account.table('InvitationKeys');
    await this.layoutChecked();
    return table;
  }

  /**
   * Rows of the earlier layout (a tenant's key and requester rows in one partition, `<tenant>`) are
   * moved once to their address's bucket: copied (kept if there already), then deleted where they
   * were; the table's layout note then says it is done, so later starts read one entity. Until the
   * move is done no claim is made (keys() waits for it), so an address invited before the upgrade
   * is never invited again. Stop instances of the earlier version before starting this one.
   */
  private async moveLegacy(table: TableClient): Promise<void> {
    for await (const row of table.listEntities<Record<string, unknown>>()) {
      const partition = String(row.partitionKey);
      if (partition.includes('|') || isLayoutNote(partition)) continue; // already in a bucket
      const rowKey = String(row.rowKey);
      // k|<email>|<group> names its address; an r| row names its key row.
      const keyRow = rowKey.startsWith('k|') ? rowKey : String(row['keyRow'] ?? '');
      const email = fromTableKey(keyRow.split('|')[1] ?? '');
      const { etag: _etag, timestamp: _timestamp, partitionKey: _partition, rowKey: _row, ...fields } = row;
      await createIfAbsent(table, { partitionKey: keyPartition(fromTableKey(partition), email), rowKey, ...fields });
      await table.deleteEntity(partition, rowKey).catch((e: unknown) => {
        if (!isNotFound(e)) throw e;
      });
    }
  }

  async claim(draft: InvitationDraft): Promise<ClaimResult> {
    const emailNormalised = normaliseEmailForKey(draft.emailNormalised);
    const partitionKey = keyPartition(draft.tenantId, emailNormalised);
    const rowKey = keyRowKey(emailNormalised, draft.groupId);
    const keys = await this.keys();
    for (let attempt = 0; attempt < 5; attempt++) {
      const now = this.clock.now();
      const seq = orderedIds.next();
      const record = newInvitationRecord(this.newId(), draft, emailNormalised, now.toISOString());
      const written = await submitIfAll(keys, [
        ['create', { partitionKey, rowKey, id: record.id, createdAt: record.createdAt, seq, ...jsonProperties(record) }],
        [
          'create',
          {
            partitionKey,
            rowKey: `r|${tableKey(record.requestedBy.id)}|${descKey(now.getTime())}|${descKey(seq)}`,
            id: record.id,
            keyRow: rowKey,
            createdAt: record.createdAt,
          },
        ],
      ]);
      if (written) {
        this.ids.set(partitionKey + rowKey, record.id);
        return { record: await this.materialise(record, seq, true), created: true };
      }
      const existing = await getOrNull<Record<string, unknown>>(keys, partitionKey, rowKey);
      if (existing) return { record: await this.fromKeyRow(existing), created: false };
      // Refused for the requester index row alone (another process, same instant): try again.
    }
    throw new Error('invitation claim: could not write the key (five collisions in a row)');
  }

  /**
   * Migration only (the SQLite-to-Azure tool; not a port method): writes a record from another
   * store as it is, keeping its id, state and version, with its key row and requester index row.
   * Insert-if-absent by key: false (nothing written) when the key is taken already.
   */
  async importRecord(source: InvitationRecord): Promise<boolean> {
    const record = copy(source);
    const partitionKey = keyPartition(record.tenantId, normaliseEmailForKey(record.emailNormalised));
    const rowKey = keyRowKey(normaliseEmailForKey(record.emailNormalised), record.groupId);
    const keys = await this.keys();
    const seq = orderedIds.next();
    const written = await submitIfAll(keys, [
      // The key row's copy is the record as it is now: a reader that finds the record row missing
      // (this process stopped in between) writes this one, so it is never lost.
      ['create', { partitionKey, rowKey, id: record.id, createdAt: record.createdAt, seq, ...jsonProperties(record) }],
      [
        'create',
        {
          partitionKey,
          rowKey: `r|${tableKey(record.requestedBy.id)}|${descKey(Date.parse(record.createdAt))}|${descKey(seq)}`,
          id: record.id,
          keyRow: rowKey,
          createdAt: record.createdAt,
        },
      ],
    ]);
    if (!written) {
      if (await getOrNull(keys, partitionKey, rowKey)) return false;
      throw new Error(`invitation import: the requester index of ${record.id} collided; run it again`);
    }
    await createIfAbsent(await this.records(), this.entity(record, seq));
    this.ids.set(partitionKey + rowKey, record.id);
    return true;
  }

  /** The record row of a key row, written from the key row's version-1 copy if it is missing. */
  private async fromKeyRow(row: Record<string, unknown>): Promise<InvitationRecord> {
    const first = fromJsonProperties<InvitationRecord>(row);
    this.ids.set(String(row['partitionKey']) + String(row['rowKey']), first.id);
    return this.materialise(first, Number(row['seq']));
  }

  /**
   * The record of a key, written from its version-1 copy when missing. `fresh`: this process just
   * wrote the key, so the record is (almost always) not there yet: insert without reading first.
   */
  private async materialise(first: InvitationRecord, seq: number, fresh = false): Promise<InvitationRecord> {
    if (!fresh) {
      const existing = await this.read(first.id);
      if (existing) return existing;
    }
    const table = await this.records();
    const created = await createIfAbsent(table, this.entity(first, seq));
    if (created !== null) {
      if (created) this.latest.set(first.id, { record: copy(first), etag: created, seq });
      return copy(first);
    }
    const now = await this.read(first.id);
    if (!now) throw new Error('invitation claim: record vanished after insert');
    return now;
  }

  private entity(record: InvitationRecord, seq: number): { partitionKey: string; rowKey: string } & Record<string, unknown> {
    return {
      partitionKey: tableKey(record.id),
      rowKey: RECORD_ROW,
      state: record.state,
      createdAt: record.createdAt,
      seq,
      ...jsonProperties(record),
    };
  }

  private async read(id: string): Promise<InvitationRecord | null> {
    const row = await getOrNull<Record<string, unknown>>(await this.records(), tableKey(id), RECORD_ROW);
    if (!row) return null;
    const record = fromJsonProperties<InvitationRecord>(row);
    this.latest.set(id, { record: copy(record), etag: row.etag, seq: Number(row['seq'] ?? 0) });
    return record;
  }

  async update(id: string, expectedVersion: number, patch: InvitationPatch): Promise<InvitationRecord | null> {
    let current = this.latest.get(id);
    if (!current || current.record.version !== expectedVersion) {
      const record = await this.read(id);
      if (!record || record.version !== expectedVersion) return null;
      current = this.latest.get(id);
      if (!current) return null;
    }
    const next: InvitationRecord = copy(current.record);
    for (const [field, value] of Object.entries(patch) as Array<[keyof InvitationPatch, unknown]>) {
      if (!PATCHABLE.has(field)) continue;
      (next as unknown as Record<string, unknown>)[field] = value === undefined ? null : value;
    }
    next.updatedAt = this.clock.now().toISOString();
    next.version = expectedVersion + 1;
    const table = await this.records();
    const seq = current.seq;
    try {
      const response = await table.updateEntity(this.entity(next, seq), 'Replace', { etag: current.etag });
      if (response.etag) this.latest.set(id, { record: copy(next), etag: response.etag, seq });
      else this.latest.delete(id);
      return copy(next);
    } catch (e) {
      this.latest.delete(id);
      // The ETag changed (someone else wrote a newer version) or the record is gone: a lost race.
      if (isPreconditionFailed(e) || isNotFound(e)) return null;
      throw e;
    }
  }

  async get(id: string): Promise<InvitationRecord | null> {
    return this.read(id);
  }

  async findByKey(key: InvitationKey): Promise<InvitationRecord | null> {
    const partitionKey = keyPartition(key.tenantId, normaliseEmailForKey(key.emailNormalised));
    const rowKey = keyRowKey(normaliseEmailForKey(key.emailNormalised), key.groupId);
    const id = this.ids.get(partitionKey + rowKey);
    if (id) {
      const record = await this.read(id);
      if (record) return record;
    }
    const row = await getOrNull<Record<string, unknown>>(await this.keys(), partitionKey, rowKey);
    return row ? this.fromKeyRow(row) : null;
  }

  async listByRequester(tenantId: string, requesterId: string, options: InvitationListOptions = {}): Promise<InvitationRecord[]> {
    const limit = options.limit ?? DEFAULT_LIMIT;
    if (limit === 0) return [];
    const prefix = `r|${tableKey(requesterId)}|`;
    let filter = odata`RowKey ge ${prefix} and RowKey lt ${prefixEnd(prefix)}`;
    if (options.since) filter += ` and ${odata`createdAt ge ${options.since}`}`;
    const rows: Array<{ partitionKey: string; rowKey: string; keyRow: string }> = [];
    // Each bucket's requester index is newest first: read each up to the limit, then merge.
    await readPartitions<{ keyRow: string }>(await this.keys(), tenantKeyPartitions(tenantId), filter, () => {
      let taken = 0;
      return (row) => {
        rows.push({ partitionKey: String(row.partitionKey), rowKey: String(row.rowKey), keyRow: row.keyRow });
        taken++;
        return limit < 0 || taken < limit;
      };
    });
    rows.sort((a, b) => (a.rowKey < b.rowKey ? -1 : a.rowKey > b.rowKey ? 1 : 0));
    const chosen = limit < 0 ? rows : rows.slice(0, limit);
    return this.resolve(chosen.map((r) => ({ partitionKey: r.partitionKey, rowKey: r.keyRow })));
  }

  async listByEmail(tenantId: string, emailNormalised: string, options: InvitationListOptions = {}): Promise<InvitationRecord[]> {
    const email = normaliseEmailForKey(emailNormalised);
    const prefix = `k|${tableKey(email)}|`;
    let filter = odata`PartitionKey eq ${keyPartition(tenantId, email)} and RowKey ge ${prefix} and RowKey lt ${prefixEnd(prefix)}`;
    if (options.since) filter += ` and ${odata`createdAt ge ${options.since}`}`;
    const rows = await listAll<Record<string, unknown>>(await this.keys(), filter);
    rows.sort(newestFirst);
    const limit = options.limit ?? DEFAULT_LIMIT;
    const chosen = limit < 0 ? rows : rows.slice(0, limit);
    return mapLimit(chosen, READ_PARALLELISM, (row) => this.fromKeyRow(row));
  }

  async listByState(state: InvitationState | readonly InvitationState[], options: InvitationListOptions = {}): Promise<InvitationRecord[]> {
    const states: readonly string[] = typeof state === 'string' ? [state] : state;
    if (states.length === 0) return [];
    let filter = `(${states.map((s) => odata`state eq ${s}`).join(' or ')})`;
    if (options.since) filter += ` and ${odata`createdAt ge ${options.since}`}`;
    const rows = await listAll<Record<string, unknown>>(await this.records(), filter);
    rows.sort(newestFirst);
    const limit = options.limit ?? DEFAULT_LIMIT;
    return (limit < 0 ? rows : rows.slice(0, limit)).map((row) => fromJsonProperties<InvitationRecord>(row));
  }

  /** The records of these key rows (in this order), each written from its key row if it was missing. */
  private async resolve(keyRows: Array<{ partitionKey: string; rowKey: string }>): Promise<InvitationRecord[]> {
    const keys = await this.keys();
    const found = await mapLimit(keyRows, READ_PARALLELISM, async ({ partitionKey, rowKey }) => {
      const id = this.ids.get(partitionKey + rowKey);
      if (id) {
        const record = await this.read(id);
        if (record) return record;
      }
      const row = await getOrNull<Record<string, unknown>>(keys, partitionKey, rowKey);
      return row ? this.fromKeyRow(row) : null;
    });
    return found.filter((r): r is InvitationRecord => r !== null);
  }
}

function newestFirst(a: TableEntityResult<Record<string, unknown>>, b: TableEntityResult<Record<string, unknown>>): number {
  const ca = String(a['createdAt']);
  const cb = String(b['createdAt']);
  if (ca !== cb) return ca < cb ? 1 : -1;
  return Number(b['seq']) - Number(a['seq']);
}

/** Creates the entity; its ETag ('' when the service sent none), or null when it existed already. */
async function createIfAbsent(table: TableClient, entity: { partitionKey: string; rowKey: string } & Record<string, unknown>): Promise<string | null> {
  try {
    const response = await table.createEntity(entity);
    return response.etag ?? '';
  } catch (e) {
    if (isConflict(e)) return null;
    throw e;
  }
}
