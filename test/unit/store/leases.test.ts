/**
 * What only the SQLite holders and leases show: a holder's process seen gone on this machine, and
 * two connections to one file. The shared rules: test/contract/repositories/leases.contract.test.ts.
 */
import { SqliteHolderRegistry } from '../../../src/adapters/sqlite/leases';
import { tempStore } from '../../support/store';

describe('SQLite holders and leases', () => {
  it('a holder on this machine whose process is gone is dead at once', async () => {
    const store = tempStore();
    // A pid far above any real one: no such process.
    const gone = new SqliteHolderRegistry(store.db, { ttlMs: 60_000, pid: 2 ** 22 + 17 });
    gone.beat();
    expect(await store.holders.isAlive(gone.holderId)).toBe(false);
    expect(await store.leases.acquire('k', gone.holderId, 60_000)).toBe(true);
    expect(await store.leases.acquire('k', store.holders.holderId, 60_000)).toBe(true);
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
