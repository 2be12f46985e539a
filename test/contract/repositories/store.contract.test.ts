/** The store bundle: both adapters hand the app the same repositories and lifecycle. */
import { openMemoryStore } from '../../../src/adapters/memory/store';
import { openStore } from '../../../src/adapters/sqlite/store';
import type { Store } from '../../../src/adapters/repositories';

type Make = () => Store;

const makeSqlite: Make = () => openStore({ file: ':memory:' });
const makeMemory: Make = () => openMemoryStore();

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
] as const;

describe.each([
  ['sqlite', makeSqlite],
  ['memory', makeMemory],
])('store bundle contract (%s)', (_name, make) => {
  it('holds every repository, answers ping while open, and not after close (which can be called twice)', () => {
    const store = make();
    for (const name of REPOSITORIES) expect(store[name]).toBeDefined();
    expect(store.ping()).toBe(true);
    store.close();
    expect(store.ping()).toBe(false);
    expect(() => store.close()).not.toThrow();
  });

  it('keeps one results-link secret: the same on every call', async () => {
    const store = make();
    const secret = await store.resultsLinkSecret.getOrCreate();
    expect(secret.length).toBeGreaterThanOrEqual(32);
    expect((await store.resultsLinkSecret.getOrCreate()).equals(secret)).toBe(true);
    store.close();
  });

  it('registers this process as a holder once started, alive to itself, able to take a lease', async () => {
    const store = make();
    store.holders.start();
    expect(await store.leases.acquire('k', store.holders.holderId, 60_000)).toBe(true);
    expect(await store.holders.isAlive(store.holders.holderId)).toBe(true);
    store.close();
  });
});
