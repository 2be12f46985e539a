/**
 * Guest access records in Azure Table storage (usecases/lifecycle/ports.ts): one record per
 * tenant + site group + guest, shared by every instance, changed only by compare-and-set.
 *
 * Keys (two tables):
 *
 * - `<prefix>GuestAccess`, PartitionKey = `tableKey(tenantId)|<bucket of the user id>` (16 buckets,
 *   records.ts `bucketOf`): a record and its index rows share a bucket, so they change together in
 *   one atomic entity group transaction; a list is a query in each of the tenant's buckets (each a
 *   seek in its partition), merged here. (Earlier versions kept a tenant in one partition; a bulk
 *   job made it grow by three rows per guest, and Azurite scans a partition on every look-up.
 *   Those rows are moved on first use, and row `layout`/`bucketed` notes it is done.)
 *   - RowKey `k|<tableKey(groupId)>|<tableKey(userId)>`: the record (its JSON, split by
 *     jsonProperties) plus `id`, `state` and `invitedAt` for filters. `findByKey` is a point read;
 *     `claim` creates it with create-if-absent (409 for every other concurrent claimer: one record,
 *     one `created: true`). `listByGroup` is one RowKey range `k|<group>|` (a site's guests) and
 *     `listByTenant` the range `k|` (reports, exports), each sorted newest invitation first.
 *   - RowKey `s|<tableKey(sponsorId)>|<descKey(invitedAt)>|<tableKey(id)>`: the sponsor index, a
 *     copy of the record in newest-first key order: `listBySponsor` ("my guests", on a turn) is
 *     one RowKey range in each bucket, with the state filter in the query, each read up to the
 *     limit, merged.
 *   - RowKey `e|<tableKey(emailNormalised)>|<descKey(invitedAt)>|<tableKey(id)>`: the address
 *     index, the same for `listByEmail`.
 *   `update` replaces the record row with If-Match on the ETag read (compare-and-set: every write
 *   bumps the version, so "ETag changed" means "version changed"; 412 → null) and, in the same
 *   transaction, rewrites the two index rows (moving them when the sponsor, the address or the
 *   invitation time changed). Nothing else writes these rows, so the copies never drift.
 * - `<prefix>GuestAccessIds`, PartitionKey = tableKey(id), RowKey `id`: where the record of an id
 *   lives (tenant, group, user; never changes, so it is cached). Written before the record: a claim
 *   that lost the race deletes its own; one left by a process that stopped in between points at a
 *   record with another id and is ignored by `get`.
 *
 * Each partition holds at most ~2,000 operations per second
 * (https://learn.microsoft.com/azure/storage/tables/scalability-targets): a tenant's guests change
 * a few times each per month, a bulk job's in one burst.
 *
 * Transactions: the first use in a process 1 (the layout note); claim 3 when new (read, id row, transaction), 1 when the record exists; get 2 (1
 * once this process knows the id); findByKey 1; update 1 when this process read or wrote the
 * version it updates (its ETag is cached), else 2 (3 if the id is new to this process);
 * listBySponsor and listByEmail 16 (one per bucket); listByGroup and listByTenant 16 (and 1 per 1,000 rows of a bucket).
 */
import { randomUUID } from 'node:crypto';
import { odata, type TableClient, type TransactionAction } from '@azure/data-tables';
import { systemClock, type Clock } from '../../domain/clock';
import {
  accessListLimit,
  compareAccess,
  newAccessRecord,
  tenantListLimit,
  type GuestAccessDraft,
  type GuestAccessKey,
  type GuestAccessListOptions,
  type GuestAccessPatch,
  type GuestAccessRecord,
  type GuestAccessRepository,
} from '../../usecases/lifecycle/ports';
import type { AzureStorageAccount } from './account';
import { fromJsonProperties, getOrNull, isNotFound, jsonProperties, tableKey } from './tables';
import { allBuckets, BoundedCache, bucketOf, descKey, moveLayoutOnce, onceUntilDone, prefixEnd, readPartitions, submitIfAll } from './records';

type Entity = { partitionKey: string; rowKey: string } & Record<string, unknown>;

const ID_ROW = 'id';
const BUCKETS = 16;
/** A tenant's rows are spread over buckets by guest: `<tenant>|<bucket of the user id>` (a record and its index rows share one). */
const partitionOf = (k: Pick<GuestAccessKey, 'tenantId' | 'userId'>): string => `${tableKey(k.tenantId)}|${bucketOf(k.userId, BUCKETS)}`;
/** Every bucket of a tenant. */
const tenantPartitions = (tenantId: string): string[] => allBuckets(BUCKETS).map((b) => `${tableKey(tenantId)}|${b}`);
/** Times before 1970 sort last (the key cannot hold a negative number). */
const invitedMs = (r: GuestAccessRecord): number => Math.max(0, Date.parse(r.invitedAt) || 0);
const recordKey = (k: GuestAccessKey): string => `k|${tableKey(k.groupId)}|${tableKey(k.userId)}`;
const sponsorKey = (r: GuestAccessRecord): string => `s|${tableKey(r.sponsor.id)}|${descKey(invitedMs(r))}|${tableKey(r.id)}`;
const emailKey = (r: GuestAccessRecord): string => `e|${tableKey(r.emailNormalised)}|${descKey(invitedMs(r))}|${tableKey(r.id)}`;

function entity(r: GuestAccessRecord, rowKey: string): Entity {
  return { partitionKey: partitionOf(r), rowKey, id: r.id, state: r.state, invitedAt: r.invitedAt, ...jsonProperties(r) };
}

/** The three rows of a record, as created together. */
function createActions(r: GuestAccessRecord): TransactionAction[] {
  return [
    ['create', entity(r, recordKey(r))],
    // The index keys end with the record's id, new here: they cannot exist, so create (on Azurite an
    // upsert is two look-ups, a create one).
    ['create', entity(r, sponsorKey(r))],
    ['create', entity(r, emailKey(r))],
  ];
}

/** An index row moved (old key deleted) or rewritten in place. */
function indexActions(from: GuestAccessRecord, to: GuestAccessRecord, key: (r: GuestAccessRecord) => string): TransactionAction[] {
  const next: TransactionAction = ['upsert', entity(to, key(to)), 'Replace'];
  return key(from) === key(to) ? [next] : [['delete', { partitionKey: partitionOf(from), rowKey: key(from) }], next];
}

const stateFilter = (states: readonly string[] | undefined): string =>
  states ? ` and (${states.map((s) => odata`state eq ${s}`).join(' or ')})` : '';

const toRecord = (row: Record<string, unknown>): GuestAccessRecord => fromJsonProperties<GuestAccessRecord>(row);

export class AzureGuestAccessRepository implements GuestAccessRepository {
  private readonly clock: Clock;
  private readonly newId: () => string;
  /** id → where its record lives (never changes). */
  private readonly places = new BoundedCache<string, GuestAccessKey>();
  /** The last version of a record this process read or wrote, with its ETag: an update of it is one request. */
  private readonly latest = new BoundedCache<string, { record: GuestAccessRecord; etag: string }>();

  constructor(
    private readonly account: AzureStorageAccount,
    options: { clock?: Clock; newId?: () => string } = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.newId = options.newId ?? randomUUID;
  }

  /** Moves the earlier layout once per process (see moveLegacy) before the table is used. */
  private readonly layoutChecked = onceUntilDone(async () => {
    const table = await this.account.table('GuestAccess');
    await moveLayoutOnce(table, () => this.moveLegacy(table), this.clock);
  });

  private async records(): Promise<TableClient> {
    const table = await this.account.table('GuestAccess');
    await this.layoutChecked();
    return table;
  }

  /**
   * Rows of the earlier layout (every row of a tenant in one partition, `<tenant>`) are moved once
   * to their buckets: each record's three rows created in its bucket (kept if there already), then
   * deleted where they were; the table's layout note then says it is done, so later starts read
   * one entity. Stop instances of the earlier version before starting this one (they would keep
   * writing the old partition).
   */
  private async moveLegacy(table: TableClient): Promise<void> {
    for await (const row of table.listEntities<Record<string, unknown>>({ queryOptions: { filter: odata`RowKey ge ${'k|'} and RowKey lt ${'k}'}` } })) {
      if (String(row.partitionKey).includes('|')) continue; // already in a bucket
      const record = toRecord(row);
      const moved = createActions(record);
      if (!(await submitIfAll(table, moved)) && !(await getOrNull(table, partitionOf(record), recordKey(record)))) {
        throw new Error('guest access: a record could not be moved to its bucket');
      }
      for (const rowKey of [recordKey(record), sponsorKey(record), emailKey(record)]) {
        await table.deleteEntity(String(row.partitionKey), rowKey).catch((e: unknown) => {
          if (!isNotFound(e)) throw e;
        });
      }
    }
  }

  private ids(): Promise<TableClient> {
    return this.account.table('GuestAccessIds');
  }

  private async readKey(key: GuestAccessKey): Promise<GuestAccessRecord | null> {
    const row = await getOrNull<Record<string, unknown>>(await this.records(), partitionOf(key), recordKey(key));
    if (!row) return null;
    const record = toRecord(row);
    this.places.set(record.id, { tenantId: record.tenantId, groupId: record.groupId, userId: record.userId });
    this.latest.set(record.id, { record: structuredClone(record), etag: row.etag });
    return record;
  }

  private async place(id: string): Promise<GuestAccessKey | null> {
    const known = this.places.get(id);
    if (known) return known;
    const row = await getOrNull<GuestAccessKey>(await this.ids(), tableKey(id), ID_ROW);
    if (!row) return null;
    const key = { tenantId: row.tenantId, groupId: row.groupId, userId: row.userId };
    this.places.set(id, key);
    return key;
  }

  private async writeId(id: string, key: GuestAccessKey): Promise<void> {
    await (await this.ids()).upsertEntity({ partitionKey: tableKey(id), rowKey: ID_ROW, tenantId: key.tenantId, groupId: key.groupId, userId: key.userId }, 'Replace');
  }

  private async dropId(id: string): Promise<void> {
    try {
      await (await this.ids()).deleteEntity(tableKey(id), ID_ROW);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  async claim(draft: GuestAccessDraft): Promise<{ record: GuestAccessRecord; created: boolean }> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const existing = await this.readKey(draft);
      if (existing) return { record: existing, created: false };
      const record = newAccessRecord(this.newId(), draft, this.clock.now().toISOString());
      await this.writeId(record.id, draft);
      const etags = await submitIfAll(await this.records(), createActions(record));
      if (etags) {
        this.places.set(record.id, { tenantId: record.tenantId, groupId: record.groupId, userId: record.userId });
        this.latest.set(record.id, { record: structuredClone(record), etag: etags[0] ?? '' });
        return { record, created: true };
      }
      // Another claimer created the record first (409): ours was never written.
      await this.dropId(record.id);
    }
    throw new Error('guest access claim: the record could not be written or read');
  }

  /**
   * Migration only (the SQLite-to-Azure tool; not a port method): writes a record of another store
   * as it is (id, state, version). Create-if-absent by tenant + group + user: false when one exists.
   */
  async importRecord(source: GuestAccessRecord): Promise<boolean> {
    const record = structuredClone(source);
    if (await this.readKey(record)) return false;
    await this.writeId(record.id, record);
    if (await submitIfAll(await this.records(), createActions(record))) return true;
    if (await this.readKey(record)) return false;
    throw new Error('guest access import: refused, and the record is not there; run it again');
  }

  async get(id: string): Promise<GuestAccessRecord | null> {
    const key = await this.place(id);
    if (!key) return null;
    const record = await this.readKey(key);
    // An id row left by a claim that lost (its process stopped before removing it) points elsewhere.
    return record && record.id === id ? record : null;
  }

  async findByKey(key: GuestAccessKey): Promise<GuestAccessRecord | null> {
    return this.readKey(key);
  }

  async update(id: string, expectedVersion: number, patch: GuestAccessPatch): Promise<GuestAccessRecord | null> {
    let current = this.latest.get(id);
    if (!current || current.record.version !== expectedVersion) {
      const record = await this.get(id);
      if (!record || record.version !== expectedVersion) return null;
      current = this.latest.get(id);
      if (!current) return null;
    }
    const from = current.record;
    // Through JSON, as the SQLite store keeps it: a field patched to undefined is dropped the same way.
    const next = JSON.parse(
      JSON.stringify({
        ...from,
        ...patch,
        ...(patch.email !== undefined ? { emailNormalised: patch.email.trim().toLowerCase() } : {}),
        updatedAt: this.clock.now().toISOString(),
        version: from.version + 1,
      }),
    ) as GuestAccessRecord;
    const etags = await submitIfAll(await this.records(), [
      ['update', entity(next, recordKey(next)), 'Replace', { etag: current.etag }],
      ...indexActions(from, next, sponsorKey),
      ...indexActions(from, next, emailKey),
    ]);
    if (!etags) {
      // The ETag changed (someone else wrote a newer version): a lost race.
      this.latest.delete(id);
      return null;
    }
    this.latest.set(id, { record: structuredClone(next), etag: etags[0] ?? '' });
    return next;
  }

  /**
   * Rows of one RowKey range in every bucket of the tenant (a query each, in parallel), at most
   * `limit`. `ordered`: the range is newest first within a bucket (index rows), so each bucket is
   * read only up to `limit` rows; otherwise every row is read. Merged newest first.
   */
  private async range(tenantId: string, prefix: string, options: GuestAccessListOptions, limit: number, ordered: boolean): Promise<GuestAccessRecord[]> {
    if (options.states && options.states.length === 0) return [];
    const filter = odata`RowKey ge ${prefix} and RowKey lt ${prefixEnd(prefix)}` + stateFilter(options.states);
    const out: GuestAccessRecord[] = [];
    await readPartitions<Record<string, unknown>>(await this.records(), tenantPartitions(tenantId), filter, () => {
      let taken = 0;
      return (row) => {
        out.push(toRecord(row));
        taken++;
        return !ordered || taken < limit;
      };
    });
    return out.sort(compareAccess).slice(0, limit);
  }

  async listBySponsor(tenantId: string, sponsorId: string, options: GuestAccessListOptions = {}): Promise<GuestAccessRecord[]> {
    return this.range(tenantId, `s|${tableKey(sponsorId)}|`, options, accessListLimit(options.limit), true);
  }

  async listByGroup(tenantId: string, groupId: string, options: GuestAccessListOptions = {}): Promise<GuestAccessRecord[]> {
    return this.range(tenantId, `k|${tableKey(groupId)}|`, options, accessListLimit(options.limit), false);
  }

  async listByEmail(tenantId: string, emailNormalised: string, options: GuestAccessListOptions = {}): Promise<GuestAccessRecord[]> {
    return this.range(tenantId, `e|${tableKey(emailNormalised)}|`, options, accessListLimit(options.limit), true);
  }

  async listByTenant(tenantId: string, options: GuestAccessListOptions = {}): Promise<GuestAccessRecord[]> {
    return this.range(tenantId, 'k|', options, tenantListLimit(options.limit), false);
  }
}
