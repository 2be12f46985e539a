import { systemClock, type Clock } from '../../domain/clock';
import type { PacerWindowStore } from './pacerWindow';

/**
 * Paces calls to a rate limit instead of hammering and backing off.
 *
 * Graph allows 150 POST /invitations per 5 seconds per tenant (all apps together). A sliding
 * window of the last `limit` start times is exact for such a limit: the next call may start
 * once the oldest of them is a full window old. A small safety margin absorbs the spread of
 * network latency (the server counts arrivals, we count departures).
 */

/** Waits `ms` milliseconds (a test passes one that moves with its manual clock). */
export type Sleep = (ms: number) => Promise<void>;

export const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

export interface PacerOptions {
  /** Calls allowed per window (INVITES_PER_5S). */
  limit: number;
  /** Window length in ms (5,000 for /invitations; scaled down in benchmarks). */
  windowMs: number;
  /** Extra spacing added to the window, in ms. Default 2 % of the window. */
  safetyMs?: number;
  clock?: Clock;
  sleep?: Sleep;
}

export class SlidingWindowPacer {
  readonly limit: number;
  readonly windowMs: number;
  private readonly safetyMs: number;
  private readonly clock: Clock;
  private readonly sleep: Sleep;
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
    this.sleep = options.sleep ?? realSleep;
  }

  private now(): number {
    return this.clock.now().getTime();
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
    this.notBefore = Math.max(this.notBefore, this.now() + Math.max(0, ms));
  }

  /** Calls started within the current window (for progress and tests). */
  inWindow(): number {
    const horizon = this.now() - this.windowMs;
    return this.starts.filter((t) => t > horizon).length;
  }

  private async waitForSlot(): Promise<void> {
    for (;;) {
      const now = this.now();
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
      await this.sleep(readyAt - now);
    }
  }
}

/** What every sender of invitations needs from a pacer. SlidingWindowPacer and SharedPacer both fit. */
export interface InvitationPacer {
  acquire(): Promise<void>;
  holdOff(ms: number): void;
}

/** What SharedPacer adds to PacerOptions. */
export interface SharedPacerOptions extends PacerOptions {
  /** The window's name in the store (default 'invitations'). */
  name?: string;
  /**
   * How late a start may go out after the time recorded for it, in ms, before its record is moved
   * to when it really went. Default half the safety margin, at least 2 ms: the other half covers
   * what happens after the pacer (the request's way to Graph).
   */
  lateMs?: number;
}

/** Starts remembered for the lead (how long a start takes to be recorded). */
const LEAD_SAMPLES = 64;

/**
 * The one pacer for every POST /invitations a process sends (single, approval, bulk, resets, and
 * the Graph client's own retries): its window lives in the store, so it is the same after a
 * restart and shared by every process using that store.
 *
 * The window must hold the times invitations really go out: Graph counts arrivals, tenant-wide,
 * and another instance's next start is allowed once this one's oldest start is a window old. A
 * start is decided (a clock reading), then recorded by a write to the store, then sent; the write
 * takes a round trip to the store, more when another instance wrote first and it is retried.
 * So, per start:
 *   - the store reads the time when it decides each attempt (never the time the caller first
 *     asked: a start that waited behind others or lost a compare-and-set is counted late);
 *   - the time recorded is the decision plus the *lead*, the longest recent decide-to-recorded
 *     time of this process, and the start is let through at that time, not before: so what the
 *     window holds is when the invitation goes, not when it was decided;
 *   - a start let through more than `lateMs` after its recorded time (the store or this process
 *     was slower than lately) is counted when it happens: its record is moved to that time (in
 *     the background, queued with this process's own starts).
 * Callers in this process are recorded in the order they asked; those waiting at the same time
 * are recorded together, in one write at one time (a window that fills at the limit frees its
 * slots in the same groups a window later, so the groups keep forming): on Table storage that is
 * one transaction for several invitations, and fewer compare-and-set races between instances.
 */
export class SharedPacer implements InvitationPacer {
  readonly limit: number;
  readonly windowMs: number;
  private readonly safetyMs: number;
  private readonly lateMs: number;
  private readonly clock: Clock;
  private readonly sleep: Sleep;
  private readonly name: string;
  /** Callers waiting for a start, in the order they asked. */
  private readonly waiting: Array<{ resolve: (at: number) => void; reject: (e: unknown) => void }> = [];
  private pumping = false;
  /** Moves of late starts being written: the next record waits for them. */
  private moving: Promise<unknown> = Promise.resolve();
  /** Starts recorded in one write at most (a tenth of the limit: 15 of Graph's 150). */
  private readonly maxGroup: number;
  /** The latest hold-off being written: the next start waits for it. */
  private holding: Promise<void> = Promise.resolve();
  /** Decide-to-recorded times of the latest starts, ms. */
  private readonly latencies: number[] = [];
  /** Starts let through late whose record was moved (for tests and diagnostics). */
  moved = 0;

  constructor(
    private readonly window: PacerWindowStore,
    options: SharedPacerOptions,
  ) {
    if (!(options.limit >= 1) || !(options.windowMs > 0)) throw new RangeError('pacer: limit must be >= 1 and windowMs > 0');
    this.limit = Math.floor(options.limit);
    this.windowMs = options.windowMs;
    // 5 % (250 ms of Graph's 5 s): between being let through and reaching Graph an invitation
    // still crosses the client's middleware, the socket and the network, longer on a busy
    // machine; and a start moved late by an instance that then died stays where it was recorded.
    // With 2 % two instances at the full pace drew an occasional 429 in the kill test.
    this.safetyMs = options.safetyMs ?? options.windowMs * 0.05;
    this.lateMs = options.lateMs ?? Math.max(2, options.windowMs * 0.01);
    this.clock = options.clock ?? systemClock;
    this.sleep = options.sleep ?? realSleep;
    this.name = options.name ?? 'invitations';
    this.maxGroup = Math.max(1, Math.floor(this.limit / 10));
  }

  async acquire(): Promise<void> {
    // Recorded in the order callers asked, those waiting together in one write; the wait until
    // the recorded time is each caller's own (it would hold every later caller for nothing).
    const at = await new Promise<number>((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      void this.pump();
    });
    const early = at - this.now();
    if (early > 0) await this.sleep(early);
    const now = this.now();
    if (now - at > this.lateMs) {
      this.moved++;
      // In the background, in turn with this process's starts; a failed write leaves the start where it was.
      const move = this.moving.then(() => this.window.moveStart(this.name, at, now));
      this.moving = move.catch(() => undefined);
    }
  }

  /** Records starts for the callers waiting, oldest first, until none waits; one pump at a time. */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.waiting.length > 0) {
        await this.moving; // a late start's move goes before the next record, as it was asked
        let recorded: { started: number; at: number };
        try {
          recorded = await this.record();
        } catch (e) {
          this.waiting.shift()?.reject(e); // that caller fails; the others are recorded as usual
          continue;
        }
        for (const caller of this.waiting.splice(0, recorded.started)) caller.resolve(recorded.at);
      }
    } finally {
      this.pumping = false;
    }
  }

  private now(): number {
    return this.clock.now().getTime();
  }

  /** The lead: how long recording a start has taken lately (at most a tenth of the window). */
  private lead(): number {
    return Math.min(this.windowMs / 10, Math.max(0, ...this.latencies));
  }

  holdOff(ms: number): void {
    // Written in the background (callers of holdOff do not wait); the next start waits for it.
    // A failed write leaves the window as it was, as if the 429 had not come.
    const write = this.window.holdOff(this.name, this.now() + Math.max(0, ms)).catch(() => undefined);
    this.holding = Promise.all([this.holding, write]).then(() => undefined);
  }

  inWindow(): Promise<number> {
    return this.window.countSince(this.name, this.now() - this.windowMs);
  }

  /**
   * Records starts in the shared window for as many of the waiting callers as it has room for
   * (at most a tenth of the limit at once), at one time; resolves how many and that time.
   */
  private async record(): Promise<{ started: number; at: number }> {
    for (;;) {
      await this.holding;
      const lead = this.lead();
      let decided = this.now();
      const at = (): number => {
        decided = this.now();
        return decided + lead;
      };
      // Counted when the write is made: callers who came meanwhile go in the same write.
      const count = Math.max(1, Math.min(this.waiting.length, this.maxGroup));
      // The window counts a little longer than Graph's, as SlidingWindowPacer's safety margin does.
      const answer = await this.window.tryStartSome(this.name, this.limit, this.windowMs + this.safetyMs, at, count);
      if (answer.started > 0) {
        this.latencies.push(this.now() - decided);
        if (this.latencies.length > LEAD_SAMPLES) this.latencies.shift();
        return { started: answer.started, at: decided + lead };
      }
      // Another process may free a slot sooner than computed only by a hold-off ending: no earlier wake is needed.
      await this.sleep(answer.waitMs);
    }
  }
}
