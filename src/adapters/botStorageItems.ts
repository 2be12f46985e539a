/**
 * What every bot-state `Storage` adapter (SQLite, memory) accepts and how it refuses: the rules
 * are documented on SqliteBotStorage, and the memory adapter follows them exactly.
 */

/** A value handed to `write` that cannot be stored as a JSON object. Nothing in that batch is written. */
export class StorageValueError extends Error {
  constructor(
    readonly key: string,
    reason: string,
    options?: { cause: unknown },
  ) {
    super(`Storage: cannot write "${key}": ${reason}.`, options);
    this.name = 'StorageValueError';
  }
}

/**
 * A write whose eTag no longer matches the stored item (someone else wrote it since it was read).
 * The message is the one botbuilder's MemoryStorage uses, so callers that match on it keep working.
 */
export class StorageETagConflictError extends Error {
  constructor(readonly key: string) {
    super(`Storage: error writing "${key}" due to eTag conflict.`);
    this.name = 'StorageETagConflictError';
  }
}

/** The item as stored (JSON without its eTag) and the eTag it carried; throws StorageValueError. */
export function serializeStoreItem(key: string, item: unknown): { value: string; eTag: string | undefined } {
  if (item === null || typeof item !== 'object' || Array.isArray(item)) {
    throw new StorageValueError(key, 'the item must be a JSON object');
  }
  const { eTag, ...rest } = item as Record<string, unknown>;
  if (eTag !== undefined && eTag !== null && typeof eTag !== 'string') {
    throw new StorageValueError(key, 'eTag must be a string');
  }
  let value: string;
  try {
    value = JSON.stringify(rest);
  } catch (cause) {
    throw new StorageValueError(key, 'the item cannot be represented as JSON (circular or BigInt value)', { cause });
  }
  return { value, eTag: typeof eTag === 'string' && eTag !== '' ? eTag : undefined };
}
