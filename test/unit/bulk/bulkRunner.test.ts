import { DirectoryError } from '../../../src/usecases/ports/Directory';
import { MemoryBulkJobRepository } from '../../../src/adapters/memory/bulkJobs';
import { MemoryInvitationRepository } from '../../../src/adapters/memory/invitations';
import { ADELE, ALEX, FALCON, allRows, bulkTestEnv, faultyDirectory, invitationsPerAddress, partnersCsv } from '../../support/bulkEnv';
import { DEMO } from '../../support/directory';

function membersOf(env: ReturnType<typeof bulkTestEnv>, groupId: string): string[] {
  return env.fake.snapshot().groups.find((g) => g.id === groupId)?.members ?? [];
}

describe('bulk runner: exactly once', () => {
  it('invites each valid row once and adds each guest once, 20 members per request', async () => {
    const env = bulkTestEnv();
    const job = await env.submit(partnersCsv(45));
    expect(await env.runner.start(job.id)).toBe(true);
    await env.runner.whenFinished(job.id);

    expect((await env.jobs.get(job.id))?.state).toBe('completed');
    expect(await env.jobs.counts(job.id)).toMatchObject({ done: 45, failed: 0, pending: 0, invited: 0 });
    const perAddress = invitationsPerAddress(env.fake);
    expect(perAddress.size).toBe(45);
    expect([...perAddress.values()].every((n) => n === 1)).toBe(true);
    expect(env.fake.callCount('invite')).toBe(45);
    expect(env.fake.callCount('addMembers')).toBe(3); // 20 + 20 + 5
    expect(env.fake.callCount('findUsersByEmail')).toBe(1); // one page of 100 rows
  });

  it('runs the same over the in-memory repositories: each row invited once, each guest added once', async () => {
    const env = bulkTestEnv({ jobs: new MemoryBulkJobRepository(), invitations: new MemoryInvitationRepository() });
    const job = await env.submit(partnersCsv(45));
    expect(await env.runner.start(job.id)).toBe(true);
    await env.runner.whenFinished(job.id);

    expect((await env.jobs.get(job.id))?.state).toBe('completed');
    expect(await env.jobs.counts(job.id)).toMatchObject({ done: 45, failed: 0, pending: 0, invited: 0 });
    const perAddress = invitationsPerAddress(env.fake);
    expect(perAddress.size).toBe(45);
    expect([...perAddress.values()].every((n) => n === 1)).toBe(true);
    expect(env.fake.callCount('addMembers')).toBe(3);
  });

  it('holds under 20 % injected faults (before and after the call), with nothing lost or doubled', async () => {
    let faulty: ReturnType<typeof faultyDirectory> | null = null;
    const env = bulkTestEnv({ directory: (fake) => (faulty = faultyDirectory(fake, 0.2, 7)) });
    const job = await env.submit(partnersCsv(200));
    await env.runner.start(job.id);
    await env.runner.whenFinished(job.id);

    expect(faulty!.injected).toBeGreaterThan(20);
    expect(await env.jobs.counts(job.id)).toMatchObject({ done: 200, failed: 0 });
    const perAddress = invitationsPerAddress(env.fake);
    expect(perAddress.size).toBe(200);
    expect([...perAddress.entries()].filter(([, n]) => n > 1)).toEqual([]);
    const members = membersOf(env, FALCON.id);
    expect(new Set(members).size).toBe(members.length);
    const guests = env.fake.snapshot().users.filter((u) => u.mail?.endsWith('@example.org'));
    expect(guests).toHaveLength(200);
    expect(guests.every((g) => members.includes(g.id))).toBe(true);
  });

  it('the same CSV submitted twice sends no second invitation', async () => {
    const env = bulkTestEnv();
    const first = await env.submit(partnersCsv(30));
    await env.runner.start(first.id);
    await env.runner.whenFinished(first.id);
    const second = await env.submit(partnersCsv(30));
    await env.runner.start(second.id);
    await env.runner.whenFinished(second.id);

    expect(env.fake.callCount('invite')).toBe(30);
    expect(await env.jobs.counts(second.id)).toMatchObject({ done: 30, failed: 0 });
    // The second job reports the first job's redeem links from the shared invitation records.
    const row = await env.jobs.getRow(second.id, 2);
    expect(row?.redeemUrl).toMatch(/^https:\/\//);
  });

  it('adds an existing guest and an internal member to the site without inviting them', async () => {
    const env = bulkTestEnv();
    const csv = `Name,Email\nLee Gu,${DEMO.users.leeGu.mail}\nAdele Vance,${DEMO.users.adele.mail}\nNew Person,new.person@example.org\n`;
    const job = await env.submit(csv);
    await env.runner.start(job.id);
    await env.runner.whenFinished(job.id);

    expect(env.fake.callCount('invite')).toBe(1);
    expect(membersOf(env, FALCON.id)).toEqual(expect.arrayContaining([DEMO.users.leeGu.id, DEMO.users.adele.id]));
    expect(await env.jobs.counts(job.id)).toMatchObject({ done: 3 });
  });

  it('marks a row failed with the reason when retries run out, and carries on with the others', async () => {
    const env = bulkTestEnv({ runner: { maxAttempts: 3 } });
    const job = await env.submit(partnersCsv(5));
    // One address keeps timing out; the rest go through.
    const invite = env.fake.invite.bind(env.fake);
    env.fake.invite = (input) =>
      input.email === 'partner3@example.org'
        ? Promise.reject(new DirectoryError('transient', 'Microsoft Graph did not answer in time.'))
        : invite(input);
    await env.runner.start(job.id);
    await env.runner.whenFinished(job.id);

    const counts = await env.jobs.counts(job.id);
    expect(counts).toMatchObject({ done: 4, failed: 1 });
    const failed = (await allRows(env.jobs, job.id)).find((r) => r.state === 'failed');
    expect(failed).toMatchObject({ rowNumber: 4, attempts: 3 });
    expect(failed?.error).toBe('Microsoft Graph did not answer in time.');
  });

  it('a refusal that cannot get better fails the row at once', async () => {
    const env = bulkTestEnv();
    const job = await env.submit(partnersCsv(2));
    env.fake.failNext('invite', new DirectoryError('forbiddenByPolicy', 'Invitations to this domain are not allowed.'));
    await env.runner.start(job.id);
    await env.runner.whenFinished(job.id);
    const rows = (await allRows(env.jobs, job.id));
    expect(rows.map((r) => [r.state, r.attempts])).toEqual([
      ['failed', 1],
      ['done', 0],
    ]);
  });

  it('honours Retry-After by holding every invitation off', async () => {
    const env = bulkTestEnv();
    const job = await env.submit(partnersCsv(3));
    env.fake.throttle({ retryAfterMs: 30, times: 1, methods: ['invite'] });
    const t0 = Date.now();
    await env.runner.start(job.id);
    await env.runner.whenFinished(job.id);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(5); // capped by maxBackoffMs in tests
    expect(await env.jobs.counts(job.id)).toMatchObject({ done: 3 });
  });
});

describe('bulk runner: cancel, resume, progress', () => {
  it('cancel stops new invitations; what was sent is still added; the rest is marked cancelled', async () => {
    const env = bulkTestEnv({ runner: { maxInFlight: 1 } });
    const job = await env.submit(partnersCsv(50));
    let cancelledAt = -1;
    const invite = env.fake.invite.bind(env.fake);
    env.fake.invite = async (input) => {
      const result = await invite(input);
      if (env.fake.callCount('invite') === 10 && cancelledAt < 0) {
        cancelledAt = 10;
        await env.runner.requestCancel(job.id);
      }
      return result;
    };
    await env.runner.start(job.id);
    await env.runner.whenFinished(job.id);

    expect((await env.jobs.get(job.id))?.state).toBe('cancelled');
    const counts = await env.jobs.counts(job.id);
    expect(env.fake.callCount('invite')).toBeLessThanOrEqual(11);
    expect(counts.done).toBe(env.fake.callCount('invite'));
    expect(counts.cancelled).toBe(50 - counts.done);
    expect(membersOf(env, FALCON.id).length).toBeGreaterThanOrEqual(counts.done);
  });

  it('resumeAll picks up a job another process left running and finishes it without repeats', async () => {
    const env = bulkTestEnv({ runner: { leaseMs: 1 } });
    const job = await env.submit(partnersCsv(25));
    // The first 25 rows were done earlier; a second job of 30 was left running by a process that died.
    await env.runner.start(job.id);
    await env.runner.whenFinished(job.id);
    const invitesBefore = env.fake.callCount('invite');
    const again = await env.submit(partnersCsv(30));
    await env.jobs.update(again.id, again.version, { state: 'running', leaseOwner: 'dead-process', leaseUntil: Date.now() - 1 });
    expect(await env.runner.resumeAll()).toEqual([again.id]);
    await env.runner.whenFinished(again.id);
    expect(env.fake.callCount('invite') - invitesBefore).toBe(5);
    expect(await env.jobs.counts(again.id)).toMatchObject({ done: 30 });
  });

  it('does not take over a job whose lease another live runner holds', async () => {
    const env = bulkTestEnv();
    const job = await env.submit(partnersCsv(2));
    await env.jobs.update(job.id, job.version, { state: 'running', leaseOwner: 'other', leaseUntil: Date.now() + 60_000 });
    expect(await env.runner.resumeAll()).toEqual([]);
  });

  it('reports progress at a steady pace and once at the end', async () => {
    const reports: Array<{ done: number; total: number }> = [];
    const env = bulkTestEnv({
      runner: {
        progressIntervalMs: 0,
        onProgress: (_job, p) => {
          reports.push({ done: p.done, total: p.total });
        },
      },
    });
    const job = await env.submit(partnersCsv(250));
    await env.runner.start(job.id);
    await env.runner.whenFinished(job.id);
    expect(reports.length).toBeGreaterThanOrEqual(3);
    expect(reports.at(-1)).toEqual({ done: 250, total: 250 });
    expect(reports.every((r) => r.total === 250)).toBe(true);
  });

  it('rows needing approval are not sent', async () => {
    const env = bulkTestEnv({ approvalPolicy: 'always' });
    const job = await env.submit(partnersCsv(3));
    await env.runner.start(job.id);
    await env.runner.whenFinished(job.id);
    expect(env.fake.callCount('invite')).toBe(0);
    expect((await env.jobs.counts(job.id)).needsApproval).toBe(3);
    // An approver's own file needs no approval.
    const own = await env.stage(partnersCsv(2, 10), ALEX, 'Research');
    expect(await env.jobs.counts(own.job.id)).toMatchObject({ pending: 2, needsApproval: 0 });
  });

  it('refuses someone who owns no site, and a site the requester does not own', async () => {
    const env = bulkTestEnv();
    await expect(env.stage(partnersCsv(1), ADELE, null)).rejects.toMatchObject({ userMessage: expect.stringContaining("don't own any site") });
    await expect(env.stage(partnersCsv(1), ALEX, 'Project Falcon')).rejects.toMatchObject({
      userMessage: expect.stringContaining('You don\'t own a site called "Project Falcon"'),
    });
  });
});
