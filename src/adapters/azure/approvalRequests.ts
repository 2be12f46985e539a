/**
 * Approval requests, their deliveries and the requester notices in Azure Table storage: one
 * decision per request whichever instance a click reaches, the first outcome only, notices claimed
 * with a lease.
 *
 * Keys (three tables):
 *
 * - `<prefix>Approvals`, PartitionKey = tableKey(requestId):
 *   - RowKey `request`: the request (JSON) plus `state` and the `outbox` of companion writes still
 *     to do. Every change is a Replace with the ETag read, guarded in code by state and version
 *     (compare-and-set: of N concurrent deciders exactly one Replace succeeds, 412 for the rest).
 *   - RowKey `d|<numberKey(deliveryId)>`: the deliveries, in the order recorded. `listDeliveries`
 *     and `listCardCopies` are one RowKey range in the request's partition.
 * - `<prefix>ApprovalIndex`:
 *   - PartitionKey `active`, RowKey tableKey(requestId): every request that may still need work
 *     (pending, approved without an outcome, or with an outbox), with its immutable facts (tenant,
 *     kind, guest address, site, guest user, created, expires) and, once a decision was tried,
 *     `decidedAt` (merged in just before the decision is written). Written before the request, so
 *     no request is ever missing from it; a row whose request turned out closed for good is
 *     deleted when a list meets it. `listPending`, `listDueForExpiry`, `findPending*` and
 *     `listApprovedWithoutOutcome` (every few seconds: `decidedAt le` the cutoff) query this one
 *     small partition filtered on those facts, then read the candidates' request rows for their
 *     state: no scan over closed requests, and the recovery sweep reads decided requests only.
 *   - PartitionKey `to|<recipientId>`, RowKey tableKey(requestId): `failed` / `reached` flags of
 *     the approval cards sent to that person, set by Merge-upserts (idempotent, in any order).
 *     `listUndeliveredFor` is one partition query; it drops the rows of requests no longer
 *     pending (no card of those is delivered again).
 *   - PartitionKey `pendingNotices`, RowKey numberKey(noticeId): the notices still pending, with
 *     their request, requester and conversation. Written before the notice; removed when a
 *     notice stops being pending (or by the next list that finds it delivered or superseded).
 *     `listPendingNoticesFor` and `listPendingNoticesForConversation` run on every turn, so they
 *     query this small partition (one request when nothing is pending), then read the candidates'
 *     notice rows (the truth). `listNoticesDueForRetry` and superseding use it too.
 * - `<prefix>ApprovalNotices`, PartitionKey `notices`, RowKey numberKey(noticeId): the requester
 *   notices (JSON) plus `state`, `requestId`, `requesterId`, `conversationId`. `getNotice` is a
 *   point read; claims, deliveries, releases and superseding are compare-and-set on the ETag;
 *   `listNotices(requestId)` is a filtered query of the partition (not on a turn's path).
 *
 * Companion writes (the audit event and carry-out lease of a decision; the audit event, the new
 * notice and the superseding of older ones of a first outcome) live in other tables or behind the
 * AuditLog / LeaseStore ports, so they cannot share the request's transaction. They are written
 * into the request row's `outbox` by the same Replace that decides (so they exist exactly when the
 * decision won), then carried out, then the outbox is cleared. Each step is idempotent: the notice
 * has its id fixed in the outbox (create-if-absent), superseding is compare-and-set, a lease
 * acquire by the same holder is a renewal, and a replayed audit event is appended only when the log
 * does not already hold it. If the writer stops half-way, the next process that reads the request
 * (a get, a decision, a sweep's list) after a grace period claims the outbox by ETag and completes
 * it: never lost, never written twice. A change of a request whose outbox is still being
 * written by another process waits for it (it never overwrites an outbox). If the audit log
 * refuses the decision's event, the request is put back as it was (the same ETag
 * compare-and-set) and the error is thrown, as the SQLite transaction rolls back (unlike SQLite,
 * a reader may have seen the decision in the moment between).
 *
 * Ids of deliveries and notices are numbers in the order made (OrderedIds), inserted with
 * create-if-absent (a number taken by another process in the same instant is skipped; an
 * outcome's notice takes the next free number after the one in its outbox, the same on a replay).
 *
 * Transactions (measured on Azurite; the audit append and lease acquire are their stores' own):
 * create 2, findPendingInvitation 1 + one read per candidate, recordDelivery 2 (1 for a
 * non-card), decide 4 with companions (read, index hint, Replace, clear the outbox) and 3 without,
 * recordFirstOutcome 6, a turn's listPendingNoticesFor + listUndeliveredFor 2 when nothing is
 * waiting, listDueForExpiry 1 + one read per request due.
 */
import { randomUUID } from 'node:crypto';
import { odata, type TableClient } from '@azure/data-tables';
import type { AuditLog } from '../../usecases/ports/auditLog';
import type { LeaseStore } from '../../usecases/ports/leases';
import type {
  ApprovalOutcomeStatus,
  ApprovalRequest,
  CasResult,
  Decision,
  Delivery,
  NewApprovalRequest,
  NewDelivery,
  NewRequesterNotice,
  RequesterNotice,
} from '../../usecases/approvals/model';
import { byCreated, newApprovalRequest } from '../../usecases/approvals/model';
import type {
  ApprovalAuditEvent,
  ApprovalRequestRepository,
  DecisionCompanions,
  FirstOutcomeResult,
  LeaseClaim,
  OutcomeCompanions,
} from '../../usecases/approvals/ports';
import type { AzureStorageAccount } from './account';
import { fromJsonProperties, fromTableKey, getOrNull, isConflict, isNotFound, isPreconditionFailed, jsonProperties, listAll, numberKey, tableKey } from './tables';
import { appendAuditOnce, BoundedCache, mapLimit, orderedIds, OUTBOX_GRACE_MS, READ_PARALLELISM } from './records';

export interface AzureApprovalDeps {
  audit: AuditLog;
  /** Where a decision's carry-out lease is taken (required when a decision comes with one). */
  leases?: LeaseStore;
  /** How long an outbox may wait before another process completes it (default 30 s). */
  outboxGraceMs?: number;
}

type Outbox =
  | { kind: 'decision'; audit: ApprovalAuditEvent; lease: LeaseClaim | null }
  | { kind: 'outcome'; audit: ApprovalAuditEvent; notice: NewRequesterNotice & { id: number } };

interface RequestRow {
  request: ApprovalRequest;
  etag: string;
  outbox: Outbox | null;
  /** Wall-clock ms the outbox was written (or last claimed by a replay). */
  outboxAt: number;
}

interface NoticeRow extends RequesterNotice {
  claimedUntil: string | null;
}

type Entity = { partitionKey: string; rowKey: string } & Record<string, unknown>;

const REQUEST = 'request';
/** How often a change waits on another writer's outbox to clear. */
const OUTBOX_POLL_MS = 25;
const ACTIVE = 'active';
const NOTICES = 'notices';
const PENDING_NOTICES = 'pendingNotices';
const copy = <T>(value: T): T => structuredClone(value);

/** A request that can still change or still has companion writes to do. */
const isActive = (row: RequestRow): boolean =>
  row.outbox !== null || row.request.state === 'pending' || (row.request.state === 'approved' && row.request.outcome === null);

export class AzureApprovalRequestRepository implements ApprovalRequestRepository {
  private readonly audit: AuditLog;
  private readonly leases: LeaseStore | undefined;
  private readonly graceMs: number;
  /**
   * Requests known to exist (never deleted), with their requester's conversation, so a delivery or
   * notice for one needs no read first.
   */
  private readonly known = new BoundedCache<string, { conversationId: string | null }>();

  constructor(
    private readonly account: AzureStorageAccount,
    deps: AzureApprovalDeps,
  ) {
    this.audit = deps.audit;
    this.leases = deps.leases;
    this.graceMs = deps.outboxGraceMs ?? OUTBOX_GRACE_MS;
  }

  private requests(): Promise<TableClient> {
    return this.account.table('Approvals');
  }

  private index(): Promise<TableClient> {
    return this.account.table('ApprovalIndex');
  }

  private noticesTable(): Promise<TableClient> {
    return this.account.table('ApprovalNotices');
  }

  // ---------------------------------------------------------------- requests

  async create(input: NewApprovalRequest, id: string = randomUUID()): Promise<ApprovalRequest> {
    const request = newApprovalRequest(id, input);
    const subject = request.subject;
    // The index row first: a request never exists without it. (It may exist without a request
    // if this process stops here; lists drop such rows.)
    const index = await this.index();
    try {
      await index.createEntity({
        partitionKey: ACTIVE,
        rowKey: tableKey(id),
        tenantId: request.tenantId,
        kind: request.kind,
        email: subject.kind === 'invitation' ? subject.guestEmail.toLowerCase() : '',
        groupId: subject.kind === 'invitation' ? subject.groupId : '',
        guestUserId: subject.kind === 'redemptionReset' ? subject.guestUserId : '',
        createdAt: request.createdAt,
        expiresAt: request.expiresAt,
      });
    } catch (e) {
      if (!isConflict(e)) throw e;
    }
    const table = await this.requests();
    // Throws (409) when a request with this id exists already.
    await table.createEntity(this.entity(request, null, 0));
    this.known.set(id, { conversationId: request.requesterConversationId });
    return copy(request);
  }

  /**
   * Migration only (the SQLite-to-Azure tool; not a port method): writes a request from another
   * store as it is (id, state, version, decision, outcome), with its deliveries and requester
   * notices under their own ids, and every index row the bot's own writes keep: the `active` row
   * while it may still need work, the `to|<recipient>` flags of its approval cards, the
   * `pendingNotices` row of each pending notice (index rows first, as `create` and `writeNotice`
   * do). The request row is written last, so once it is there everything it needs is: then this
   * is false and writes nothing (the bot here may have moved the request on since). A run that
   * stopped before it writes the rest again, each create-if-absent.
   */
  async importRequest(source: ApprovalRequest, deliveries: readonly Delivery[], notices: readonly RequesterNotice[]): Promise<boolean> {
    const request = copy(source);
    const table = await this.requests();
    if (await getOrNull(table, tableKey(request.id), REQUEST)) return false;
    const index = await this.index();
    const createQuietly = async (table: TableClient, entity: Entity): Promise<boolean> => {
      try {
        await table.createEntity(entity);
        return true;
      } catch (e) {
        if (isConflict(e)) return false;
        throw e;
      }
    };
    if (isActive({ request, etag: '', outbox: null, outboxAt: 0 })) {
      const subject = request.subject;
      await createQuietly(index, {
        partitionKey: ACTIVE,
        rowKey: tableKey(request.id),
        tenantId: request.tenantId,
        kind: request.kind,
        email: subject.kind === 'invitation' ? subject.guestEmail.toLowerCase() : '',
        groupId: subject.kind === 'invitation' ? subject.groupId : '',
        guestUserId: subject.kind === 'redemptionReset' ? subject.guestUserId : '',
        createdAt: request.createdAt,
        expiresAt: request.expiresAt,
        ...(request.decidedAt ? { decidedAt: request.decidedAt } : {}),
      });
    }
    for (const delivery of deliveries) {
      if (delivery.purpose === 'card' && delivery.recipientId !== null) {
        const flag = delivery.status === 'sent' ? { reached: true } : { failed: true };
        await index.upsertEntity({ partitionKey: `to|${tableKey(delivery.recipientId)}`, rowKey: tableKey(request.id), ...flag }, 'Merge');
      }
      await createQuietly(table, { partitionKey: tableKey(request.id), rowKey: `d|${numberKey(delivery.id)}`, ...jsonProperties(copy(delivery)) });
    }
    const noticeTable = await this.noticesTable();
    for (const notice of notices) {
      if (notice.state === 'pending') {
        await createQuietly(index, {
          partitionKey: PENDING_NOTICES,
          rowKey: numberKey(notice.id),
          requestId: notice.requestId,
          requesterId: notice.requesterId,
          conversationId: request.requesterConversationId ?? '',
        });
      }
      // A claim in flight belonged to a process of the other store: not carried over.
      await createQuietly(noticeTable, this.noticeEntity({ ...copy(notice), claimedUntil: null }, request.requesterConversationId));
    }
    // The request row last (see above).
    const created = await createQuietly(table, this.entity(request, null, 0));
    if (created) this.known.set(request.id, { conversationId: request.requesterConversationId });
    return created;
  }

  private entity(request: ApprovalRequest, outbox: Outbox | null, outboxAt: number): Entity {
    return {
      partitionKey: tableKey(request.id),
      rowKey: REQUEST,
      state: request.state,
      outbox: outbox ? JSON.stringify(outbox) : '',
      outboxAt,
      ...jsonProperties(request),
    };
  }

  private async readRow(id: string): Promise<RequestRow | null> {
    const row = await getOrNull<Record<string, unknown>>(await this.requests(), tableKey(id), REQUEST);
    if (!row) return null;
    const request = fromJsonProperties<ApprovalRequest>(row);
    this.known.set(id, { conversationId: request.requesterConversationId });
    const outbox = typeof row['outbox'] === 'string' && row['outbox'] !== '' ? (JSON.parse(row['outbox']) as Outbox) : null;
    return { request, etag: row.etag, outbox, outboxAt: Number(row['outboxAt'] ?? 0) };
  }

  /** The request row, with an abandoned outbox (its writer stopped) completed first. */
  private async readSettled(id: string): Promise<RequestRow | null> {
    const row = await this.readRow(id);
    if (row?.outbox && Date.now() - row.outboxAt >= this.graceMs) {
      await this.replayOutbox(row);
      return this.readRow(id);
    }
    return row;
  }

  async get(id: string): Promise<ApprovalRequest | null> {
    return (await this.readSettled(id))?.request ?? null;
  }

  /**
   * A compare-and-set on a request: `change` returns the new request (and outbox) or null when the
   * request is not in a state it may change from. A 412 (the row changed since it was read) is
   * re-read and re-decided, so only a real change of state or version loses.
   */
  private async cas(
    id: string,
    change: (r: ApprovalRequest) => { next: ApprovalRequest; outbox: Outbox | null } | null,
    beforeWrite?: (next: ApprovalRequest) => Promise<void>,
  ): Promise<{ won: true; request: ApprovalRequest; before: RequestRow; etag: string; outbox: Outbox | null } | { won: false; current: ApprovalRequest | null }> {
    const table = await this.requests();
    for (;;) {
      const row = await this.readSettled(id);
      if (!row) return { won: false, current: null };
      const changed = change(copy(row.request));
      if (!changed) return { won: false, current: row.request };
      if (row.outbox) {
        // Another writer's companions are still being written (readSettled completes them once
        // they are abandoned): wait for them rather than overwrite the outbox.
        await new Promise((resolve) => setTimeout(resolve, OUTBOX_POLL_MS));
        continue;
      }
      const outboxAt = changed.outbox ? Date.now() : 0;
      if (beforeWrite) await beforeWrite(changed.next);
      try {
        const response = await table.updateEntity(this.entity(changed.next, changed.outbox, outboxAt), 'Replace', { etag: row.etag });
        return { won: true, request: changed.next, before: row, etag: response.etag ?? '', outbox: changed.outbox };
      } catch (e) {
        if (!isPreconditionFailed(e) && !isNotFound(e)) throw e;
        // Changed since read: look again.
      }
    }
  }

  private pendingCas(
    id: string,
    expectedVersion: number,
    change: (r: ApprovalRequest) => void,
    outbox: Outbox | null = null,
    beforeWrite?: (next: ApprovalRequest) => Promise<void>,
  ): ReturnType<AzureApprovalRequestRepository['cas']> {
    return this.cas(
      id,
      (r) => {
        if (r.state !== 'pending' || r.version !== expectedVersion) return null;
        change(r);
        r.version += 1;
        return { next: r, outbox };
      },
      beforeWrite,
    );
  }

  /**
   * Marks the request's active-index row as decided (at the decision's time) before the decision
   * is written, so the sweep for approved requests without an outcome reads only decided ones. A
   * hint: a decision that then loses leaves it, and the sweep finds the request still pending.
   */
  private async hintDecided(next: ApprovalRequest): Promise<void> {
    try {
      await (await this.index()).updateEntity({ partitionKey: ACTIVE, rowKey: tableKey(next.id), decidedAt: next.decidedAt ?? '' }, 'Merge', { etag: '*' });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  async decide(id: string, expectedVersion: number, decision: Decision, companions?: DecisionCompanions): Promise<CasResult> {
    if (companions?.lease && !this.leases) throw new Error('AzureApprovalRequestRepository: no lease store to take a lease in');
    const outbox: Outbox | null = companions ? { kind: 'decision', audit: companions.audit, lease: companions.lease ?? null } : null;
    const result = await this.pendingCas(
      id,
      expectedVersion,
      (r) => {
        r.state = decision.state;
        r.decidedAt = decision.at;
        r.decidedBy = decision.by ? { ...decision.by } : null;
        r.decisionNote = decision.note;
      },
      outbox,
      (next) => this.hintDecided(next),
    );
    if (!result.won) return result;
    if (result.outbox) await this.completeOutbox(result.request, result.outbox, result.etag, result.before, false);
    return { won: true, request: copy(result.request) };
  }

  async requestInfo(id: string, expectedVersion: number, by: { name: string }, question: string, at: string): Promise<CasResult> {
    const result = await this.pendingCas(id, expectedVersion, (r) => {
      r.infoRequest = { byName: by.name, question, at };
    });
    return result.won ? { won: true, request: result.request } : result;
  }

  async appendJustification(id: string, expectedVersion: number, justification: string): Promise<CasResult> {
    const result = await this.pendingCas(id, expectedVersion, (r) => {
      r.justification = justification;
      r.infoRequest = null;
    });
    return result.won ? { won: true, request: result.request } : result;
  }

  async recordFirstOutcome(
    id: string,
    outcome: { status: ApprovalOutcomeStatus; message: string; at: string },
    companions: OutcomeCompanions,
  ): Promise<FirstOutcomeResult> {
    const noticeId = orderedIds.next();
    const result = await this.cas(id, (r) => {
      if (r.state !== 'approved' || r.outcome !== null) return null;
      r.outcome = { status: outcome.status, message: outcome.message, at: outcome.at };
      r.version += 1;
      const notice = { ...companions.notice, id: noticeId, requestId: id, requesterId: r.requester.userId, requestVersion: r.version };
      return { next: r, outbox: { kind: 'outcome', audit: companions.audit, notice } };
    });
    if (!result.won) return result;
    const notice = await this.completeOutbox(result.request, result.outbox as Outbox, result.etag, result.before, false);
    if (!notice) throw new Error('recordFirstOutcome: the notice was not written');
    return { won: true, request: copy(result.request), notice };
  }

  /**
   * Carries out an outbox and clears it. `replay`: another process wrote it (and may have done
   * part of it). On the first attempt a refused audit event puts the request back as it was.
   */
  private async completeOutbox(
    request: ApprovalRequest,
    outbox: Outbox,
    etag: string,
    before: RequestRow | null,
    replay: boolean,
  ): Promise<RequesterNotice | null> {
    const table = await this.requests();
    try {
      await appendAuditOnce(this.audit, outbox.audit, replay);
    } catch (e) {
      if (!replay && before) {
        // As a rolled-back transaction: the request as it was, if nobody touched it since.
        try {
          await table.updateEntity(this.entity(before.request, before.outbox, before.outboxAt), 'Replace', { etag });
        } catch {
          // Left with its outbox: a later replay completes it.
        }
      }
      throw e;
    }
    let notice: RequesterNotice | null = null;
    if (outbox.kind === 'decision') {
      if (outbox.lease) {
        if (!this.leases) throw new Error('AzureApprovalRequestRepository: no lease store to take a lease in');
        await this.leases.acquire(outbox.lease.key, outbox.lease.holderId, outbox.lease.ttlMs);
      }
    } else {
      await this.supersede(request.id, outbox.notice.requestVersion);
      // The id fixed in the outbox, or (taken by another process's notice in the same instant) the
      // next free one after it: the same sequence on a replay, so the notice is written once.
      for (let id = outbox.notice.id; notice === null; id++) {
        notice = await this.writeNotice(outbox.notice, request.requesterConversationId, id);
      }
    }
    // Clear the outbox (only if nobody changed the row since; a replay that claimed it clears it).
    try {
      await table.updateEntity({ partitionKey: tableKey(request.id), rowKey: REQUEST, outbox: '', outboxAt: 0 }, 'Merge', { etag });
    } catch (e) {
      if (!isPreconditionFailed(e) && !isNotFound(e)) throw e;
    }
    return notice;
  }

  /** Completes an outbox whose writer stopped: claims it by ETag first, so one process replays it. */
  private async replayOutbox(row: RequestRow): Promise<void> {
    if (!row.outbox) return;
    const table = await this.requests();
    let etag: string;
    try {
      const response = await table.updateEntity(
        { partitionKey: tableKey(row.request.id), rowKey: REQUEST, outboxAt: Date.now() },
        'Merge',
        { etag: row.etag },
      );
      etag = response.etag ?? '';
    } catch (e) {
      if (isPreconditionFailed(e) || isNotFound(e)) return; // someone else is on it
      throw e;
    }
    await this.completeOutbox(row.request, row.outbox, etag, null, true);
  }

  // ---------------------------------------------------------------- lists over the active index

  /** The active requests whose index row matches `filter` (read whole, settled); closed ones leave the index. */
  private async active(filter?: string): Promise<ApprovalRequest[]> {
    const index = await this.index();
    const rows = await listAll<Record<string, unknown>>(index, odata`PartitionKey eq ${ACTIVE}` + (filter ? ` and ${filter}` : ''));
    const found = await mapLimit(rows, READ_PARALLELISM, async (row) => {
      const id = fromTableKey(row.rowKey ?? '');
      const request = await this.readSettled(id);
      if (request && isActive(request)) return request.request;
      // Closed for good (or never written by a process that stopped): no list needs it again.
      // A row younger than the grace period may belong to a create still under way: keep it.
      if (request || Date.now() - Date.parse(String(row.timestamp ?? '')) > this.graceMs) {
        try {
          await index.deleteEntity(ACTIVE, row.rowKey ?? '');
        } catch (e) {
          if (!isNotFound(e)) throw e;
        }
      }
      return null;
    });
    return found.filter((r): r is ApprovalRequest => r !== null);
  }

  async listPending(tenantId: string): Promise<ApprovalRequest[]> {
    return (await this.active(odata`tenantId eq ${tenantId}`)).filter((r) => r.state === 'pending').sort(byCreated);
  }

  async listDueForExpiry(nowIso: string): Promise<ApprovalRequest[]> {
    return (await this.active(odata`expiresAt le ${nowIso}`))
      .filter((r) => r.state === 'pending' && r.expiresAt <= nowIso)
      .sort((a, b) => (a.expiresAt < b.expiresAt ? -1 : a.expiresAt > b.expiresAt ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  async findPendingInvitation(tenantId: string, guestEmail: string, groupId: string): Promise<ApprovalRequest | null> {
    const found = await this.active(
      odata`tenantId eq ${tenantId} and kind eq ${'invitation'} and email eq ${guestEmail.toLowerCase()} and groupId eq ${groupId}`,
    );
    return found.filter((r) => r.state === 'pending').sort(byCreated)[0] ?? null;
  }

  async findPendingReset(tenantId: string, guestUserId: string): Promise<ApprovalRequest | null> {
    const found = await this.active(odata`tenantId eq ${tenantId} and kind eq ${'redemptionReset'} and guestUserId eq ${guestUserId}`);
    return found.filter((r) => r.state === 'pending').sort(byCreated)[0] ?? null;
  }

  async listApprovedWithoutOutcome(decidedBeforeIso: string): Promise<ApprovalRequest[]> {
    // Only requests a decision was written for (the hint; rows without one are not matched).
    return (await this.active(odata`decidedAt le ${decidedBeforeIso}`))
      .filter((r) => r.state === 'approved' && r.outcome === null && r.decidedAt !== null && r.decidedAt <= decidedBeforeIso)
      .sort((a, b) => ((a.decidedAt ?? '') < (b.decidedAt ?? '') ? -1 : (a.decidedAt ?? '') > (b.decidedAt ?? '') ? 1 : a.id < b.id ? -1 : 1));
  }

  async listUndeliveredFor(recipientId: string): Promise<ApprovalRequest[]> {
    const rows = await listAll<{ failed?: boolean; reached?: boolean }>(
      await this.index(),
      odata`PartitionKey eq ${`to|${tableKey(recipientId)}`} and failed eq ${true}`,
    );
    const index = await this.index();
    const requests = await mapLimit(
      rows.filter((r) => r.reached !== true),
      READ_PARALLELISM,
      async (row) => {
        const request = await this.get(fromTableKey(row.rowKey ?? ''));
        if (request?.state === 'pending') return request;
        // Decided, cancelled or expired: no card of it is ever delivered again, so its row goes.
        if (request) {
          try {
            await index.deleteEntity(row.partitionKey ?? '', row.rowKey ?? '');
          } catch (e) {
            if (!isNotFound(e)) throw e;
          }
        }
        return null;
      },
    );
    return requests.filter((r): r is ApprovalRequest => r !== null).sort(byCreated);
  }

  // ---------------------------------------------------------------- deliveries

  /** The request's conversation (for the notice filters); throws when there is no such request. */
  private async mustExist(requestId: string): Promise<{ conversationId: string | null }> {
    const known = this.known.get(requestId);
    if (known) return known;
    const row = await this.readRow(requestId);
    if (!row) throw new Error(`no approval request ${requestId}`);
    return { conversationId: row.request.requesterConversationId };
  }

  async recordDelivery(delivery: NewDelivery): Promise<Delivery> {
    await this.mustExist(delivery.requestId);
    if (delivery.purpose === 'card' && delivery.recipientId !== null) {
      // Before the delivery itself: an approver is never missing from the "not reached" list.
      const flag = delivery.status === 'sent' ? { reached: true } : { failed: true };
      await (await this.index()).upsertEntity(
        { partitionKey: `to|${tableKey(delivery.recipientId)}`, rowKey: tableKey(delivery.requestId), ...flag },
        'Merge',
      );
    }
    const table = await this.requests();
    for (;;) {
      const row: Delivery = { ...copy(delivery), id: orderedIds.next() };
      try {
        await table.createEntity({ partitionKey: tableKey(delivery.requestId), rowKey: `d|${numberKey(row.id)}`, ...jsonProperties(row) });
        return row;
      } catch (e) {
        if (!isConflict(e)) throw e;
      }
    }
  }

  async listDeliveries(requestId: string): Promise<Delivery[]> {
    const rows = await listAll<Record<string, unknown>>(
      await this.requests(),
      odata`PartitionKey eq ${tableKey(requestId)} and RowKey ge ${'d|'} and RowKey lt ${'d}'}`,
    );
    return rows.map((r) => fromJsonProperties<Delivery>(r));
  }

  async listCardCopies(requestId: string): Promise<Delivery[]> {
    return (await this.listDeliveries(requestId)).filter((d) => d.purpose === 'card' && d.status === 'sent' && d.activityId !== null);
  }

  // ---------------------------------------------------------------- requester notices

  async recordPendingNotice(notice: NewRequesterNotice): Promise<RequesterNotice> {
    const { conversationId } = await this.mustExist(notice.requestId);
    for (;;) {
      const written = await this.writeNotice(notice, conversationId, orderedIds.next());
      if (written) return written;
    }
  }

  /** Writes a notice with this id; null when the id was taken by another notice. Idempotent for the same notice. */
  private async writeNotice(n: NewRequesterNotice, conversationId: string | null, id: number): Promise<RequesterNotice | null> {
    const row: NoticeRow = {
      id,
      requestId: n.requestId,
      requesterId: n.requesterId,
      requestVersion: n.requestVersion,
      notice: n.notice ? { ...n.notice } : null,
      redeemUrl: n.redeemUrl,
      state: 'pending',
      attempts: 1,
      createdAt: n.at,
      lastAttemptAt: n.at,
      lastError: n.error,
      deliveredAt: null,
      claimedUntil: n.claimedUntil ?? null,
    };
    // The pending index first: a pending notice is never missing from it.
    try {
      await (await this.index()).createEntity({
        partitionKey: PENDING_NOTICES,
        rowKey: numberKey(id),
        requestId: row.requestId,
        requesterId: row.requesterId,
        conversationId: conversationId ?? '',
      });
    } catch (e) {
      if (!isConflict(e)) throw e;
    }
    const table = await this.noticesTable();
    try {
      await table.createEntity(this.noticeEntity(row, conversationId));
      return publicNotice(row);
    } catch (e) {
      if (!isConflict(e)) throw e;
    }
    const existing = await this.readNotice(id);
    // The same notice written before (a replayed outbox): it stands as it is now.
    if (existing && existing.row.requestId === n.requestId && existing.row.requestVersion === n.requestVersion) return publicNotice(existing.row);
    return null;
  }

  private noticeEntity(row: NoticeRow, conversationId: string | null): Entity {
    return {
      partitionKey: NOTICES,
      rowKey: numberKey(row.id),
      state: row.state,
      requestId: row.requestId,
      requesterId: row.requesterId,
      conversationId: conversationId ?? '',
      lastAttemptAt: row.lastAttemptAt,
      attempts: row.attempts,
      ...jsonProperties(row),
    };
  }

  private async readNotice(id: number): Promise<{ row: NoticeRow; etag: string; conversationId: string } | null> {
    if (!Number.isSafeInteger(id) || id < 0) return null;
    const entity = await getOrNull<Record<string, unknown>>(await this.noticesTable(), NOTICES, numberKey(id));
    if (!entity) return null;
    return { row: fromJsonProperties<NoticeRow>(entity), etag: entity.etag, conversationId: String(entity['conversationId'] ?? '') };
  }

  private async queryNotices(filter: string): Promise<NoticeRow[]> {
    const rows = await listAll<Record<string, unknown>>(await this.noticesTable(), odata`PartitionKey eq ${NOTICES}` + ` and ${filter}`);
    return rows.map((r) => fromJsonProperties<NoticeRow>(r));
  }

  async getNotice(id: number): Promise<RequesterNotice | null> {
    const found = await this.readNotice(id);
    return found ? publicNotice(found.row) : null;
  }

  async listNotices(requestId: string): Promise<RequesterNotice[]> {
    return (await this.queryNotices(odata`requestId eq ${requestId}`)).map(publicNotice);
  }

  /**
   * The pending notices whose pending-index row matches `filter`, read whole (the notice row is
   * the truth); index rows of notices no longer pending leave the index.
   */
  private async pendingNotices(filter?: string): Promise<NoticeRow[]> {
    const index = await this.index();
    const rows = await listAll<Record<string, unknown>>(index, odata`PartitionKey eq ${PENDING_NOTICES}` + (filter ? ` and ${filter}` : ''));
    const found = await mapLimit(rows, READ_PARALLELISM, async (row) => {
      const notice = await this.readNotice(Number(row.rowKey));
      if (notice?.row.state === 'pending') return { ...notice.row, conversationId: notice.conversationId };
      // Delivered or superseded (or never written by a process that stopped): out of the index.
      if (notice || Date.now() - Date.parse(String(row.timestamp ?? '')) > this.graceMs) await this.unindexNotice(Number(row.rowKey));
      return null;
    });
    return found.filter((n): n is NoticeRow & { conversationId: string } => n !== null).sort((a, b) => a.id - b.id);
  }

  private async unindexNotice(id: number): Promise<void> {
    try {
      await (await this.index()).deleteEntity(PENDING_NOTICES, numberKey(id));
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  async listPendingNoticesFor(requesterId: string): Promise<RequesterNotice[]> {
    return (await this.pendingNotices(odata`requesterId eq ${requesterId}`)).filter((n) => n.requesterId === requesterId).map(publicNotice);
  }

  async listPendingNoticesForConversation(conversationId: string): Promise<RequesterNotice[]> {
    return (await this.pendingNotices(odata`conversationId eq ${conversationId}`))
      .filter((n) => (n as NoticeRow & { conversationId: string }).conversationId === conversationId)
      .map(publicNotice);
  }

  async listNoticesDueForRetry(lastAttemptBeforeIso: string, maxAttempts: number): Promise<RequesterNotice[]> {
    return (await this.pendingNotices())
      .filter((n) => n.lastAttemptAt <= lastAttemptBeforeIso && n.attempts < maxAttempts)
      .sort((a, b) => (a.lastAttemptAt < b.lastAttemptAt ? -1 : a.lastAttemptAt > b.lastAttemptAt ? 1 : a.id - b.id))
      .map(publicNotice);
  }

  /** A compare-and-set on one notice: `change` edits it and returns true, or false to leave it. Re-read on a 412. */
  private async noticeCas(id: number, change: (n: NoticeRow) => boolean): Promise<boolean> {
    const table = await this.noticesTable();
    for (;;) {
      const found = await this.readNotice(id);
      if (!found) return false;
      const next = copy(found.row);
      if (!change(next)) return false;
      try {
        await table.updateEntity(this.noticeEntity(next, found.conversationId || null), 'Replace', { etag: found.etag });
        if (next.state !== 'pending') await this.unindexNotice(id);
        return true;
      } catch (e) {
        if (!isPreconditionFailed(e) && !isNotFound(e)) throw e;
      }
    }
  }

  async claimNotice(id: number, nowIso: string, leaseUntilIso: string): Promise<boolean> {
    return this.noticeCas(id, (n) => {
      if (n.state !== 'pending' || (n.claimedUntil !== null && n.claimedUntil > nowIso)) return false;
      n.claimedUntil = leaseUntilIso;
      n.attempts += 1;
      n.lastAttemptAt = nowIso;
      return true;
    });
  }

  async markNoticeDelivered(id: number, at: string): Promise<void> {
    await this.noticeCas(id, (n) => {
      if (n.state !== 'pending') return false;
      n.state = 'delivered';
      n.deliveredAt = at;
      n.claimedUntil = null;
      n.lastError = null;
      return true;
    });
  }

  async releaseNotice(id: number, error: string | null): Promise<void> {
    await this.noticeCas(id, (n) => {
      if (n.state !== 'pending') return false;
      n.claimedUntil = null;
      n.lastError = error;
      return true;
    });
  }

  async supersedeNotice(id: number): Promise<void> {
    await this.noticeCas(id, supersedeIfPending);
  }

  async supersedeNotices(requestId: string): Promise<void> {
    await this.supersede(requestId, null);
  }

  /** Supersedes the request's pending notices (older than `keepVersion`, when given: an outcome's own notice stays). */
  private async supersede(requestId: string, keepVersion: number | null): Promise<void> {
    const pending = await this.pendingNotices(odata`requestId eq ${requestId}`);
    await Promise.all(
      pending
        .filter((n) => n.requestId === requestId && (keepVersion === null || n.requestVersion < keepVersion))
        .map((n) => this.noticeCas(n.id, supersedeIfPending)),
    );
  }
}

function supersedeIfPending(n: NoticeRow): boolean {
  if (n.state !== 'pending') return false;
  n.state = 'superseded';
  n.claimedUntil = null;
  return true;
}

function publicNotice(n: NoticeRow): RequesterNotice {
  const { claimedUntil: _claimed, conversationId: _conversation, ...rest } = n as NoticeRow & { conversationId?: string };
  return copy(rest);
}
