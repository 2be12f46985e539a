/**
 * One instance loses its storage mid-chunk while its rows wait for a free slot: its message's
 * renewals and its heartbeats fail, the message shows again and another instance works the rows.
 * When the first one's storage comes back it must not send what it had looked up before the break
 * (the other instance has sent those by then): each guest is invited once.
 */
import { BulkRunner } from '../../../src/usecases/bulk/bulkRunner';
import type { BulkRunnerOptions } from '../../../src/usecases/bulk/runnerOptions';
import { MemoryHolderRegistry, MemoryHolderTable } from '../../../src/adapters/memory/leases';
import { InvitationNotSent, type Directory } from '../../../src/usecases/ports/Directory';
import type { WorkQueue } from '../../../src/usecases/ports/workQueue';
import { SlidingWindowPacer } from '../../../src/usecases/ports/pacer';
import { HeartbeatRun, heldWithoutBreakSince } from '../../../src/usecases/ports/leases';
import { FALCON, bulkTestEnv, invitationsPerAddress, partnersCsv } from '../../support/bulkEnv';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

describe('an instance whose storage went away while its rows waited for a slot', () => {
  it('sends none of them once it is back: the instance that took the message over invited each guest, once', async () => {
    const env = bulkTestEnv();
    const holders = new MemoryHolderTable();
    const ttlMs = 300;
    const outage = { a: false };

    // Instance A: its queue's renewals fail during the outage, and its heartbeat stops.
    const holderA = new MemoryHolderRegistry(holders, { ttlMs, holderId: 'instance-a' });
    holderA.start();
    const beatA = setInterval(() => {
      if (!outage.a) holderA.beat();
    }, ttlMs / 3);
    const queueA: WorkQueue = new Proxy(env.queue, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (typeof value !== 'function') return value;
        const method = (value as (...a: unknown[]) => unknown).bind(target);
        return (...args: unknown[]) => {
          if (outage.a && prop !== 'receive') return Promise.reject(new Error('storage unreachable'));
          return method(...args);
        };
      },
    });
    // A's first invitation reaches the directory, but the answer is held until the outage is over.
    let answer: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      answer = resolve;
    });
    let firstSent = false;
    const directoryA: Directory = Object.assign(Object.create(env.directory) as Directory, {
      invite: async (input: Parameters<Directory['invite']>[0]) => {
        const result = await env.directory.invite(input);
        if (!firstSent) {
          firstSent = true;
          await held;
        }
        return result;
      },
    });
    const options = (name: string): BulkRunnerOptions => ({
      jobs: env.jobs,
      invitations: env.invitations,
      queue: env.queue,
      directory: env.directory,
      pacer: new SlidingWindowPacer({ limit: 1000, windowMs: 50 }),
      sendInvitationEmail: false,
      baseBackoffMs: 1,
      maxBackoffMs: 5,
      pageSize: 20,
      pollMs: 20,
      visibilityMs: 1000,
      messagesInFlight: 1,
      runnerId: name,
    });
    const a = new BulkRunner({ ...options('instance-a'), queue: queueA, directory: directoryA, holders: holderA, maxInFlight: 1 });

    const job = await env.submit(partnersCsv(20));
    await a.start(job.id);
    // A has claimed and looked up the page; one invitation is out, 19 rows wait for the slot.
    await until('the first invitation', () => firstSent);
    outage.a = true;
    // Long enough for the message to show again and for A's heartbeat to run out.
    await sleep(1300);

    const holderB = new MemoryHolderRegistry(holders, { ttlMs, holderId: 'instance-b' });
    holderB.start();
    const beatB = setInterval(() => holderB.beat(), ttlMs / 3);
    const b = new BulkRunner({ ...options('instance-b'), holders: holderB });
    await b.resumeAll();
    await until('B to invite the rows', () => invitationsPerAddress(env.fake).size === 20);

    // A's storage comes back; its held answer arrives and the slot frees for the 19 rows.
    outage.a = false;
    answer();
    await until('every row done', async () => (await env.jobs.counts(job.id)).done === 20);
    await sleep(300);

    const perAddress = invitationsPerAddress(env.fake);
    expect(perAddress.size).toBe(20);
    expect([...perAddress.entries()].filter(([, n]) => n !== 1)).toEqual([]);
    const members = env.fake.snapshot().groups.find((g) => g.id === FALCON.id)?.members ?? [];
    expect(new Set(members).size).toBe(members.length);
    clearInterval(beatA);
    clearInterval(beatB);
    await Promise.all([a.stop(), b.stop()]);
  }, 30_000);
});

describe('an instance whose heartbeats break while an invitation waits to go out', () => {
  it('does not send it then; the row is looked up and sent once its lock is taken again', async () => {
    const env = bulkTestEnv();
    const ttlMs = 300;
    const holder = new MemoryHolderRegistry(new MemoryHolderTable(), { ttlMs, holderId: 'instance-a' });
    holder.start();
    const beating = { on: true };
    const beats = setInterval(() => {
      if (beating.on) holder.beat();
    }, ttlMs / 3);
    const notSent: string[] = [];
    let stalled = false;
    // The first invitation is held up (as by the pacer, or a stalled process) past the heartbeat's ttl.
    const directory: Directory = Object.assign(Object.create(env.directory) as Directory, {
      invite: async (input: Parameters<Directory['invite']>[0]) => {
        if (!stalled) {
          stalled = true;
          beating.on = false;
          await sleep(ttlMs + 150);
          beating.on = true;
          holder.beat();
        }
        try {
          return await env.directory.invite(input);
        } catch (e) {
          if (e instanceof InvitationNotSent) notSent.push(input.email);
          throw e;
        }
      },
    });
    const runner = new BulkRunner({
      jobs: env.jobs,
      invitations: env.invitations,
      queue: env.queue,
      directory,
      pacer: new SlidingWindowPacer({ limit: 1000, windowMs: 50 }),
      sendInvitationEmail: false,
      baseBackoffMs: 1,
      maxBackoffMs: 5,
      pollMs: 20,
      lockRecheckMs: 20,
      holders: holder,
      maxInFlight: 1,
    });
    const job = await env.submit(partnersCsv(5));
    await runner.start(job.id);
    await runner.whenFinished(job.id);
    clearInterval(beats);

    expect(notSent).toEqual(['partner1@example.org']);
    expect(await env.jobs.counts(job.id)).toMatchObject({ done: 5, failed: 0 });
    const perAddress = invitationsPerAddress(env.fake);
    expect(perAddress.size).toBe(5);
    expect([...perAddress.values()].every((n) => n === 1)).toBe(true);
    await runner.stop();
  }, 30_000);
});

describe('a holder knows whether its heartbeats broke since it took a lock', () => {
  it('unbroken while each heartbeat lands before the last runs out; broken from the first that lands after; not trusted near the end of the last', () => {
    const run = new HeartbeatRun(100);
    const at = (since: number | null) => ({ unbrokenSince: () => since });
    // Not started (no heartbeat yet): nothing to go by, as in a process on its own.
    expect(run.unbrokenSince(900)).toBe(Number.NEGATIVE_INFINITY);
    run.beat(1_000, 1_300);
    expect(run.unbrokenSince(1_100)).toBe(1_000);
    run.beat(1_250, 1_550);
    expect(run.unbrokenSince(1_400)).toBe(1_000);
    // Within the margin of the last heartbeat's end: others may take it for dead any moment.
    expect(run.unbrokenSince(1_460)).toBeNull();
    // A heartbeat landing after the last ran out: a new run, from then.
    run.beat(1_600, 1_900);
    expect(run.unbrokenSince(1_650)).toBe(1_600);
    expect(heldWithoutBreakSince(at(run.unbrokenSince(1_650)), 1_200)).toBe(false);
    expect(heldWithoutBreakSince(at(run.unbrokenSince(1_650)), 1_610)).toBe(true);
    run.end();
    expect(run.unbrokenSince(1_650)).toBeNull();
    // Registries without heartbeats (a process on its own) never break.
    expect(heldWithoutBreakSince({}, 0)).toBe(true);
  });
});
