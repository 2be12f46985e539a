/**
 * Access review rounds in Azure Table storage (usecases/reviews/ports.ts), shared by every instance.
 *
 * Keys: table `<prefix>ReviewRounds`; one partition per site, PartitionKey
 * `<tableKey(tenantId)>|<tableKey(groupId lower-case)>` (a site's rounds: a few a year), RowKey
 * `<tableKey(round id)>`. The round id (`<tenant>.<group>.<period stamp>`) carries the site, so
 * `get(id)` is one point read. The round is the JSON properties `json0…` (tables.ts splits long
 * ones: a site with hundreds of guests still fits the 1 MiB entity) beside `period` for ordering.
 *
 * - create: insert-if-absent (409 = someone created it first: read and return theirs), so two
 *   instances starting the same period of a site land on one round.
 * - update: replace with If-Match on the ETag read with the record at `expectedVersion`; a 412
 *   means another writer was first (the decision of a double click, another instance's delivery
 *   claim): null, and the caller re-reads. 1 read + 1 write.
 * - listBySite: one partition query, sorted here (newest period first).
 * - importRound (the migration tool): insert-if-absent of a round as it is (id, version,
 *   decisions, deliveries), so a card sent before the move still decides its round, once.
 */
import { odata, type TableClient } from '@azure/data-tables';
import { systemClock, type Clock } from '../../domain/clock';
import {
  compareRounds,
  newReviewRound,
  patchedRound,
  roundListLimit,
  type ReviewRound,
  type ReviewRoundDraft,
  type ReviewRoundPatch,
  type ReviewRoundRepository,
} from '../../usecases/reviews/ports';
import type { AzureStorageAccount } from './account';
import { fromJsonProperties, getOrNull, insertIfAbsent, jsonProperties, listAll, replaceIfMatch, tableKey } from './tables';

const partitionOf = (tenantId: string, groupId: string): string => `${tableKey(tenantId)}|${tableKey(groupId.toLowerCase())}`;

/** The site of a round id (`<tenant>.<group>.<stamp>`); null for an id this store never made. */
function siteOfId(id: string): { tenantId: string; groupId: string } | null {
  const parts = id.split('.');
  if (parts.length !== 3 || !parts[0] || !parts[1]) return null;
  return { tenantId: parts[0], groupId: parts[1] };
}

export class AzureReviewRoundRepository implements ReviewRoundRepository {
  private readonly clock: Clock;

  constructor(
    private readonly account: AzureStorageAccount,
    options: { clock?: Clock } = {},
  ) {
    this.clock = options.clock ?? systemClock;
  }

  private table(): Promise<TableClient> {
    return this.account.table('ReviewRounds');
  }

  private entity(round: ReviewRound, site: { tenantId: string; groupId: string }): { partitionKey: string; rowKey: string } & Record<string, unknown> {
    return { partitionKey: partitionOf(site.tenantId, site.groupId), rowKey: tableKey(round.id), period: round.period, ...jsonProperties(round) };
  }

  private async read(id: string): Promise<{ round: ReviewRound; etag: string } | null> {
    const site = siteOfId(id);
    if (!site) return null;
    const row = await getOrNull<Record<string, unknown>>(await this.table(), partitionOf(site.tenantId, site.groupId), tableKey(id));
    if (!row) return null;
    const round = fromJsonProperties<ReviewRound>(row);
    // The id names the tenant lower-cased; the record keeps the tenant as given.
    return round.id === id ? { round, etag: row.etag } : null;
  }

  async create(draft: ReviewRoundDraft): Promise<{ round: ReviewRound; created: boolean }> {
    const site = siteOfId(draft.id);
    if (!site || site.groupId !== draft.groupId.toLowerCase()) throw new TypeError('review round id must be <tenant>.<group>.<stamp> of its own site');
    const round = newReviewRound(draft, this.clock.now().toISOString());
    const table = await this.table();
    if (await insertIfAbsent(table, this.entity(round, site))) return { round, created: true };
    const existing = await this.read(draft.id);
    if (!existing) throw new Error('review round: created by another writer but not readable');
    return { round: existing.round, created: false };
  }

  async get(id: string): Promise<ReviewRound | null> {
    return (await this.read(id))?.round ?? null;
  }

  /** Writes `round` as it is unless its id is there already; true when written. */
  async importRound(round: ReviewRound): Promise<boolean> {
    const site = siteOfId(round.id);
    if (!site || site.groupId !== round.groupId.toLowerCase()) throw new TypeError('review round id must be <tenant>.<group>.<stamp> of its own site');
    return insertIfAbsent(await this.table(), this.entity(round, site));
  }

  async update(id: string, expectedVersion: number, patch: ReviewRoundPatch): Promise<ReviewRound | null> {
    const current = await this.read(id);
    if (!current || current.round.version !== expectedVersion) return null;
    const next = patchedRound(current.round, patch, this.clock.now().toISOString());
    const site = siteOfId(id);
    if (!site) return null;
    const written = await replaceIfMatch(await this.table(), this.entity(next, site), current.etag);
    return written ? next : null;
  }

  async listBySite(tenantId: string, groupId: string, options: { limit?: number } = {}): Promise<ReviewRound[]> {
    const rows = await listAll<Record<string, unknown>>(await this.table(), odata`PartitionKey eq ${partitionOf(tenantId.toLowerCase(), groupId)}`);
    return rows
      .map((row) => fromJsonProperties<ReviewRound>(row))
      .filter((r) => r.tenantId === tenantId)
      .sort(compareRounds)
      .slice(0, roundListLimit(options.limit));
  }
}
