/**
 * Paces calls to a rate limit instead of hammering and backing off.
 *
 * Graph allows 150 POST /invitations per 5 seconds per tenant (all apps together). A sliding
 * window of the last `limit` start times is exact for such a limit: the next call may start
 * once the oldest of them is a full window old. A small safety margin absorbs the spread of
 * network latency (the server counts arrivals, we count departures).
 */

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
};

export interface PacerOptions {
  /** Calls allowed per window (INVITES_PER_5S). */
  limit: number;
  /** Window length in ms (5,000 for /invitations; scaled down in benchmarks). */
  windowMs: number;
  /** Extra spacing added to the window, in ms. Default 2 % of the window. */
  safetyMs?: number;
  clock?: Clock;
}

export class SlidingWindowPacer {
  readonly limit: number;
  readonly windowMs: number;
  private readonly safetyMs: number;
  private readonly clock: Clock;
  /** Start times of the most recent calls, oldest first; never longer than `limit`. */
  private readonly starts: number[] = [];
  private notBefore = 0;
  private queue: Promise<void> = Promise.resolve();

  constructor(options: PacerOptions) {
    if (!(options.limit >= 1) || !(options.windowMs > 0)) throw new RangeError('pacer: limit must be >= 1 and windowMs > 0');
    this.limit = Math.floor(options.limit);
    this.windowMs = options.windowMs;
    this.safetyMs = options.safetyMs ?? options.windowMs * 0.02;
    this.clock = options.clock ?? systemClock;
  }

  /** Resolves when one more call may start, in the order callers asked. */
  acquire(): Promise<void> {
    const turn = this.queue.then(() => this.waitForSlot());
    // A failed sleep must not wedge the queue for everyone behind it.
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  /**
   * The service said "slow down" (429 with Retry-After): nobody starts before then. The limit
   * is tenant-wide, so one throttled call means every caller should wait.
   */
  holdOff(ms: number): void {
    this.notBefore = Math.max(this.notBefore, this.clock.now() + Math.max(0, ms));
  }

  /** Calls started within the current window (for progress and tests). */
  inWindow(): number {
    const horizon = this.clock.now() - this.windowMs;
    return this.starts.filter((t) => t > horizon).length;
  }

  private async waitForSlot(): Promise<void> {
    for (;;) {
      const now = this.clock.now();
      let readyAt = this.notBefore;
      if (this.starts.length >= this.limit) {
        const oldest = this.starts[this.starts.length - this.limit] ?? 0;
        readyAt = Math.max(readyAt, oldest + this.windowMs + this.safetyMs);
      }
      if (readyAt <= now) {
        this.starts.push(now);
        if (this.starts.length > this.limit) this.starts.splice(0, this.starts.length - this.limit);
        return;
      }
      await this.clock.sleep(readyAt - now);
    }
  }
}

/** What every sender of invitations needs from a pacer. SlidingWindowPacer and SharedPacer both fit. */
export interface InvitationPacer {
  acquire(): Promise<void>;
  holdOff(ms: number): void;
}

/** The part of the store's window (src/adapters/sqlite/pacerWindow.ts) a SharedPacer uses. */
export interface PacerWindow {
  tryStart(name: string, limit: number, windowMs: number, now: number): number;
  holdOff(name: string, until: number): void;
  countSince(name: string, since: number): number;
}

/**
 * The one pacer for every POST /invitations a process sends (single, approval, bulk, resets, and
 * the Graph client's own retries): its window lives in the store, so it is the same after a
 * restart and shared by every process using that store. Callers in this process keep their order.
 */
export class SharedPacer implements InvitationPacer {
  readonly limit: number;
  readonly windowMs: number;
  private readonly safetyMs: number;
  private readonly clock: Clock;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly window: PacerWindow,
    options: PacerOptions & { name?: string },
  ) {
    if (!(options.limit >= 1) || !(options.windowMs > 0)) throw new RangeError('pacer: limit must be >= 1 and windowMs > 0');
    this.limit = Math.floor(options.limit);
    this.windowMs = options.windowMs;
    this.safetyMs = options.safetyMs ?? options.windowMs * 0.02;
    this.clock = options.clock ?? systemClock;
    this.name = options.name ?? 'invitations';
  }

  private readonly name: string;

  acquire(): Promise<void> {
    const turn = this.queue.then(() => this.waitForSlot());
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  holdOff(ms: number): void {
    this.window.holdOff(this.name, this.clock.now() + Math.max(0, ms));
  }

  inWindow(): number {
    return this.window.countSince(this.name, this.clock.now() - this.windowMs);
  }

  private async waitForSlot(): Promise<void> {
    for (;;) {
      // The window counts a little longer than Graph's, as SlidingWindowPacer's safety margin does.
      const wait = this.window.tryStart(this.name, this.limit, this.windowMs + this.safetyMs, this.clock.now());
      if (wait <= 0) return;
      // Another process may free a slot sooner than computed only by a hold-off ending: no earlier wake is needed.
      await this.clock.sleep(wait);
    }
  }
}
