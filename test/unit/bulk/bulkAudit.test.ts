/**
 * A bulk invitation job on the record: who confirmed it, who cancelled it, and how it ended
 * (bulkJob.confirmed, bulkJob.cancelled, bulkJob.finished), with counts and never a guest's
 * address. The end is recorded once, by the instance whose compare-and-set ended the job, even
 * when two instances work the same job.
 */
import { MemoryAuditLog } from '../../../src/adapters/memory/audit';
import type { BulkRunnerOptions } from '../../../src/usecases/bulk/runnerOptions';
import type { AuditEvent, AuditLog } from '../../../src/usecases/ports/auditLog';
import { isFinishedJob, type BulkJob, type BulkJobPatch } from '../../../src/domain/bulkJob';
import type { BulkJobRepository } from '../../../src/usecases/bulk/ports';
import { BULK_TEST_REFERENCE, bulkServiceInstance } from '../../support/bulkBot';
import { ADELE, ALEX, MEGAN, bulkTestEnv, partnersCsv, type BulkTestEnv } from '../../support/bulkEnv';
import { DEMO } from '../../support/directory';

const REFERENCE = BULK_TEST_REFERENCE;

/** One instance of the bot's bulk feature over the shared store (jobs, queue, invitations) and audit log. */
const instance = (env: BulkTestEnv, audit: AuditLog, runner: Partial<BulkRunnerOptions> = {}) => bulkServiceInstance(env, { audit, runner });

const confirmInput = (jobId: string) => ({ jobId, siteId: null, lookAlikeConfirmed: false, conversationRef: REFERENCE, cardActivityId: 'summary-card' });

async function bulkEvents(audit: MemoryAuditLog, jobId: string): Promise<AuditEvent[]> {
  return audit.list({ subjectType: 'bulkJob', subjectId: jobId, limit: 1000 });
}

/** Nothing that names a guest: no address, no link. */
function expectNoAddresses(events: AuditEvent[]): void {
  for (const e of events) expect(JSON.stringify(e.details)).not.toMatch(/@|https?:|redeem/i);
}

describe('a bulk job on the audit log', () => {
  it('Confirm is recorded once with the counts of the file; the job ends and that is recorded once, with its counts', async () => {
    const env = bulkTestEnv();
    const audit = new MemoryAuditLog();
    const { service, messenger } = instance(env, audit);
    // 12 rows: 10 new partners, one duplicate, one malformed address.
    const csv = `${partnersCsv(10).trimEnd()}\nPartner 1 again,PARTNER1@example.org\nBroken,not-an-address\n`;
    const staged = await env.stage(csv);

    const [first, second] = await Promise.all([service.confirm(MEGAN, confirmInput(staged.job.id)), service.confirm(MEGAN, confirmInput(staged.job.id))]);
    expect([first.kind, second.kind].sort()).toEqual(['current', 'started']);
    await service.runner.whenFinished(staged.job.id);
    await service.runner.stop();

    const events = await bulkEvents(audit, staged.job.id);
    expect(events.map((e) => e.action)).toEqual(['bulkJob.confirmed', 'bulkJob.finished']);
    expect(events[0]).toMatchObject({
      actorId: MEGAN.userId,
      actorName: MEGAN.name,
      details: { groupId: DEMO.groups.projectFalcon.id, rows: 12, toSend: 10, invalid: 1, duplicates: 1 },
    });
    expect(events[1]).toMatchObject({
      actorId: 'system',
      details: { outcome: 'completed', requestedBy: MEGAN.userId, rows: 12, toSend: 10, invited: 10, failed: 0, cancelled: 0, skipped: 0, invalid: 1, duplicates: 1 },
    });
    expectNoAddresses(events);
    // The requester was told the same figures.
    expect(messenger.notices.find((n) => n.text?.includes('has finished'))?.text).toContain('10 invited and added, 0 failed');
  });

  it('Cancel on a draft is recorded once (a second click finds it cancelled); nothing was sent and no end is recorded', async () => {
    const env = bulkTestEnv();
    const audit = new MemoryAuditLog();
    const { service } = instance(env, audit);
    const staged = await env.stage(partnersCsv(3));

    expect(await service.cancel(MEGAN, staged.job.id)).toMatchObject({ kind: 'current', notice: 'Cancelled. Nothing was sent.' });
    await service.cancel(MEGAN, staged.job.id);
    await service.runner.stop();

    const events = await bulkEvents(audit, staged.job.id);
    expect(events).toEqual([expect.objectContaining({ action: 'bulkJob.cancelled', actorId: MEGAN.userId, details: { before: 'draft', rows: 3, toSend: 3, sent: 0 } })]);
    expect(env.fake.callCount('invite')).toBe(0);
  });

  it("Cancel by an approver while the job runs is recorded with who cancelled; the end says 'cancelled' with what was and was not sent", async () => {
    const env = bulkTestEnv();
    const audit = new MemoryAuditLog();
    const { service } = instance(env, audit, { maxInFlight: 1 });
    // Slow invitations, so the cancel lands while rows are still to do.
    const invite = env.fake.invite.bind(env.fake);
    env.fake.invite = async (input) => {
      await new Promise((r) => setTimeout(r, 15));
      return invite(input);
    };
    const staged = await env.stage(partnersCsv(40));
    expect((await service.confirm(MEGAN, confirmInput(staged.job.id))).kind).toBe('started');
    await new Promise((r) => setTimeout(r, 60));

    await Promise.all([service.cancel(ALEX, staged.job.id), service.cancel(ALEX, staged.job.id)]);
    await service.runner.whenFinished(staged.job.id);
    await service.runner.stop();

    const events = await bulkEvents(audit, staged.job.id);
    expect(events.map((e) => e.action)).toEqual(['bulkJob.confirmed', 'bulkJob.cancelled', 'bulkJob.finished']);
    expect(events[1]).toMatchObject({ actorId: ALEX.userId, actorName: ALEX.name, details: { rows: 40, toSend: 40 } });
    const counts = await env.jobs.counts(staged.job.id);
    expect(counts.cancelled).toBeGreaterThan(0);
    expect(events[2]?.details).toMatchObject({ outcome: 'cancelled', invited: counts.done, cancelled: counts.cancelled, failed: counts.failed });
    expect(counts.done + counts.cancelled + counts.failed).toBe(40);
    expectNoAddresses(events);
  });

  it('two instances working one job record its end once', async () => {
    const env = bulkTestEnv();
    const audit = new MemoryAuditLog();
    const shared = { pageSize: 10, pollMs: 20, messagesInFlight: 1 };
    const a = instance(env, audit, shared);
    const b = instance(env, audit, shared);
    // Slow look-ups, so that one instance cannot take every chunk before the other looks.
    const lookUp = env.fake.findUsersByEmail.bind(env.fake);
    env.fake.findUsersByEmail = async (emails) => {
      await new Promise((r) => setTimeout(r, 20));
      return lookUp(emails);
    };
    const staged = await env.stage(partnersCsv(60));
    expect((await a.service.confirm(MEGAN, confirmInput(staged.job.id))).kind).toBe('started');
    await b.service.runner.resumeAll();
    const worked = { a: 0, b: 0 };
    const watch = setInterval(() => {
      if (a.service.runner.isRunning(staged.job.id)) worked.a++;
      if (b.service.runner.isRunning(staged.job.id)) worked.b++;
    }, 5);
    await Promise.all([a.service.runner.whenFinished(staged.job.id), b.service.runner.whenFinished(staged.job.id)]);
    clearInterval(watch);
    await Promise.all([a.service.runner.stop(), b.service.runner.stop()]);
    // Both instances worked chunks of the job, so either could have been the one to end it.
    expect(worked.a).toBeGreaterThan(0);
    expect(worked.b).toBeGreaterThan(0);

    expect(await env.jobs.counts(staged.job.id)).toMatchObject({ done: 60 });
    const finished = (await bulkEvents(audit, staged.job.id)).filter((e) => e.action === 'bulkJob.finished');
    expect(finished).toHaveLength(1);
    expect(finished[0]?.details).toMatchObject({ outcome: 'completed', invited: 60, toSend: 60 });
    // And the requester was told once.
    const told = [...a.messenger.notices, ...b.messenger.notices].filter((n) => n.text?.includes('has finished'));
    expect(told).toHaveLength(1);
  });

  it('a results link its holder may no longer use opens nothing and is on the record (bulkJob.refused, download); the requester and an approver open it', async () => {
    const env = bulkTestEnv();
    const audit = new MemoryAuditLog();
    const { service } = instance(env, audit);
    const staged = await env.stage(partnersCsv(2));
    await service.confirm(MEGAN, confirmInput(staged.job.id));
    await service.runner.whenFinished(staged.job.id);
    await service.runner.stop();
    const before = (await audit.list({ limit: 1 }))[0]?.seq ?? 0;
    const link = (who: typeof MEGAN, approver: boolean, jobId = staged.job.id) => ({ jobId, userId: who.userId, tenantId: who.tenantId, approver, expiresAt: 0 });

    expect((await service.openResults(link(MEGAN, false)))?.id).toBe(staged.job.id);
    expect((await service.openResults(link(ALEX, true)))?.id).toBe(staged.job.id);
    // Adele was never an approver (or has stopped being one since the link was issued).
    expect(await service.openResults(link(ADELE, true))).toBeNull();
    // A link naming no job refuses no one.
    expect(await service.openResults(link(ADELE, true, 'b1e7c1f0-0000-4000-8000-000000000000'))).toBeNull();

    const after = (await audit.list({ limit: 100 })).filter((e) => e.seq > before);
    expect(after).toEqual([
      expect.objectContaining({
        action: 'bulkJob.refused',
        actorId: ADELE.userId,
        actorName: '(results link)',
        subjectType: 'bulkJob',
        subjectId: staged.job.id,
        details: { attempted: 'download', reason: 'notApprover' },
      }),
    ]);
  });

  /** An audit log whose `bulkJob.finished` appends wait until `release` (an instance that stopped mid-write). */
  function stalledFinishedEvents(audit: MemoryAuditLog): { log: AuditLog; release: () => void } {
    let release: () => void = () => undefined;
    const stalled = new Promise<never>((_resolve, reject) => {
      release = () => reject(new Error('the instance died'));
    });
    stalled.catch(() => undefined);
    const log: AuditLog = {
      append: (event) => (event.action === 'bulkJob.finished' ? stalled : audit.append(event)),
      list: (filter) => audit.list(filter),
      listRange: (range) => audit.listRange(range),
      pruneBefore: (before) => audit.pruneBefore(before),
    };
    return { log, release };
  }

  async function untilEnded(env: BulkTestEnv, jobId: string): Promise<BulkJob> {
    for (let i = 0; i < 500; i++) {
      const job = await env.jobs.get(jobId);
      if (job && isFinishedJob(job)) return job;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error('the job did not end');
  }

  it('an instance that ends a job and dies before writing bulkJob.finished: recovery on another instance writes it, once', async () => {
    const env = bulkTestEnv();
    const audit = new MemoryAuditLog();
    const dying = stalledFinishedEvents(audit);
    const short = { leaseMs: 50 };
    const a = instance(env, dying.log, short);
    const staged = await env.stage(partnersCsv(3));
    await a.service.confirm(MEGAN, confirmInput(staged.job.id));
    const ended = await untilEnded(env, staged.job.id);
    // Ended by a's compare-and-set, which marked the event pending with a as its writer; nothing written yet.
    expect(ended).toMatchObject({ state: 'completed', finishedEventPending: true });
    expect((await bulkEvents(audit, staged.job.id)).map((e) => e.action)).toEqual(['bulkJob.confirmed']);

    const b = instance(env, audit, short);
    // While a's claim lasts, b leaves it to a.
    await b.service.runner.resumeAll();
    expect((await bulkEvents(audit, staged.job.id)).map((e) => e.action)).toEqual(['bulkJob.confirmed']);
    // a is gone: its claim runs out, and b's recovery writes the event with the job's counts.
    await new Promise((r) => setTimeout(r, 80));
    await b.service.runner.resumeAll();
    await b.service.runner.resumeAll();
    const events = await bulkEvents(audit, staged.job.id);
    expect(events.map((e) => e.action)).toEqual(['bulkJob.confirmed', 'bulkJob.finished']);
    expect(events[1]).toMatchObject({ actorId: 'system', details: { outcome: 'completed', requestedBy: MEGAN.userId, rows: 3, toSend: 3, invited: 3, failed: 0 } });
    expect(await env.jobs.get(staged.job.id)).toMatchObject({ finishedEventPending: false, leaseOwner: null });
    expect(await env.jobs.listFinishedEventPending()).toEqual([]);

    dying.release();
    await Promise.all([a.service.runner.stop(), b.service.runner.stop()]);
    expect((await bulkEvents(audit, staged.job.id)).filter((e) => e.action === 'bulkJob.finished')).toHaveLength(1);
  });

  it('an instance that wrote bulkJob.finished and died before clearing the mark: recovery finds the event and does not write it again', async () => {
    const env = bulkTestEnv();
    const audit = new MemoryAuditLog();
    const short = { leaseMs: 50 };
    // a's store never answers the write that clears the mark.
    let releaseClear: () => void = () => undefined;
    const clearStalled = new Promise<null>((resolve) => {
      releaseClear = () => resolve(null);
    });
    const jobs = env.jobs;
    const aJobs: BulkJobRepository = new Proxy(jobs, {
      get(target, property, receiver) {
        if (property === 'update') {
          return (id: string, version: number, patch: BulkJobPatch) => (patch.finishedEventPending === false ? clearStalled : target.update(id, version, patch));
        }
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    const a = bulkServiceInstance({ ...env, jobs: aJobs }, { audit, runner: short });
    const staged = await env.stage(partnersCsv(2));
    await a.service.confirm(MEGAN, confirmInput(staged.job.id));
    await untilEnded(env, staged.job.id);
    for (let i = 0; i < 100 && (await bulkEvents(audit, staged.job.id)).length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    expect((await bulkEvents(audit, staged.job.id)).map((e) => e.action)).toEqual(['bulkJob.confirmed', 'bulkJob.finished']);
    expect(await env.jobs.get(staged.job.id)).toMatchObject({ finishedEventPending: true });

    const b = instance(env, audit, short);
    await new Promise((r) => setTimeout(r, 80));
    await b.service.runner.resumeAll();
    expect((await bulkEvents(audit, staged.job.id)).map((e) => e.action)).toEqual(['bulkJob.confirmed', 'bulkJob.finished']);
    expect(await env.jobs.get(staged.job.id)).toMatchObject({ finishedEventPending: false });

    releaseClear();
    await Promise.all([a.service.runner.stop(), b.service.runner.stop()]);
  });
});
