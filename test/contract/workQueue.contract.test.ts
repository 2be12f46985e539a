/**
 * The work queue: the same leases over SQLite, memory and Azure Queue storage (Azurite). SQLite
 * and memory run on a manual clock; Azure on real time (its timeouts are whole seconds), so the
 * waits there are real and have a second of margin.
 */
import { openDatabase } from '../../src/adapters/sqlite/database';
import { SqliteWorkQueue, workQueueMigrations } from '../../src/adapters/sqlite/workQueue';
import { MemoryWorkQueue } from '../../src/adapters/memory/workQueue';
import { AzureWorkQueue } from '../../src/adapters/azure/workQueue';
import type { Clock } from '../../src/domain/clock';
import type { WorkQueue } from '../../src/usecases/ports/workQueue';
import { useAzurite } from '../support/azurite';

const azurite = useAzurite();

interface Subject {
  queue: WorkQueue;
  /** Lets `ms` go by (a manual clock moves; on Azure, real time passes). */
  pass(ms: number): Promise<void>;
  /** What "a little over" a timeout is on this store. */
  margin: number;
}

function manualClock(): Clock & { advance(ms: number): void } {
  let now = Date.parse('2026-01-01T00:00:00Z');
  return { now: () => new Date(now), advance: (ms) => void (now += ms) };
}

const subjects: Array<[string, () => Subject]> = [
  [
    'sqlite',
    () => {
      const clock = manualClock();
      return { queue: new SqliteWorkQueue(openDatabase(':memory:', workQueueMigrations), clock), pass: async (ms) => clock.advance(ms), margin: 1 };
    },
  ],
  [
    'memory',
    () => {
      const clock = manualClock();
      return { queue: new MemoryWorkQueue(clock), pass: async (ms) => clock.advance(ms), margin: 1 };
    },
  ],
  [
    'azure',
    () => ({ queue: new AzureWorkQueue(azurite.account()), pass: (ms) => new Promise((resolve) => setTimeout(resolve, ms)), margin: 1200 }),
  ],
];

const Q = 'work';

describe.each(subjects)('WorkQueue contract (%s)', (_name, make) => {
  jest.setTimeout(30_000);

  it('a received message is hidden while its lease runs, and shows again after it, one dequeue higher', async () => {
    const { queue, pass, margin } = make();
    const body = JSON.stringify({ jobId: 'j-1', from: 1, to: 100, note: '<&> "quoted" é 漢' });
    await queue.send(Q, body);
    const [first, ...more] = await queue.receive(Q, 32, 1000);
    expect(more).toEqual([]);
    expect(first).toMatchObject({ body, dequeueCount: 1 });
    expect(await queue.receive(Q, 32, 1000)).toEqual([]);
    await pass(1000 + margin);
    const [again] = await queue.receive(Q, 32, 1000);
    expect(again).toMatchObject({ id: first?.id, body, dequeueCount: 2 });
    expect(again?.receipt).not.toBe(first?.receipt);
    // The first receiver's lease is over: its receipt no longer works.
    expect(await queue.delete(Q, first!)).toBe(false);
    expect(await queue.extend(Q, first!, 5000)).toBeNull();
    expect(await queue.delete(Q, again!)).toBe(true);
  });

  it('two receivers never get the same visible message', async () => {
    const { queue } = make();
    await Promise.all(Array.from({ length: 12 }, (_, i) => queue.send(Q, `m${i}`)));
    const batches = await Promise.all(Array.from({ length: 6 }, () => queue.receive(Q, 4, 30_000)));
    const bodies = batches.flat().map((m) => m.body);
    expect(bodies).toHaveLength(12);
    expect(new Set(bodies).size).toBe(12);
    expect(await queue.receive(Q, 32, 30_000)).toEqual([]);
  });

  it('delete is final', async () => {
    const { queue, pass, margin } = make();
    await queue.send(Q, 'once');
    const [message] = await queue.receive(Q, 1, 1000);
    expect(await queue.delete(Q, message!)).toBe(true);
    expect(await queue.delete(Q, message!)).toBe(false);
    await pass(1000 + margin);
    expect(await queue.receive(Q, 32, 1000)).toEqual([]);
  });

  it('extend keeps the message hidden with a new receipt; 0 shows it again at once', async () => {
    const { queue, pass, margin } = make();
    await queue.send(Q, 'long work');
    const [message] = await queue.receive(Q, 1, 1000);
    const receipt = await queue.extend(Q, message!, 4000);
    expect(receipt).toEqual(expect.any(String));
    expect(receipt).not.toBe(message?.receipt);
    await pass(1000 + margin);
    expect(await queue.receive(Q, 32, 1000)).toEqual([]);
    // Only the newest receipt counts.
    expect(await queue.extend(Q, message!, 4000)).toBeNull();
    const released = await queue.extend(Q, { id: message!.id, receipt: receipt! }, 0);
    expect(released).toEqual(expect.any(String));
    const [back] = await queue.receive(Q, 1, 1000);
    expect(back).toMatchObject({ id: message?.id, body: 'long work', dequeueCount: 2 });
  });

  it('a delayed message is invisible until its delay has passed', async () => {
    const { queue, pass, margin } = make();
    await queue.send(Q, 'later', { delayMs: 1000 });
    await queue.send(Q, 'now');
    expect((await queue.receive(Q, 32, 30_000)).map((m) => m.body)).toEqual(['now']);
    await pass(1000 + margin);
    expect((await queue.receive(Q, 32, 30_000)).map((m) => [m.body, m.dequeueCount])).toEqual([['later', 1]]);
  });

  it('queues are apart by name, and bad arguments are refused before anything is sent', async () => {
    const { queue } = make();
    await queue.send('one', 'a');
    expect(await queue.receive('two', 32, 1000)).toEqual([]);
    await expect(queue.receive(Q, 0, 1000)).rejects.toThrow(RangeError);
    await expect(queue.receive(Q, 1, 10)).rejects.toThrow(RangeError);
    await expect(queue.send(Q, 'x'.repeat(49 * 1024))).rejects.toThrow(RangeError);
    await expect(queue.send(Q, 'x', { delayMs: -1 })).rejects.toThrow(RangeError);
    expect((await queue.receive('one', 32, 1000)).map((m) => m.body)).toEqual(['a']);
  });
});
