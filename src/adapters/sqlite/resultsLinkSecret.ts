import { randomBytes } from 'node:crypto';
import type { Migration, SqliteDatabase, SqliteStatement as Statement } from './database';
import { systemClock, type Clock } from '../../domain/clock';
import type { ResultsLinkSecretStore } from '../../usecases/bulk/ports';

/** The bulk module's one-row settings table; today it holds the results-link secret. */
export const resultsLinkSecretMigration: Migration = {
  id: 'bulk/003-results-link-secret',
  up: `CREATE TABLE bulk_secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    created_at INTEGER NOT NULL
  )`,
};

const SECRET_NAME = 'resultsLink';

/**
 * The results-link signing secret, generated on first use and kept in the embedded store, so links
 * survive a restart and are valid on every process sharing the store, with nothing to configure.
 * INSERT OR IGNORE makes two processes starting at once agree on one secret. Anyone who can read
 * the database file can mint links; the file already holds the redeem links, so it is protected
 * the same way.
 */
export class SqliteResultsLinkSecret implements ResultsLinkSecretStore {
  private readonly insertStmt: Statement<[string, string, number]>;
  private readonly selectStmt: Statement<[string], { value: string }>;

  constructor(
    db: SqliteDatabase,
    private readonly clock: Clock = systemClock,
  ) {
    this.insertStmt = db.prepare('INSERT OR IGNORE INTO bulk_secrets (name, value, created_at) VALUES (?, ?, ?)');
    this.selectStmt = db.prepare('SELECT value FROM bulk_secrets WHERE name = ?');
  }

  getOrCreateSync(): Buffer {
    this.insertStmt.run(SECRET_NAME, randomBytes(32).toString('base64'), this.clock.now().getTime());
    const row = this.selectStmt.get(SECRET_NAME);
    if (!row) throw new Error('results link secret missing after insert');
    return Buffer.from(row.value, 'base64');
  }

  async getOrCreate(): Promise<Buffer> {
    return this.getOrCreateSync();
  }
}
