/**
 * Owned leases and once-claims, so that work survives a crash without being done twice.
 *
 * A *holder* is one running process (later: one instance). It is registered in the store with a
 * heartbeat; a holder whose heartbeat stopped (or, on this machine, whose process id is gone) is
 * dead, and everything it held is free at once instead of at a fixed expiry.
 *
 * A *lease* is a named claim (`approval:<id>`, `redeliver:<request>:<user>`, `welcome:<chat>` …)
 * taken by compare-and-set: free when absent, past its time, or held by a dead holder. A lease
 * can be *completed*: from then on nobody takes it again ("once").
 *
 * These two small interfaces are all the rest of the bot knows, so an Azure Table adapter can
 * carry the same rules (ETag compare-and-set) across instances.
 */

export interface HolderRegistry {
  /** This process's holder id. */
  readonly holderId: string;
  /** Whether `holderId` (this process or another) is still alive. */
  isAlive(holderId: string): Promise<boolean>;
}

export interface LeaseStore {
  /** Takes `key` for `holderId` until now + ttlMs, when free; true when taken. A completed key is never taken again. */
  acquire(key: string, holderId: string, ttlMs: number): Promise<boolean>;
  /** Extends a lease still held by `holderId`; false when it is no longer theirs. */
  renew(key: string, holderId: string, ttlMs: number): Promise<boolean>;
  /** Frees a lease held by `holderId` (someone may take it again). */
  release(key: string, holderId: string): Promise<void>;
  /** Marks the work done for good: the key can never be taken again. */
  complete(key: string, holderId: string): Promise<void>;
  /** Whether the key was completed. */
  isComplete(key: string): Promise<boolean>;
}

/** A process on its own (tests, tools): every holder counts as alive, as before holders existed. */
export const soloHolders: HolderRegistry = { holderId: 'solo', isAlive: () => Promise.resolve(true) };
