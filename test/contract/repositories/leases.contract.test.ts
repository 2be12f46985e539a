/** Owned leases and holders: the same rules over SQLite and memory. */
import { openDatabase } from '../../../src/adapters/sqlite/database';
import { leaseMigrations, SqliteHolderRegistry, SqliteLeaseStore } from '../../../src/adapters/sqlite/leases';
import { MemoryHolderRegistry, MemoryHolderTable, MemoryLeaseStore } from '../../../src/adapters/memory/leases';
import type { Clock } from '../../../src/domain/clock';
import type { HolderRegistry, LeaseStore } from '../../../src/usecases/ports/leases';
import { AzureHolderRegistry, AzureLeaseStore } from '../../../src/adapters/azure/leases';
import { useAzurite } from '../../support/azurite';

const azurite = useAzurite();

interface Holder extends HolderRegistry {
  beat(): void | Promise<void>;
  stop(): void | Promise<void>;
}

interface Fixture {
  /** This process's registry and its leases. */
  holders: Holder;
  leases: LeaseStore;
  /** Another holder on the same store (another process, on another machine). */
  other(options: { ttlMs: number }): Holder;
}

type Make = (clock: Clock) => Fixture | Promise<Fixture>;

const makeSqlite: Make = (clock) => {
  const db = openDatabase(':memory:', leaseMigrations);
  const holders = new SqliteHolderRegistry(db, { ttlMs: 1000, clock });
  holders.beat();
  return {
    holders,
    leases: new SqliteLeaseStore(db, holders, { clock }),
    // Another host: only its heartbeat tells whether it lives.
    other: ({ ttlMs }) => new SqliteHolderRegistry(db, { ttlMs, clock, host: 'other-host', pid: 4242 }),
  };
};

const makeMemory: Make = (clock) => {
  const table = new MemoryHolderTable();
  const holders = new MemoryHolderRegistry(table, { ttlMs: 1000, clock });
  holders.beat();
  return {
    holders,
    leases: new MemoryLeaseStore(holders, { clock }),
    other: ({ ttlMs }) => new MemoryHolderRegistry(table, { ttlMs, clock }),
  };
};

const makeAzure: Make = async (clock) => {
  // Every registry on one account: instances of the bot on other machines sharing the storage.
  const account = azurite.account();
  const holders = new AzureHolderRegistry(account, { ttlMs: 1000, clock });
  await holders.beat();
  return {
    holders,
    leases: new AzureLeaseStore(account, holders, { clock }),
    other: ({ ttlMs }) => new AzureHolderRegistry(account, { ttlMs, clock, host: 'other-host', pid: 4242 }),
  };
};

function movingClock(): Clock & { advance(ms: number): void } {
  let now = Date.parse('2025-03-01T09:00:00.000Z');
  return {
    now: () => new Date(now),
    advance: (ms) => {
      now += ms;
    },
  };
}

describe.each([
  ['sqlite', makeSqlite],
  ['memory', makeMemory],
  ['azure', makeAzure],
])('LeaseStore and HolderRegistry contract (%s)', (_name, make) => {
  it('a lease held by a live holder is refused to others, and free once released', async () => {
    const clock = movingClock();
    const { holders, leases, other } = await make(clock);
    const them = other({ ttlMs: 10_000 });
    await them.beat();

    expect(await leases.acquire('approval:1', them.holderId, 60_000)).toBe(true);
    expect(await leases.acquire('approval:1', holders.holderId, 60_000)).toBe(false);
    // Only the holder can release it.
    await leases.release('approval:1', holders.holderId);
    expect(await leases.acquire('approval:1', holders.holderId, 60_000)).toBe(false);
    await leases.release('approval:1', them.holderId);
    expect(await leases.acquire('approval:1', holders.holderId, 60_000)).toBe(true);
  });

  it('a holder whose heartbeat stopped is dead well before its leases run out', async () => {
    const clock = movingClock();
    const { holders, leases, other } = await make(clock);
    const remote = other({ ttlMs: 1000 });
    await remote.beat();
    expect(await holders.isAlive(remote.holderId)).toBe(true);
    expect(await leases.acquire('job:1', remote.holderId, 120_000)).toBe(true);
    expect(await leases.acquire('job:1', holders.holderId, 120_000)).toBe(false);

    clock.advance(1500); // no heartbeat for longer than its ttl; the lease itself has 118 s left

    expect(await holders.isAlive(remote.holderId)).toBe(false);
    expect(await leases.acquire('job:1', holders.holderId, 120_000)).toBe(true);
  });

  it('a holder that stopped (clean shutdown) frees what it held at once; an unknown holder is dead', async () => {
    const { holders, leases, other } = await make(movingClock());
    const them = other({ ttlMs: 60_000 });
    await them.beat();
    expect(await leases.acquire('k', them.holderId, 60_000)).toBe(true);
    await them.stop();
    expect(await holders.isAlive(them.holderId)).toBe(false);
    expect(await holders.isAlive('never-registered')).toBe(false);
    expect(await holders.isAlive(holders.holderId)).toBe(true);
    expect(await leases.acquire('k', holders.holderId, 60_000)).toBe(true);
  });

  it('a lease past its time is free, even while its holder lives', async () => {
    const clock = movingClock();
    const { holders, leases, other } = await make(clock);
    const them = other({ ttlMs: 60_000 });
    await them.beat();
    expect(await leases.acquire('k', them.holderId, 1000)).toBe(true);
    clock.advance(1001);
    await them.beat();
    expect(await leases.acquire('k', holders.holderId, 1000)).toBe(true);
  });

  it('renew extends only a lease still held by the caller', async () => {
    const clock = movingClock();
    const { holders, leases, other } = await make(clock);
    const them = other({ ttlMs: 60_000 });
    await them.beat();
    expect(await leases.acquire('k', holders.holderId, 1000)).toBe(true);
    clock.advance(900);
    expect(await leases.renew('k', holders.holderId, 1000)).toBe(true);
    clock.advance(900);
    // Still held thanks to the renewal (1,800 ms after a 1,000 ms lease).
    expect(await leases.acquire('k', them.holderId, 1000)).toBe(false);
    expect(await leases.renew('k', them.holderId, 1000)).toBe(false);
    expect(await leases.renew('never-taken', holders.holderId, 1000)).toBe(false);
  });

  it('a completed key is never taken again, by anyone; release does not undo it', async () => {
    const { holders, leases } = await make(movingClock());
    expect(await leases.isComplete('welcome:a')).toBe(false);
    expect(await leases.acquire('welcome:a', holders.holderId, 60_000)).toBe(true);
    await leases.complete('welcome:a', holders.holderId);
    expect(await leases.isComplete('welcome:a')).toBe(true);
    expect(await leases.acquire('welcome:a', holders.holderId, 60_000)).toBe(false);
    await leases.release('welcome:a', holders.holderId);
    expect(await leases.acquire('welcome:a', 'someone-else', 60_000)).toBe(false);
    expect(await leases.renew('welcome:a', holders.holderId, 60_000)).toBe(false);
    // Completing a key nobody took also closes it.
    await leases.complete('never-taken', holders.holderId);
    expect(await leases.acquire('never-taken', holders.holderId, 60_000)).toBe(false);
  });

  it('concurrent acquires of one key: exactly one wins', async () => {
    const { leases, other } = await make(movingClock());
    const contenders = Array.from({ length: 10 }, () => other({ ttlMs: 60_000 }));
    for (const c of contenders) await c.beat();
    const wins = await Promise.all(contenders.map((c) => leases.acquire('race', c.holderId, 60_000)));
    expect(wins.filter(Boolean)).toHaveLength(1);
  });
});

describe('leases across instances (two stores on one Azurite)', () => {
  it('two instances racing for the same keys never both take one', async () => {
    // Two accounts on one prefix: separate clients and connections, as two bot instances have.
    const prefix = azurite.account().prefix;
    const instances = [azurite.account(prefix), azurite.account(prefix)].map((account) => {
      const holders = new AzureHolderRegistry(account, { ttlMs: 60_000 });
      return { holders, leases: new AzureLeaseStore(account, holders) };
    });
    for (const { holders } of instances) await holders.start();
    try {
      for (let round = 0; round < 20; round++) {
        const key = `sweep:${round}`;
        // Three contenders per instance, all at once.
        const wins = await Promise.all(
          instances.flatMap(({ holders, leases }) => [0, 1, 2].map(() => leases.acquire(key, holders.holderId, 60_000))),
        );
        expect(wins.filter(Boolean)).toHaveLength(1);
      }
      // A lease one instance holds is refused to the other until released; then the other takes it.
      const [a, b] = instances as [(typeof instances)[0], (typeof instances)[0]];
      expect(await a.leases.acquire('approval:x', a.holders.holderId, 60_000)).toBe(true);
      expect(await b.leases.acquire('approval:x', b.holders.holderId, 60_000)).toBe(false);
      await a.leases.release('approval:x', a.holders.holderId);
      expect(await b.leases.acquire('approval:x', b.holders.holderId, 60_000)).toBe(true);
      // An instance that stopped cleanly frees its leases at once for the other.
      await b.holders.stop();
      expect(await a.leases.acquire('approval:x', a.holders.holderId, 60_000)).toBe(true);
    } finally {
      for (const { holders } of instances) await holders.stop();
    }
  });
});
