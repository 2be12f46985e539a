/**
 * Bulk invitation benchmark: the paced, batched job against the Graph-shaped test server with
 * Graph's documented limits enforced (time-scaled), next to the PowerShell script's behaviour
 * (per row: invite, then add to the group; no pacing) measured in the same run. Peak memory is
 * measured for 5,000 and 50,000 rows, each in its own child process.
 *
 *   npm run bench            (builds, then runs dist/bench/bulkInvite.bench.js)
 *   BENCH_ROWS=2000 npm run bench     fewer rows for a quick look
 *
 * Prints a table and writes bench/results/latest.json.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type { AccessToken } from '@azure/identity';
import type { Actor } from '../src/domain/actor';
import { SqliteBulkJobRepository, bulkMigrations } from '../src/adapters/sqlite/bulkJobs';
import { BulkRunner } from '../src/usecases/bulk/bulkRunner';
import { stageBulkFile } from '../src/usecases/bulk/bulkValidation';
import { SlidingWindowPacer } from '../src/usecases/ports/pacer';
import type { AddMembersResult, Directory, InvitationInput, InvitationResult } from '../src/usecases/ports/Directory';
import type { DirectoryUser } from '../src/domain/tenant';
import { GraphDirectory } from '../src/adapters/graph/GraphDirectory';
import { openDatabase } from '../src/adapters/sqlite/database';
import { SqliteInvitationRepository, invitationMigrations } from '../src/adapters/sqlite/invitations';
import { SqliteWorkQueue, workQueueMigrations } from '../src/adapters/sqlite/workQueue';
import type { SignInAdvisorPort } from '../src/usecases/signIn/signInAdvisor';
import { SignInAdvisor } from '../src/usecases/signIn/signInAdvisor';
import { DEMO, demoDirectory } from '../test/support/directory';
import { startGraphServer, type LoggedRequest } from '../test/support/graphServer';
import { writePartnersCsv } from './partnersCsv';

/** 0.2: a 5 s window lasts 1 s. Smaller scales make this 2-core machine, not Graph's limit, the bottleneck. */
const TIME_SCALE = Number(process.env.BENCH_TIME_SCALE ?? '0.2');
/** ~50 ms of real Graph latency, scaled like the limits. */
const LATENCY_MS = Math.max(1, Math.round(50 * TIME_SCALE));
const INVITES_PER_5S = 150;
const SAFETY_MS = Number(process.env.BENCH_SAFETY_MS ?? '40');
const ROWS = Number(process.env.BENCH_ROWS ?? '5000');
const BIG_ROWS = Number(process.env.BENCH_BIG_ROWS ?? '50000');
const MEGAN: Actor = { userId: DEMO.users.megan.id, name: DEMO.users.megan.displayName, tenantId: DEMO.tenantId };
const FALCON = DEMO.groups.projectFalcon;

interface RunResult {
  scenario: string;
  rows: number;
  seconds: number;
  invitationsPerSecond: number;
  /** Of the tenant's /invitations limit (150 per 5 s, time-scaled). */
  fractionOfLimit: number;
  /** HTTP requests the server received per guest ($batch counted once). */
  requestsPerGuest: number;
  /** Graph operations per guest (each request inside a $batch counted). */
  operationsPerGuest: number;
  throttled429: number;
  duplicates: number;
  lost: number;
}

interface MemoryResult {
  scenario: string;
  rows: number;
  peakRssMb: number;
  seconds: number;
}

function csvFile(rows: number): string {
  return writePartnersCsv('bulk-bench-', rows, (i) => `partner${i}@example.org`);
}

const credential = { getToken: async (): Promise<AccessToken> => ({ token: 'bench-token', expiresOnTimestamp: Date.now() + 3_600_000 }) };

function graphDirectory(baseUrl: string): GraphDirectory {
  return new GraphDirectory({ credential, baseUrl, maxRetries: 3, retryDelaySeconds: 1, delayScale: TIME_SCALE });
}

/** What the Graph-shaped server saw since `mark`, and what the tenant holds at the end. */
interface ServerReport {
  requests: number;
  operations: number;
  throttled: number;
  invitations: number;
  duplicates: number;
  lost: number;
}

function count(log: readonly LoggedRequest[], from: number): { requests: number; operations: number; throttled: number } {
  const slice = log.slice(from);
  return {
    requests: slice.filter((r) => !r.inBatch).length,
    operations: slice.filter((r) => !(r.method === 'POST' && r.path.endsWith('/$batch'))).length,
    throttled: slice.filter((r) => r.status === 429).length,
  };
}

function outcome(fake: ReturnType<typeof demoDirectory>, rows: number): { duplicates: number; lost: number } {
  const perAddress = new Map<string, number>();
  for (const inv of fake.state.invitations) perAddress.set(inv.email.toLowerCase(), (perAddress.get(inv.email.toLowerCase()) ?? 0) + 1);
  const members = new Set(fake.state.group(FALCON.id)?.members ?? []);
  const guests = fake.state.fixture.users.filter((u) => u.mail?.endsWith('@example.org'));
  const lost = rows - guests.filter((g) => members.has(g.id)).length;
  return { duplicates: [...perAddress.values()].filter((n) => n > 1).length, lost };
}

/**
 * Child process: the Graph-shaped server over the demo tenant, on loopback. Graph runs on
 * Microsoft's machines, not in the bot's process, so the stand-in gets its own process too:
 * otherwise the bot's event loop also pays for the tenant and the measurement is of both.
 * Protocol on stdin/stdout, one JSON line each: prints {baseUrl}; "mark" starts counting;
 * "report <rows>" prints a ServerReport and exits.
 */
async function serverProcess(): Promise<void> {
  const fake = demoDirectory();
  const server = await startGraphServer(fake, { limits: { timeScale: TIME_SCALE }, latencyMs: LATENCY_MS });
  let from = 0;
  process.stdout.write(`${JSON.stringify({ baseUrl: server.baseUrl })}\n`);
  let buffered = '';
  for await (const chunk of process.stdin) {
    buffered += String(chunk);
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const [command, arg] = buffered.slice(0, newline).trim().split(' ');
      buffered = buffered.slice(newline + 1);
      if (command === 'mark') {
        from = server.requestLog.length;
        process.stdout.write('{"marked":true}\n');
      } else if (command === 'report') {
        const report: ServerReport = { ...count(server.requestLog, from), invitations: fake.state.invitations.length, ...outcome(fake, Number(arg)) };
        process.stdout.write(`${JSON.stringify(report)}\n`);
        await server.close();
        return;
      }
    }
  }
  await server.close();
}

/** The bench's handle on a server child. */
class RemoteGraph {
  private lines: string[] = [];
  private waiting: ((line: string) => void) | null = null;
  private buffered = '';

  private constructor(private readonly proc: ChildProcessByStdio<Writable, Readable, null>) {
    proc.stdout.on('data', (d: Buffer) => {
      this.buffered += d.toString();
      let newline: number;
      while ((newline = this.buffered.indexOf('\n')) >= 0) {
        const line = this.buffered.slice(0, newline);
        this.buffered = this.buffered.slice(newline + 1);
        const waiter = this.waiting;
        this.waiting = null;
        if (waiter) waiter(line);
        else this.lines.push(line);
      }
    });
  }

  static async start(): Promise<{ graph: RemoteGraph; baseUrl: string }> {
    const proc = spawn(process.execPath, [...process.execArgv, __filename, '--server'], { stdio: ['pipe', 'pipe', 'inherit'] });
    const graph = new RemoteGraph(proc);
    const { baseUrl } = JSON.parse(await graph.next()) as { baseUrl: string };
    return { graph, baseUrl };
  }

  async mark(): Promise<void> {
    this.proc.stdin.write('mark\n');
    await this.next();
  }

  async report(rows: number): Promise<ServerReport> {
    this.proc.stdin.write(`report ${rows}\n`);
    const report = JSON.parse(await this.next()) as ServerReport;
    this.proc.stdin.end();
    return report;
  }

  kill(): void {
    if (this.proc.exitCode === null) this.proc.kill();
  }

  private next(): Promise<string> {
    const line = this.lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    return new Promise((resolve, reject) => {
      this.waiting = resolve;
      this.proc.once('exit', (code) => reject(new Error(`graph server exited with ${code}`)));
    });
  }
}

function limitPerSecond(): number {
  return INVITES_PER_5S / (5 * TIME_SCALE);
}

function runResult(scenario: string, rows: number, seconds: number, report: ServerReport): RunResult {
  return {
    scenario,
    rows,
    seconds,
    invitationsPerSecond: report.invitations / seconds,
    fractionOfLimit: report.invitations / seconds / limitPerSecond(),
    requestsPerGuest: report.requests / rows,
    operationsPerGuest: report.operations / rows,
    throttled429: report.throttled,
    duplicates: report.duplicates,
    lost: report.lost,
  };
}

/** The bot's job: validated, staged, then run paced and batched. */
async function pacedRun(rows: number): Promise<RunResult> {
  const { graph, baseUrl } = await RemoteGraph.start();
  try {
    const directory = graphDirectory(baseUrl);
    const db = openDatabase(':memory:', [...invitationMigrations, ...bulkMigrations, ...workQueueMigrations]);
    const jobs = new SqliteBulkJobRepository(db);
    const staged = await stageBulkFile(
      {
        jobs,
        directory,
        advisor: new SignInAdvisor(directory),
        approvals: { policy: 'nonOwners', partnerDomains: [] },
        approverGroupId: DEMO.groups.guestApprovers.id,
        limits: { maxBytes: 512 * 1024 * 1024, maxRows: 1_000_000 },
      },
      { actor: MEGAN, source: fs.createReadStream(csvFile(rows)), sourceName: 'bench.csv', conversationId: null, siteHint: FALCON.displayName },
    );
    await jobs.transition(staged.job.id, ['draft'], { state: 'queued' });
    const runner = new BulkRunner({
      jobs,
      queue: new SqliteWorkQueue(db),
      invitations: new SqliteInvitationRepository(db),
      directory,
      // The margin covers arrival jitter; on a loaded 2-core machine that is event-loop delay, which does not scale with time.
      pacer: new SlidingWindowPacer({ limit: INVITES_PER_5S, windowMs: 5000 * TIME_SCALE, safetyMs: Math.max(5000 * TIME_SCALE * 0.02, SAFETY_MS) }),
      sendInvitationEmail: false,
      baseBackoffMs: 1000 * TIME_SCALE,
      maxBackoffMs: 60_000 * TIME_SCALE,
      maxInFlight: 16,
    });
    await graph.mark();
    const start = performance.now();
    await runner.start(staged.job.id);
    await runner.whenFinished(staged.job.id);
    const seconds = (performance.now() - start) / 1000;
    db.close();
    return runResult('paced + batched (this bot)', rows, seconds, await graph.report(rows));
  } finally {
    graph.kill();
  }
}

/** What InviteGuests.ps1 does: per row, invite then add to the group; no pacing, no look-up. */
async function baselineRun(rows: number): Promise<RunResult> {
  const { graph, baseUrl } = await RemoteGraph.start();
  try {
    const directory = graphDirectory(baseUrl);
    await graph.mark();
    const start = performance.now();
    for (let i = 1; i <= rows; i++) {
      try {
        const inv = await directory.invite({
          email: `partner${i}@example.org`,
          displayName: `Partner ${i}`,
          redirectUrl: FALCON.siteUrl,
          sendInvitationMessage: false,
        });
        await directory.addMembers(FALCON.id, [inv.userId]);
      } catch {
        // The script writes the error to its output and moves on.
      }
    }
    const seconds = (performance.now() - start) / 1000;
    return runResult('sequential script (baseline)', rows, seconds, await graph.report(rows));
  } finally {
    graph.kill();
  }
}

/**
 * A directory that keeps nothing per guest, so the child's memory is the bot's own: parsing,
 * staging and running the job.
 */
class WeightlessDirectory implements Directory {
  private n = 0;
  findUserByEmail = async (): Promise<DirectoryUser | null> => null;
  findUsersByEmail = async (): Promise<Map<string, DirectoryUser>> => new Map();
  getUser = async (): Promise<DirectoryUser | null> => null;
  invite = async (input: InvitationInput): Promise<InvitationResult> => {
    const id = `00000000-0000-4000-8000-${(++this.n).toString(16).padStart(12, '0')}`;
    return { invitationId: id, redeemUrl: `https://login.microsoftonline.com/redeem?rd=${id}&e=${encodeURIComponent(input.email)}`, userId: id, status: 'PendingAcceptance' };
  };
  resetRedemption = async (): Promise<InvitationResult> => {
    throw new Error('not used');
  };
  addMembers = async (_g: string, ids: readonly string[]): Promise<AddMembersResult> => ({ added: [...ids], alreadyMembers: [], failed: [] });
  listOwnedGroups = async () => [{ id: FALCON.id, displayName: FALCON.displayName, siteUrl: FALCON.siteUrl, mail: null }];
  getGroup = async () => null;
  listGroupMembers = async () => [];
  listGroupOwners = async () => [];
  listMemberGroups = async () => [];
  isOwner = async () => true;
  isMember = async () => false;
  readPolicies = async (): Promise<never> => {
    throw new Error('not used');
  };
  lookupExternalDomain = async (domain: string) => ({ domain, managedTenant: null });
  // The guest lifecycle is not part of a bulk run.
  addSponsor = notUsed;
  removeSponsor = notUsed;
  replaceSponsor = notUsed;
  listSponsors = notUsed;
  accountStatus = notUsed;
  getGuestLifecycle = notUsed;
  getSignInActivity = notUsed;
  setGuestSignIn = notUsed;
  deleteGuest = notUsed;
  removeMember = notUsed;
}

async function notUsed(): Promise<never> {
  throw new Error('not used');
}

const cheapAdvisor: SignInAdvisorPort = {
  advise: async (email) => ({
    email,
    domain: email.split('@')[1] ?? '',
    subject: 'newGuest',
    method: 'emailOneTimePasscode',
    otherwise: null,
    confidence: 'certain',
    reasons: [],
    guestNextSteps: [],
    tenantSignInUrl: null,
    syncAvailable: false,
    warnings: [],
    blockedBy: null,
    existing: null,
  }),
  adviseMany: async () => [],
};

/** Child process: stage and run `rows` rows with no rate limit, report peak RSS. */
async function memoryRun(rows: number): Promise<MemoryResult> {
  const file = csvFile(rows);
  const dbFile = path.join(path.dirname(file), 'bench.sqlite');
  const db = openDatabase(dbFile, [...invitationMigrations, ...bulkMigrations, ...workQueueMigrations]);
  const jobs = new SqliteBulkJobRepository(db);
  const directory = new WeightlessDirectory();
  const start = performance.now();
  const staged = await stageBulkFile(
    { jobs, directory, advisor: cheapAdvisor, approvals: { policy: 'nonOwners', partnerDomains: [] }, approverGroupId: null, limits: { maxBytes: 512 * 1024 * 1024, maxRows: 1_000_000 } },
    { actor: MEGAN, source: fs.createReadStream(file), sourceName: 'bench.csv', conversationId: null, siteHint: null },
  );
  await jobs.transition(staged.job.id, ['draft'], { state: 'queued' });
  const runner = new BulkRunner({
    jobs,
    queue: new SqliteWorkQueue(db),
    invitations: new SqliteInvitationRepository(db),
    directory,
    pacer: new SlidingWindowPacer({ limit: 1_000_000, windowMs: 1 }),
    sendInvitationEmail: false,
  });
  await runner.start(staged.job.id);
  await runner.whenFinished(staged.job.id);
  const done = (await jobs.counts(staged.job.id)).done;
  if (done !== rows) throw new Error(`memory run finished ${done} of ${rows} rows`);
  db.close();
  fs.rmSync(path.dirname(file), { recursive: true, force: true });
  return { scenario: 'memory', rows, peakRssMb: process.resourceUsage().maxRSS / 1024, seconds: (performance.now() - start) / 1000 };
}

function child(args: string[]): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [...process.execArgv, __filename, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('exit', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0) return reject(new Error(`child ${args.join(' ')} exited with ${code}`));
      try {
        resolve(JSON.parse(line) as unknown);
      } catch (e) {
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  });
}

const fmt = (n: number, digits = 2): string => n.toFixed(digits);

async function main(): Promise<void> {
  const [flag, scenario, rowsArg] = process.argv.slice(2);
  if (flag === '--server') {
    await serverProcess();
    return;
  }
  if (flag === '--child') {
    const rows = Number(rowsArg);
    const result = scenario === 'paced' ? await pacedRun(rows) : scenario === 'baseline' ? await baselineRun(rows) : await memoryRun(rows);
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }

  process.stdout.write(`Bulk invitation benchmark: ${ROWS} rows, time scale ${TIME_SCALE} (limit ${limitPerSecond()} invitations/s), latency ${LATENCY_MS} ms\n`);
  const paced = (await child(['--child', 'paced', String(ROWS)])) as RunResult;
  const baseline = (await child(['--child', 'baseline', String(ROWS)])) as RunResult;
  const small = (await child(['--child', 'memory', String(ROWS)])) as MemoryResult;
  const big = (await child(['--child', 'memory', String(BIG_ROWS)])) as MemoryResult;

  const rows = [paced, baseline];
  const table = [
    ['scenario', 'rows', 'seconds', 'invites/s', 'of limit', 'requests/guest', 'ops/guest', '429s', 'duplicates', 'lost'],
    ...rows.map((r) => [r.scenario, String(r.rows), fmt(r.seconds), fmt(r.invitationsPerSecond, 0), fmt(r.fractionOfLimit), fmt(r.requestsPerGuest, 3), fmt(r.operationsPerGuest, 3), String(r.throttled429), String(r.duplicates), String(r.lost)]),
  ];
  const widths = table[0]?.map((_, i) => Math.max(...table.map((row) => (row[i] ?? '').length))) ?? [];
  for (const row of table) process.stdout.write(`${row.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ')}\n`);
  const memoryRatio = big.peakRssMb / small.peakRssMb;
  const speedup = paced.invitationsPerSecond / baseline.invitationsPerSecond;
  process.stdout.write(
    `\npeak RSS: ${small.rows} rows ${fmt(small.peakRssMb, 0)} MB, ${big.rows} rows ${fmt(big.peakRssMb, 0)} MB (ratio ${fmt(memoryRatio)}; target < 1.5)\n` +
      `throughput vs baseline: ${fmt(speedup)}x; fraction of tenant limit ${fmt(paced.fractionOfLimit)} (target >= 0.9); requests per guest ${fmt(paced.requestsPerGuest, 3)} vs ${fmt(baseline.requestsPerGuest, 3)} (target <= 1.1)\n`,
  );

  const results = {
    at: new Date().toISOString(),
    node: process.version,
    timeScale: TIME_SCALE,
    latencyMs: LATENCY_MS,
    limitPerSecond: limitPerSecond(),
    paced,
    baseline,
    memory: { small, big, ratio: memoryRatio },
    ratios: { throughputVsBaseline: speedup, requestsPerGuestVsBaseline: paced.requestsPerGuest / baseline.requestsPerGuest },
    targets: {
      fractionOfLimit: { target: 0.9, met: paced.fractionOfLimit >= 0.9 },
      requestsPerGuest: { target: 1.1, met: paced.requestsPerGuest <= 1.1 },
      duplicates: { target: 0, met: paced.duplicates === 0 },
      memoryRatio: { target: 1.5, met: memoryRatio < 1.5 },
    },
  };
  // Written next to the sources (bench/results), whether run from dist/bench or bench/.
  const dir = path.resolve(__dirname, __dirname.includes(`${path.sep}dist${path.sep}`) ? '../../bench/results' : 'results');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`wrote ${path.join(dir, 'latest.json')}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
