/**
 * A clock whose time only moves when told to (ms since start); sleeps resolve as time passes.
 * For tests: give a pacer `{ now: () => new Date(clock.now()) }` and `clock.sleep`.
 */
export class ManualClock {
  private t: number;
  private sleepers: Array<{ at: number; resolve: () => void }> = [];

  constructor(start = 0) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.sleepers.push({ at: this.t + Math.max(0, ms), resolve });
      this.sleepers.sort((a, b) => a.at - b.at);
    });
  }

  /** Moves time forward, waking sleepers in order and letting their continuations run. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await flushMicrotasks();
      const next = this.sleepers[0];
      if (!next || next.at > end) break;
      this.sleepers.shift();
      this.t = Math.max(this.t, next.at);
      next.resolve();
    }
    this.t = end;
    await flushMicrotasks();
  }

  pendingSleeps(): number {
    return this.sleepers.length;
  }
}

/** Lets every pending promise continuation run (a macrotask turn drains the microtask queue). */
function flushMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
