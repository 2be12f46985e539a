import { MemoryHolderRegistry, MemoryHolderTable } from '../../../src/adapters/memory/leases';
import { MemoryScheduledWorkRepository } from '../../../src/adapters/memory/scheduledWork';
import { DirectoryError } from '../../../src/usecases/ports/Directory';
import type { ScheduledWork } from '../../../src/usecases/ports/scheduler';
import { backoffDelay, ScheduledWorkRunner, type WorkHandler } from '../../../src/usecases/scheduling/workRunner';
import { manualClock } from '../../support/store';

const MIN = 60_000;

function setup() {
  const clock = manualClock('2025-03-01T09:00:00.000Z');
  const holders = new MemoryHolderRegistry(new MemoryHolderTable(), { clock });
  holders.beat();
  const work = new MemoryScheduledWorkRepository(holders, { clock });
  return { clock, holders, work };
}

describe('ScheduledWorkRunner', () => {
  it('dispatches due work to the handler of its kind and settles it', async () => {
    const { clock, holders, work } = setup();
    const seen: string[] = [];
    const handler: WorkHandler = async (w) => {
      seen.push(`${w.kind}:${w.subject}`);
      return { outcome: 'done' };
    };
    const runner = new ScheduledWorkRunner({ work, holderId: holders.holderId, clock, handlers: { a: handler, b: handler } });
    await work.schedule({ kind: 'a', subject: '1', dueAt: '2025-03-01T09:00:00.000Z' });
    await work.schedule({ kind: 'b', subject: '2', dueAt: '2025-03-02T09:00:00.000Z' });
    expect(await runner.runOnce()).toEqual({ done: 1, rescheduled: 0, retried: 0, superseded: 0 });
    expect(seen).toEqual(['a:1']);
    clock.advance(24 * 60 * MIN);
    await runner.runOnce();
    expect(seen).toEqual(['a:1', 'b:2']);
    expect(await work.list()).toEqual([]);
  });

  it('a handler that throws is retried with growing backoff, and Retry-After is honoured', async () => {
    const { clock, holders, work } = setup();
    let calls = 0;
    const runner = new ScheduledWorkRunner({
      work,
      holderId: holders.holderId,
      clock,
      options: { backoffMs: MIN, maxBackoffMs: 10 * MIN },
      handlers: {
        flaky: async () => {
          calls += 1;
          if (calls === 3) throw new DirectoryError('throttled', 'busy', { retryAfterMs: 30_000 });
          if (calls < 5) throw new Error('boom');
          return { outcome: 'done' };
        },
      },
    });
    await work.schedule({ kind: 'flaky', subject: 's', dueAt: clock.now().toISOString() });
    await runner.runOnce();
    expect(await work.get('flaky', 's')).toMatchObject({ attempts: 1, lastError: 'Error', dueAt: '2025-03-01T09:01:00.000Z' });
    clock.advance(MIN);
    await runner.runOnce();
    expect(await work.get('flaky', 's')).toMatchObject({ attempts: 2, dueAt: '2025-03-01T09:03:00.000Z' });
    clock.advance(2 * MIN);
    await runner.runOnce();
    expect(await work.get('flaky', 's')).toMatchObject({ attempts: 3, lastError: 'directory: throttled', dueAt: '2025-03-01T09:03:30.000Z' });
    clock.advance(30_000);
    await runner.runOnce();
    clock.advance(10 * MIN);
    await runner.runOnce();
    expect(calls).toBe(5);
    expect(await work.get('flaky', 's')).toBeNull();
    expect(backoffDelay(1, MIN, 10 * MIN)).toBe(MIN);
    expect(backoffDelay(4, MIN, 10 * MIN)).toBe(8 * MIN);
    expect(backoffDelay(40, MIN, 10 * MIN)).toBe(10 * MIN);
  });

  it('two instances over one store run each item once', async () => {
    const clock = manualClock('2025-03-01T09:00:00.000Z');
    const table = new MemoryHolderTable();
    const one = new MemoryHolderRegistry(table, { clock });
    const two = new MemoryHolderRegistry(table, { clock });
    one.beat();
    two.beat();
    const work = new MemoryScheduledWorkRepository(one, { clock });
    const runs: string[] = [];
    const handler = (who: string): WorkHandler => async (w: ScheduledWork) => {
      runs.push(`${who}:${w.subject}`);
      await new Promise((resolve) => setImmediate(resolve));
      return { outcome: 'done' };
    };
    for (let i = 0; i < 30; i += 1) await work.schedule({ kind: 'k', subject: `s${i}`, dueAt: clock.now().toISOString() });
    const a = new ScheduledWorkRunner({ work, holderId: one.holderId, clock, handlers: { k: handler('a') }, options: { batch: 4 } });
    const b = new ScheduledWorkRunner({ work, holderId: two.holderId, clock, handlers: { k: handler('b') }, options: { batch: 4 } });
    await Promise.all([a.runOnce(), b.runOnce()]);
    const subjects = runs.map((r) => r.split(':')[1]);
    expect(new Set(subjects).size).toBe(30);
    expect(subjects).toHaveLength(30);
    expect(runs.some((r) => r.startsWith('a:'))).toBe(true);
    expect(runs.some((r) => r.startsWith('b:'))).toBe(true);
  });

  it('work of an unknown kind is kept and tried again later, never dropped', async () => {
    const { clock, holders, work } = setup();
    const runner = new ScheduledWorkRunner({ work, holderId: holders.holderId, clock, handlers: {}, options: { maxBackoffMs: 60 * MIN } });
    await work.schedule({ kind: 'future.kind', subject: 's', dueAt: clock.now().toISOString() });
    expect((await runner.runOnce()).retried).toBe(1);
    expect(await work.get('future.kind', 's')).toMatchObject({ attempts: 1, lastError: 'no handler for future.kind', dueAt: '2025-03-01T10:00:00.000Z' });
  });

  it('reschedule results move the work to its next step', async () => {
    const { clock, holders, work } = setup();
    const runner = new ScheduledWorkRunner({
      work,
      holderId: holders.holderId,
      clock,
      handlers: { series: async (w) => (w.payload.step === 1 ? { outcome: 'reschedule', dueAt: '2025-03-05T09:00:00.000Z', payload: { step: 2 } } : { outcome: 'done' }) },
    });
    await work.schedule({ kind: 'series', subject: 's', dueAt: clock.now().toISOString(), payload: { step: 1 } });
    expect((await runner.runOnce()).rescheduled).toBe(1);
    expect(await work.get('series', 's')).toMatchObject({ payload: { step: 2 }, dueAt: '2025-03-05T09:00:00.000Z' });
  });

  it('start() runs a pass at once and stop() waits for the item in hand', async () => {
    const { clock, holders, work } = setup();
    await work.schedule({ kind: 'slow', subject: 's', dueAt: clock.now().toISOString() });
    let release: () => void = () => undefined;
    let handlerStarted: () => void = () => undefined;
    const inHandler = new Promise<void>((resolve) => (handlerStarted = resolve));
    const runner = new ScheduledWorkRunner({
      work,
      holderId: holders.holderId,
      clock,
      handlers: {
        slow: () =>
          new Promise((resolve) => {
            handlerStarted();
            release = () => resolve({ outcome: 'done' });
          }),
      },
    });
    runner.start();
    await inHandler;
    let stopped = false;
    const stopping = runner.stop().then(() => (stopped = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(await work.get('slow', 's')).toBeNull();
  });
});
