/**
 * What the small Azure repositories cost, in storage transactions (Azure bills per transaction):
 * counted by the account on a real Azurite, so a change that adds a read before every write shows.
 */
import { AzureAuditLog } from '../../../src/adapters/azure/audit';
import { AzureChannelIdentityRepository } from '../../../src/adapters/azure/channelIdentities';
import { AzureHolderRegistry, AzureLeaseStore } from '../../../src/adapters/azure/leases';
import { AzurePacerWindowStore } from '../../../src/adapters/azure/pacerWindow';
import { AzureBulkJobRepository } from '../../../src/adapters/azure/bulkJobs';
import type { AzureStorageAccount } from '../../../src/adapters/azure/account';
import { useAzurite } from '../../support/azurite';

const azurite = useAzurite();

/** Transactions `work` sent through `account`. */
async function cost(account: AzureStorageAccount, work: () => Promise<unknown>): Promise<number> {
  const before = account.transactions;
  await work();
  return account.transactions - before;
}

describe('transactions per operation on Azure Storage', () => {
  it('pacer: one conditional write per start on one instance; a wait answered from its copy costs nothing', async () => {
    const account = azurite.account();
    const window = new AzurePacerWindowStore(account);
    await window.tryStart('invitations', 5, 1000, () => 0); // creates the table and the entity
    expect(await cost(account, async () => {
      for (let i = 1; i < 5; i++) expect(await window.tryStart('invitations', 5, 1000, () => i)).toBe(0);
    })).toBe(4);
    expect(await cost(account, () => window.tryStart('invitations', 5, 1000, () => 10))).toBe(0);
  });

  it('pacer: two instances starting in turn pay at most three per start, and never exceed the limit together', async () => {
    const prefix = azurite.account().prefix;
    const accounts = [azurite.account(prefix), azurite.account(prefix)];
    const windows = accounts.map((a) => new AzurePacerWindowStore(a));
    await windows[0]?.tryStart('invitations', 100, 60_000, () => 0);
    await windows[1]?.countSince('invitations', 0); // warm both: tables created, entity read
    const before = accounts.reduce((n, a) => n + a.transactions, 0);
    let started = 0;
    for (let i = 1; i <= 20; i++) if ((await windows[i % 2]?.tryStart('invitations', 100, 60_000, () => i)) === 0) started++;
    const spent = accounts.reduce((n, a) => n + a.transactions, 0) - before;
    expect(started).toBe(20);
    expect(spent).toBeLessThanOrEqual(3 * 20);
    // Both at once, over the limit: exactly the limit starts, across the two.
    const waits = await Promise.all(Array.from({ length: 30 }, (_, i) => windows[i % 2]?.tryStart('burst', 10, 60_000, () => 1000)));
    expect(waits.filter((w) => w === 0)).toHaveLength(10);
  });

  it('bulk rows: updates of one job asked for while another is written go together, a hundred per transaction', async () => {
    const account = azurite.account();
    const jobs = new AzureBulkJobRepository(account);
    const job = await jobs.createDraft({
      tenantId: 't1',
      requestedBy: { id: 'megan', name: 'Megan Bowen' },
      conversationId: null,
      defaultSite: null,
      summary: { sourceName: 'p.csv', format: 'script', rows: 0, valid: 0, invalid: 0, invalidRows: [], duplicates: 0, internal: 0, blocked: 0, alreadyDone: 0, needsApproval: 0, approvalReasons: [], methods: {}, sites: [], toSend: 0 },
    });
    const numbers = Array.from({ length: 40 }, (_, i) => i + 2);
    await jobs.insertRows(
      job.id,
      numbers.map((n) => ({ rowNumber: n, name: '', email: `p${n}@example.org`, emailKey: `p${n}@example.org`, groupId: 'g', siteName: 'S', siteUrl: 'https://s', redirectUrl: null, sendEmail: null, message: null, predictedMethod: null, state: 'pending' as const })),
    );
    // One alone is one request, as before.
    expect(await cost(account, () => jobs.updateRow(job.id, 2, { lockVersion: 2 }))).toBe(1);
    // Forty at once (a page's claims, a group's members landing): the first goes alone, the other
    // thirty-nine wait for it and go in one transaction.
    expect(await cost(account, () => Promise.all(numbers.map((n) => jobs.updateRow(job.id, n, { state: 'done', error: 'success' }))))).toBe(2);
    expect((await jobs.counts(job.id)).done).toBe(40);
  });

  it('a free lease is one insert; an audit event is one insert; a known identity pair costs nothing after the first check', async () => {
    const account = azurite.account();
    const holders = new AzureHolderRegistry(account);
    const leases = new AzureLeaseStore(account, holders);
    await leases.acquire('warm', holders.holderId, 1000);
    expect(await cost(account, () => leases.acquire('approval:1', holders.holderId, 60_000))).toBe(1);

    const audit = new AzureAuditLog(account);
    await audit.append({ actorId: 'a', actorName: 'A', action: 'x.warm', subjectType: 's', subjectId: '0' });
    expect(await cost(account, () => audit.append({ actorId: 'a', actorName: 'A', action: 'x.y', subjectType: 's', subjectId: '1' }))).toBe(1);

    const identities = new AzureChannelIdentityRepository(account);
    const pair = { channelId: 'msteams', tenantId: 't', channelUserId: '29:megan', aadObjectId: 'megan' };
    await identities.checkAndRemember(pair);
    expect(await cost(account, () => identities.checkAndRemember(pair))).toBe(0);
    // Another instance (a fresh repository) pays one read for a pair it has not seen.
    expect(await cost(account, () => new AzureChannelIdentityRepository(account).checkAndRemember(pair))).toBe(1);
  });
});
