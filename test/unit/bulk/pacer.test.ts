import { SlidingWindowPacer } from '../../../src/usecases/ports/pacer';
import { ManualClock } from '../../support/bulkManualClock';

/** The manual clock as a pacer takes time: the domain Clock plus a sleep. */
function time(clock: ManualClock) {
  return { clock: { now: () => new Date(clock.now()) }, sleep: (ms: number) => clock.sleep(ms) };
}

async function startTimes(pacer: SlidingWindowPacer, clock: ManualClock, calls: number, stepMs: number, untilMs: number): Promise<number[]> {
  const started: number[] = [];
  for (let i = 0; i < calls; i++) void pacer.acquire().then(() => started.push(clock.now()));
  for (let t = 0; t < untilMs; t += stepMs) await clock.advance(stepMs);
  return started;
}

describe('SlidingWindowPacer', () => {
  it('lets the first `limit` calls start at once, then one more per freed slot', async () => {
    const clock = new ManualClock();
    const pacer = new SlidingWindowPacer({ limit: 150, windowMs: 5000, safetyMs: 0, ...time(clock) });
    const started = await startTimes(pacer, clock, 400, 50, 12_000);
    expect(started.filter((t) => t === 0)).toHaveLength(150);
    expect(started).toHaveLength(400);
    // Never more than 150 starts in any 5-second window.
    for (const [i, t] of started.entries()) {
      expect(started.filter((u, j) => j >= i && u < t + 5000).length).toBeLessThanOrEqual(150);
    }
    // And no slower than that: the 301st call starts at 10 s, not later.
    expect(started[300]).toBe(10_000);
  });

  it('keeps the configured rate (INVITES_PER_5S lower than the Graph limit)', async () => {
    const clock = new ManualClock();
    const pacer = new SlidingWindowPacer({ limit: 10, windowMs: 5000, safetyMs: 0, ...time(clock) });
    const started = await startTimes(pacer, clock, 30, 100, 16_000);
    expect(started.filter((t) => t < 5000)).toHaveLength(10);
    expect(started.filter((t) => t < 10_000)).toHaveLength(20);
  });

  it('adds the safety margin to each window', async () => {
    const clock = new ManualClock();
    const pacer = new SlidingWindowPacer({ limit: 2, windowMs: 1000, safetyMs: 20, ...time(clock) });
    const started = await startTimes(pacer, clock, 3, 10, 2000);
    expect(started).toEqual([0, 0, 1020]);
  });

  it('holds every caller off after a 429 with Retry-After', async () => {
    const clock = new ManualClock();
    const pacer = new SlidingWindowPacer({ limit: 100, windowMs: 5000, safetyMs: 0, ...time(clock) });
    await pacer.acquire();
    pacer.holdOff(3000);
    const started = await startTimes(pacer, clock, 2, 100, 4000);
    expect(started).toEqual([3000, 3000]);
  });

  it('refuses a nonsensical configuration', () => {
    expect(() => new SlidingWindowPacer({ limit: 0, windowMs: 5000 })).toThrow(RangeError);
  });
});
