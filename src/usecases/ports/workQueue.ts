/**
 * Work handed between the bot's instances: a message queue with leases, as Azure Queue storage
 * has them (https://learn.microsoft.com/azure/storage/queues/storage-queues-introduction), so
 * that the embedded SQLite store, memory (tests) and Azure all behave alike.
 *
 * - `receive` hides each message it returns for `visibilityMs`: that is the receiver's lease.
 *   A receiver that dies simply stops renewing; the message shows again when its lease ends and
 *   another receiver gets it, with `dequeueCount` one higher.
 * - Every receive gives a message a new `receipt`; `extend` gives another. Only the latest
 *   receipt can extend or delete the message, so a receiver whose lease ran out (and whose
 *   message someone else now holds) learns it from `extend` or `delete` returning false/null.
 * - Delivery is at least once: a message may be worked twice (a lease lost mid-way), so the work
 *   it names must be idempotent. Order is not guaranteed.
 * - Messages never expire on their own: work is not dropped because it waited.
 *
 * Times are milliseconds. Azure counts visibility and delays in whole seconds, so its adapter
 * rounds up; callers must not rely on finer timing.
 */

export interface QueueMessage {
  readonly id: string;
  /** Proof of the current lease; changes on every receive and extend. */
  readonly receipt: string;
  readonly body: string;
  /** How many times the message has been received, this time included (1 the first time). */
  readonly dequeueCount: number;
}

/** A message as held by its receiver: enough to extend or delete it. */
export type HeldMessage = Pick<QueueMessage, 'id' | 'receipt'>;

export interface WorkQueue {
  /** Adds a message to `queue`, visible after `delayMs` (default at once). Bodies are at most 48 KB of text. */
  send(queue: string, body: string, options?: { delayMs?: number }): Promise<void>;
  /**
   * Up to `max` (1–32) visible messages of `queue`, each hidden from every other receiver for
   * `visibilityMs` (at least 1,000). Empty when none is visible. Two receivers never get the
   * same message while its lease runs.
   */
  receive(queue: string, max: number, visibilityMs: number): Promise<QueueMessage[]>;
  /**
   * Keeps the message hidden for `visibilityMs` from now (0 shows it again at once). Resolves the
   * new receipt, or null when the lease was lost (the message was deleted, or received again).
   */
  extend(queue: string, message: HeldMessage, visibilityMs: number): Promise<string | null>;
  /** Removes the message for good. False when the lease was lost (see extend); the message is then left alone. */
  delete(queue: string, message: HeldMessage): Promise<boolean>;
}

/** Azure's limit on a message is 64 KB; the body is kept well under it. */
export const MAX_MESSAGE_BYTES = 48 * 1024;

/** Checks what every adapter accepts, so that a caller learns its mistake on any store. */
export function checkSend(body: string, delayMs: number): void {
  if (Buffer.byteLength(body, 'utf8') > MAX_MESSAGE_BYTES) throw new RangeError(`work queue message over ${MAX_MESSAGE_BYTES} bytes`);
  if (!(delayMs >= 0) || delayMs > 7 * 24 * 3600 * 1000) throw new RangeError('work queue delay must be between 0 and 7 days');
}

export function checkReceive(max: number, visibilityMs: number): void {
  if (!Number.isInteger(max) || max < 1 || max > 32) throw new RangeError('work queue receives 1 to 32 messages at a time');
  if (!(visibilityMs >= 1000) || visibilityMs > 7 * 24 * 3600 * 1000) throw new RangeError('work queue visibility must be between 1 s and 7 days');
}
