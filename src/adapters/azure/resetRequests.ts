/**
 * Guests' reset requests in Azure Table storage: at most one open per guest across every
 * instance, each change audited.
 *
 * Keys: table `<prefix>ResetRequests`, one partition (PartitionKey `resets`: guests ask for a reset
 * rarely, so one partition holds years of them, and every write below is one atomic entity group
 * transaction):
 * - RowKey `req|<tableKey(id)>`: the request (JSON) plus `tenantId`, `status`, and the `outbox` of
 *   its audit event still to write. `close(id)` reads it by id.
 * - RowKey `open|<tableKey(tenantId)>|<tableKey(userId)>`: the open guard, present exactly while
 *   the guest has an open request, holding a copy of it (an open request does not change). `submit`
 *   creates it in the same transaction as the request (409: one is open already, return it),
 *   `close` deletes it in the same transaction as the status change. `findOpen` is a point read of
 *   it, `listOpen` one RowKey range `open|<tenant>|`.
 *
 * The audit event cannot share the transaction (it goes through the AuditLog port), so it is
 * written into the request's `outbox` by that transaction, appended, then cleared. If the audit
 * log refuses it, the transaction is undone (the same ETags) and the error thrown, as the SQLite
 * transaction rolls back. If the writer stops in between, `listOpen`, `submit` and `close` complete
 * outboxes older than a grace period (claimed by ETag, so one process does it; the event is
 * appended only if the log does not hold it yet).
 *
 * Transactions (measured on Azurite; the audit append is the audit log's own): submit 3, a
 * repeated submit 3, findOpen 1, listOpen 2, close 4; each of submit, listOpen and close includes
 * the one query for abandoned outboxes.
 */
import { randomUUID } from 'node:crypto';
import { odata, type TableClient, type TransactionAction } from '@azure/data-tables';
import type { Clock } from '../../domain/clock';
import type { AuditLog } from '../../usecases/ports/auditLog';
import {
  resetClosedAudit,
  resetRequestedAudit,
  type ApprovalAuditEvent,
  type NewResetRequest,
  type ResetRequest,
  type ResetRequestReceipt,
  type ResetRequestRepository,
} from '../../usecases/approvals/ports';
import type { AzureStorageAccount } from './account';
import { fromJsonProperties, getOrNull, isPreconditionFailed, isNotFound, jsonProperties, listAll, numberKey, tableKey } from './tables';
import { appendAuditOnce, OUTBOX_GRACE_MS, prefixEnd, submitIfAll } from './records';

export interface AzureResetRequestDeps {
  clock: Clock;
  audit: AuditLog;
  /** How long an outbox may wait before another process completes it (default 30 s). */
  outboxGraceMs?: number;
}

const PARTITION = 'resets';
const reqKey = (id: string): string => `req|${tableKey(id)}`;
const openKey = (tenantId: string, userId: string): string => `open|${tableKey(tenantId)}|${tableKey(userId)}`;

export class AzureResetRequestRepository implements ResetRequestRepository {
  private readonly clock: Clock;
  private readonly audit: AuditLog;
  private readonly graceMs: number;

  constructor(
    private readonly account: AzureStorageAccount,
    deps: AzureResetRequestDeps,
  ) {
    this.clock = deps.clock;
    this.audit = deps.audit;
    this.graceMs = deps.outboxGraceMs ?? OUTBOX_GRACE_MS;
  }

  private table(): Promise<TableClient> {
    return this.account.table('ResetRequests');
  }

  private requestEntity(request: ResetRequest, outbox: ApprovalAuditEvent | null): { partitionKey: string; rowKey: string } & Record<string, unknown> {
    return {
      partitionKey: PARTITION,
      rowKey: reqKey(request.id),
      tenantId: request.tenantId,
      status: request.status,
      outbox: outbox ? JSON.stringify(outbox) : '',
      outboxAt: outbox ? numberKey(Date.now()) : '',
      ...jsonProperties(request),
    };
  }

  /**
   * Migration only (the SQLite-to-Azure tool; not a port method): writes a request from another
   * store as it is (id, status, times), with its open guard when it is open, in one transaction
   * and without an audit event (its events are copied with the audit log). False when it is there
   * already, or (open) when the guest has another open request here: then nothing is written.
   */
  async importRequest(source: ResetRequest): Promise<boolean> {
    const request: ResetRequest = { ...source };
    const table = await this.table();
    const actions: TransactionAction[] = [['create', this.requestEntity(request, null)]];
    if (request.status === 'open') actions.push(['create', { partitionKey: PARTITION, rowKey: openKey(request.tenantId, request.userId), ...jsonProperties(request) }]);
    return (await submitIfAll(table, actions)) !== null;
  }

  async submit(input: NewResetRequest): Promise<ResetRequestReceipt> {
    const table = await this.table();
    await this.replayStale();
    for (let attempt = 0; attempt < 5; attempt++) {
      const now = this.clock.now().toISOString();
      const request: ResetRequest = { ...input, id: randomUUID(), status: 'open', requestedAt: now, updatedAt: now };
      const audit = resetRequestedAudit(request);
      const guardKey = openKey(input.tenantId, input.userId);
      const written = await submitIfAll(table, [
        ['create', { partitionKey: PARTITION, rowKey: guardKey, ...jsonProperties(request) }],
        ['create', this.requestEntity(request, audit)],
      ]);
      if (written) {
        try {
          await this.audit.append(audit);
        } catch (e) {
          // Undo, as a rolled-back transaction: nothing of this request stays.
          await submitIfAll(table, [
            ['delete', { partitionKey: PARTITION, rowKey: guardKey }],
            ['delete', { partitionKey: PARTITION, rowKey: reqKey(request.id) }],
          ]);
          throw e;
        }
        await this.clearOutbox(request.id, written[1]);
        return { request, alreadyOpen: false };
      }
      const open = await this.findOpen(input.tenantId, input.userId);
      if (open) return { request: open, alreadyOpen: true };
      // Closed between our attempt and the read: try again.
    }
    throw new Error('reset request: could not record it (the guest\'s request kept changing)');
  }

  private async clearOutbox(id: string, etag: string | undefined): Promise<void> {
    if (!etag) return;
    try {
      await (await this.table()).updateEntity({ partitionKey: PARTITION, rowKey: reqKey(id), outbox: '', outboxAt: '' }, 'Merge', { etag });
    } catch (e) {
      if (!isPreconditionFailed(e) && !isNotFound(e)) throw e;
    }
  }

  /** Completes audit outboxes whose writer stopped (older than the grace period). */
  private async replayStale(): Promise<void> {
    const table = await this.table();
    const stale = await listAll<Record<string, unknown>>(
      table,
      // Fixed-width text, compared as text (Table storage does not compare Int64 with Double).
      odata`PartitionKey eq ${PARTITION} and outboxAt gt ${''} and outboxAt lt ${numberKey(Date.now() - this.graceMs)}`,
    );
    for (const row of stale) {
      const outbox = JSON.parse(String(row['outbox'])) as ApprovalAuditEvent;
      let etag: string | undefined;
      try {
        etag = (await table.updateEntity({ partitionKey: PARTITION, rowKey: row.rowKey ?? '', outboxAt: numberKey(Date.now()) }, 'Merge', { etag: row.etag })).etag;
      } catch (e) {
        if (isPreconditionFailed(e) || isNotFound(e)) continue;
        throw e;
      }
      await appendAuditOnce(this.audit, outbox, true);
      const request = fromJsonProperties<ResetRequest>(row);
      await this.clearOutbox(request.id, etag);
    }
  }

  async findOpen(tenantId: string, userId: string): Promise<ResetRequest | null> {
    const row = await getOrNull<Record<string, unknown>>(await this.table(), PARTITION, openKey(tenantId, userId));
    return row ? fromJsonProperties<ResetRequest>(row) : null;
  }

  async listOpen(tenantId: string): Promise<ResetRequest[]> {
    await this.replayStale();
    const prefix = `open|${tableKey(tenantId)}|`;
    const rows = await listAll<Record<string, unknown>>(
      await this.table(),
      odata`PartitionKey eq ${PARTITION} and RowKey ge ${prefix} and RowKey lt ${prefixEnd(prefix)}`,
    );
    return rows
      .map((r) => fromJsonProperties<ResetRequest>(r))
      .sort((a, b) => (a.requestedAt < b.requestedAt ? -1 : a.requestedAt > b.requestedAt ? 1 : a.id < b.id ? -1 : 1));
  }

  async close(id: string, status: 'done' | 'declined', by: { userId: string; name: string }): Promise<boolean> {
    const table = await this.table();
    await this.replayStale();
    for (let attempt = 0; attempt < 5; ) {
      const row = await getOrNull<Record<string, unknown>>(table, PARTITION, reqKey(id));
      if (!row) return false;
      const request = fromJsonProperties<ResetRequest>(row);
      if (request.status !== 'open') return false;
      if (typeof row['outbox'] === 'string' && row['outbox'] !== '') {
        // The submit's audit event is still being written: wait for it (or, abandoned, complete
        // it) rather than overwrite the outbox.
        if (Date.now() - Number(row['outboxAt'] || 0) >= this.graceMs) await this.replayStale();
        else await new Promise((resolve) => setTimeout(resolve, 25));
        continue;
      }
      attempt++;
      const closed: ResetRequest = { ...request, status, updatedAt: this.clock.now().toISOString() };
      const audit = resetClosedAudit(id, status, by);
      const guardKey = openKey(request.tenantId, request.userId);
      const written = await submitIfAll(table, [
        ['update', this.requestEntity(closed, audit), 'Replace', { etag: row.etag }],
        ['delete', { partitionKey: PARTITION, rowKey: guardKey }],
      ]);
      if (!written) continue; // changed since read: look again
      try {
        await this.audit.append(audit);
      } catch (e) {
        // Undo: open again, as it was.
        const etag = written[0];
        if (etag) {
          await submitIfAll(table, [
            ['update', this.requestEntity(request, null), 'Replace', { etag }],
            ['create', { partitionKey: PARTITION, rowKey: guardKey, ...jsonProperties(request) }],
          ]);
        }
        throw e;
      }
      await this.clearOutbox(id, written[0]);
      return true;
    }
    return false;
  }
}
