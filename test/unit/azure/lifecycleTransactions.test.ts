/**
 * What the scheduler's and the guest lifecycle's Azure repositories cost, in storage transactions
 * (Azure bills per transaction): counted by the account on a real Azurite, so the figures written
 * in scheduledWork.ts and guestAccess.ts stay true. Also the key design's promise: claiming due
 * work never reads the work that is not due yet.
 */
import type { AzureStorageAccount } from '../../../src/adapters/azure/account';
import { AzureGuestAccessRepository } from '../../../src/adapters/azure/guestAccess';
import { AzureHolderRegistry } from '../../../src/adapters/azure/leases';
import { AzureScheduledWorkRepository } from '../../../src/adapters/azure/scheduledWork';
import type { GuestAccessDraft } from '../../../src/usecases/lifecycle/ports';
import { useAzurite } from '../../support/azurite';
import { manualClock } from '../../support/store';

const azurite = useAzurite();

async function cost(account: AzureStorageAccount, work: () => Promise<unknown>): Promise<number> {
  const before = account.transactions;
  await work();
  return account.transactions - before;
}

const draft = (userId: string, overrides: Partial<GuestAccessDraft> = {}): GuestAccessDraft => ({
  tenantId: 'contoso',
  groupId: 'falcon',
  userId,
  siteName: 'Project Falcon',
  siteUrl: 'https://contoso.sharepoint.com/sites/falcon',
  email: `${userId}@fabrikam.com`,
  displayName: userId,
  invitationRecordId: null,
  sponsor: { id: 'megan', name: 'Megan' },
  invitedAt: '2025-03-01T09:00:00.000Z',
  acceptedAt: null,
  endsAt: '2025-08-28T09:00:00.000Z',
  state: 'invited',
  nextUnredeemedReminderAt: null,
  ...overrides,
});

describe('transactions per operation of the lifecycle repositories on Azure Storage', () => {
  it('scheduled work: schedule 2, a kept repeat 1, claim of one due item 32 + 1 (a query per bucket), settle 2, an idle claim 32 whatever lies in the future', async () => {
    const clock = manualClock('2025-03-01T09:00:00.000Z');
    const account = azurite.account();
    const holders = new AzureHolderRegistry(account, { clock });
    const work = new AzureScheduledWorkRepository(account, holders, { clock });
    await work.get('warm', 'up'); // creates the table
    // A hundred items due later: an idle claim still reads nothing of them.
    for (let i = 0; i < 100; i++) await work.schedule({ kind: 'renewal', subject: `later${i}`, dueAt: '2025-09-01T09:00:00.000Z' });
    expect(await cost(account, () => work.schedule({ kind: 'reminder', subject: 'g1', dueAt: '2025-03-02T09:00:00.000Z' }))).toBe(2);
    expect(await cost(account, () => work.schedule({ kind: 'reminder', subject: 'g1', dueAt: '2025-03-09T09:00:00.000Z' }))).toBe(1);
    expect(await cost(account, () => work.claimDue(holders.holderId, { leaseMs: 60_000, limit: 10 }))).toBe(32);
    clock.advance(24 * 60 * 60_000);
    let claimed: Awaited<ReturnType<typeof work.claimDue>> = [];
    expect(await cost(account, async () => (claimed = await work.claimDue(holders.holderId, { leaseMs: 60_000, limit: 10 })))).toBe(32 + 1);
    expect(claimed.map((w) => w.subject)).toEqual(['g1']);
    const [item] = claimed;
    expect(await cost(account, () => work.settle('reminder', 'g1', holders.holderId, item!.version, { outcome: 'done' }))).toBe(2);
    expect(await cost(account, () => work.listBySubject('later7'))).toBe(1);
    // A new guest access's work (two kinds) in one transaction; a batch with one existing item
    // falls back to one at a time (the refused transaction, then 2 per new item, 1 per kept one).
    expect(await cost(account, () => work.scheduleNew([
      { kind: 'reminder', subject: 'g2', dueAt: '2025-03-05T09:00:00.000Z' },
      { kind: 'end', subject: 'g2', dueAt: '2025-08-28T09:00:00.000Z' },
    ]))).toBe(1);
    expect(await cost(account, () => work.scheduleNew([
      { kind: 'reminder', subject: 'g2', dueAt: '2025-03-05T09:00:00.000Z' },
      { kind: 'other', subject: 'g2', dueAt: '2025-08-28T09:00:00.000Z' },
    ]))).toBe(1 + 1 + 2);
    // Subjects in other buckets (partitions) go in a transaction each.
    const subjects = ['g3', 'g4', 'g5', 'g6', 'g7', 'g8', 'g9'];
    const cost7 = await cost(account, () => work.scheduleNew(subjects.map((subject) => ({ kind: 'reminder', subject, dueAt: '2025-03-05T09:00:00.000Z' }))));
    expect(cost7).toBeGreaterThan(1);
    expect(cost7).toBeLessThanOrEqual(subjects.length);
  });

  it('guest access: claim 3, a repeated claim 1, an update of a version this process wrote 1, a sponsor list 16 (a query per bucket)', async () => {
    const account = azurite.account();
    const access = new AzureGuestAccessRepository(account, { clock: manualClock() });
    await access.claim(draft('warm')); // creates the tables
    let id = '';
    expect(await cost(account, async () => (id = (await access.claim(draft('jane'))).record.id))).toBe(3);
    expect(await cost(account, () => access.claim(draft('jane')))).toBe(1);
    expect(await cost(account, () => access.update(id, 1, { state: 'accepted', acceptedAt: '2025-03-02T09:00:00.000Z' }))).toBe(1);
    // A handover moves the sponsor index row in the same transaction.
    expect(await cost(account, () => access.update(id, 2, { sponsor: { id: 'alex', name: 'Alex' } }))).toBe(1);
    expect(await cost(account, () => access.listBySponsor('contoso', 'alex'))).toBe(16);
    // Another instance (a fresh repository) pays for the id lookup and the read once, and its first
    // use reads the note that the table's layout is the current one.
    const other = new AzureGuestAccessRepository(account, { clock: manualClock() });
    expect(await cost(account, () => other.update(id, 3, { renewals: 1 }))).toBe(1 + 3);
    expect(await cost(account, () => other.get(id))).toBe(1);
  });
});
