/**
 * The approval request repository's contract, run over the SQLite adapter (on ':memory:'), the
 * in-memory adapter and Azure Table storage (Azurite): compare-and-set, one winner among
 * concurrent deciders, first outcome only, companion writes (audit row, lease, outbox notice) landing with the write or not at all,
 * notice claims with a lease, orderings, and what "not found" looks like.
 */
import { SqliteApprovalRequestRepository } from '../../../src/adapters/sqlite/approvalRequests';
import { type NewApprovalRequest } from '../../../src/usecases/approvals/model';
import { approvalMigrations } from '../../../src/adapters/sqlite/approvalSchema';
import { MemoryApprovalRequestRepository } from '../../../src/adapters/memory/approvalRequests';
import { MemoryAuditLog } from '../../../src/adapters/memory/audit';
import { MemoryHolderRegistry, MemoryLeaseStore } from '../../../src/adapters/memory/leases';
import type { ApprovalRequestRepository, ApprovalAuditEvent, OutcomeCompanions } from '../../../src/usecases/approvals/ports';
import { openDatabase } from '../../../src/adapters/sqlite/database';
import { SqliteAuditLog } from '../../../src/adapters/sqlite/audit';
import { coreMigrations } from '../../../src/adapters/sqlite/coreMigrations';
import { leaseMigrations, SqliteHolderRegistry, SqliteLeaseStore } from '../../../src/adapters/sqlite/leases';
import { AzureApprovalRequestRepository } from '../../../src/adapters/azure/approvalRequests';
import { useAzurite } from '../../support/azurite';

const azurite = useAzurite();

function newRequest(overrides: Partial<NewApprovalRequest> = {}): NewApprovalRequest {
  return {
    tenantId: 'tenant-1',
    requester: { userId: 'adele', name: 'Adele Vance', tenantId: 'tenant-1' },
    requesterConversationId: 'a:personal-adele',
    subject: {
      kind: 'invitation',
      guestName: 'Jane Doe',
      guestEmail: 'Jane.Doe@outlook.com',
      groupId: 'group-falcon',
      siteName: 'Project Falcon',
      siteUrl: 'https://contoso.sharepoint.com/sites/ProjectFalcon',
      signInMethod: 'emailOneTimePasscode',
      signInSummary: null,
      warnings: [],
    },
    justification: 'Supplier audit',
    reasons: ['You are not an owner of this site, so an approver decides.'],
    createdAt: '2025-01-15T09:00:00.000Z',
    expiresAt: '2025-01-29T09:00:00.000Z',
    ...overrides,
  };
}

/** What the companion writes went into, read back the same way for both adapters. */
interface Harness {
  store: ApprovalRequestRepository;
  auditActions(): Promise<string[]>;
  leaseHeld(key: string): boolean;
  /** Makes the next audit append fail (as a full disk would). */
  failAudit(): void;
  /** A holder the lease store knows to be alive (this process). */
  holderId: string;
}

function makeSqlite(): Harness {
  const db = openDatabase(':memory:', [...coreMigrations, ...leaseMigrations, ...approvalMigrations]);
  const audit = new SqliteAuditLog(db);
  const holders = new SqliteHolderRegistry(db);
  const leases = new SqliteLeaseStore(db, holders);
  let fail = false;
  const store = new SqliteApprovalRequestRepository(db, {
    audit: {
      appendSync: (event: ApprovalAuditEvent) => {
        if (fail) throw new Error('disk full');
        return audit.appendSync(event);
      },
    },
    leases,
  });
  return {
    store,
    auditActions: async () => (await audit.list({ limit: 1000 })).map((e) => e.action),
    leaseHeld: (key) => !leases.acquireSync(key, 'someone-else', 1000),
    failAudit: () => {
      fail = true;
    },
    holderId: holders.holderId,
  };
}

function makeMemory(): Harness {
  const audit = new MemoryAuditLog();
  const holders = new MemoryHolderRegistry();
  holders.start();
  const leases = new MemoryLeaseStore(holders);
  let fail = false;
  const store = new MemoryApprovalRequestRepository({
    audit: {
      appendSync: (event: ApprovalAuditEvent) => {
        if (fail) throw new Error('disk full');
        return audit.appendSync(event);
      },
    },
    leases,
  });
  return {
    store,
    auditActions: async () => (await audit.list({ limit: 1000 })).map((e) => e.action),
    leaseHeld: (key) => !leases.acquireSync(key, 'someone-else', 1000),
    failAudit: () => {
      fail = true;
    },
    holderId: holders.holderId,
  };
}

/**
 * Azure Table storage (Azurite), with the companions behind their ports (the memory audit log and
 * lease store here; the Azure ones in the store bundle).
 */
function makeAzure(): Harness {
  const audit = new MemoryAuditLog();
  const holders = new MemoryHolderRegistry();
  holders.start();
  const leases = new MemoryLeaseStore(holders);
  let fail = false;
  const store = new AzureApprovalRequestRepository(azurite.account(), {
    audit: {
      append: async (event) => {
        if (fail) throw new Error('disk full');
        return audit.append(event);
      },
      list: (filter) => audit.list(filter),
      listRange: (range) => audit.listRange(range),
      pruneBefore: (before) => audit.pruneBefore(before),
    },
    leases,
  });
  return {
    store,
    auditActions: async () => (await audit.list({ limit: 1000 })).map((e) => e.action),
    leaseHeld: (key) => !leases.acquireSync(key, 'someone-else', 1000),
    failAudit: () => {
      fail = true;
    },
    holderId: holders.holderId,
  };
}

let harness: Harness;

const outcomeCompanions = (at: string): OutcomeCompanions => ({
  audit: { actorId: 'alex', actorName: 'Alex Wilber', action: 'approval.carriedOut', subjectType: 'approval', subjectId: 'x' },
  notice: { notice: null, redeemUrl: null, error: 'not sent yet', at },
});

const alex = { userId: 'alex', name: 'Alex Wilber' };
const megan = { userId: 'megan', name: 'Megan Bowen' };

describe.each([
  ['sqlite', makeSqlite],
  ['memory', makeMemory],
  ['azure', makeAzure],
])('approval request repository (%s)', (_name, make) => {
  const setup = (): ApprovalRequestRepository => {
    harness = make();
    return harness.store;
  };

  it('stores a new request as pending at version 1 and reads it back whole', async () => {
    const store = setup();
    const created = (await store.create(newRequest()));
    expect(created.state).toBe('pending');
    expect(created.version).toBe(1);
    expect((await store.get(created.id))).toEqual(created);
    expect(created.subject).toMatchObject({ kind: 'invitation', guestEmail: 'Jane.Doe@outlook.com' });
  });

  it('decides a request once: a second decision at the same version loses and sees the first', async () => {
    const store = setup();
    const { id, version } = (await store.create(newRequest()));
    const first = await store.decide(id, version, { state: 'approved', by: alex, note: null, at: '2025-01-16T09:00:00.000Z' });
    const second = await store.decide(id, version, { state: 'rejected', by: megan, note: 'no', at: '2025-01-16T09:00:01.000Z' });
    expect(first.won).toBe(true);
    expect(second.won).toBe(false);
    expect(second.won === false && second.current?.state).toBe('approved');
    expect((await store.get(id))).toMatchObject({ state: 'approved', decidedBy: alex, version: 2 });
  });

  it('refuses a decision made against an older version even while still pending', async () => {
    const store = setup();
    const { id, version } = (await store.create(newRequest()));
    const asked = (await store.requestInfo(id, version, alex, 'How long?', '2025-01-15T10:00:00.000Z'));
    expect(asked.won).toBe(true);
    const stale = (await store.decide(id, version, { state: 'approved', by: alex, note: null, at: '2025-01-15T11:00:00.000Z' }));
    expect(stale.won).toBe(false);
    expect((await store.get(id))?.state).toBe('pending');
  });

  it('appending an answer clears the open question and bumps the version', async () => {
    const store = setup();
    const { id } = (await store.create(newRequest()));
    const asked = (await store.requestInfo(id, 1, alex, 'How long?', '2025-01-15T10:00:00.000Z'));
    expect(asked.won && asked.request.infoRequest).toEqual({ byName: 'Alex Wilber', question: 'How long?', at: '2025-01-15T10:00:00.000Z' });
    const answered = (await store.appendJustification(id, 2, 'Supplier audit\n\nUntil March'));
    expect(answered.won && answered.request).toMatchObject({ version: 3, infoRequest: null, justification: 'Supplier audit\n\nUntil March' });
  });

  it('finds a pending request for the same guest and site whatever the address case', async () => {
    const store = setup();
    const created = (await store.create(newRequest()));
    expect((await store.findPendingInvitation('tenant-1', 'jane.doe@OUTLOOK.com', 'group-falcon'))?.id).toBe(created.id);
    expect((await store.findPendingInvitation('tenant-1', 'jane.doe@outlook.com', 'group-marketing'))).toBeNull();
    await store.decide(created.id, 1, { state: 'cancelled', by: null, note: null, at: '2025-01-15T10:00:00.000Z' });
    expect((await store.findPendingInvitation('tenant-1', 'jane.doe@outlook.com', 'group-falcon'))).toBeNull();
  });

  it('lists only pending requests past their expiry as due', async () => {
    const store = setup();
    const due = (await store.create(newRequest({ expiresAt: '2025-01-20T00:00:00.000Z' })));
    await store.create(newRequest({ expiresAt: '2025-02-20T00:00:00.000Z' }));
    const decided = (await store.create(newRequest({ expiresAt: '2025-01-19T00:00:00.000Z' })));
    await store.decide(decided.id, 1, { state: 'rejected', by: alex, note: 'x', at: '2025-01-18T00:00:00.000Z' });
    expect((await store.listDueForExpiry('2025-01-21T00:00:00.000Z')).map((r) => r.id)).toEqual([due.id]);
  });

  it('records an outcome only on an approved request', async () => {
    const store = setup();
    const { id } = await store.create(newRequest());
    const early = await store.recordFirstOutcome(id, { status: 'succeeded', message: 'done', at: '2025-01-16T09:00:00.000Z' }, outcomeCompanions('2025-01-16T09:00:00.000Z'));
    expect(early.won).toBe(false);
    expect((await store.get(id))?.outcome).toBeNull();
    await store.decide(id, 1, { state: 'approved', by: alex, note: null, at: '2025-01-16T09:00:00.000Z' });
    const recorded = await store.recordFirstOutcome(id, { status: 'succeeded', message: 'done', at: '2025-01-16T09:00:01.000Z' }, outcomeCompanions('2025-01-16T09:00:01.000Z'));
    expect(recorded.won && recorded.request.outcome).toEqual({
      status: 'succeeded',
      message: 'done',
      at: '2025-01-16T09:00:01.000Z',
    });
  });

  it('records the first outcome only, and lists approved requests still without one', async () => {
    const store = setup();
    const { id } = (await store.create(newRequest()));
    await store.decide(id, 1, { state: 'approved', by: alex, note: null, at: '2025-01-16T09:00:00.000Z' });
    expect((await store.listApprovedWithoutOutcome('2025-01-16T08:59:59.000Z'))).toEqual([]);
    expect((await store.listApprovedWithoutOutcome('2025-01-16T09:00:00.000Z')).map((r) => r.id)).toEqual([id]);
    const first = await store.recordFirstOutcome(id, { status: 'succeeded', message: 'invited', at: '2025-01-16T09:00:01.000Z' }, outcomeCompanions('2025-01-16T09:00:01.000Z'));
    expect(first.won).toBe(true);
    const second = await store.recordFirstOutcome(id, { status: 'failed', message: 'late', at: '2025-01-16T09:00:02.000Z' }, outcomeCompanions('2025-01-16T09:00:02.000Z'));
    expect(second.won).toBe(false);
    expect((await store.get(id))?.outcome).toEqual({ status: 'succeeded', message: 'invited', at: '2025-01-16T09:00:01.000Z' });
    expect((await store.listApprovedWithoutOutcome('2025-01-17T00:00:00.000Z'))).toEqual([]);
  });

  it('keeps card copies to update and knows which approvers have not received a card yet', async () => {
    const store = setup();
    const { id } = (await store.create(newRequest()));
    const base = { requestId: id, purpose: 'card' as const, error: null, at: '2025-01-15T09:00:00.000Z' };
    await store.recordDelivery({ ...base, audience: 'approver', recipientId: 'alex', recipientName: 'Alex', status: 'sent', conversation: { conversation: { id: 'c1' } }, activityId: 'm1' });
    await store.recordDelivery({ ...base, audience: 'approver', recipientId: 'nestor', recipientName: 'Nestor', status: 'unreachable', conversation: null, activityId: null });
    expect((await store.listCardCopies(id)).map((c) => c.activityId)).toEqual(['m1']);
    expect((await store.listUndeliveredFor('nestor')).map((r) => r.id)).toEqual([id]);
    expect((await store.listUndeliveredFor('alex'))).toEqual([]);
    await store.recordDelivery({ ...base, audience: 'approver', recipientId: 'nestor', recipientName: 'Nestor', status: 'sent', conversation: null, activityId: 'm2' });
    expect((await store.listUndeliveredFor('nestor'))).toEqual([]);
  });

  it('keeps a failed requester notice until one caller claims and delivers it; a lease left behind runs out', async () => {
    const store = setup();
    const { id } = (await store.create(newRequest()));
    const kept = (await store.recordPendingNotice({
      requestId: id,
      requesterId: 'adele',
      requestVersion: 1,
      notice: null,
      redeemUrl: 'https://login.microsoftonline.com/redeem?x=1',
      error: 'throttled: Too Many Requests',
      at: '2025-01-15T09:00:00.000Z',
    }));
    expect((await store.listPendingNoticesFor('adele')).map((n) => n.id)).toEqual([kept.id]);
    expect((await store.listPendingNoticesForConversation('a:personal-adele')).map((n) => n.id)).toEqual([kept.id]);
    expect((await store.listNoticesDueForRetry('2025-01-15T08:59:59.000Z', 5))).toEqual([]);
    expect((await store.listNoticesDueForRetry('2025-01-15T09:05:00.000Z', 5)).map((n) => n.id)).toEqual([kept.id]);

    const now = '2025-01-15T09:05:00.000Z';
    const lease = '2025-01-15T09:07:00.000Z';
    expect((await store.claimNotice(kept.id, now, lease))).toBe(true);
    expect((await store.claimNotice(kept.id, now, lease))).toBe(false);
    // The claimant stopped: once the lease runs out another may try.
    expect((await store.claimNotice(kept.id, lease, '2025-01-15T09:09:00.000Z'))).toBe(true);
    await store.markNoticeDelivered(kept.id, '2025-01-15T09:07:01.000Z');
    expect((await store.getNotice(kept.id))).toMatchObject({ state: 'delivered', attempts: 3 });
    expect((await store.claimNotice(kept.id, '2025-01-15T10:00:00.000Z', '2025-01-15T10:02:00.000Z'))).toBe(false);
    expect((await store.listPendingNoticesFor('adele'))).toEqual([]);
  });

  it('stops listing a notice for the sweep after the maximum attempts, and drops it when superseded', async () => {
    const store = setup();
    const { id } = (await store.create(newRequest()));
    const kept = (await store.recordPendingNotice({ requestId: id, requesterId: 'adele', requestVersion: 1, notice: null, redeemUrl: null, error: 'failed', at: '2025-01-15T09:00:00.000Z' }));
    expect((await store.claimNotice(kept.id, '2025-01-15T09:10:00.000Z', '2025-01-15T09:12:00.000Z'))).toBe(true);
    await store.releaseNotice(kept.id, 'failed again');
    expect((await store.listNoticesDueForRetry('2025-01-15T10:00:00.000Z', 2))).toEqual([]);
    expect((await store.listNoticesDueForRetry('2025-01-15T10:00:00.000Z', 3)).map((n) => n.lastError)).toEqual(['failed again']);
    await store.supersedeNotices(id);
    expect((await store.listPendingNoticesFor('adele'))).toEqual([]);
    expect((await store.getNotice(kept.id))?.state).toBe('superseded');
  });

  it('of N concurrent deciders at the same version exactly one wins; the others see the winner', async () => {
    const store = setup();
    const { id, version } = await store.create(newRequest());
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        store.decide(id, version, { state: i % 2 ? 'rejected' : 'approved', by: i % 2 ? megan : alex, note: null, at: `2025-01-16T09:00:${String(i).padStart(2, '0')}.000Z` }, {
          audit: { actorId: 'x', actorName: 'X', action: `approval.decided.${i}`, subjectType: 'approval', subjectId: id },
          lease: { key: `approval:${id}`, holderId: `holder-${i}`, ttlMs: 60_000 },
        }),
      ),
    );
    const winners = results.filter((r) => r.won);
    expect(winners).toHaveLength(1);
    const winner = winners[0]!.won ? winners[0]!.request : null;
    for (const r of results.filter((x) => !x.won)) expect(!r.won && r.current).toMatchObject({ state: winner?.state, version: 2 });
    // Only the winner's companions were written.
    expect((await harness.auditActions()).filter((a) => a.startsWith('approval.decided.'))).toHaveLength(1);
  });

  it("writes a decision's audit row and lease with it, and neither when the decision loses", async () => {
    const store = setup();
    const { id } = await store.create(newRequest());
    const companions = (action: string) => ({
      audit: { actorId: 'alex', actorName: 'Alex Wilber', action, subjectType: 'approval', subjectId: id },
      lease: { key: `approval:${id}`, holderId: harness.holderId, ttlMs: 60_000 },
    });
    const lost = await store.decide(id, 7, { state: 'approved', by: alex, note: null, at: '2025-01-16T09:00:00.000Z' }, companions('approval.lost'));
    expect(lost.won).toBe(false);
    expect((await harness.auditActions())).not.toContain('approval.lost');
    expect(harness.leaseHeld(`approval:${id}`)).toBe(false);
    const won = await store.decide(id, 1, { state: 'approved', by: alex, note: null, at: '2025-01-16T09:00:00.000Z' }, companions('approval.approved'));
    expect(won.won).toBe(true);
    expect((await harness.auditActions())).toContain('approval.approved');
    expect(harness.leaseHeld(`approval:${id}`)).toBe(true);
  });

  it('leaves the request as it was when its audit row cannot be written', async () => {
    const store = setup();
    const { id } = await store.create(newRequest());
    harness.failAudit();
    await expect(
      store.decide(id, 1, { state: 'approved', by: alex, note: null, at: '2025-01-16T09:00:00.000Z' }, {
        audit: { actorId: 'alex', actorName: 'Alex Wilber', action: 'approval.approved', subjectType: 'approval', subjectId: id },
      }),
    ).rejects.toThrow('disk full');
    expect(await store.get(id)).toMatchObject({ state: 'pending', version: 1, decidedBy: null });
  });

  it('writes the first outcome with its outbox notice for the new version, superseding older pending notices', async () => {
    const store = setup();
    const { id } = await store.create(newRequest());
    const older = await store.recordPendingNotice({ requestId: id, requesterId: 'adele', requestVersion: 1, notice: { text: 'Alex asks', tone: 'warning' }, redeemUrl: null, error: 'failed', at: '2025-01-15T09:00:00.000Z' });
    await store.decide(id, 1, { state: 'approved', by: alex, note: null, at: '2025-01-16T09:00:00.000Z' });
    const first = await store.recordFirstOutcome(
      id,
      { status: 'succeeded', message: 'invited', at: '2025-01-16T09:00:01.000Z' },
      {
        audit: { actorId: 'alex', actorName: 'Alex Wilber', action: 'approval.carriedOut', subjectType: 'approval', subjectId: id },
        notice: { notice: null, redeemUrl: 'https://login.microsoftonline.com/redeem?x=2', error: 'not sent yet', at: '2025-01-16T09:00:01.000Z', claimedUntil: '2025-01-16T09:02:01.000Z' },
      },
    );
    expect(first.won).toBe(true);
    if (!first.won) return;
    expect(first.request.version).toBe(3);
    expect(first.notice).toMatchObject({ requestId: id, requesterId: 'adele', requestVersion: 3, state: 'pending', redeemUrl: 'https://login.microsoftonline.com/redeem?x=2' });
    expect((await store.getNotice(older.id))?.state).toBe('superseded');
    expect((await harness.auditActions())).toContain('approval.carriedOut');
    // Held by its sender until the lease runs out: nobody else claims it before.
    expect(await store.claimNotice(first.notice.id, '2025-01-16T09:01:00.000Z', '2025-01-16T09:03:00.000Z')).toBe(false);
    expect(await store.claimNotice(first.notice.id, '2025-01-16T09:02:01.000Z', '2025-01-16T09:04:00.000Z')).toBe(true);
  });

  it('of N concurrent claims on one notice exactly one gets it', async () => {
    const store = setup();
    const { id } = await store.create(newRequest());
    const kept = await store.recordPendingNotice({ requestId: id, requesterId: 'adele', requestVersion: 1, notice: null, redeemUrl: null, error: 'failed', at: '2025-01-15T09:00:00.000Z' });
    const claims = await Promise.all(Array.from({ length: 10 }, () => store.claimNotice(kept.id, '2025-01-15T09:10:00.000Z', '2025-01-15T09:12:00.000Z')));
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(await store.getNotice(kept.id)).toMatchObject({ attempts: 2, state: 'pending' });
  });

  it('answers "not found" with null, an empty list, or a lost compare-and-set with no current request', async () => {
    const store = setup();
    expect(await store.get('no-such-request')).toBeNull();
    expect(await store.getNotice(999)).toBeNull();
    expect(await store.findPendingInvitation('tenant-1', 'nobody@example.com', 'group-falcon')).toBeNull();
    expect(await store.findPendingReset('tenant-1', 'nobody')).toBeNull();
    expect(await store.listDeliveries('no-such-request')).toEqual([]);
    expect(await store.listCardCopies('no-such-request')).toEqual([]);
    expect(await store.listNotices('no-such-request')).toEqual([]);
    expect(await store.decide('no-such-request', 1, { state: 'approved', by: alex, note: null, at: '2025-01-16T09:00:00.000Z' })).toEqual({ won: false, current: null });
    expect(await store.requestInfo('no-such-request', 1, alex, 'Why?', '2025-01-16T09:00:00.000Z')).toEqual({ won: false, current: null });
    expect(await store.appendJustification('no-such-request', 1, 'x')).toEqual({ won: false, current: null });
    expect(await store.claimNotice(999, '2025-01-16T09:00:00.000Z', '2025-01-16T09:02:00.000Z')).toBe(false);
  });

  it('lists pending requests oldest first, per tenant, and a requester\'s notices in the order kept', async () => {
    const store = setup();
    const later = await store.create(newRequest({ createdAt: '2025-01-15T10:00:00.000Z' }));
    const earlier = await store.create(newRequest({ createdAt: '2025-01-15T08:00:00.000Z' }));
    await store.create(newRequest({ tenantId: 'tenant-2', requester: { userId: 'adele', name: 'Adele Vance', tenantId: 'tenant-2' } }));
    expect((await store.listPending('tenant-1')).map((r) => r.id)).toEqual([earlier.id, later.id]);
    const a = await store.recordPendingNotice({ requestId: later.id, requesterId: 'adele', requestVersion: 1, notice: null, redeemUrl: null, error: 'x', at: '2025-01-15T11:00:00.000Z' });
    const b = await store.recordPendingNotice({ requestId: earlier.id, requesterId: 'adele', requestVersion: 1, notice: null, redeemUrl: null, error: 'x', at: '2025-01-15T09:00:00.000Z' });
    expect((await store.listPendingNoticesFor('adele')).map((n) => n.id)).toEqual([a.id, b.id]);
    // The sweep takes the longest-waiting first.
    expect((await store.listNoticesDueForRetry('2025-01-15T12:00:00.000Z', 5)).map((n) => n.id)).toEqual([b.id, a.id]);
    const d1 = await store.recordDelivery({ requestId: later.id, audience: 'approver', recipientId: 'alex', recipientName: 'Alex', purpose: 'card', status: 'sent', conversation: null, activityId: 'm1', error: null, at: '2025-01-15T10:00:00.000Z' });
    const d2 = await store.recordDelivery({ requestId: later.id, audience: 'channel', recipientId: 'c', recipientName: 'the approvals channel', purpose: 'card', status: 'sent', conversation: null, activityId: 'm2', error: null, at: '2025-01-15T10:00:00.000Z' });
    expect(d2.id).toBeGreaterThan(d1.id);
    expect((await store.listDeliveries(later.id)).map((d) => d.activityId)).toEqual(['m1', 'm2']);
  });

  it('refuses a second request with the same id, and deliveries or notices for a request that does not exist', async () => {
    const store = setup();
    // (SQLite's errors come from the native module's realm, so the test looks at refused/written, not the error class.)
    const outcome = (p: Promise<unknown>): Promise<string> => p.then(() => 'written', () => 'refused');
    const { id } = await store.create(newRequest(), 'request-1');
    expect(id).toBe('request-1');
    expect(await outcome(store.create(newRequest(), 'request-1'))).toBe('refused');
    expect(
      await outcome(
        store.recordDelivery({ requestId: 'no-such-request', audience: 'approver', recipientId: 'alex', recipientName: 'Alex', purpose: 'card', status: 'sent', conversation: null, activityId: 'm1', error: null, at: '2025-01-15T10:00:00.000Z' }),
      ),
    ).toBe('refused');
    expect(
      await outcome(
        store.recordPendingNotice({ requestId: 'no-such-request', requesterId: 'adele', requestVersion: 1, notice: null, redeemUrl: null, error: 'x', at: '2025-01-15T09:00:00.000Z' }),
      ),
    ).toBe('refused');
    expect(await store.listDeliveries('no-such-request')).toEqual([]);
  });
});

