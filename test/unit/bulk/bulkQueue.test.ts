/**
 * Bulk work from the queue: the poison path (a message received more than maxDequeues times has
 * its unfinished rows failed with the reason, counted and reported, never dropped), a clean stop
 * handing work back without using up an attempt, and two runners sharing one queue.
 */
import type { BulkProgress } from '../../../src/usecases/bulk/progress';
import type { BulkJob } from '../../../src/domain/bulkJob';
import type { InvitationRepository } from '../../../src/usecases/ports/invitations';
import { BulkRunner } from '../../../src/usecases/bulk/bulkRunner';
import { resultsCsvText } from '../../../src/usecases/bulk/resultsCsv';
import { BULK_QUEUE, QUEUED_OWNER, planMessage, rowsMessage } from '../../../src/usecases/bulk/workMessages';
import { SqliteInvitationRepository } from '../../../src/adapters/sqlite/invitations';
import { SlidingWindowPacer } from '../../../src/usecases/ports/pacer';
import { FALCON, allRows, bulkTestEnv, invitationsPerAddress, partnersCsv, type BulkTestEnv } from '../../support/bulkEnv';

/** An invitation repository whose claim throws (not a Graph error: a bug, a store fault) for one address. */
function failingClaimFor(inner: InvitationRepository, email: string): InvitationRepository {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'claim') {
        return async (...args: Parameters<InvitationRepository['claim']>) => {
          if (args[0].emailNormalised === email) throw new Error('store fault on this row');
          return target.claim(...args);
        };
      }
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** Puts a job's work in the queue by hand, as an instance would before it dies. */
async function queueByHand(env: BulkTestEnv, job: BulkJob): Promise<void> {
  const marked = await env.jobs.update(job.id, job.version, { state: 'running', leaseOwner: QUEUED_OWNER, leaseUntil: null, startedAt: Date.now() });
  if (!marked) throw new Error('could not mark the job');
}

/** Receives the message and lets its lease run out, `times` times: instances that died on it. */
async function dieOn(env: BulkTestEnv, times: number): Promise<void> {
  for (let i = 0; i < times; i++) {
    const [message] = await env.queue.receive(BULK_QUEUE, 1, 60_000);
    if (!message) throw new Error('no message to die on');
    await env.queue.extend(BULK_QUEUE, message, 0);
  }
}

describe('bulk work from the queue: the poison path', () => {
  it('a chunk whose work keeps failing is tried BULK_MAX_DEQUEUES times; then its unfinished rows fail with the reason, and the other chunks finish', async () => {
    const finished: BulkProgress[] = [];
    const env = bulkTestEnv();
    // The runner's invitation repository throws on row 15's address (rows 2..31: partner1..30).
    const broken = failingClaimFor(new SqliteInvitationRepository(env.db), 'partner14@example.org');
    const runner = new BulkRunner({
      jobs: env.jobs,
      queue: env.queue,
      invitations: broken,
      directory: env.directory,
      pacer: new SlidingWindowPacer({ limit: 1000, windowMs: 50 }),
      sendInvitationEmail: false,
      baseBackoffMs: 1,
      maxBackoffMs: 5,
      pageSize: 10,
      retryDelayMs: 1,
      maxDequeues: 5,
      pollMs: 20,
      onFinished: (_job, p) => void finished.push(p),
    });
    const job = await env.submit(partnersCsv(30));
    expect(await runner.start(job.id)).toBe(true);
    await runner.whenFinished(job.id);

    expect((await env.jobs.get(job.id))?.state).toBe('completed');
    const rows = await allRows(env.jobs, job.id);
    const failed = rows.filter((r) => r.state === 'failed');
    // The chunk holding the broken row (10 rows) is given up whole; the other 20 rows are done.
    expect(failed).toHaveLength(10);
    expect(failed.some((r) => r.email === 'partner14@example.org')).toBe(true);
    expect(failed.every((r) => r.error?.startsWith('Gave up after 5 attempts'))).toBe(true);
    expect(rows.filter((r) => r.state === 'done')).toHaveLength(20);
    // Nothing silently dropped: every row is accounted for, and the finished card counts them.
    expect(await env.jobs.counts(job.id)).toMatchObject({ done: 20, failed: 10, pending: 0, invited: 0 });
    expect(finished).toHaveLength(1);
    expect(finished[0]).toMatchObject({ done: 20, failed: 10, gaveUp: 10 });
    // The results file gives the reason per row; the given-up guests were never invited.
    const csv = await resultsCsvText(env.jobs, job.id);
    expect(csv).toContain('partner14@example.org');
    expect(csv.split('\n').filter((line) => line.includes('Gave up after 5 attempts'))).toHaveLength(10);
    expect(invitationsPerAddress(env.fake).has('partner14@example.org')).toBe(false);
    expect(await env.queue.receive(BULK_QUEUE, 32, 1000)).toEqual([]);
    await runner.stop();
  });

  it('a message instances died on (its lease ran out 5 times) is given up on the next receipt: its rows fail with the reason, the rest of the job is worked', async () => {
    const env = bulkTestEnv({ runner: { pageSize: 10, pollMs: 20 } });
    const job = await env.submit(partnersCsv(20));
    await queueByHand(env, job);
    // Rows 2..11 in a message five instances died on; rows 12..21 in a fresh one.
    await env.queue.send(BULK_QUEUE, rowsMessage(job.id, 2, 11));
    await dieOn(env, 5);
    await env.queue.send(BULK_QUEUE, rowsMessage(job.id, 12, 21));

    expect(await env.runner.resumeAll()).toEqual([]); // already queued: only worked here
    await env.runner.whenFinished(job.id);

    expect((await env.jobs.get(job.id))?.state).toBe('completed');
    const rows = await allRows(env.jobs, job.id);
    expect(rows.filter((r) => r.rowNumber <= 11).map((r) => [r.state, r.error?.slice(0, 25)])).toEqual(
      Array.from({ length: 10 }, () => ['failed', 'Gave up after 5 attempts:']),
    );
    expect(rows.filter((r) => r.rowNumber > 11).every((r) => r.state === 'done')).toBe(true);
    expect((await env.runner.progress(job.id))?.gaveUp).toBe(10);
    expect(env.fake.callCount('invite')).toBe(10);
    await env.runner.stop();
  });

  it('BULK_MAX_DEQUEUES is the limit: with 2, a message received a third time is given up', async () => {
    const env = bulkTestEnv({ runner: { maxDequeues: 2, pollMs: 20 } });
    const job = await env.submit(partnersCsv(3));
    await queueByHand(env, job);
    await env.queue.send(BULK_QUEUE, rowsMessage(job.id, 2, 4));
    await dieOn(env, 2);
    await env.runner.resumeAll();
    await env.runner.whenFinished(job.id);
    expect(await env.jobs.counts(job.id)).toMatchObject({ failed: 3, done: 0 });
    expect((await allRows(env.jobs, job.id))[0]?.error).toMatch(/^Gave up after 2 attempts: each stopped before this row was finished/);
    await env.runner.stop();
  });

  it('a plan message given up fails every row of the job still to do, and the job ends', async () => {
    const env = bulkTestEnv({ runner: { pollMs: 20 } });
    const job = await env.submit(partnersCsv(4));
    await queueByHand(env, job);
    await env.queue.send(BULK_QUEUE, planMessage(job.id));
    await dieOn(env, 5);
    await env.runner.resumeAll();
    await env.runner.whenFinished(job.id);
    expect((await env.jobs.get(job.id))?.state).toBe('completed');
    expect(await env.jobs.counts(job.id)).toMatchObject({ failed: 4, pending: 0 });
    expect(env.fake.callCount('invite')).toBe(0);
    await env.runner.stop();
  });

  it('a message that is not bulk work is removed and nothing else changes', async () => {
    const env = bulkTestEnv({ runner: { pollMs: 20 } });
    const job = await env.submit(partnersCsv(2));
    await env.queue.send(BULK_QUEUE, '{"v":1,"kind":"rows","jobId":"x","from":5,"to":1}');
    await env.queue.send(BULK_QUEUE, 'not json');
    await env.runner.start(job.id);
    await env.runner.whenFinished(job.id);
    expect(await env.jobs.counts(job.id)).toMatchObject({ done: 2 });
    expect(await env.queue.receive(BULK_QUEUE, 32, 1000)).toEqual([]);
    await env.runner.stop();
  });
});

describe('bulk work from the queue: several runners, stopping', () => {
  it('a clean stop mid-job hands the work back without using up an attempt; another runner finishes it exactly once', async () => {
    const env = bulkTestEnv({ runner: { maxInFlight: 2, pageSize: 20, pollMs: 20 } });
    const job = await env.submit(partnersCsv(60));
    let stopped: Promise<void> | null = null;
    const invite = env.fake.invite.bind(env.fake);
    env.fake.invite = async (input) => {
      const result = await invite(input);
      if (env.fake.callCount('invite') === 10 && !stopped) stopped = env.runner.stop();
      return result;
    };
    await env.runner.start(job.id);
    await new Promise<void>((resolve) => {
      const wait = (): void => void (stopped ? stopped.then(() => resolve()) : setTimeout(wait, 5));
      wait();
    });
    const left = await env.jobs.counts(job.id);
    expect(left.pending).toBeGreaterThan(0);
    expect((await env.jobs.get(job.id))?.state).toBe('running');

    // Every message left is fresh: the stop did not count as a failed attempt.
    const waiting = await env.queue.receive(BULK_QUEUE, 32, 1000);
    expect(waiting.length).toBeGreaterThan(0);
    expect(waiting.every((m) => m.dequeueCount === 1)).toBe(true);
    for (const m of waiting) await env.queue.extend(BULK_QUEUE, m, 0);

    const next = new BulkRunner({
      jobs: env.jobs,
      queue: env.queue,
      invitations: env.invitations,
      directory: env.directory,
      pacer: new SlidingWindowPacer({ limit: 1000, windowMs: 50 }),
      sendInvitationEmail: false,
      pageSize: 20,
      pollMs: 20,
    });
    await next.resumeAll();
    await next.whenFinished(job.id);
    expect(await env.jobs.counts(job.id)).toMatchObject({ done: 60, failed: 0 });
    const perAddress = invitationsPerAddress(env.fake);
    expect(perAddress.size).toBe(60);
    expect([...perAddress.values()].every((n) => n === 1)).toBe(true);
    await next.stop();
  });

  it('two runners on one queue share a job: both work chunks of it, each row once, one finished notice', async () => {
    const env = bulkTestEnv({ runner: { pageSize: 10, pollMs: 20 } });
    const notices: string[] = [];
    const make = (name: string): BulkRunner =>
      new BulkRunner({
        jobs: env.jobs,
        queue: env.queue,
        invitations: env.invitations,
        directory: env.directory,
        pacer: new SlidingWindowPacer({ limit: 1000, windowMs: 50 }),
        sendInvitationEmail: false,
        pageSize: 10,
        pollMs: 20,
        messagesInFlight: 1,
        onFinished: () => void notices.push(name),
      });
    const a = make('a');
    const b = make('b');
    const worked = { a: 0, b: 0 };
    const slow = env.fake.findUsersByEmail.bind(env.fake);
    // Slow look-ups, so that one runner cannot take every chunk before the other looks.
    env.fake.findUsersByEmail = async (emails) => {
      await new Promise((r) => setTimeout(r, 20));
      return slow(emails);
    };
    const job = await env.submit(partnersCsv(80));
    await a.start(job.id);
    await b.resumeAll();
    const seen = async (): Promise<void> => {
      if (a.isRunning(job.id)) worked.a++;
      if (b.isRunning(job.id)) worked.b++;
    };
    const watch = setInterval(() => void seen(), 5);
    await Promise.all([a.whenFinished(job.id), b.whenFinished(job.id)]);
    clearInterval(watch);
    expect(worked.a).toBeGreaterThan(0);
    expect(worked.b).toBeGreaterThan(0);
    expect(await env.jobs.counts(job.id)).toMatchObject({ done: 80 });
    expect([...invitationsPerAddress(env.fake).values()].every((n) => n === 1)).toBe(true);
    const members = env.fake.snapshot().groups.find((g) => g.id === FALCON.id)?.members ?? [];
    expect(new Set(members).size).toBe(members.length);
    expect(notices).toHaveLength(1);
    await Promise.all([a.stop(), b.stop()]);
  });

  it('a cancel asked on one instance stops the rows another instance works: what was sent is added, the rest cancelled, one finished notice', async () => {
    const env = bulkTestEnv({ runner: { pageSize: 10, pollMs: 20 } });
    const finished: Array<{ runner: string; state: string }> = [];
    const make = (name: string, maxInFlight: number): BulkRunner =>
      new BulkRunner({
        jobs: env.jobs,
        queue: env.queue,
        invitations: env.invitations,
        directory: env.directory,
        pacer: new SlidingWindowPacer({ limit: 1000, windowMs: 50 }),
        sendInvitationEmail: false,
        pageSize: 10,
        pollMs: 20,
        maxInFlight,
        progressIntervalMs: 10,
        onFinished: (job) => void finished.push({ runner: name, state: job.state }),
      });
    const worker = make('worker', 1);
    const asker = make('asker', 1);
    const job = await env.submit(partnersCsv(60));
    let cancelled: Promise<unknown> | null = null;
    const invite = env.fake.invite.bind(env.fake);
    env.fake.invite = async (input) => {
      const result = await invite(input);
      // The cancel comes from the other instance (a click that reached it), mid-job.
      if (env.fake.callCount('invite') === 8 && !cancelled) cancelled = asker.requestCancel(job.id);
      return result;
    };
    await worker.start(job.id);
    await worker.whenFinished(job.id);
    await cancelled;

    expect((await env.jobs.get(job.id))?.state).toBe('cancelled');
    const counts = await env.jobs.counts(job.id);
    expect(counts.done).toBe(env.fake.callCount('invite'));
    expect(counts.done).toBeLessThan(60);
    expect(counts.cancelled).toBe(60 - counts.done);
    expect(counts).toMatchObject({ pending: 0, invited: 0, failed: 0 });
    const members = env.fake.snapshot().groups.find((g) => g.id === FALCON.id)?.members ?? [];
    const guests = env.fake.snapshot().users.filter((u) => u.mail?.endsWith('@example.org'));
    expect(guests.every((g) => members.includes(g.id))).toBe(true);
    expect(finished).toHaveLength(1);
    expect(finished[0]?.state).toBe('cancelled');
    await Promise.all([worker.stop(), asker.stop()]);
  });
});
