/** The store bundle: both adapters hand the app the same repositories and lifecycle. */
import { openMemoryStore } from '../../../src/adapters/memory/store';
import { openStore } from '../../../src/adapters/sqlite/store';
import type { Store } from '../../../src/adapters/repositories';
import { openAzureStore } from '../../../src/adapters/azure/store';
import { AzureHolderRegistry } from '../../../src/adapters/azure/leases';
import { manualClock } from '../../support/store';
import { useAzurite } from '../../support/azurite';

const azurite = useAzurite();

type Make = () => Store;

const makeSqlite: Make = () => openStore({ file: ':memory:' });
const makeMemory: Make = () => openMemoryStore();
const makeAzure: Make = () => openAzureStore({ account: azurite.account() });

const REPOSITORIES = [
  'audit',
  'holders',
  'leases',
  'conversationReferences',
  'channelIdentities',
  'pacerWindow',
  'invitations',
  'approvalRequests',
  'resetRequests',
  'bulkJobs',
  'botStorage',
  'workQueue',
] as const;

describe.each([
  ['sqlite', makeSqlite],
  ['memory', makeMemory],
  ['azure', makeAzure],
])('store bundle contract (%s)', (_name, make) => {
  it('holds every repository, answers ping while open, and not after close (which can be called twice)', async () => {
    const store = make();
    for (const name of REPOSITORIES) expect(store[name]).toBeDefined();
    expect(await store.ping()).toBe(true);
    await store.close();
    expect(await store.ping()).toBe(false);
    await expect(Promise.resolve().then(() => store.close())).resolves.toBeUndefined();
  });

  it('keeps one results-link secret: the same on every call', async () => {
    const store = make();
    const secret = await store.resultsLinkSecret.getOrCreate();
    expect(secret.length).toBeGreaterThanOrEqual(32);
    expect((await store.resultsLinkSecret.getOrCreate()).equals(secret)).toBe(true);
    await store.close();
  });

  it('registers this process as a holder once started, alive to itself, able to take a lease', async () => {
    const store = make();
    await store.holders.start();
    expect(await store.leases.acquire('k', store.holders.holderId, 60_000)).toBe(true);
    expect(await store.holders.isAlive(store.holders.holderId)).toBe(true);
    await store.close();
  });
});

describe('store bundle on Azure Storage', () => {
  it('a stopped store frees its leases for another instance, and prune forgets only the long dead', async () => {
    const account = azurite.account();
    const clock = manualClock('2025-03-01T09:00:00.000Z');
    const first = openAzureStore({ account: azurite.account(account.prefix), clock, holderTtlMs: 1000 });
    const second = openAzureStore({ account: azurite.account(account.prefix), clock, holderTtlMs: 1000 });
    await first.holders.start();
    await second.holders.start();
    expect(await first.leases.acquire('sweep:expiry', first.holders.holderId, 60_000)).toBe(true);
    expect(await second.leases.acquire('sweep:expiry', second.holders.holderId, 60_000)).toBe(false);
    expect(await second.holders.isAlive(first.holders.holderId)).toBe(true);
    await first.close();
    expect(await second.holders.isAlive(first.holders.holderId)).toBe(false);
    expect(await second.leases.acquire('sweep:expiry', second.holders.holderId, 60_000)).toBe(true);

    // A holder that died without stopping: its registration stays until prune finds it an hour dead.
    const crashed = new AzureHolderRegistry(azurite.account(account.prefix), { ttlMs: 1000, clock, host: 'gone', pid: 1 });
    await crashed.beat();
    clock.advance(30 * 60_000);
    expect(await second.holders.prune()).toBe(0);
    await second.holders.beat();
    clock.advance(31 * 60_000);
    await second.holders.beat();
    expect(await second.holders.prune()).toBe(1);
    expect(await second.holders.isAlive(second.holders.holderId)).toBe(true);
    await second.close();
  });

  it('ping is false when the storage cannot be reached', async () => {
    const store = openAzureStore({
      account: {
        connectionString:
          'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=eA==;TableEndpoint=http://127.0.0.1:1/devstoreaccount1;BlobEndpoint=http://127.0.0.1:1/devstoreaccount1;QueueEndpoint=http://127.0.0.1:1/devstoreaccount1;',
      },
    });
    expect(await store.ping()).toBe(false);
    await store.close();
  });
});
