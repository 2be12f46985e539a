/**
 * The results-link secret, the same over every adapter: made on first use (at least 32 bytes),
 * then always the same; processes starting at once agree on one; another instance over the same
 * storage (a restart, a second process) reads the same one; another storage has its own.
 */
import { openDatabase, type SqliteDatabase } from '../../../src/adapters/sqlite/database';
import { bulkMigrations } from '../../../src/adapters/sqlite/bulkJobs';
import { SqliteResultsLinkSecret } from '../../../src/adapters/sqlite/resultsLinkSecret';
import { MemoryResultsLinkSecret, MemorySecretCell } from '../../../src/adapters/memory/resultsLinkSecret';
import type { ResultsLinkSecretStore } from '../../../src/usecases/bulk/ports';
import { AzureResultsLinkSecret } from '../../../src/adapters/azure/resultsLinkSecret';
import { useAzurite } from '../../support/azurite';

const azurite = useAzurite();

/** A storage, and a way to open a repository over it (as a new process would). */
interface Storage {
  open(): ResultsLinkSecretStore;
}

const sqliteStorage = (): Storage => {
  const db: SqliteDatabase = openDatabase(':memory:', bulkMigrations);
  return { open: () => new SqliteResultsLinkSecret(db) };
};
const memoryStorage = (): Storage => {
  const cell = new MemorySecretCell();
  return { open: () => new MemoryResultsLinkSecret(cell) };
};
const azureStorage = (): Storage => {
  const prefix = azurite.account().prefix;
  // Each open is a new account object on the same prefix: another process over the same storage.
  return { open: () => new AzureResultsLinkSecret(azurite.account(prefix)) };
};

describe.each([
  ['sqlite', sqliteStorage],
  ['memory', memoryStorage],
  ['azure', azureStorage],
])('ResultsLinkSecretStore contract (%s)', (_name, storage) => {
  it('is made on first use, at least 32 bytes, and then always the same', async () => {
    const secrets = storage().open();
    const first = await secrets.getOrCreate();
    expect(first.length).toBeGreaterThanOrEqual(32);
    expect((await secrets.getOrCreate()).equals(first)).toBe(true);
  });

  it('callers asking at once all get the same secret', async () => {
    const store = storage();
    const all = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? store.open() : store.open()).getOrCreate()));
    for (const secret of all) expect(secret.equals(all[0] ?? Buffer.alloc(0))).toBe(true);
  });

  it('another instance over the same storage reads the same secret; another storage has its own', async () => {
    const store = storage();
    const before = await store.open().getOrCreate();
    expect((await store.open().getOrCreate()).equals(before)).toBe(true);
    expect((await storage().open().getOrCreate()).equals(before)).toBe(false);
  });

  it('what a caller holds is a copy: changing it does not change the secret', async () => {
    const secrets = storage().open();
    const first = await secrets.getOrCreate();
    const kept = Buffer.from(first);
    first.fill(0);
    expect((await secrets.getOrCreate()).equals(kept)).toBe(true);
  });
});
