/**
 * A small JSON document in the bot's Storage (the store's bot-state storage: SQLite, memory or
 * Azure Blobs), changed by compare-and-set on its eTag so two clicks, two activities or two
 * instances never overwrite each other. Used for the lifecycle's pending notices and renewal
 * requests, which are Teams-side delivery records, not part of the lifecycle's own model.
 */
import { randomUUID } from 'node:crypto';
import type { Storage, StoreItem } from 'botbuilder';

const ATTEMPTS = 8;

/** True when a Storage write lost its eTag compare (the adapters' StorageETagConflictError and botbuilder's own). */
function isETagConflict(error: unknown): boolean {
  return error instanceof Error && (/etag/i.test(error.name) || /etag conflict/i.test(error.message) || (error as { statusCode?: number }).statusCode === 412);
}

export async function readDocument<T extends object>(storage: Storage, key: string): Promise<{ value: T; eTag: string } | null> {
  const items = await storage.read([key]);
  const item = items[key] as (T & StoreItem) | undefined;
  if (!item) return null;
  const { eTag, ...value } = item as StoreItem & Record<string, unknown>;
  return { value: value as unknown as T, eTag: eTag ?? '*' };
}

/**
 * Reads the document, lets `change` decide (null: write nothing), and writes the result only if
 * nobody wrote in between; on a lost race it reads again and asks `change` again.
 * Returns what `change` returned last (its `result`).
 */
export async function changeDocument<T extends object, R>(
  storage: Storage,
  key: string,
  change: (current: T | null) => { next: T | null; result: R },
): Promise<R> {
  for (let attempt = 0; ; attempt += 1) {
    const current = await readDocument<T>(storage, key);
    const { next, result } = change(current?.value ?? null);
    if (next === null) return result;
    // An existing document is written by its eTag. A new one carries an eTag of its own: every
    // bot-state adapter here writes a key not stored yet whatever its eTag, but only while it is
    // still absent (atomically), so of two first writers one wins and the other reads again.
    // (No eTag at all would mean "last writer wins" and lose the first writer's change.)
    const eTag = current ? current.eTag : `absent-${randomUUID()}`;
    try {
      await storage.write({ [key]: { ...next, eTag } });
      return result;
    } catch (error) {
      if (!isETagConflict(error) || attempt >= ATTEMPTS) throw error;
    }
  }
}
