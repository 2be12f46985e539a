/** Owned leases and holders: the same rules over SQLite and memory. */
import { openDatabase } from '../../../src/adapters/sqlite/database';
import { leaseMigrations, SqliteHolderRegistry, SqliteLeaseStore } from '../../../src/adapters/sqlite/leases';
import { MemoryHolderRegistry, MemoryHolderTable, MemoryLeaseStore } from '../../../src/adapters/memory/leases';
import type { Clock } from '../../../src/domain/clock';
import type { HolderRegistry, LeaseStore } from '../../../src/usecases/ports/leases';

interface Holder extends HolderRegistry {
  beat(): void;
  stop(): void;
}

interface Fixture {
  /** This process's registry and its leases. */
  holders: Holder;
  leases: LeaseStore;
  /** Another holder on the same store (another process, on another machine). */
  other(options: { ttlMs: number }): Holder;
}

type Make = (clock: Clock) => Fixture;

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
])('LeaseStore and HolderRegistry contract (%s)', (_name, make) => {
  it('a lease held by a live holder is refused to others, and free once released', async () => {
    const clock = movingClock();
    const { holders, leases, other } = make(clock);
    const them = other({ ttlMs: 10_000 });
    them.beat();

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
    const { holders, leases, other } = make(clock);
    const remote = other({ ttlMs: 1000 });
    remote.beat();
    expect(await holders.isAlive(remote.holderId)).toBe(true);
    expect(await leases.acquire('job:1', remote.holderId, 120_000)).toBe(true);
    expect(await leases.acquire('job:1', holders.holderId, 120_000)).toBe(false);

    clock.advance(1500); // no heartbeat for longer than its ttl; the lease itself has 118 s left

    expect(await holders.isAlive(remote.holderId)).toBe(false);
    expect(await leases.acquire('job:1', holders.holderId, 120_000)).toBe(true);
  });

  it('a holder that stopped (clean shutdown) frees what it held at once; an unknown holder is dead', async () => {
    const { holders, leases, other } = make(movingClock());
    const them = other({ ttlMs: 60_000 });
    them.beat();
    expect(await leases.acquire('k', them.holderId, 60_000)).toBe(true);
    them.stop();
    expect(await holders.isAlive(them.holderId)).toBe(false);
    expect(await holders.isAlive('never-registered')).toBe(false);
    expect(await holders.isAlive(holders.holderId)).toBe(true);
    expect(await leases.acquire('k', holders.holderId, 60_000)).toBe(true);
  });

  it('a lease past its time is free, even while its holder lives', async () => {
    const clock = movingClock();
    const { holders, leases, other } = make(clock);
    const them = other({ ttlMs: 60_000 });
    them.beat();
    expect(await leases.acquire('k', them.holderId, 1000)).toBe(true);
    clock.advance(1001);
    them.beat();
    expect(await leases.acquire('k', holders.holderId, 1000)).toBe(true);
  });

  it('renew extends only a lease still held by the caller', async () => {
    const clock = movingClock();
    const { holders, leases, other } = make(clock);
    const them = other({ ttlMs: 60_000 });
    them.beat();
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
    const { holders, leases } = make(movingClock());
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
    const { leases, other } = make(movingClock());
    const contenders = Array.from({ length: 10 }, () => other({ ttlMs: 60_000 }));
    for (const c of contenders) c.beat();
    const wins = await Promise.all(contenders.map((c) => leases.acquire('race', c.holderId, 60_000)));
    expect(wins.filter(Boolean)).toHaveLength(1);
  });
});
