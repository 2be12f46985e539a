/** The shared pacer window: the same slots and waits over SQLite and memory. */
import { openDatabase } from '../../../src/adapters/sqlite/database';
import { pacerWindowMigrations, SqlitePacerWindowStore } from '../../../src/adapters/sqlite/pacerWindow';
import { MemoryPacerWindowStore } from '../../../src/adapters/memory/pacerWindow';
import type { PacerWindowStore } from '../../../src/usecases/ports/pacerWindow';
import { AzurePacerWindowStore } from '../../../src/adapters/azure/pacerWindow';
import { useAzurite } from '../../support/azurite';

const azurite = useAzurite();

type Make = () => PacerWindowStore;

const makeSqlite: Make = () => new SqlitePacerWindowStore(openDatabase(':memory:', pacerWindowMigrations));
const makeMemory: Make = () => new MemoryPacerWindowStore();
const makeAzure: Make = () => new AzurePacerWindowStore(azurite.account());

describe.each([
  ['sqlite', makeSqlite],
  ['memory', makeMemory],
  ['azure', makeAzure],
])('PacerWindowStore contract (%s)', (_name, make) => {
  it('lets `limit` starts into a window, then says how long until the oldest leaves it', async () => {
    const window = make();
    expect(await window.tryStart('invitations', 3, 1000, 10_000)).toBe(0);
    expect(await window.tryStart('invitations', 3, 1000, 10_100)).toBe(0);
    expect(await window.tryStart('invitations', 3, 1000, 10_200)).toBe(0);
    expect(await window.tryStart('invitations', 3, 1000, 10_300)).toBe(700);
    expect(await window.countSince('invitations', 10_300 - 1000)).toBe(3);
    // A refused start is not recorded; once the oldest left the window, one more starts.
    expect(await window.tryStart('invitations', 3, 1000, 11_000)).toBe(0);
    expect(await window.countSince('invitations', 11_000 - 1000)).toBe(3);
  });

  it('keeps windows apart by name', async () => {
    const window = make();
    expect(await window.tryStart('a', 1, 1000, 0)).toBe(0);
    expect(await window.tryStart('b', 1, 1000, 0)).toBe(0);
    expect(await window.tryStart('a', 1, 1000, 10)).toBe(990);
    expect(await window.countSince('never', -1)).toBe(0);
  });

  it('a hold-off stops every start until it ends, and a shorter one never shortens it', async () => {
    const window = make();
    await window.holdOff('invitations', 5000);
    await window.holdOff('invitations', 3000);
    expect(await window.tryStart('invitations', 100, 1000, 1000)).toBe(4000);
    expect(await window.countSince('invitations', 0)).toBe(0);
    expect(await window.tryStart('invitations', 100, 1000, 5000)).toBe(0);
    await window.holdOff('invitations', 7000);
    expect(await window.tryStart('invitations', 100, 1000, 6000)).toBe(1000);
  });

  it('concurrent starts never exceed the limit', async () => {
    const window = make();
    const waits = await Promise.all(Array.from({ length: 20 }, () => window.tryStart('invitations', 5, 1000, 50_000)));
    expect(waits.filter((w) => w === 0)).toHaveLength(5);
    expect(waits.filter((w) => w > 0).every((w) => w === 1000)).toBe(true);
  });
});
