import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { bulkMigrations } from '../../../src/adapters/sqlite/bulkJobs';
import { openDatabase } from '../../../src/adapters/sqlite/database';
import { invitationMigrations } from '../../../src/adapters/sqlite/invitations';
import { FALCON, bulkTestEnv, invitationsPerAddress, partnersCsv } from '../../support/bulkEnv';
import { demoDirectory } from '../../support/directory';
import { startGraphServer, type GraphTestServer } from '../../support/graphServer';
import { tempDatabaseFile } from '../../support/store';

const root = path.resolve(__dirname, '../../..');

function startChild(env: Record<string, string>): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['-r', path.join(root, 'test/support/bulkTsRegister.js'), path.join(root, 'test/support/bulkChild.ts')], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('kill and resume', () => {
  let server: GraphTestServer | null = null;
  afterEach(async () => {
    await server?.close();
    server = null;
  });

  it('a bot process killed mid-job (SIGKILL) is replaced and the job finishes with no duplicate and no lost row', async () => {
    const fake = demoDirectory();
    server = await startGraphServer(fake);
    const file = tempDatabaseFile();
    const db = openDatabase(file, [...invitationMigrations, ...bulkMigrations]);
    const env = bulkTestEnv({ fake, db });
    const ROWS = 120;
    const job = await env.submit(partnersCsv(ROWS));

    const childEnv = { BULK_DB: file, GRAPH_URL: server.baseUrl, LEASE_MS: '300' };
    const first = startChild(childEnv);
    await until(() => fake.state.invitations.length >= 30, 20_000, `the first process to send 30 invitations\n${first.output()}`);
    first.child.kill('SIGKILL');
    await first.exited;
    const sentBeforeKill = fake.state.invitations.length;
    expect(sentBeforeKill).toBeLessThan(ROWS);
    expect((await env.jobs.get(job.id))?.state).toBe('running');

    const second = startChild(childEnv);
    const code = await second.exited;
    expect({ code, output: second.output() }).toEqual({ code: 0, output: expect.stringContaining(`finished ${job.id} completed`) });

    const perAddress = invitationsPerAddress(fake);
    expect(perAddress.size).toBe(ROWS);
    expect([...perAddress.entries()].filter(([, n]) => n !== 1)).toEqual([]);
    expect(await env.jobs.counts(job.id)).toMatchObject({ done: ROWS, failed: 0, pending: 0, invited: 0 });
    const members = fake.snapshot().groups.find((g) => g.id === FALCON.id)?.members ?? [];
    expect(new Set(members).size).toBe(members.length);
    const guests = fake.snapshot().users.filter((u) => u.mail?.endsWith('@example.org'));
    expect(guests.every((g) => members.includes(g.id))).toBe(true);
    db.close();
  }, 60_000);

  it('restarted 1 s after a SIGKILL, the bot takes the rows over within 5 s (when their message\'s 3 s lease ends, not the 30 s claim on the job) and finishes it exactly once', async () => {
    const fake = demoDirectory();
    server = await startGraphServer(fake);
    const file = tempDatabaseFile();
    const db = openDatabase(file, [...invitationMigrations, ...bulkMigrations]);
    const env = bulkTestEnv({ fake, db });
    const ROWS = 80;
    const job = await env.submit(partnersCsv(ROWS));

    // As the bot runs: a holder with a heartbeat, a 30 s claim on queueing a job, messages hidden
    // for 3 s without renewal, recovery every second.
    const childEnv = { BULK_DB: file, GRAPH_URL: server.baseUrl, LEASE_MS: '30000', VISIBILITY_MS: '3000', HOLDER_TTL_MS: '10000', RECOVERY_INTERVAL_MS: '1000' };
    const first = startChild(childEnv);
    await until(() => fake.state.invitations.length >= 20, 20_000, `the first process to send 20 invitations\n${first.output()}`);
    first.child.kill('SIGKILL');
    await first.exited;
    const left = await env.jobs.counts(job.id);
    expect(left.pending + left.invited).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 1000));

    const restartedAt = Date.now();
    const second = startChild(childEnv);
    await until(() => second.output().includes(`resumed ${job.id}`), 10_000, `the second process to resume the job\n${second.output()}`);
    const resumedAfterMs = Date.now() - restartedAt;
    const code = await second.exited;
    process.stderr.write(`[figures] bulk job resumed ${resumedAfterMs} ms after the restart (1 s after the kill)\n`);
    expect({ code, output: second.output() }).toEqual({ code: 0, output: expect.stringContaining(`finished ${job.id} completed`) });
    expect(resumedAfterMs).toBeLessThan(5_000);

    const perAddress = invitationsPerAddress(fake);
    expect(perAddress.size).toBe(ROWS);
    expect([...perAddress.entries()].filter(([, n]) => n !== 1)).toEqual([]);
    expect(await env.jobs.counts(job.id)).toMatchObject({ done: ROWS, failed: 0, pending: 0, invited: 0 });
    db.close();
  }, 60_000);
});
