/**
 * The same file sent twice at once: every guest is invited once, and the second copy does not
 * wait for the first copy's invitation locks to expire (2 minutes) but goes on as each is released.
 */
import { SlidingWindowPacer } from '../../../src/usecases/ports/pacer';
import type { Directory } from '../../../src/usecases/ports/Directory';
import { bulkTestEnv, invitationsPerAddress, partnersCsv } from '../../support/bulkEnv';

const ROWS = 200;

/** The demo tenant answering as slowly as Graph does, so that locks are held for a while. */
function withLatency(inner: Directory, ms: number): Directory {
  return new Proxy(inner, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver) as unknown;
      if (typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => Promise<unknown>;
      if (name !== 'invite' && name !== 'addMembers' && name !== 'findUsersByEmail') return method.bind(target);
      return async (...args: unknown[]) => {
        await new Promise((r) => setTimeout(r, ms));
        return method.apply(target, args);
      };
    },
  });
}

function env() {
  return bulkTestEnv({
    directory: (fake) => withLatency(fake, 20),
    // 20 invitations per 200 ms: one copy takes about two seconds, like a file of 1,500 rows at Graph's pace.
    runner: { pacer: new SlidingWindowPacer({ limit: 20, windowMs: 200 }), lockMs: 120_000, maxInFlight: 8 },
  });
}

describe('the same file sent twice at once', () => {
  it('finishes within 1.5 times the time of one copy, with one invitation per guest', async () => {
    const alone = env();
    const single = await alone.submit(partnersCsv(ROWS));
    const t0 = Date.now();
    await alone.runner.start(single.id);
    await alone.runner.whenFinished(single.id);
    const oneCopyMs = Date.now() - t0;

    const twice = env();
    const a = await twice.submit(partnersCsv(ROWS));
    const b = await twice.submit(partnersCsv(ROWS));
    const t1 = Date.now();
    await twice.runner.start(a.id);
    await twice.runner.start(b.id);
    await Promise.all([twice.runner.whenFinished(a.id), twice.runner.whenFinished(b.id)]);
    const twoCopiesMs = Date.now() - t1;
    process.stderr.write(`[figures] ${ROWS} rows: one copy ${oneCopyMs} ms; the same file twice at once ${twoCopiesMs} ms (${(twoCopiesMs / oneCopyMs).toFixed(2)}x)\n`);

    expect(await twice.jobs.counts(a.id)).toMatchObject({ done: ROWS, failed: 0 });
    expect(await twice.jobs.counts(b.id)).toMatchObject({ done: ROWS, failed: 0 });
    const perAddress = invitationsPerAddress(twice.fake);
    expect(perAddress.size).toBe(ROWS);
    expect([...perAddress.values()].every((n) => n === 1)).toBe(true);
    expect(twoCopiesMs).toBeLessThan(oneCopyMs * 1.5);
  }, 30_000);
});
