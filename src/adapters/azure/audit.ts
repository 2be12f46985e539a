/**
 * The audit log in Azure Table storage: append-only (nothing here updates an event; the only
 * deletion is retention, pruneBefore),
 * positions that follow time across instances, and the same list() answers as SQLite.
 *
 * Table `<prefix>Audit`, one entity per event:
 *   PartitionKey tableKey(subjectType + '|' + subjectId): everything that happened to one thing
 *   (an invitation request, an approval) is one partition, read by one partition query;
 *   RowKey numberKey(seq) for an ordinary append, or 'k~' + tableKey(key) for a keyed append
 *   (appendOnce: a replayed companion write lands on the same entity, never twice).
 *   Properties: seq, at, actorId, actorName, action, subjectType, subjectId, details (JSON, split
 *   over json0.. when long).
 *
 * seq = the clock's epoch ms × 1000 + a counter: strictly increasing within a process, ordered by
 * time across instances (up to their clocks' skew), unique because the insert refuses a taken key
 * (then the next number is tried). It stays below 2^53 until the year 2255.
 *
 * Transactions: append = 1 (insert); appendOnce = 1 (2 when it was already written: the read of
 * the stored event). list by subject = one partition query; list by actor, action or time alone
 * is a query over the whole table filtered by the service (the bot itself never lists; this is
 * for admins and tests).
 *
 * Time ranges (listRange, for the audit export) and retention (pruneBefore) are such scans too,
 * filtered by the service on `at` (ISO text, so text order is time order): one export or one
 * sweep a day reads the range once per page, which costs far less than a second, time-keyed copy
 * of every event would on every append. A page is the range's events after the cursor (`seq`),
 * sorted by `seq` here. pruneBefore deletes what it found in batch transactions of at most 100
 * entities of one partition.
 */
import { odata, type TableClient } from '@azure/data-tables';
import { type Clock, systemClock } from '../../domain/clock';
import {
  auditLimit,
  auditPageLimit,
  validateAuditRange,
  type AuditPage,
  type AuditRange,
  validateAuditEvent,
  type AuditEvent,
  type AuditEventInput,
  type AuditFilter,
  type AuditLog,
  type JsonValue,
} from '../../usecases/ports/auditLog';
import type { AzureStorageAccount } from './account';
import { fromJsonProperties, getOrNull, insertIfAbsent, isNotFound, jsonProperties, listAll, numberKey, statusOf, tableKey } from './tables';

interface AuditEntity {
  seq: number;
  at: string;
  actorId: string;
  actorName: string;
  action: string;
  subjectType: string;
  subjectId: string;
}

/**
 * An audit log that can also record an event under a caller's key, exactly once: the Azure
 * repositories write their companion audit events this way, so a replay after a crash completes
 * them without a second event.
 */
export interface KeyedAuditLog extends AuditLog {
  /** Appends the event under `key` unless an event with that key is already recorded; returns the recorded one. */
  appendOnce(key: string, event: AuditEventInput): Promise<AuditEvent>;
}

export function isKeyedAuditLog(audit: AuditLog): audit is KeyedAuditLog {
  return typeof (audit as Partial<KeyedAuditLog>).appendOnce === 'function';
}

export const auditPartition = (subjectType: string, subjectId: string): string => tableKey(`${subjectType}|${subjectId}`);

export class AzureAuditLog implements KeyedAuditLog {
  private lastSeq = 0;

  constructor(
    private readonly account: AzureStorageAccount,
    private readonly clock: Clock = systemClock,
  ) {}

  private table(): Promise<TableClient> {
    return this.account.table('Audit');
  }

  /** The next position: after every one this process gave, and not before the clock's millisecond. */
  private nextSeq(atMs: number): number {
    this.lastSeq = Math.max(this.lastSeq + 1, atMs * 1000);
    return this.lastSeq;
  }

  async append(event: AuditEventInput): Promise<AuditEvent> {
    return this.write(event, null);
  }

  async appendOnce(key: string, event: AuditEventInput): Promise<AuditEvent> {
    return this.write(event, key);
  }

  private async write(event: AuditEventInput, key: string | null): Promise<AuditEvent> {
    const detailsJson = validateAuditEvent(event);
    const table = await this.table();
    const now = this.clock.now();
    const at = now.toISOString();
    const partitionKey = auditPartition(event.subjectType, event.subjectId);
    for (let attempt = 0; ; attempt++) {
      const seq = this.nextSeq(now.getTime());
      const entity: AuditEntity = {
        seq,
        at,
        actorId: event.actorId,
        actorName: event.actorName,
        action: event.action,
        subjectType: event.subjectType,
        subjectId: event.subjectId,
      };
      const rowKey = key === null ? numberKey(seq) : `k~${tableKey(key)}`;
      const details = JSON.parse(detailsJson) as { [k: string]: JsonValue };
      if (await insertIfAbsent(table, { partitionKey, rowKey, ...entity, ...jsonProperties(details) })) {
        return { ...entity, details };
      }
      if (key !== null) {
        const stored = await getOrNull<Record<string, unknown>>(table, partitionKey, rowKey);
        if (stored) return toEvent(stored);
      }
      // Another instance took this position in the same millisecond: the next one.
      if (attempt > 50) throw new Error('audit: no free position after 50 tries');
    }
  }

  /**
   * Migration only (the SQLite-to-Azure tool; not a port method): writes an event of another log
   * with its own time and position. Its RowKey is `i~` + its old position, so a second import of
   * the same event finds it there (false, nothing written); its `seq` stays the old one, which is
   * smaller than any this log gives (epoch ms × 1000), so the old history lists before the new, in
   * its own order.
   */
  async importEvent(event: AuditEvent): Promise<boolean> {
    const entity: AuditEntity = {
      seq: event.seq,
      at: event.at,
      actorId: event.actorId,
      actorName: event.actorName,
      action: event.action,
      subjectType: event.subjectType,
      subjectId: event.subjectId,
    };
    return insertIfAbsent(await this.table(), {
      partitionKey: auditPartition(event.subjectType, event.subjectId),
      rowKey: `i~${numberKey(event.seq)}`,
      ...entity,
      ...jsonProperties(event.details ?? {}),
    });
  }

  async list(filter: AuditFilter = {}): Promise<AuditEvent[]> {
    const conditions: string[] = [];
    if (filter.subjectType !== undefined && filter.subjectId !== undefined) {
      conditions.push(odata`PartitionKey eq ${auditPartition(filter.subjectType, filter.subjectId)}`);
    } else {
      if (filter.subjectType !== undefined) conditions.push(odata`subjectType eq ${filter.subjectType}`);
      if (filter.subjectId !== undefined) conditions.push(odata`subjectId eq ${filter.subjectId}`);
    }
    if (filter.actorId !== undefined) conditions.push(odata`actorId eq ${filter.actorId}`);
    if (filter.action !== undefined) conditions.push(odata`action eq ${filter.action}`);
    // ISO strings from toISOString() sort as time, so a text comparison is a time comparison.
    if (filter.since !== undefined) conditions.push(odata`at ge ${filter.since.toISOString()}`);
    const rows = await listAll<Record<string, unknown>>(await this.table(), conditions.join(' and '));
    const events = rows.map(toEvent).sort((a, b) => a.seq - b.seq);
    return events.slice(Math.max(0, events.length - auditLimit(filter)));
  }

  async listRange(range: AuditRange): Promise<AuditPage> {
    const { from, to, after } = validateAuditRange(range);
    const limit = auditPageLimit(range);
    const filter = odata`at ge ${from} and at lt ${to} and seq gt ${after}`;
    const events = (await listAll<Record<string, unknown>>(await this.table(), filter)).map(toEvent).sort((a, b) => a.seq - b.seq);
    const page = events.slice(0, limit);
    return { events: page, next: events.length > limit ? (page.at(-1)?.seq ?? null) : null };
  }

  async pruneBefore(before: Date): Promise<number> {
    const table = await this.table();
    const old = await listAll<Record<string, unknown>>(table, odata`at lt ${before.toISOString()}`, ['PartitionKey', 'RowKey']);
    const byPartition = new Map<string, string[]>();
    for (const { partitionKey, rowKey } of old) {
      if (partitionKey === undefined || rowKey === undefined) continue;
      const keys = byPartition.get(partitionKey) ?? [];
      keys.push(rowKey);
      byPartition.set(partitionKey, keys);
    }
    let pruned = 0;
    for (const [partitionKey, rowKeys] of byPartition) {
      for (let i = 0; i < rowKeys.length; i += PRUNE_BATCH) {
        const slice = rowKeys.slice(i, i + PRUNE_BATCH);
        try {
          await table.submitTransaction(slice.map((rowKey) => ['delete', { partitionKey, rowKey }] as const));
        } catch (e) {
          // Another instance pruned some of them first (a batch fails whole): one by one, gone counts as done.
          if (statusOf(e) !== 404) throw e;
          for (const rowKey of slice) await table.deleteEntity(partitionKey, rowKey).catch((err: unknown) => {
            if (!isNotFound(err)) throw err;
          });
        }
        pruned += slice.length;
      }
    }
    return pruned;
  }
}

/** Entities per delete transaction (the service's limit for one batch). */
const PRUNE_BATCH = 100;

function toEvent(row: Record<string, unknown>): AuditEvent {
  const e = row as unknown as AuditEntity;
  return {
    seq: Number(e.seq),
    at: e.at,
    actorId: e.actorId,
    actorName: e.actorName,
    action: e.action,
    subjectType: e.subjectType,
    subjectId: e.subjectId,
    details: fromJsonProperties<{ [k: string]: JsonValue }>(row),
  };
}
