import { randomUUID } from 'node:crypto';
import { systemClock, type Clock } from '../../domain/clock';
import { checkReceive, checkSend, type HeldMessage, type QueueMessage, type WorkQueue } from '../../usecases/ports/workQueue';

interface StoredMessage {
  id: string;
  body: string;
  visibleAt: number;
  dequeueCount: number;
  receipt: string | null;
  /** Insertion order, so the oldest visible message goes first (as in Azure, though not promised). */
  seq: number;
}

/** The work queue in memory (tests, the throwaway demo): the rules are in src/usecases/ports/workQueue.ts. */
export class MemoryWorkQueue implements WorkQueue {
  private readonly queues = new Map<string, Map<string, StoredMessage>>();
  private seq = 0;

  constructor(private readonly clock: Clock = systemClock) {}

  private now(): number {
    return this.clock.now().getTime();
  }

  private queue(name: string): Map<string, StoredMessage> {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Map();
      this.queues.set(name, queue);
    }
    return queue;
  }

  async send(queue: string, body: string, options: { delayMs?: number } = {}): Promise<void> {
    const delayMs = options.delayMs ?? 0;
    checkSend(body, delayMs);
    const id = randomUUID();
    this.queue(queue).set(id, { id, body, visibleAt: this.now() + delayMs, dequeueCount: 0, receipt: null, seq: this.seq++ });
  }

  async receive(queue: string, max: number, visibilityMs: number): Promise<QueueMessage[]> {
    checkReceive(max, visibilityMs);
    const now = this.now();
    const visible = [...this.queue(queue).values()].filter((m) => m.visibleAt <= now).sort((a, b) => a.visibleAt - b.visibleAt || a.seq - b.seq);
    return visible.slice(0, max).map((m) => {
      m.visibleAt = now + visibilityMs;
      m.dequeueCount++;
      m.receipt = randomUUID();
      return { id: m.id, receipt: m.receipt, body: m.body, dequeueCount: m.dequeueCount };
    });
  }

  private held(queue: string, message: HeldMessage): StoredMessage | null {
    const stored = this.queue(queue).get(message.id);
    return stored && stored.receipt === message.receipt ? stored : null;
  }

  async extend(queue: string, message: HeldMessage, visibilityMs: number): Promise<string | null> {
    const stored = this.held(queue, message);
    if (!stored) return null;
    stored.visibleAt = this.now() + Math.max(0, visibilityMs);
    stored.receipt = randomUUID();
    return stored.receipt;
  }

  async delete(queue: string, message: HeldMessage): Promise<boolean> {
    if (!this.held(queue, message)) return false;
    return this.queue(queue).delete(message.id);
  }

  /** Messages in `queue`, visible or not (tests). */
  size(queue: string): number {
    return this.queue(queue).size;
  }
}
