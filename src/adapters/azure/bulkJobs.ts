/**
 * Bulk jobs and their rows in Azure Table storage: any instance works a job, a job's state moves
 * by compare-and-set, rows are written a hundred at a time.
 *
 * Keys (two tables):
 *
 * - `<prefix>BulkJobs`, PartitionKey `jobs`, RowKey tableKey(jobId): the job (JSON) plus `state`,
 *   `tenantId`, `requesterId`, `createdAt` (fixed-width), `seq` (insert order) for the filters.
 *   Jobs are few (one per file a person sends), so `listActive` and `listByRequester` are one
 *   filtered query over this one partition. `get` is a point read; `update` / `transition` a Replace
 *   with the ETag read (compare-and-set: every write bumps the version). The runner reads the job
 *   and then renews its lease on every page: the ETag of the version this process last read or
 *   wrote is cached, so the renewal is one request.
 * - `<prefix>BulkRows`, PartitionKey `tableKey(jobId)|numberKey(rowNumber / 100, 8)` (a hundred
 *   consecutive rows per partition; jobs stored before that have every row in `tableKey(jobId)`,
 *   and their job row says so: see ROWS_PER_PARTITION), RowKey numberKey(rowNumber): one entity per
 *   row, `state` and `due` (fixed-width nextAttemptAt) in the clear for the filters, every other
 *   field JSON-encoded in a property of its own name (so a row update is a Merge of just the fields
 *   given, no read first). A job's rows are one PartitionKey range, in file order, so:
 *   - `updateRow` is group commit: one update alone is one request; updates of the same partition asked
 *     for while one is being written wait for it and then go together, up to a hundred Merges in
 *     one entity group transaction (two of one row become one Merge, the later fields winning).
 *     Each caller's promise resolves once its own update is written, as before. The runner asks
 *     for many at once (a page's claims, a group of twenty members landing), so most row updates
 *     cost a fraction of a request;
 *   - `insertRows` is entity group transactions of up to 100 creates (one request per 100 rows);
 *     when one of them exists already (a re-run) the transaction is refused as a whole, the chunk's
 *     existing row numbers are read (one query) and only the missing rows are created;
 *   - `rowsAfter`, `dueRows`, `rowsInState`, `rowsNotEmailed` are RowKey ranges after `afterRow`
 *     (file order) with a filter on `state` / `due`, read a page at a time up to `limit`;
 *   - `cancelRemaining` and `assignDefaultSite` are Merges in transactions of 100, each guarded by
 *     the ETag the query returned (a row the runner moved meanwhile is left as it is);
 *   - `counts` does not read every row on every progress tick: this process keeps the rows' states
 *     from its last count and asks only for rows changed since (a filter on the service-set
 *     `Timestamp`, with a margin), recounting in full at most once a minute.
 *
 * Transactions (measured on Azurite): 100 rows inserted 1 (the same 100 again 2), 5,000 rows 50,
 * a page of due rows 1, a row update 1 (up to 100 asked for together: 1), counts of 5,000 rows 5 the first time and then 1 per
 * progress tick, the runner's get + lease renewal 2.
 */
import { randomUUID } from 'node:crypto';
import { odata, type TableClient, type TransactionAction } from '@azure/data-tables';
import { systemClock, type Clock } from '../../domain/clock';
import {
  ACTIVE_JOB_STATES,
  DRAFT_JOB_STATES,
  emptyCounts,
  UNFINISHED_ROW_STATES,
  type BulkJob,
  type BulkJobPatch,
  type BulkJobState,
  type BulkRow,
  type BulkRowPatch,
  type BulkRowState,
  type BulkSite,
  type InvitationEmails,
  type NewBulkJob,
  type NewBulkRow,
  type RowCounts,
  newBulkRow,
} from '../../domain/bulkJob';
import type { BulkJobRepository } from '../../usecases/bulk/ports';
import type { AzureStorageAccount } from './account';
import { fromJsonProperties, fromTableKey, getOrNull, isConflict, isNotFound, isPreconditionFailed, jsonProperties, listAll, numberKey, tableKey } from './tables';
import { BoundedCache, MAX_BATCH, orderedIds, prefixEnd, submitIfAll } from './records';

export interface AzureBulkJobDeps {
  clock?: Clock;
  newId?: () => string;
  /**
   * How far back before the newest change already counted the "changed since" query looks (ms,
   * default 2 s): a margin for writes the service stamped just before one it had already shown.
   */
  countsMarginMs?: number;
}

const JOBS = 'jobs';
/** Row fields kept JSON-encoded, one property each. */
const ROW_FIELDS = [
  'name',
  'email',
  'emailKey',
  'groupId',
  'siteName',
  'siteUrl',
  'redirectUrl',
  'sendEmail',
  'message',
  'predictedMethod',
  'invitationRecordId',
  'lockVersion',
  'userId',
  'redeemUrl',
  'inviteId',
  'status',
  'error',
  'time',
  'attempts',
  'nextAttemptAt',
  'approvalRequestId',
  'accessEnd',
] as const;
/** Row transactions in flight at once while inserting. */
const INSERT_PARALLELISM = 8;
/** How often counts read every row again instead of only the changed ones. */
const FULL_RECOUNT_MS = 60_000;

type Entity = { partitionKey: string; rowKey: string } & Record<string, unknown>;

interface StoredJob {
  job: BulkJob;
  etag: string;
  seq: number;
}

/**
 * Rows per partition of a job created now. A job's rows are spread over partitions of this many
 * consecutive rows (`<job>|<numberKey(row / 100)>`), so a job of any size keeps its partitions
 * small (Azurite looks an entity up by scanning its partition; Table storage does not, but gains
 * nothing from one big partition either) and a range of rows in file order is still one query over
 * a PartitionKey range, returned in file order (partitions, then rows, in key order).
 * Jobs written before keep their rows in one partition (`<job>`): the job's row says which
 * (`rowsPerPartition`, absent = 0 = one partition).
 */
const ROWS_PER_PARTITION = 100;

/** Where a job's rows are: its key and how many rows each partition holds (0: one partition, the key). */
interface RowLayout {
  jobKey: string;
  per: number;
}

const rowPartition = (layout: RowLayout, rowNumber: number): string =>
  layout.per > 0 ? `${layout.jobKey}|${numberKey(Math.floor(Math.max(0, rowNumber) / layout.per), 8)}` : layout.jobKey;

/** The job's rows from row `fromRow` on (every row by default), as a PartitionKey filter. */
function rowsFilter(layout: RowLayout, fromRow = 0): string {
  if (layout.per === 0) return odata`PartitionKey eq ${layout.jobKey}`;
  return odata`PartitionKey ge ${rowPartition(layout, fromRow)} and PartitionKey lt ${prefixEnd(`${layout.jobKey}|`)}`;
}

/** Splits row numbers (any order) into groups of one partition each, at most MAX_BATCH rows per group. */
function byPartition<T>(layout: RowLayout, items: readonly T[], rowNumber: (item: T) => number): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = rowPartition(layout, rowNumber(item));
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return [...groups.values()].flatMap((group) => Array.from({ length: Math.ceil(group.length / MAX_BATCH) }, (_, i) => group.slice(i * MAX_BATCH, (i + 1) * MAX_BATCH)));
}

/** Row updates of one job waiting to be written (one partition: one transaction for many). */
interface RowWriteGroup {
  /** By row key, in the order first asked; each the merged fields of every update asked since. */
  pending: Map<string, { entity: Entity; waiters: Array<{ resolve: () => void; reject: (e: unknown) => void }> }>;
  /** A transaction of this job's row updates is on its way. */
  writing: boolean;
}

interface CountSnapshot {
  states: Map<number, BulkRowState>;
  /** The newest service Timestamp seen (ms). */
  newest: number;
  /** When this process last read every row (wall clock ms). */
  fullAt: number;
}

const copy = <T>(value: T): T => structuredClone(value);
const rowKey = (rowNumber: number): string => numberKey(rowNumber);
const dueKey = (ms: number): string => numberKey(Math.max(0, Math.floor(ms)));

/** A job as stored; jobs written before finishedEventPending existed read as false. */
function storedJob(entity: Record<string, unknown>): BulkJob {
  const job = fromJsonProperties<BulkJob>(entity);
  return { ...job, finishedEventPending: job.finishedEventPending === true };
}

function rowEntity(layout: RowLayout, row: BulkRow): Entity {
  const entity: Entity = { partitionKey: rowPartition(layout, row.rowNumber), rowKey: rowKey(row.rowNumber), state: row.state, due: dueKey(row.nextAttemptAt) };
  for (const field of ROW_FIELDS) entity[field] = JSON.stringify(row[field]);
  return entity;
}

function fromRowEntity(jobId: string, entity: Record<string, unknown>): BulkRow {
  const row: Record<string, unknown> = { jobId, rowNumber: Number(entity['rowKey']), state: entity['state'] };
  for (const field of ROW_FIELDS) {
    const raw = entity[field];
    row[field] = typeof raw === 'string' ? JSON.parse(raw) : null;
  }
  return row as unknown as BulkRow;
}

export class AzureBulkJobRepository implements BulkJobRepository {
  private readonly clock: Clock;
  private readonly newId: () => string;
  private readonly latest = new BoundedCache<string, StoredJob>(1000);
  private readonly snapshots = new BoundedCache<string, CountSnapshot>(100);
  private readonly countsMarginMs: number;
  /** Row updates waiting to be written, by partition. */
  private readonly rowWrites = new Map<string, RowWriteGroup>();
  /** Rows per partition of each job seen (never changes for a job; 0: one partition). */
  private readonly layouts = new BoundedCache<string, number>(1000);
  private readonly layoutReads = new Map<string, Promise<void>>();

  constructor(
    private readonly account: AzureStorageAccount,
    deps: AzureBulkJobDeps = {},
  ) {
    this.clock = deps.clock ?? systemClock;
    this.newId = deps.newId ?? randomUUID;
    this.countsMarginMs = deps.countsMarginMs ?? 2000;
  }

  private jobs(): Promise<TableClient> {
    return this.account.table('BulkJobs');
  }

  private rows(): Promise<TableClient> {
    return this.account.table('BulkRows');
  }

  // ---------------------------------------------------------------- jobs

  private jobEntity(job: BulkJob, seq: number): Entity {
    return {
      partitionKey: JOBS,
      rowKey: tableKey(job.id),
      rowsPerPartition: this.layouts.get(job.id) ?? 0,
      state: job.state,
      tenantId: job.tenantId,
      requesterId: job.requestedBy.id,
      createdAt: numberKey(job.createdAt),
      finishedEventPending: job.finishedEventPending === true,
      seq,
      ...jsonProperties(job),
    };
  }

  private remember(entity: Record<string, unknown> & { etag: string }): BulkJob {
    const job = storedJob(entity);
    this.layouts.set(job.id, Number(entity['rowsPerPartition'] ?? 0));
    this.latest.set(job.id, { job: copy(job), etag: entity.etag, seq: Number(entity['seq'] ?? 0) });
    return job;
  }

  async createDraft(input: NewBulkJob): Promise<BulkJob> {
    const job: BulkJob = {
      id: this.newId(),
      tenantId: input.tenantId,
      requestedBy: { ...input.requestedBy },
      conversationId: input.conversationId,
      conversationRef: null,
      progressActivityId: null,
      defaultSite: input.defaultSite ? { ...input.defaultSite } : null,
      state: 'draft',
      summary: copy(input.summary),
      error: null,
      leaseOwner: null,
      leaseUntil: null,
      createdAt: this.clock.now().getTime(),
      startedAt: null,
      finishedAt: null,
      finishedEventPending: false,
      version: 1,
    };
    const seq = orderedIds.next();
    this.layouts.set(job.id, ROWS_PER_PARTITION);
    const response = await (await this.jobs()).createEntity(this.jobEntity(job, seq));
    if (response.etag) this.latest.set(job.id, { job: copy(job), etag: response.etag, seq });
    return copy(job);
  }

  /**
   * Migration only (the SQLite-to-Azure tool; not a port method): writes a job from another store
   * as it is (id, state, version, summary) with its rows as they are (state, outcome, attempts).
   * The rows first, in transactions of 100 as insertRows (a chunk refused because some of its
   * rows exist already writes only the missing ones), then the job row: once the job is there,
   * so are its rows, and this is false and writes nothing (the bot here may have worked the job
   * since). Rows without their job (a run that stopped in between) are never read: no list meets
   * them, and the next run completes them. A lease held by a process of the other store is not
   * carried over, so an instance here resumes a job that was running.
   */
  async importJob(source: BulkJob, rows: readonly BulkRow[]): Promise<boolean> {
    const job: BulkJob = { ...copy(source), leaseOwner: null, leaseUntil: null };
    const jobs = await this.jobs();
    if (await getOrNull(jobs, JOBS, tableKey(job.id))) return false;
    const table = await this.rows();
    this.layouts.set(job.id, ROWS_PER_PARTITION);
    const layout: RowLayout = { jobKey: tableKey(job.id), per: ROWS_PER_PARTITION };
    const create = (r: BulkRow): TransactionAction => ['create', rowEntity(layout, { ...copy(r), jobId: job.id })];
    for (const chunk of byPartition(layout, [...rows].sort((a, b) => a.rowNumber - b.rowNumber), (r) => r.rowNumber)) {
      if (await submitIfAll(table, chunk.map(create))) continue;
      const first = chunk[0] as BulkRow;
      const last = chunk[chunk.length - 1] as BulkRow;
      const existing = await listAll<Record<string, unknown>>(
        table,
        odata`PartitionKey eq ${rowPartition(layout, first.rowNumber)} and RowKey ge ${rowKey(first.rowNumber)} and RowKey le ${rowKey(last.rowNumber)}`,
        ['RowKey'],
      );
      const have = new Set(existing.map((e) => Number(e.rowKey)));
      const missing = chunk.filter((r) => !have.has(r.rowNumber));
      if (missing.length > 0 && !(await submitIfAll(table, missing.map(create)))) throw new Error(`bulk job import: the rows of ${job.id} changed while they were written; run it again`);
    }
    try {
      await jobs.createEntity(this.jobEntity(job, orderedIds.next()));
      return true;
    } catch (e) {
      if (isConflict(e)) return false;
      throw e;
    }
  }

  private async read(id: string): Promise<BulkJob | null> {
    const entity = await getOrNull<Record<string, unknown>>(await this.jobs(), JOBS, tableKey(id));
    if (!entity) {
      this.latest.delete(id);
      return null;
    }
    return this.remember(entity);
  }

  async get(id: string): Promise<BulkJob | null> {
    return this.read(id);
  }

  /** Compare-and-set from a known stored version (cached or read now). */
  private async replace(current: StoredJob, patch: BulkJobPatch): Promise<BulkJob | null> {
    const next: BulkJob = { ...copy(current.job), version: current.job.version + 1 };
    for (const [key, value] of Object.entries(patch) as Array<[keyof BulkJobPatch, unknown]>) {
      (next as unknown as Record<string, unknown>)[key] = value === undefined ? null : copy(value);
    }
    try {
      const response = await (await this.jobs()).updateEntity(this.jobEntity(next, current.seq), 'Replace', { etag: current.etag });
      if (response.etag) this.latest.set(next.id, { job: copy(next), etag: response.etag, seq: current.seq });
      else this.latest.delete(next.id);
      return copy(next);
    } catch (e) {
      this.latest.delete(next.id);
      if (isPreconditionFailed(e) || isNotFound(e)) return null;
      throw e;
    }
  }

  private async current(id: string, accept: (job: BulkJob) => boolean): Promise<StoredJob | null> {
    const cached = this.latest.get(id);
    if (cached && accept(cached.job)) return cached;
    const job = await this.read(id);
    if (!job || !accept(job)) return null;
    return this.latest.get(id) ?? null;
  }

  async update(id: string, expectedVersion: number, patch: BulkJobPatch): Promise<BulkJob | null> {
    const current = await this.current(id, (j) => j.version === expectedVersion);
    return current ? this.replace(current, patch) : null;
  }

  async transition(id: string, from: readonly BulkJobState[], patch: BulkJobPatch): Promise<BulkJob | null> {
    // Always from the stored job: the state may have moved on in another process.
    this.latest.delete(id);
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = await this.current(id, (j) => from.includes(j.state));
      if (!current) return null;
      const moved = await this.replace(current, patch);
      if (moved) return moved;
      // Lost the compare-and-set: read again and see whether the move still applies.
    }
    return null;
  }

  private async listJobs(filter: string): Promise<Array<{ job: BulkJob; seq: number }>> {
    const rows = await listAll<Record<string, unknown>>(await this.jobs(), odata`PartitionKey eq ${JOBS}` + ` and ${filter}`);
    return rows.map((r) => ({ job: storedJob(r), seq: Number(r['seq'] ?? 0) }));
  }

  async listActive(): Promise<BulkJob[]> {
    const filter = `(${ACTIVE_JOB_STATES.map((s) => odata`state eq ${s}`).join(' or ')})`;
    return (await this.listJobs(filter)).sort((a, b) => a.job.createdAt - b.job.createdAt || a.seq - b.seq).map((s) => s.job);
  }

  async listFinishedEventPending(): Promise<BulkJob[]> {
    return (await this.listJobs('finishedEventPending eq true')).sort((a, b) => a.job.createdAt - b.job.createdAt || a.seq - b.seq).map((s) => s.job);
  }

  async listByRequester(tenantId: string, requesterId: string, limit = 10): Promise<BulkJob[]> {
    return (await this.listJobs(odata`tenantId eq ${tenantId} and requesterId eq ${requesterId}`))
      .sort((a, b) => b.job.createdAt - a.job.createdAt || b.seq - a.seq)
      .slice(0, Math.max(0, limit))
      .map((s) => s.job);
  }

  // ---------------------------------------------------------------- rows

  /** Where the job's rows are (read from the job once per process; a job not found: today's layout, not cached). */
  private async layout(jobId: string): Promise<RowLayout> {
    if (this.layouts.get(jobId) === undefined) {
      // One read for every caller waiting (they resume in the order they asked: row updates keep theirs).
      let reading = this.layoutReads.get(jobId);
      if (!reading) {
        // remember() caches the job's layout. A job not found is not cached (a storage account
        // coming back from an outage may answer 404 for a moment): this call takes today's layout.
        reading = this.read(jobId)
          .then(() => undefined)
          .finally(() => this.layoutReads.delete(jobId));
        this.layoutReads.set(jobId, reading);
      }
      await reading;
    }
    return { jobKey: tableKey(jobId), per: this.layouts.get(jobId) ?? ROWS_PER_PARTITION };
  }

  async insertRows(jobId: string, rows: readonly NewBulkRow[]): Promise<void> {
    // Rows belong to a job (as the SQLite foreign key).
    if (!this.latest.get(jobId) && !(await this.read(jobId))) throw new Error(`bulk job ${jobId} does not exist`);
    const table = await this.rows();
    const layout = await this.layout(jobId);
    const unique = new Map<number, NewBulkRow>();
    for (const r of rows) if (!unique.has(r.rowNumber)) unique.set(r.rowNumber, r);
    const all = [...unique.values()].sort((a, b) => a.rowNumber - b.rowNumber);
    const chunks = byPartition(layout, all, (r) => r.rowNumber);
    // A few transactions at a time (a 5,000-row file is fifty).
    for (let i = 0; i < chunks.length; i += INSERT_PARALLELISM) {
      await Promise.all(chunks.slice(i, i + INSERT_PARALLELISM).map((chunk) => this.insertChunk(table, layout, jobId, chunk)));
    }
  }

  /** Creates rows of one partition (one transaction). */
  private async insertChunk(table: TableClient, layout: RowLayout, jobId: string, chunk: NewBulkRow[]): Promise<void> {
    const create = (r: NewBulkRow): TransactionAction => ['create', rowEntity(layout, newBulkRow(jobId, r))];
    if (await submitIfAll(table, chunk.map(create))) return;
    // Some of these rows exist already (a re-run): keep them, create the others.
    const first = chunk[0] as NewBulkRow;
    const last = chunk[chunk.length - 1] as NewBulkRow;
    const existing = await listAll<Record<string, unknown>>(
      table,
      odata`PartitionKey eq ${rowPartition(layout, first.rowNumber)} and RowKey ge ${rowKey(first.rowNumber)} and RowKey le ${rowKey(last.rowNumber)}`,
      ['RowKey'],
    );
    const have = new Set(existing.map((e) => Number(e.rowKey)));
    const missing = chunk.filter((r) => !have.has(r.rowNumber));
    if (missing.length === 0) return;
    if (await submitIfAll(table, missing.map(create))) return;
    // Someone else is inserting the same rows right now: one at a time, each create-if-absent.
    for (const r of missing) {
      try {
        await table.createEntity(rowEntity(layout, newBulkRow(jobId, r)));
      } catch (e) {
        if (!isConflict(e)) throw e;
      }
    }
  }

  async assignDefaultSite(jobId: string, site: BulkSite): Promise<void> {
    const table = await this.rows();
    const layout = await this.layout(jobId);
    const rows = await listAll<Record<string, unknown>>(table, rowsFilter(layout) + odata` and groupId eq ${'null'}`, ['RowKey']);
    await this.mergeGuarded(
      table,
      layout,
      rows,
      () => ({ groupId: JSON.stringify(site.groupId), siteName: JSON.stringify(site.siteName), siteUrl: JSON.stringify(site.siteUrl) }),
      (row) => row['groupId'] === 'null',
    );
  }

  /**
   * Merges `fields` into each row, guarded by the ETag it was read with, a hundred per
   * transaction (one partition each); a refused transaction is retried row by row, re-reading
   * each and applying only where `still` holds. Returns how many rows changed.
   */
  private async mergeGuarded(
    table: TableClient,
    layout: RowLayout,
    rows: Array<Record<string, unknown> & { etag: string }>,
    fields: () => Record<string, unknown>,
    still: (row: Record<string, unknown>) => boolean,
  ): Promise<number> {
    let changed = 0;
    const at = (r: Record<string, unknown>): string => rowPartition(layout, Number(r['rowKey']));
    for (const chunk of byPartition(layout, rows, (r) => Number(r['rowKey']))) {
      const actions: TransactionAction[] = chunk.map((r) => [
        'update',
        { partitionKey: at(r), rowKey: String(r['rowKey']), ...fields() },
        'Merge',
        { etag: r.etag },
      ]);
      if (await submitIfAll(table, actions)) {
        changed += chunk.length;
        continue;
      }
      for (const r of chunk) {
        for (let attempt = 0; attempt < 5; attempt++) {
          const now = await getOrNull<Record<string, unknown>>(table, at(r), String(r['rowKey']));
          if (!now || !still(now)) break;
          try {
            await table.updateEntity({ partitionKey: at(r), rowKey: String(r['rowKey']), ...fields() }, 'Merge', { etag: now.etag });
            changed++;
            break;
          } catch (e) {
            if (!isPreconditionFailed(e) && !isNotFound(e)) throw e;
          }
        }
      }
    }
    return changed;
  }

  updateRow(jobId: string, rowNumber: number, patch: BulkRowPatch): Promise<void> {
    const per = this.layouts.get(jobId);
    // Known (the usual case): queued now, so updates keep the order they were asked in.
    if (per === undefined) return this.layout(jobId).then((layout) => this.queueRowUpdate(layout, rowNumber, patch));
    return this.queueRowUpdate({ jobKey: tableKey(jobId), per }, rowNumber, patch);
  }

  private queueRowUpdate(layout: RowLayout, rowNumber: number, patch: BulkRowPatch): Promise<void> {
    const entity: Entity = { partitionKey: rowPartition(layout, rowNumber), rowKey: rowKey(rowNumber) };
    let fields = 0;
    for (const [key, value] of Object.entries(patch) as Array<[keyof BulkRowPatch, unknown]>) {
      const v = value === undefined ? null : value;
      if (key === 'state') entity['state'] = v;
      else entity[key] = JSON.stringify(v);
      if (key === 'nextAttemptAt') entity['due'] = dueKey(Number(v ?? 0));
      fields++;
    }
    if (fields === 0) return Promise.resolve();
    const partition = entity.partitionKey;
    return new Promise<void>((resolve, reject) => {
      let group = this.rowWrites.get(partition);
      if (!group) {
        group = { pending: new Map(), writing: false };
        this.rowWrites.set(partition, group);
      }
      const waiting = group.pending.get(entity.rowKey);
      if (waiting) {
        // Two Merges of one row in a row are one Merge of both, the later fields winning.
        Object.assign(waiting.entity, entity);
        waiting.waiters.push({ resolve, reject });
      } else {
        group.pending.set(entity.rowKey, { entity, waiters: [{ resolve, reject }] });
      }
      if (!group.writing) {
        group.writing = true;
        void this.writeRowUpdates(partition, group);
      }
    });
  }

  /**
   * Writes a partition's waiting row updates, up to a hundred per entity group transaction, until
   * none is left; updates asked for while one is being written go in the next.
   */
  private async writeRowUpdates(partition: string, group: RowWriteGroup): Promise<void> {
    try {
      while (group.pending.size > 0) {
        const batch = [...group.pending.values()].slice(0, MAX_BATCH);
        for (const w of batch) group.pending.delete(String(w.entity.rowKey));
        try {
          await this.mergeRows(batch.map((w) => w.entity));
          for (const w of batch) for (const waiter of w.waiters) waiter.resolve();
        } catch (e) {
          for (const w of batch) for (const waiter of w.waiters) waiter.reject(e);
        }
      }
    } finally {
      group.writing = false;
      if (group.pending.size === 0 && this.rowWrites.get(partition) === group) this.rowWrites.delete(partition);
    }
  }

  /** Merges the row updates (one partition); a row that is gone is skipped, as a single update skips it. */
  private async mergeRows(entities: Entity[]): Promise<void> {
    const table = await this.rows();
    // No ETag: a row has one writer at a time (the runner holding the job's lease or the chunk's message).
    const mergeOne = async (entity: Entity): Promise<void> => {
      try {
        await table.updateEntity(entity, 'Merge', { etag: '*' });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    };
    const [only] = entities;
    if (entities.length === 1 && only) return mergeOne(only);
    const actions: TransactionAction[] = entities.map((entity) => ['update', entity, 'Merge', { etag: '*' }]);
    // Refused as a whole only when a row is gone (the job was removed meanwhile): one by one then.
    if (await submitIfAll(table, actions)) return;
    for (const entity of entities) await mergeOne(entity);
  }

  async getRow(jobId: string, rowNumber: number): Promise<BulkRow | null> {
    const entity = await getOrNull<Record<string, unknown>>(await this.rows(), rowPartition(await this.layout(jobId), rowNumber), rowKey(rowNumber));
    return entity ? fromRowEntity(jobId, entity) : null;
  }

  /** Rows after `afterRow` matching `filter` (OData, may be empty), in file order, at most `limit`, each also passing `keep`. */
  private async page(jobId: string, afterRow: number, limit: number, filter: string, keep: (row: BulkRow) => boolean = () => true): Promise<BulkRow[]> {
    if (limit <= 0) return [];
    const out: BulkRow[] = [];
    const from = Math.max(0, Math.floor(afterRow));
    // Partitions, then rows, in key order: file order.
    const query = rowsFilter(await this.layout(jobId), from + 1) + odata` and RowKey gt ${rowKey(from)}` + (filter ? ` and ${filter}` : '');
    const pages = (await this.rows()).listEntities<Record<string, unknown>>({ queryOptions: { filter: query } }).byPage({ maxPageSize: Math.min(1000, limit) });
    for await (const page of pages) {
      for (const entity of page) {
        const row = fromRowEntity(jobId, entity);
        if (!keep(row)) continue;
        out.push(row);
        if (out.length >= limit) return out;
      }
    }
    return out;
  }

  async dueRows(jobId: string, afterRow: number, now: number, limit: number): Promise<BulkRow[]> {
    const unfinished = UNFINISHED_ROW_STATES.map((s) => odata`state eq ${s}`).join(' or ');
    return this.page(jobId, afterRow, limit, `(${unfinished}) and ${odata`due le ${dueKey(now)}`}`);
  }

  async rowsInState(jobId: string, state: BulkRowState, afterRow: number, limit: number): Promise<BulkRow[]> {
    return this.page(jobId, afterRow, limit, odata`state eq ${state}`);
  }

  async rowsAfter(jobId: string, afterRow: number, limit: number): Promise<BulkRow[]> {
    return this.page(jobId, afterRow, limit, '');
  }

  async nextDue(jobId: string): Promise<number | null> {
    const unfinished = UNFINISHED_ROW_STATES.map((s) => odata`state eq ${s}`).join(' or ');
    const rows = await listAll<{ due?: string }>(await this.rows(), rowsFilter(await this.layout(jobId)) + ` and (${unfinished})`, ['due']);
    let min: number | null = null;
    for (const r of rows) {
      const due = Number(r.due ?? 0);
      if (min === null || due < min) min = due;
    }
    return min;
  }

  private async invitedRows(jobId: string): Promise<Array<{ rowNumber: number; sendEmail: boolean | null }>> {
    const rows = await listAll<Record<string, unknown>>(
      await this.rows(),
      rowsFilter(await this.layout(jobId)) + odata` and state eq ${'done'} and redeemUrl ne ${'null'}`,
      ['RowKey', 'sendEmail', 'redeemUrl'],
    );
    return rows
      .filter((r) => typeof r['redeemUrl'] === 'string' && r['redeemUrl'] !== 'null')
      .map((r) => ({ rowNumber: Number(r.rowKey), sendEmail: typeof r['sendEmail'] === 'string' ? (JSON.parse(r['sendEmail']) as boolean | null) : null }));
  }

  async invitationEmails(jobId: string, defaultSend: boolean): Promise<InvitationEmails> {
    const invited = await this.invitedRows(jobId);
    const emailed = invited.filter((r) => r.sendEmail ?? defaultSend).length;
    return { invited: invited.length, emailed, notEmailed: invited.length - emailed };
  }

  async rowsNotEmailed(jobId: string, defaultSend: boolean, afterRow: number, limit: number): Promise<BulkRow[]> {
    return this.page(
      jobId,
      afterRow,
      limit,
      odata`state eq ${'done'} and redeemUrl ne ${'null'}`,
      (r) => r.redeemUrl !== null && !(r.sendEmail ?? defaultSend),
    );
  }

  async counts(jobId: string): Promise<RowCounts> {
    const table = await this.rows();
    const partition = rowsFilter(await this.layout(jobId));
    let snapshot = this.snapshots.get(jobId);
    const wall = Date.now();
    let filter = partition;
    if (!snapshot || wall - snapshot.fullAt > FULL_RECOUNT_MS) {
      snapshot = { states: new Map(), newest: 0, fullAt: wall };
    } else {
      filter += ` and ${odata`Timestamp ge ${new Date(snapshot.newest - this.countsMarginMs)}`}`;
    }
    const rows = await listAll<{ state?: string }>(table, filter, ['RowKey', 'state', 'Timestamp']);
    for (const r of rows) {
      snapshot.states.set(Number(r.rowKey), r.state as BulkRowState);
      const ts = Date.parse(String(r.timestamp ?? ''));
      if (Number.isFinite(ts) && ts > snapshot.newest) snapshot.newest = ts;
    }
    if (snapshot.states.size > 0) this.snapshots.set(jobId, snapshot);
    else this.snapshots.delete(jobId);
    const counts = emptyCounts();
    for (const state of snapshot.states.values()) if (state in counts) counts[state]++;
    return counts;
  }

  async cancelRemaining(jobId: string, reason: string, time: string): Promise<number> {
    const table = await this.rows();
    const layout = await this.layout(jobId);
    const pending = await listAll<Record<string, unknown>>(table, rowsFilter(layout) + odata` and state eq ${'pending'}`, ['RowKey', 'state']);
    return this.mergeGuarded(
      table,
      layout,
      pending,
      () => ({ state: 'cancelled', error: JSON.stringify(reason), time: JSON.stringify(time) }),
      (row) => row['state'] === 'pending',
    );
  }

  async discardDraftsOlderThan(cutoff: number): Promise<number> {
    const states = `(${DRAFT_JOB_STATES.map((s) => odata`state eq ${s}`).join(' or ')})`;
    const table = await this.jobs();
    const old = await listAll<Record<string, unknown>>(
      table,
      odata`PartitionKey eq ${JOBS}` + ` and ${states} and ${odata`createdAt lt ${numberKey(Math.max(0, Math.floor(cutoff)))}`}`,
      ['RowKey', 'state', 'rowsPerPartition'],
    );
    let removed = 0;
    for (const entity of old) {
      const id = fromTableKey(String(entity.rowKey));
      this.layouts.set(id, Number(entity['rowsPerPartition'] ?? 0));
      try {
        // Guarded by the ETag read: a draft confirmed meanwhile stays.
        await table.deleteEntity(JOBS, String(entity.rowKey), { etag: entity.etag });
      } catch (e) {
        if (isPreconditionFailed(e) || isNotFound(e)) continue;
        throw e;
      }
      removed++;
      await this.deleteRows(id);
    }
    return removed;
  }

  async delete(jobId: string): Promise<void> {
    await this.layout(jobId); // known before the job row, which says it, is gone
    try {
      await (await this.jobs()).deleteEntity(JOBS, tableKey(jobId));
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    await this.deleteRows(jobId);
  }

  /** Deletes a job's rows, a hundred per transaction (after the job itself: rows without a job are never read). */
  private async deleteRows(jobId: string): Promise<void> {
    this.latest.delete(jobId);
    this.snapshots.delete(jobId);
    const table = await this.rows();
    const layout = await this.layout(jobId);
    const keys = await listAll<Record<string, unknown>>(table, rowsFilter(layout), ['RowKey']);
    const at = (k: Record<string, unknown>): string => rowPartition(layout, Number(k.rowKey));
    for (const chunk of byPartition(layout, keys, (k) => Number(k.rowKey))) {
      if (await submitIfAll(table, chunk.map((k): TransactionAction => ['delete', { partitionKey: at(k), rowKey: String(k.rowKey) }]))) continue;
      for (const k of chunk) {
        try {
          await table.deleteEntity(at(k), String(k.rowKey));
        } catch (e) {
          if (!isNotFound(e)) throw e;
        }
      }
    }
  }
}
