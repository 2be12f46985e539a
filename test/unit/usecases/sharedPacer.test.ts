/**
 * SharedPacer over a window in a store that takes time to answer, as Azure Table storage does:
 * the clock moves on between the caller asking, the store deciding and the answer coming back.
 * Graph counts invitations when they arrive, so what matters is when each acquire() lets its
 * caller through: two pacers sharing one window must never let more than `limit` through in any
 * sliding window, however late the store answers.
 */
import { MemoryPacerWindowStore } from '../../../src/adapters/memory/pacerWindow';
import { SharedPacer } from '../../../src/usecases/ports/pacer';
import type { PacerWindowStore, StartAnswer } from '../../../src/usecases/ports/pacerWindow';
import { ManualClock } from '../../support/bulkManualClock';

/** A store over the network: `there` ms until the store decides, `back` ms until the caller hears. */
class SlowWindow implements PacerWindowStore {
  calls = 0;
  /** tryStartSome calls: one write each. */
  writes = 0;
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

  async tryStartSome(name: string, limit: number, windowMs: number, at: () => number, count: number): Promise<StartAnswer> {
    const { there, back } = this.latency(this.calls++);
    this.writes++;
    await this.clock.sleep(there);
    const answer = await this.inner.tryStartSome(name, limit, windowMs, at, count);
    await this.clock.sleep(back);
    return answer;
  }

  async moveStart(name: string, from: number, to: number): Promise<void> {
    const { there, back } = this.latency(this.calls++);
    await this.clock.sleep(there);
    await this.inner.moveStart(name, from, to);
    await this.clock.sleep(back);
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
    // Few moved: only a start let through later than the store's pace lately (each pacer's first
    // starts, before it knows that pace).
    expect(pacers.reduce((n, p) => n + p.moved, 0)).toBeLessThanOrEqual(6);
    expect(clock.pendingSleeps()).toBe(0);
  });

  it('callers waiting together are recorded together: far fewer writes than starts, never over the limit', async () => {
    const clock = new ManualClock(1_000_000);
    const shared = new MemoryPacerWindowStore();
    const rnd = random(7);
    const windows = [0, 1].map(() => new SlowWindow(shared, clock, () => ({ there: Math.round(rnd() * 20), back: Math.round(rnd() * 20) })));
    const pacers = windows.map(
      (window) => new SharedPacer(window, { limit: 100, windowMs: WINDOW_MS, clock: { now: () => new Date(clock.now()) }, sleep: (ms) => clock.sleep(ms) }),
    );
    const sent: number[] = [];
    // 300 callers on each instance at once, as a bulk job's invitations in flight are.
    for (const pacer of pacers) for (let i = 0; i < 300; i++) void pacer.acquire().then(() => sent.push(clock.now()));
    for (let step = 0; sent.length < 600 && step < 10_000; step++) await clock.advance(5);
    expect(sent).toHaveLength(600);
    expect(busiestWindow(sent.sort((a, b) => a - b))).toBeLessThanOrEqual(100);
    // One write per start would be 600; at most a tenth of the limit (10) per write is 60.
    const writes = windows.reduce((n, w) => n + w.writes, 0);
    expect(writes).toBeLessThan(150);
    // And not by going slow: 600 starts at 100 a second (plus the 5 % margin) take about 6 s.
    expect((sent[sent.length - 1] ?? 0) - 1_000_000).toBeLessThan(6 * WINDOW_MS * 1.1);
  });

  it('a start let through later than any lately is counted when it happens: its record is moved to then', async () => {
    // Steady 10 ms each way, and once a 300 ms wait for the answer (a slow write, a busy store).
    const late = { instance: 0, call: 25 };
    const { sent, pacers } = await twoInstances((instance, call) => ({ there: 10, back: instance === late.instance && call === late.call ? 300 : 10 }), 40);
    expect(sent).toHaveLength(80);
    expect(busiestWindow(sent)).toBeLessThanOrEqual(LIMIT);
    expect(pacers[0]?.moved).toBe(1);
    expect(pacers[1]?.moved).toBe(0);
  });

  it('the moved record is what the window counts: the next start waits a window from when the late one went', async () => {
    const clock = new ManualClock(0);
    const store = new MemoryPacerWindowStore();
    // The first start's answer takes 500 ms (it was decided at 0 and recorded at 0).
    const window = new SlowWindow(store, clock, (call) => ({ there: 0, back: call === 0 ? 500 : 0 }));
    const pacer = new SharedPacer(window, { limit: 1, windowMs: 1000, safetyMs: 0, lateMs: 10, clock: { now: () => new Date(clock.now()) }, sleep: (ms) => clock.sleep(ms) });
    const through: number[] = [];
    void pacer.acquire().then(() => through.push(clock.now()));
    await clock.advance(600);
    expect(through).toEqual([500]);
    expect(pacer.moved).toBe(1);
    expect(await store.countSince('invitations', 499)).toBe(1);
    // Without the move the next would go at 1,000 + its lead, half a window after the first really went.
    void pacer.acquire().then(() => through.push(clock.now()));
    await clock.advance(2000);
    expect(through[1]).toBeGreaterThanOrEqual(1500);
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
