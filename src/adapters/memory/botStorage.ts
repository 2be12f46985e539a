import { randomUUID } from 'node:crypto';
import type { Storage, StoreItems } from 'botbuilder';
import { serializeStoreItem, StorageETagConflictError } from '../botStorageItems';

/**
 * botbuilder `Storage` in memory with exactly SqliteBotStorage's semantics (see there): random
 * eTags, a batch written all or nothing, values checked and stored as JSON. botbuilder's own
 * MemoryStorage differs (counter eTags that repeat after a delete, a batch half-written on a
 * conflict, no value checks), so it is not used where the SQLite storage's behaviour is promised.
 */
export class MemoryBotStorage implements Storage {
  private readonly items = new Map<string, { value: string; etag: string }>();

  async read(keys: string[]): Promise<StoreItems> {
    if (!keys) throw new ReferenceError('Keys are required when reading.');
    const items: StoreItems = {};
    for (const key of keys) {
      const row = this.items.get(key);
      if (row) items[key] = { ...(JSON.parse(row.value) as Record<string, unknown>), eTag: row.etag };
    }
    return items;
  }

  async write(changes: StoreItems): Promise<void> {
    if (!changes) throw new ReferenceError('Changes are required when writing.');
    const prepared = Object.entries(changes).map(([key, item]) => ({ key, ...serializeStoreItem(key, item) }));
    for (const { key, eTag } of prepared) {
      if (eTag === undefined || eTag === '*') continue;
      const current = this.items.get(key);
      if (current && current.etag !== eTag) throw new StorageETagConflictError(key);
    }
    for (const { key, value } of prepared) this.items.set(key, { value, etag: randomUUID() });
  }

  async delete(keys: string[]): Promise<void> {
    if (!keys) throw new ReferenceError('Keys are required when deleting.');
    for (const key of keys) this.items.delete(key);
  }
}
