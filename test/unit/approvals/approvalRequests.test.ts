import { ApprovalRequestStore, approvalMigrations, type NewApprovalRequest } from '../../../src/adapters/sqlite/approvalRequests';
import { memoryStore } from '../../support/store';

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

function setup(): ApprovalRequestStore {
  return new ApprovalRequestStore(memoryStore(approvalMigrations).db);
}

const alex = { userId: 'alex', name: 'Alex Wilber' };
const megan = { userId: 'megan', name: 'Megan Bowen' };

describe('approval requests table', () => {
  it('stores a new request as pending at version 1 and reads it back whole', () => {
    const store = setup();
    const created = store.create(newRequest());
    expect(created.state).toBe('pending');
    expect(created.version).toBe(1);
    expect(store.get(created.id)).toEqual(created);
    expect(created.subject).toMatchObject({ kind: 'invitation', guestEmail: 'Jane.Doe@outlook.com' });
  });

  it('decides a request once: a second decision at the same version loses and sees the first', () => {
    const store = setup();
    const { id, version } = store.create(newRequest());
    const first = store.decide(id, version, { state: 'approved', by: alex, note: null, at: '2025-01-16T09:00:00.000Z' });
    const second = store.decide(id, version, { state: 'rejected', by: megan, note: 'no', at: '2025-01-16T09:00:01.000Z' });
    expect(first.won).toBe(true);
    expect(second.won).toBe(false);
    expect(second.won === false && second.current?.state).toBe('approved');
    expect(store.get(id)).toMatchObject({ state: 'approved', decidedBy: alex, version: 2 });
  });

  it('refuses a decision made against an older version even while still pending', () => {
    const store = setup();
    const { id, version } = store.create(newRequest());
    const asked = store.requestInfo(id, version, alex, 'How long?', '2025-01-15T10:00:00.000Z');
    expect(asked.won).toBe(true);
    const stale = store.decide(id, version, { state: 'approved', by: alex, note: null, at: '2025-01-15T11:00:00.000Z' });
    expect(stale.won).toBe(false);
    expect(store.get(id)?.state).toBe('pending');
  });

  it('appending an answer clears the open question and bumps the version', () => {
    const store = setup();
    const { id } = store.create(newRequest());
    const asked = store.requestInfo(id, 1, alex, 'How long?', '2025-01-15T10:00:00.000Z');
    expect(asked.won && asked.request.infoRequest).toEqual({ byName: 'Alex Wilber', question: 'How long?', at: '2025-01-15T10:00:00.000Z' });
    const answered = store.appendJustification(id, 2, 'Supplier audit\n\nUntil March');
    expect(answered.won && answered.request).toMatchObject({ version: 3, infoRequest: null, justification: 'Supplier audit\n\nUntil March' });
  });

  it('finds a pending request for the same guest and site whatever the address case', () => {
    const store = setup();
    const created = store.create(newRequest());
    expect(store.findPendingInvitation('tenant-1', 'jane.doe@OUTLOOK.com', 'group-falcon')?.id).toBe(created.id);
    expect(store.findPendingInvitation('tenant-1', 'jane.doe@outlook.com', 'group-marketing')).toBeNull();
    store.decide(created.id, 1, { state: 'cancelled', by: null, note: null, at: '2025-01-15T10:00:00.000Z' });
    expect(store.findPendingInvitation('tenant-1', 'jane.doe@outlook.com', 'group-falcon')).toBeNull();
  });

  it('lists only pending requests past their expiry as due', () => {
    const store = setup();
    const due = store.create(newRequest({ expiresAt: '2025-01-20T00:00:00.000Z' }));
    store.create(newRequest({ expiresAt: '2025-02-20T00:00:00.000Z' }));
    const decided = store.create(newRequest({ expiresAt: '2025-01-19T00:00:00.000Z' }));
    store.decide(decided.id, 1, { state: 'rejected', by: alex, note: 'x', at: '2025-01-18T00:00:00.000Z' });
    expect(store.listDueForExpiry('2025-01-21T00:00:00.000Z').map((r) => r.id)).toEqual([due.id]);
  });

  it('records an outcome only on an approved request', () => {
    const store = setup();
    const { id } = store.create(newRequest());
    store.recordOutcome(id, 'succeeded', 'done', '2025-01-16T09:00:00.000Z');
    expect(store.get(id)?.outcome).toBeNull();
    store.decide(id, 1, { state: 'approved', by: alex, note: null, at: '2025-01-16T09:00:00.000Z' });
    expect(store.recordOutcome(id, 'succeeded', 'done', '2025-01-16T09:00:01.000Z').outcome).toEqual({
      status: 'succeeded',
      message: 'done',
      at: '2025-01-16T09:00:01.000Z',
    });
  });

  it('records the first outcome only, and lists approved requests still without one', () => {
    const store = setup();
    const { id } = store.create(newRequest());
    store.decide(id, 1, { state: 'approved', by: alex, note: null, at: '2025-01-16T09:00:00.000Z' });
    expect(store.listApprovedWithoutOutcome('2025-01-16T08:59:59.000Z')).toEqual([]);
    expect(store.listApprovedWithoutOutcome('2025-01-16T09:00:00.000Z').map((r) => r.id)).toEqual([id]);
    const first = store.recordFirstOutcome(id, 'succeeded', 'invited', '2025-01-16T09:00:01.000Z');
    expect(first.won).toBe(true);
    const second = store.recordFirstOutcome(id, 'failed', 'late', '2025-01-16T09:00:02.000Z');
    expect(second.won).toBe(false);
    expect(store.get(id)?.outcome).toEqual({ status: 'succeeded', message: 'invited', at: '2025-01-16T09:00:01.000Z' });
    expect(store.listApprovedWithoutOutcome('2025-01-17T00:00:00.000Z')).toEqual([]);
  });

  it('keeps card copies to update and knows which approvers have not received a card yet', () => {
    const store = setup();
    const { id } = store.create(newRequest());
    const base = { requestId: id, purpose: 'card' as const, error: null, at: '2025-01-15T09:00:00.000Z' };
    store.recordDelivery({ ...base, audience: 'approver', recipientId: 'alex', recipientName: 'Alex', status: 'sent', conversation: { conversation: { id: 'c1', isGroup: false, conversationType: 'personal', name: '' } }, activityId: 'm1' });
    store.recordDelivery({ ...base, audience: 'approver', recipientId: 'nestor', recipientName: 'Nestor', status: 'unreachable', conversation: null, activityId: null });
    expect(store.listCardCopies(id).map((c) => c.activityId)).toEqual(['m1']);
    expect(store.listUndeliveredFor('nestor').map((r) => r.id)).toEqual([id]);
    expect(store.listUndeliveredFor('alex')).toEqual([]);
    store.recordDelivery({ ...base, audience: 'approver', recipientId: 'nestor', recipientName: 'Nestor', status: 'sent', conversation: null, activityId: 'm2' });
    expect(store.listUndeliveredFor('nestor')).toEqual([]);
  });

  it('keeps a failed requester notice until one caller claims and delivers it; a lease left behind runs out', () => {
    const store = setup();
    const { id } = store.create(newRequest());
    const kept = store.recordPendingNotice({
      requestId: id,
      requesterId: 'adele',
      requestVersion: 1,
      notice: null,
      redeemUrl: 'https://login.microsoftonline.com/redeem?x=1',
      error: 'throttled: Too Many Requests',
      at: '2025-01-15T09:00:00.000Z',
    });
    expect(store.listPendingNoticesFor('adele').map((n) => n.id)).toEqual([kept.id]);
    expect(store.listPendingNoticesForConversation('a:personal-adele').map((n) => n.id)).toEqual([kept.id]);
    expect(store.listNoticesDueForRetry('2025-01-15T08:59:59.000Z', 5)).toEqual([]);
    expect(store.listNoticesDueForRetry('2025-01-15T09:05:00.000Z', 5).map((n) => n.id)).toEqual([kept.id]);

    const now = '2025-01-15T09:05:00.000Z';
    const lease = '2025-01-15T09:07:00.000Z';
    expect(store.claimNotice(kept.id, now, lease)).toBe(true);
    expect(store.claimNotice(kept.id, now, lease)).toBe(false);
    // The claimant stopped: once the lease runs out another may try.
    expect(store.claimNotice(kept.id, lease, '2025-01-15T09:09:00.000Z')).toBe(true);
    store.markNoticeDelivered(kept.id, '2025-01-15T09:07:01.000Z');
    expect(store.getNotice(kept.id)).toMatchObject({ state: 'delivered', attempts: 3 });
    expect(store.claimNotice(kept.id, '2025-01-15T10:00:00.000Z', '2025-01-15T10:02:00.000Z')).toBe(false);
    expect(store.listPendingNoticesFor('adele')).toEqual([]);
  });

  it('stops listing a notice for the sweep after the maximum attempts, and drops it when superseded', () => {
    const store = setup();
    const { id } = store.create(newRequest());
    const kept = store.recordPendingNotice({ requestId: id, requesterId: 'adele', requestVersion: 1, notice: null, redeemUrl: null, error: 'failed', at: '2025-01-15T09:00:00.000Z' });
    expect(store.claimNotice(kept.id, '2025-01-15T09:10:00.000Z', '2025-01-15T09:12:00.000Z')).toBe(true);
    store.releaseNotice(kept.id, 'failed again');
    expect(store.listNoticesDueForRetry('2025-01-15T10:00:00.000Z', 2)).toEqual([]);
    expect(store.listNoticesDueForRetry('2025-01-15T10:00:00.000Z', 3).map((n) => n.lastError)).toEqual(['failed again']);
    store.supersedeNotices(id);
    expect(store.listPendingNoticesFor('adele')).toEqual([]);
    expect(store.getNotice(kept.id)?.state).toBe('superseded');
  });
});
