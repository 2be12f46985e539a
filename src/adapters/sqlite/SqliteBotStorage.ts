import { randomUUID } from 'node:crypto';
import type { Storage, StoreItems } from 'botbuilder';
import { serializeStoreItem as serialize, StorageETagConflictError } from '../botStorageItems';
import { systemClock, type Clock } from '../../domain/clock';
import type { SqliteDatabase } from './database';

interface StoredRow {
  value: string;
  etag: string;
}

/**
 * botbuilder `Storage` over the embedded SQLite database (table `bot_storage`, migration
 * core/001), with the eTag semantics of botbuilder's MemoryStorage:
 * - a write with no eTag, with `eTag: '*'`, or of a key not stored yet always succeeds (a key
 *   not stored yet only while it still is: of two first writers carrying eTags, one wins);
 * - a write with any other eTag succeeds only if it equals the stored one, else it rejects with
 *   StorageETagConflictError (`Storage: error writing "<key>" due to eTag conflict.`);
 * - every successful write gives the item a new eTag (a random UUID, so an eTag read before a
 *   delete can never match the item re-created after it); reads return it in `eTag`;
 * - the caller's objects are never mutated.
 *
 * Unlike MemoryStorage, a batch is atomic: one conflicting key means nothing in the batch is written.
 *
 * Values: items must be JSON objects (not arrays or primitives). They are stored with
 * `JSON.stringify`, exactly as MemoryStorage clones them: `undefined` properties are dropped,
 * Dates come back as ISO strings, `toJSON` is honoured. That is what the bot's state needs
 * (dialog stacks routinely hold `options: undefined`), so such values are not rejected.
 * What JSON cannot hold at all (circular structures, BigInt) is rejected with StorageValueError.
 */
export class SqliteBotStorage implements Storage {
  private readonly selectItem;
  private readonly upsertItem;
  private readonly deleteItem;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly clock: Clock = systemClock,
  ) {
    this.selectItem = db.prepare<[string], StoredRow>('SELECT value, etag FROM bot_storage WHERE key = ?');
    this.upsertItem = db.prepare<[string, string, string, string]>(
      `INSERT INTO bot_storage (key, value, etag, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, etag = excluded.etag, updated_at = excluded.updated_at`,
    );
    this.deleteItem = db.prepare<[string]>('DELETE FROM bot_storage WHERE key = ?');
  }

  async read(keys: string[]): Promise<StoreItems> {
    if (!keys) throw new ReferenceError('Keys are required when reading.');
    const items: StoreItems = {};
    // One read transaction so the batch is a consistent snapshot even while another process writes.
    this.db.transaction(() => {
      for (const key of keys) {
        const row = this.selectItem.get(key);
        if (row) items[key] = { ...(JSON.parse(row.value) as Record<string, unknown>), eTag: row.etag };
      }
    })();
    return items;
  }

  async write(changes: StoreItems): Promise<void> {
    if (!changes) throw new ReferenceError('Changes are required when writing.');
    const prepared = Object.entries(changes).map(([key, item]) => ({ key, ...serialize(key, item) }));
    if (prepared.length === 0) return;
    const updatedAt = this.clock.now().toISOString();
    // IMMEDIATE: take the write lock before reading eTags, so compare-and-set holds across processes.
    this.db
      .transaction(() => {
        for (const { key, value, eTag } of prepared) {
          if (eTag !== undefined && eTag !== '*') {
            const current = this.selectItem.get(key);
            if (current && current.etag !== eTag) throw new StorageETagConflictError(key);
          }
          this.upsertItem.run(key, value, randomUUID(), updatedAt);
        }
      })
      .immediate();
  }

  async delete(keys: string[]): Promise<void> {
    if (!keys) throw new ReferenceError('Keys are required when deleting.');
    this.db.transaction(() => {
      for (const key of keys) this.deleteItem.run(key);
    }).immediate();
  }
}
