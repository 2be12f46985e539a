/**
 * A bot process killed (SIGKILL) while carrying out approvals, at each point where a crash can
 * land, then restarted on the same data folder: every approval is carried out once, Graph sees
 * no second invitation, and the requester is told once, within seconds of the restart.
 */
import { SqliteApprovalRequestRepository } from '../../../src/adapters/sqlite/approvalRequests';
import { approvalMigrations } from '../../../src/adapters/sqlite/approvalSchema';
import { openDatabase } from '../../../src/adapters/sqlite/database';
import { invitationMigrations } from '../../../src/adapters/sqlite/invitations';
import { resetRequestMigrations } from '../../../src/adapters/sqlite/resetRequests';
import { approvalGuest, type PausePoint } from '../../support/approvalChild';
import { startTsChild, until, type TsChild } from '../../support/childProcess';
import { DEMO, demoDirectory } from '../../support/directory';
import { startGraphServer, type GraphTestServer } from '../../support/graphServer';
import { tempDatabaseFile } from '../../support/store';
import { personalConversationId } from './testbed';

const APPROVALS = 3;
const RESTART_BUDGET_MS = 10_000;

interface Printed {
  sent?: string;
  text?: string;
}

function printed(child: TsChild): Printed[] {
  return child.lines().flatMap((line) => {
    if (!line.startsWith('{')) return [];
    try {
      return [JSON.parse(line) as Printed];
    } catch {
      return [];
    }
  });
}

function invitationPosts(server: GraphTestServer, email: string): number {
  return server.requestLog.filter(
    (r) => r.method === 'POST' && r.path === '/v1.0/invitations' && (r.body as { invitedUserEmailAddress?: string } | undefined)?.invitedUserEmailAddress === email,
  ).length;
}

describe('approvals after a SIGKILL', () => {
  let server: GraphTestServer | null = null;
  const children: TsChild[] = [];
  afterEach(async () => {
    for (const c of children.splice(0)) await c.kill();
    await server?.close();
    server = null;
  });

  it.each<[string, PausePoint]>([
    ['before the invitation record is locked', 'beforeLock'],
    ['after the lock, before the POST', 'beforePost'],
    ['after the POST reached Graph, before its answer', 'afterPost'],
    ['after the answer, before it was recorded', 'afterAnswer'],
    ['between the invitation and the membership', 'beforeMembership'],
  ])('killed %s: each approval is carried out once after the restart, with no second invitation and one notice', async (_when, point) => {
    const fake = demoDirectory();
    server = await startGraphServer(fake);
    const file = tempDatabaseFile();
    const env = { APPROVAL_DB: file, GRAPH_URL: server.baseUrl, APPROVALS: String(APPROVALS), HOLDER_TTL_MS: '3000', RECOVERY_INTERVAL_MS: '500' };
    if (point === 'afterPost') server.holdInvitationAnswers(true);

    const startedAt = Date.now();
    const first = startTsChild('test/support/approvalChild.ts', { ...env, MODE: 'decide', PAUSE_AT: point });
    children.push(first);
    const live = server;
    await until(
      () =>
        point === 'afterPost'
          ? live.requestLog.filter((r) => r.method === 'POST' && r.path === '/v1.0/invitations').length >= APPROVALS
          : first.lines().includes(`paused ${APPROVALS}`),
      30_000,
      () => `the first process to reach ${point}\n${first.output()}`,
    );
    await first.kill();
    server.holdInvitationAnswers(false);

    const db = openDatabase(file, [...invitationMigrations, ...resetRequestMigrations, ...approvalMigrations]);
    const requests = new SqliteApprovalRequestRepository(db, { audit: { appendSync: () => { throw new Error('this test writes no audit rows'); } } });
    const approved = (await requests.listApprovedWithoutOutcome(new Date(Date.now() + 60_000).toISOString()));
    expect(approved).toHaveLength(APPROVALS);
    const postsBeforeRestart = Array.from({ length: APPROVALS }, (_, i) => invitationPosts(live, approvalGuest(i)));

    const restartedAt = Date.now();
    const second = startTsChild('test/support/approvalChild.ts', { ...env, MODE: 'recover' });
    children.push(second);
    const adele = personalConversationId('adele');
    const told = (i: number): number =>
      [...printed(first), ...printed(second)].filter((p) => p.sent === adele && p.text?.includes(approvalGuest(i)) && /was invited and added/.test(p.text)).length;
    await until(
      async () => (await Promise.all(approved.map((r) => requests.get(r.id)))).every((r) => r?.outcome) && Array.from({ length: APPROVALS }, (_, i) => told(i)).every((n) => n >= 1),
      RESTART_BUDGET_MS + 5_000,
      () => `every approval carried out and told\n${second.output()}`,
    );
    const doneAt = Date.now();
    // The restart is done when the new process is up (it printed "recovering", as the bot answers
    // /healthz): loading Node and the SDKs on a loaded machine is not the bot's recovery time.
    const upAt = second.readyAt('recovering') ?? restartedAt;
    const elapsed = doneAt - upAt;
    process.stderr.write(
      `[figures] ${point}: first process reached the point in ${restartedAt - startedAt} ms; restarted process up after ${upAt - restartedAt} ms, all carried out and told ${elapsed} ms later\n`,
    );
    // Let a duplicate (if any) show up before counting.
    await new Promise((r) => setTimeout(r, 700));

    for (const r of approved) expect((await requests.get(r.id))?.outcome?.status).toBe('succeeded');
    const members = fake.snapshot().groups.find((g) => g.id === DEMO.groups.projectFalcon.id)?.members ?? [];
    for (let i = 0; i < APPROVALS; i++) {
      expect({ guest: i, invitations: invitationPosts(live, approvalGuest(i)), told: told(i) }).toEqual({ guest: i, invitations: 1, told: 1 });
      const guest = fake.snapshot().users.find((u) => u.mail === approvalGuest(i));
      expect(guest && members.includes(guest.id)).toBe(true);
    }
    // What was sent before the kill is never sent again.
    expect(postsBeforeRestart.every((n) => n <= 1)).toBe(true);
    expect(elapsed).toBeLessThan(RESTART_BUDGET_MS);
    db.close();
  }, 60_000);
});
