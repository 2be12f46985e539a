/** Lock holders and owned leases: a dead holder frees what it held at once; "once" stays once. */
import { SqliteHolderRegistry, SqliteLeaseStore } from '../../../src/adapters/sqlite/leases';
import { tempStore } from '../../support/store';

describe('holders and leases', () => {
  it('a lease held by a live holder is refused to others, and free once released', async () => {
    const store = tempStore();
    const other = new SqliteHolderRegistry(store.db, { ttlMs: 10_000 });
    other.start();
    try {
      expect(await store.leases.acquire('approval:1', other.holderId, 60_000)).toBe(true);
      expect(await store.leases.acquire('approval:1', store.holders.holderId, 60_000)).toBe(false);
      await store.leases.release('approval:1', other.holderId);
      expect(await store.leases.acquire('approval:1', store.holders.holderId, 60_000)).toBe(true);
    } finally {
      other.stop();
    }
  });

  it('a holder whose heartbeat stopped is dead well before its leases run out', async () => {
    const store = tempStore();
    let now = Date.now();
    const clock = { now: () => new Date(now) };
    // A holder on another machine (its process cannot be checked): only its heartbeat tells.
    const remote = new SqliteHolderRegistry(store.db, { ttlMs: 1000, clock, host: 'other-host', pid: 4242 });
    remote.beat();
    const here = new SqliteHolderRegistry(store.db, { ttlMs: 1000, clock });
    const leases = new SqliteLeaseStore(store.db, here, { clock });
    expect(await leases.acquire('job:1', remote.holderId, 120_000)).toBe(true);
    expect(await leases.acquire('job:1', here.holderId, 120_000)).toBe(false);
    now += 1500; // no heartbeat for longer than its ttl; the lease itself has 118 s left
    expect(await here.isAlive(remote.holderId)).toBe(false);
    expect(await leases.acquire('job:1', here.holderId, 120_000)).toBe(true);
  });

  it('a holder on this machine whose process is gone is dead at once', async () => {
    const store = tempStore();
    // A pid far above any real one: no such process.
    const gone = new SqliteHolderRegistry(store.db, { ttlMs: 60_000, pid: 2 ** 22 + 17 });
    gone.beat();
    expect(await store.holders.isAlive(gone.holderId)).toBe(false);
    expect(await store.leases.acquire('k', gone.holderId, 60_000)).toBe(true);
    expect(await store.leases.acquire('k', store.holders.holderId, 60_000)).toBe(true);
  });

  it('a completed key is never taken again, by anyone', async () => {
    const store = tempStore();
    expect(await store.leases.acquire('welcome:a', store.holders.holderId, 60_000)).toBe(true);
    await store.leases.complete('welcome:a', store.holders.holderId);
    expect(await store.leases.isComplete('welcome:a')).toBe(true);
    expect(await store.leases.acquire('welcome:a', store.holders.holderId, 60_000)).toBe(false);
    await store.leases.release('welcome:a', store.holders.holderId);
    expect(await store.leases.acquire('welcome:a', 'someone-else', 60_000)).toBe(false);
  });

  it('two connections to one file acquiring at once: exactly one wins', async () => {
    const first = tempStore();
    const second = tempStore([], { file: first.file });
    first.holders.start();
    second.holders.start();
    const wins = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        Promise.all([
          first.leases.acquire(`k${i}`, first.holders.holderId, 60_000),
          second.leases.acquire(`k${i}`, second.holders.holderId, 60_000),
        ]),
      ),
    );
    expect(wins.every(([a, b]) => a !== b)).toBe(true);
  });
});
