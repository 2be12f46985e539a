/** The run-once gate the Azure adapters put in front of a layout move. */
import { onceUntilDone } from '../../../src/adapters/azure/records';

describe('onceUntilDone', () => {
  it('runs the work once for every caller, concurrent or later, once it succeeded', async () => {
    let runs = 0;
    let release!: () => void;
    const gate = onceUntilDone(async () => {
      runs++;
      await new Promise<void>((resolve) => (release = resolve));
    });
    const waiting = [gate(), gate(), gate()];
    release();
    await Promise.all(waiting);
    await gate();
    expect(runs).toBe(1);
  });

  it('forgets a failed run: its callers see the failure, the next call tries again', async () => {
    let runs = 0;
    const gate = onceUntilDone(async () => {
      runs++;
      if (runs === 1) throw new Error('storage unavailable');
    });
    const first = [gate(), gate()];
    for (const call of first) await expect(call).rejects.toThrow('storage unavailable');
    await expect(gate()).resolves.toBeUndefined();
    await gate();
    expect(runs).toBe(2);
  });
});
