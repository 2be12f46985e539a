import { randomUUID } from 'node:crypto';
import { systemClock, type Clock } from '../../domain/clock';
import { checkReceive, checkSend, type HeldMessage, type QueueMessage, type WorkQueue } from '../../usecases/ports/workQueue';
import { prepared, type Migration, type SqliteDatabase } from './database';

export const workQueueMigrations: Migration[] = [
  {
    id: 'workQueue/001-create',
    up: `
      CREATE TABLE work_queue (
        id            TEXT PRIMARY KEY,
        queue         TEXT NOT NULL,
        body          TEXT NOT NULL,
        visible_at    INTEGER NOT NULL,
        dequeue_count INTEGER NOT NULL DEFAULT 0,
        receipt       TEXT,
        seq           INTEGER NOT NULL
      );
      CREATE INDEX work_queue_visible ON work_queue (queue, visible_at, seq);
    `,
  },
];

interface Row {
  id: string;
  body: string;
  dequeue_count: number;
}

/**
 * The work queue in the embedded store (rules in src/usecases/ports/workQueue.ts). Receiving
 * runs in an IMMEDIATE transaction, so two processes sharing the file never lease the same
 * message; extend and delete compare the receipt.
 */
export class SqliteWorkQueue implements WorkQueue {
  constructor(
    private readonly db: SqliteDatabase,
    private readonly clock: Clock = systemClock,
  ) {}

  private now(): number {
    return this.clock.now().getTime();
  }

  async send(queue: string, body: string, options: { delayMs?: number } = {}): Promise<void> {
    const delayMs = options.delayMs ?? 0;
    checkSend(body, delayMs);
    prepared(
      this.db,
      `INSERT INTO work_queue (id, queue, body, visible_at, seq)
       VALUES (?, ?, ?, ?, (SELECT coalesce(max(seq), 0) + 1 FROM work_queue))`,
    ).run(randomUUID(), queue, body, Math.ceil(this.now() + delayMs));
  }

  async receive(queue: string, max: number, visibilityMs: number): Promise<QueueMessage[]> {
    checkReceive(max, visibilityMs);
    const take = this.db.transaction((): QueueMessage[] => {
      const now = this.now();
      const rows = prepared<[string, number, number], Row>(
        this.db,
        'SELECT id, body, dequeue_count FROM work_queue WHERE queue = ? AND visible_at <= ? ORDER BY visible_at, seq LIMIT ?',
      ).all(queue, now, max);
      const lease = prepared(this.db, 'UPDATE work_queue SET visible_at = ?, dequeue_count = dequeue_count + 1, receipt = ? WHERE id = ?');
      return rows.map((row) => {
        const receipt = randomUUID();
        lease.run(Math.ceil(now + visibilityMs), receipt, row.id);
        return { id: row.id, receipt, body: row.body, dequeueCount: row.dequeue_count + 1 };
      });
    });
    return take.immediate();
  }

  async extend(queue: string, message: HeldMessage, visibilityMs: number): Promise<string | null> {
    const receipt = randomUUID();
    const changed = prepared(this.db, 'UPDATE work_queue SET visible_at = ?, receipt = ? WHERE queue = ? AND id = ? AND receipt = ?').run(
      Math.ceil(this.now() + Math.max(0, visibilityMs)),
      receipt,
      queue,
      message.id,
      message.receipt,
    ).changes;
    return changed === 1 ? receipt : null;
  }

  async delete(queue: string, message: HeldMessage): Promise<boolean> {
    return prepared(this.db, 'DELETE FROM work_queue WHERE queue = ? AND id = ? AND receipt = ?').run(queue, message.id, message.receipt).changes === 1;
  }
}
