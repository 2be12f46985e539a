/**
 * SharedPacer over a window in a store that takes time to answer, as Azure Table storage does:
 * the clock moves on between the caller asking, the store deciding and the answer coming back.
 * Graph counts invitations when they arrive, so what matters is when each acquire() lets its
 * caller through: two pacers sharing one window must never let more than `limit` through in any
 * sliding window, however late the store answers.
 */
import { MemoryPacerWindowStore } from '../../../src/adapters/memory/pacerWindow';
import { SharedPacer } from '../../../src/usecases/ports/pacer';
import type { PacerWindowStore } from '../../../src/usecases/ports/pacerWindow';
import { ManualClock } from '../../support/bulkManualClock';

/** A store over the network: `there` ms until the store decides, `back` ms until the caller hears. */
class SlowWindow implements PacerWindowStore {
  calls = 0;
  constructor(
    private readonly inner: PacerWindowStore,
    private readonly clock: ManualClock,
    private readonly latency: (call: number) => { there: number; back: number },
  ) {}

  async tryStart(name: string, limit: number, windowMs: number, at: () => number): Promise<number> {
    const { there, back } = this.latency(this.calls++);
    await this.clock.sleep(there);
    const wait = await this.inner.tryStart(name, limit, windowMs, at);
    await this.clock.sleep(back);
    return wait;
  }

  holdOff(name: string, until: number): Promise<void> {
    return this.inner.holdOff(name, until);
  }

  countSince(name: string, since: number): Promise<number> {
    return this.inner.countSince(name, since);
  }
}

/** Deterministic pseudo-random numbers in [0, 1). */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0;
    return s / 2 ** 32;
  };
}

const LIMIT = 10;
const WINDOW_MS = 1000;

/** Two pacers (two instances) over one window, each through its own slow connection; the times each caller was let through. */
async function twoInstances(
  latency: (instance: number, call: number) => { there: number; back: number },
  perInstance: number,
): Promise<{ sent: number[]; pacers: SharedPacer[]; clock: ManualClock }> {
  const clock = new ManualClock(1_000_000);
  const shared = new MemoryPacerWindowStore();
  const pacers = [0, 1].map(
    (instance) =>
      new SharedPacer(new SlowWindow(shared, clock, (call) => latency(instance, call)), {
        limit: LIMIT,
        windowMs: WINDOW_MS,
        clock: { now: () => new Date(clock.now()) },
        sleep: (ms) => clock.sleep(ms),
      }),
  );
  const sent: number[] = [];
  let done = 0;
  for (const pacer of pacers) {
    void (async () => {
      for (let i = 0; i < perInstance; i++) {
        await pacer.acquire();
        sent.push(clock.now());
      }
      done++;
    })();
  }
  for (let step = 0; done < pacers.length && step < 100_000; step++) await clock.advance(5);
  return { sent: sent.sort((a, b) => a - b), pacers, clock };
}

/** The most callers let through in any WINDOW_MS (a sliding window, stricter than Graph's). */
function busiestWindow(sent: number[]): number {
  let most = 0;
  for (let i = 0, j = 0; j < sent.length; j++) {
    while ((sent[j] ?? 0) - (sent[i] ?? 0) >= WINDOW_MS) i++;
    most = Math.max(most, j - i + 1);
  }
  return most;
}

describe('SharedPacer over a slow shared store', () => {
  it('two pacers sharing one window never exceed the limit in any sliding window while the store takes 0–40 ms each way', async () => {
    const rnd = random(13);
    const { sent, clock, pacers } = await twoInstances(() => ({ there: Math.round(rnd() * 40), back: Math.round(rnd() * 40) }), 60);
    expect(sent).toHaveLength(120);
    expect(busiestWindow(sent)).toBeLessThanOrEqual(LIMIT);
    // Not by going slow: 120 starts at 10 per second (plus the 2 % margin) take about 12 s.
    expect(sent[sent.length - 1]! - 1_000_000).toBeLessThan(12 * WINDOW_MS * 1.1);
    // Few slots wasted: a start is taken again only when the store was slower than ever lately
    // (each pacer's first starts, before it knows the store's pace).
    expect(pacers.reduce((n, p) => n + p.retakes, 0)).toBeLessThanOrEqual(6);
    expect(clock.pendingSleeps()).toBe(0);
  });

  it('a start whose answer comes back later than any lately is not let through late: it is taken again', async () => {
    // Steady 10 ms each way, and once a 300 ms wait for the answer (a slow write, a busy store).
    const { sent, pacers } = await twoInstances((instance, call) => ({ there: 10, back: instance === 0 && call === 25 ? 300 : 10 }), 40);
    expect(sent).toHaveLength(80);
    expect(busiestWindow(sent)).toBeLessThanOrEqual(LIMIT);
    expect(pacers[0]?.retakes).toBe(1);
    expect(pacers[1]?.retakes).toBe(0);
  });

  it('lets a caller through at the time it recorded: when its store answers quickly, it still waits for the lead', async () => {
    const clock = new ManualClock(0);
    const window = new SlowWindow(new MemoryPacerWindowStore(), clock, (call) => ({ there: 0, back: call === 0 ? 40 : 0 }));
    const pacer = new SharedPacer(window, { limit: 100, windowMs: 5000, clock: { now: () => new Date(clock.now()) }, sleep: (ms) => clock.sleep(ms) });
    const through: number[] = [];
    void pacer.acquire().then(() => through.push(clock.now()));
    await clock.advance(100);
    // The first took 40 ms to record: the next is recorded 40 ms ahead of its decision and let
    // through then, although the store answered at once.
    void pacer.acquire().then(() => through.push(clock.now()));
    await clock.advance(100);
    expect(through).toEqual([40, 140]);
    expect(await window.countSince('invitations', 139)).toBe(1);
  });
});
