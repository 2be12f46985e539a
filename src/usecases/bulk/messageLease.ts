import type { HeldMessage, QueueMessage, WorkQueue } from '../ports/workQueue';

/**
 * A received message kept hidden while it is worked: its visibility is extended every third of
 * the visibility timeout, so it shows again (for another instance) only if this process stops
 * renewing it (killed, hung). Extends and the final delete or release are done one at a time, so
 * the receipt used is always the latest.
 */
export class MessageLease {
  private current: HeldMessage;
  private chain: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private ended = false;
  /** Another receiver holds the message now (or it is gone): this process must stop working it. */
  lost = false;
  /**
   * When the message shows again unless a renewal lands first (ms, this machine's clock): from the
   * start of the latest extend the queue accepted, or of the receive.
   */
  private hiddenUntil: number;

  constructor(
    private readonly queue: WorkQueue,
    private readonly name: string,
    readonly message: QueueMessage,
    private readonly visibilityMs: number,
    private readonly onError: (e: unknown) => void,
  ) {
    this.current = { id: message.id, receipt: message.receipt };
    // Received a moment ago: counted from now, minus the margin lapsed() keeps.
    this.hiddenUntil = Date.now() + visibilityMs;
    this.timer = setInterval(() => void this.renew(), Math.max(200, Math.floor(visibilityMs / 3)));
    this.timer.unref();
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.chain.then(work, work);
    this.chain = next.catch(() => undefined);
    return next;
  }

  private renew(): Promise<void> {
    return this.serial(async () => {
      if (this.ended || this.lost) return;
      try {
        const started = Date.now();
        const receipt = await this.queue.extend(this.name, this.current, this.visibilityMs);
        if (receipt === null) this.lost = true;
        else {
          this.current = { id: this.current.id, receipt };
          this.hiddenUntil = started + this.visibilityMs;
        }
      } catch (e) {
        // The store did not answer: try again at the next tick (the lease still has two thirds to run).
        this.onError(e);
      }
    });
  }

  /**
   * The renewals have failed for so long (storage out of reach) that the message may be showing
   * again, or will in a moment, and another instance may be working its rows: no invitation may
   * start under it. Unlike `lost`, the message may still be this process's (complete() still
   * removes it if so).
   */
  lapsed(): boolean {
    return this.lost || Date.now() > this.hiddenUntil - this.visibilityMs / 5;
  }

  private end(): void {
    this.ended = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** The work is done: removes the message. False when the lease had been lost. */
  complete(): Promise<boolean> {
    this.end();
    return this.serial(async () => (this.lost ? false : this.queue.delete(this.name, this.current)));
  }

  /** Shows the message again after `delayMs` (a failed attempt; the dequeue count stays). */
  retryAfter(delayMs: number): Promise<void> {
    this.end();
    return this.serial(async () => {
      if (!this.lost) await this.queue.extend(this.name, this.current, delayMs);
    });
  }

  /**
   * Hands the work back as a fresh message, visible at once (a clean shutdown: the work did not
   * fail, so it must not count towards the poison limit), and removes this one.
   */
  handBack(): Promise<void> {
    this.end();
    return this.serial(async () => {
      if (this.lost) return;
      await this.queue.send(this.name, this.message.body);
      await this.queue.delete(this.name, this.current);
    });
  }

  /** Stops renewing without touching the message (it shows again when its lease runs out). */
  abandon(): void {
    this.end();
  }
}
