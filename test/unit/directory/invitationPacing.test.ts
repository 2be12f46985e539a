/**
 * One pacer for every invitation the process sends: single invitations, approved invitations and
 * a bulk job started together stay under the tenant's /invitations limit (no 429 at all), and a
 * process started again on the same store keeps counting the window the previous one filled.
 */
import type { AccessToken } from '@azure/identity';
import { bulkMigrations } from '../../../src/adapters/sqlite/bulkJobs';
import { SharedPacer } from '../../../src/usecases/ports/pacer';
import { GraphDirectory } from '../../../src/adapters/graph/GraphDirectory';
import { InviteGuestService } from '../../../src/usecases/invite/inviteGuest';
import { SignInAdvisor } from '../../../src/usecases/signIn/signInAdvisor';
import { SqliteInvitationRepository } from '../../../src/adapters/sqlite/invitations';
import { bulkTestEnv, MEGAN, partnersCsv } from '../../support/bulkEnv';
import { demoDirectory, DEMO } from '../../support/directory';
import { startGraphServer, type GraphTestServer } from '../../support/graphServer';
import { tempStore } from '../../support/store';
import { APPROVAL_TEST_MIGRATIONS, actorOf, approvalTestbed } from '../approvals/testbed';

const credential = { getToken: async (): Promise<AccessToken> => ({ token: 'test-token', expiresOnTimestamp: Date.now() + 3_600_000 }) };

describe('one invitation pacer for the whole process', () => {
  let server: GraphTestServer | null = null;
  afterEach(async () => {
    await server?.close();
    server = null;
  });

  it('a burst of single, approval and bulk invitations together gets no 429 from Graph', async () => {
    const fake = demoDirectory();
    // A tighter limit on a shorter window than Graph's (20 invitations per 2 s), so that a few
    // dozen invitations cross it. The server counts arrivals, the pacer departures: on a loaded
    // machine the event loop of this one test process (which runs the server too) can hold a
    // request for a few hundred milliseconds between the two, which the pacer's margin (2 % of
    // 5 s in production) must cover here, hence 25 %.
    server = await startGraphServer(fake, { limits: { invitationsPer5s: 20, timeScale: 0.4 } });
    const store = tempStore([...APPROVAL_TEST_MIGRATIONS, ...bulkMigrations]);
    const pacer = new SharedPacer(store.pacerWindow, { limit: 20, windowMs: 2000, safetyMs: 500 });
    const graph = new GraphDirectory({ credential, baseUrl: server.baseUrl, retryDelaySeconds: 0.001, invitationPacer: pacer });
    const invite = new InviteGuestService({
      directory: graph,
      advisor: new SignInAdvisor(graph),
      invitations: new SqliteInvitationRepository(store.db),
      audit: store.audit,
      sendInvitationEmail: false,
      holders: store.holders,
    });
    const approvals = approvalTestbed({ store, directory: fake, wrapExecutor: () => invite, inlineBudgetMs: 60_000 });
    const bulk = bulkTestEnv({ fake, db: store.db, directory: () => graph, runner: { pacer: null } });

    const SINGLES = 8;
    const APPROVED = 4;
    const ROWS = 40;
    const requests = [];
    for (let i = 0; i < APPROVED; i++) requests.push(await approvals.requestInvitation({ email: `approved${i}@example.net`, name: `Approved ${i}` }));
    const job = await bulk.submit(partnersCsv(ROWS));

    const started = Date.now();
    await bulk.runner.start(job.id);
    const singles = Array.from({ length: SINGLES }, (_, i) =>
      invite.execute({ email: `single${i}@example.com`, displayName: `Single ${i}`, groupId: DEMO.groups.projectFalcon.id, requestedBy: MEGAN }),
    );
    const decisions = requests.map((r) => approvals.service.decide(actorOf('alex'), r.id, 'approve', null, r.version));
    const outcomes = await Promise.all(singles);

    await Promise.all(decisions);
    await approvals.service.whenIdle();

    await bulk.runner.whenFinished(job.id);
    const elapsed = Date.now() - started;

    const posts = server.requestLog.filter((r) => r.method === 'POST' && r.path === '/v1.0/invitations');
    process.stderr.write(`[figures] burst: ${posts.length} invitation POSTs in ${elapsed} ms, ${posts.filter((p) => p.status === 429).length} answered 429\n`);
    expect(posts.filter((p) => p.status === 429)).toHaveLength(0);
    expect(posts.length).toBe(SINGLES + APPROVED + ROWS);
    expect(outcomes.every((o) => o.status === 'completed')).toBe(true);
    expect((await Promise.all(requests.map((r) => approvals.requests.get(r.id)))).every((r) => r?.outcome?.status === 'succeeded')).toBe(true);
    expect(await bulk.jobs.counts(job.id)).toMatchObject({ done: ROWS, failed: 0 });
  }, 60_000);

  it('a process started again on the same store waits for the window the previous one filled', async () => {
    const store = tempStore();
    let now = 1_000_000;
    const slept: number[] = [];
    const clock = { now: () => new Date(now) };
    const sleep = async (ms: number) => {
      slept.push(ms);
      now += ms;
    };
    const before = new SharedPacer(store.pacerWindow, { limit: 5, windowMs: 5000, safetyMs: 0, clock, sleep });
    for (let i = 0; i < 5; i++) await before.acquire();
    expect(slept).toEqual([]);
    now += 1000;

    // The restarted process: a new pacer, nothing in memory, the same store.
    const after = new SharedPacer(store.pacerWindow, { limit: 5, windowMs: 5000, safetyMs: 0, clock, sleep });
    expect(await after.inWindow()).toBe(5);
    await after.acquire();
    expect(slept.reduce((a, b) => a + b, 0)).toBe(4000);
  });
});
