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
  /**
   * Since when every other process has taken this one for alive without a break (ms since epoch,
   * this registry's clock), provided that stays so for a while yet (a third of the heartbeat's
   * ttl); null when its heartbeat could not be written lately and others may take it for dead
   * soon, or do already. A lock this process took before that time may have been taken over by
   * another instance during the break: work done under it (a lookup) must not be acted on.
   * Absent where liveness is not kept by heartbeats (a process on its own): never broken.
   */
  unbrokenSince?(): number | null;
}

/**
 * What a holder registry keeps of its own heartbeats for unbrokenSince(): when the current run of
 * heartbeats began and until when the latest one counts. A heartbeat that becomes visible after
 * the previous one had run out starts a new run: in between, others could take this process for dead.
 */
export class HeartbeatRun {
  private expiresAt = Number.NEGATIVE_INFINITY;
  private since = Number.POSITIVE_INFINITY;
  /** No heartbeat written yet: the registry was not started (tests, tools, a process on its own). */
  private started = false;

  constructor(private readonly marginMs: number) {}

  /** A heartbeat saying "alive until `expiresAt`" is stored and visible to others from `visibleAt` on. */
  beat(visibleAt: number, expiresAt: number): void {
    if (visibleAt >= this.expiresAt) this.since = visibleAt;
    this.expiresAt = Math.max(this.expiresAt, expiresAt);
    this.started = true;
  }

  /** The registration was removed (stop()): nothing this process held is its own any more. */
  end(): void {
    this.expiresAt = Number.NEGATIVE_INFINITY;
    this.since = Number.POSITIVE_INFINITY;
  }

  /** Before the first heartbeat, as without heartbeats: never broken (nothing to go by yet). */
  unbrokenSince(now: number): number | null {
    if (!this.started) return Number.NEGATIVE_INFINITY;
    return now + this.marginMs < this.expiresAt ? this.since : null;
  }
}

/**
 * True when a lock `holders` took at `lockedAt` is surely still theirs: no break in their
 * heartbeats since, and none due for a while (see HolderRegistry.unbrokenSince).
 */
export function heldWithoutBreakSince(holders: Pick<HolderRegistry, 'unbrokenSince'>, lockedAt: number): boolean {
  if (!holders.unbrokenSince) return true;
  const since = holders.unbrokenSince();
  return since !== null && since <= lockedAt;
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
