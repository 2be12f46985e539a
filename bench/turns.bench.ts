/**
 * Turn benchmark: time to last reply, CPU per turn, peak memory and cold start of this bot under
 * a load of concurrent personal conversations, next to a minimal bot on the same botbuilder +
 * restify versions measured in the same run (before and after, to bracket the machine's noise);
 * then the same scripts with DIRECTORY=graph against the Graph-shaped test server (~50 ms per
 * request), counting the Graph requests each kind of turn costs.
 *
 *   npm run bench:turns                 (builds, then about three minutes)
 *   BENCH_SECONDS=10 npm run bench:turns      shorter phases for a quick look
 *   npm run bench:turns -- --cold-start       only the cold starts (BENCH_COLD_RUNS, default 5)
 *   npm run bench:turns -- --memory           only the memory phases (minimal bot, this bot, minimal bot)
 *   BENCH_NODE_FLAGS="--max-old-space-size=256" npm run bench:turns    both bots with these Node flags
 *   BENCH_EARLIER_BOT=dist/bench/bundled/earlier.js npm run bench:turns  an earlier build's load phase too
 *   BENCH_EARLIER_START=dist/earlier/index.js npm run bench:turns -- --cold-start   its cold starts too
 *
 * Everything runs on 127.0.0.1: the bots are child processes in local mode, and their replies go
 * to a Bot Connector stand-in in this process (the activity's serviceUrl), which records when
 * each reply to each activity arrived. Prints a table and writes bench/results/turns-latest.json.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { DEMO } from '../src/adapters/demo/demoTenant';
import { demoDirectory } from '../test/support/directory';
import { startGraphServer } from '../test/support/graphServer';
import { PERSONAS, type Persona, type TurnKind } from './turnsScripts';
import type { UsageReport } from './turnsBots';

const SECONDS = Number(process.env.BENCH_SECONDS ?? '25');
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? '5');
const CONVERSATIONS = Number(process.env.BENCH_CONVERSATIONS ?? '100');
/** Mean think time between a reply and the next message; drawn uniformly from ±50 %. */
const THINK_MS = Number(process.env.BENCH_THINK_MS ?? '1000');
const GRAPH_LATENCY_MS = Number(process.env.BENCH_GRAPH_LATENCY_MS ?? '50');
const INVITATIONS_HELD = Number(process.env.BENCH_INVITATIONS_HELD ?? '5000');
const TURN_TIMEOUT_MS = 15_000;
const ROOT = path.resolve(__dirname, '..', '..');
/** Cold starts of each kind (median reported). */
const COLD_RUNS = Number(process.env.BENCH_COLD_RUNS ?? '5');
const TURN_ERROR_TEXT = 'something went wrong on my side';
/**
 * Node/V8 flags for every bot process of the run, this bot and the minimal bot alike (so the
 * comparison stays fair), e.g. BENCH_NODE_FLAGS="--max-semi-space-size=8".
 */
const NODE_FLAGS = (process.env.BENCH_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);
/**
 * An earlier build of this bot to measure in the same run, before this one, on the demo tenant
 * (the full run and --memory): a copy of another commit's dist/bench/bundled/thisBot.js placed
 * beside it, so that its outside packages resolve from this node_modules.
 */
const EARLIER_BOT = process.env.BENCH_EARLIER_BOT ?? '';
/**
 * An earlier build's entry point for the cold starts (the full run and --cold-start): a copy of
 * another commit's dist/src folder inside this one's dist (e.g. dist/earlier/index.js), so that
 * its outside packages resolve from this node_modules and its cards from this cards/. Its first
 * starts and restarts are interleaved with this build's.
 */
const EARLIER_START = process.env.BENCH_EARLIER_START ?? '';

// ---------------------------------------------------------------------------------------------
// The Bot Connector stand-in: receives the bots' replies.

interface Replies {
  lastAt: number;
  bodies: string[];
}

class ConnectorStandIn {
  private readonly replies = new Map<string, Replies>();
  private server: http.Server | null = null;
  private nextId = 1;
  /** Messages not answering an activity (approval cards to approvers, notices). */
  proactive = 0;

  async start(): Promise<string> {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const at = performance.now();
        const parts = (req.url ?? '').split('?')[0]?.split('/').filter(Boolean).map(decodeURIComponent) ?? [];
        // v3/conversations/{conversationId}/activities/{replyToId}
        if (req.method === 'POST' && parts[0] === 'v3' && parts[1] === 'conversations' && parts[3] === 'activities' && parts[4]) {
          const entry = this.replies.get(parts[4]) ?? { lastAt: at, bodies: [] };
          entry.lastAt = at;
          entry.bodies.push(Buffer.concat(chunks).toString('utf8'));
          this.replies.set(parts[4], entry);
        } else {
          this.proactive++;
        }
        const id = req.method === 'POST' && parts.length === 2 ? { id: `bench-conversation-${this.nextId++}` } : { id: `bench-reply-${this.nextId++}` };
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(id));
      });
    });
    server.keepAliveTimeout = 60_000;
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  }

  /** The replies to one activity, forgotten once read. */
  take(activityId: string): Replies | undefined {
    const r = this.replies.get(activityId);
    this.replies.delete(activityId);
    return r;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

// ---------------------------------------------------------------------------------------------
// Child processes.

interface BotChild {
  url: string;
  process: ChildProcess;
  usage(): Promise<UsageReport>;
  stop(): Promise<void>;
}

function baseEnv(dataDir: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? os.tmpdir(),
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'error',
  };
}

/**
 * The bots of the load phases: both bundled by scripts/bundle-bench.mjs with the settings of
 * production's dist/src/main.js (scripts/bundle.mjs), so this bot runs as in production (one
 * bundled file; no compile cache, which only shortens a start) and the minimal bot is built the
 * same way. The unbundled dist/bench/turnsBots.js runs the same code, only loaded module by module.
 */
function bundledBot(kind: 'bot' | 'minimal' | 'earlier'): string {
  if (kind === 'earlier') return path.resolve(EARLIER_BOT);
  const file = path.join(__dirname, 'bundled', kind === 'bot' ? 'thisBot.js' : 'minimalBot.js');
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: run npm run bench:turns (it bundles the bots after the build)`);
  return file;
}

async function startBot(kind: 'bot' | 'minimal' | 'earlier', env: Record<string, string> = {}): Promise<BotChild> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'turns-bench-'));
  const child = spawn(process.execPath, ['--no-deprecation', ...NODE_FLAGS, bundledBot(kind)], {
    cwd: ROOT,
    env: { ...baseEnv(dataDir), ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${kind} bot did not start`)), 180_000);
    child.on('message', (m: { ready?: boolean; port?: number }) => {
      if (m.ready && m.port) {
        clearTimeout(timer);
        resolve(m.port);
      }
    });
    child.once('exit', (code) => reject(new Error(`${kind} bot exited with ${code}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    process: child,
    usage: () =>
      new Promise<UsageReport>((resolve) => {
        const onMessage = (m: Partial<UsageReport>): void => {
          if (!m.usage) return;
          child.off('message', onMessage);
          resolve(m as UsageReport);
        };
        child.on('message', onMessage);
        child.send({ command: 'usage' });
      }),
    stop: async () => {
      child.send({ command: 'stop' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function freePort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** From spawning the process to the first 200 from /healthz, in ms. */
async function coldStart(args: string[], env: Record<string, string> = {}): Promise<number> {
  const port = await freePort();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'turns-bench-cold-'));
  const started = performance.now();
  const child = spawn(process.execPath, ['--no-deprecation', ...NODE_FLAGS, ...args], { cwd: ROOT, env: { ...baseEnv(dataDir), ...env, PORT: String(port) }, stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let elapsed = Number.NaN;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${args.join(' ')} exited with ${child.exitCode}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (res.ok) {
        elapsed = performance.now() - started;
        break;
      }
    } catch {
      // not listening yet
    }
    if (performance.now() - started > 30_000) break;
    await sleep(5);
  }
  // A clean stop, as in production: the bot writes its compile cache as it exits.
  child.kill('SIGTERM');
  await exited;
  fs.rmSync(dataDir, { recursive: true, force: true });
  return elapsed;
}

interface ColdStarts {
  /** This bot's first start after a build: nothing in its compile cache. */
  botFirst: number;
  /** This bot restarting: the compile cache an earlier start wrote. */
  botRestart: number;
  minimal: number;
  /** BENCH_EARLIER_START's first start and restart, when given. */
  earlier?: { first: number; restart: number; entry: string };
  runs: number;
}

/**
 * Medians of `runs` cold starts of each, interleaved so that the machine's load falls on all
 * three alike. The compile cache (NODE_COMPILE_CACHE, see src/app/compileCache.ts) is a fresh
 * empty folder for every first start, and for restarts one folder filled by a start not counted.
 */
async function coldStarts(runs = COLD_RUNS): Promise<ColdStarts> {
  const bot = [path.join(ROOT, 'dist', 'src', 'index.js')];
  const minimal = [path.join(__dirname, 'turnsBots.js'), 'minimal'];
  const earlier = EARLIER_START ? [path.resolve(EARLIER_START)] : null;
  const cacheRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'turns-bench-cache-'));
  const warmCache = path.join(cacheRoot, 'warm');
  const earlierWarmCache = path.join(cacheRoot, 'earlier-warm');
  try {
    await coldStart(bot, { NODE_COMPILE_CACHE: warmCache });
    if (earlier) await coldStart(earlier, { NODE_COMPILE_CACHE: earlierWarmCache });
    const first: number[] = [];
    const restart: number[] = [];
    const baseline: number[] = [];
    const earlierFirst: number[] = [];
    const earlierRestart: number[] = [];
    for (let i = 0; i < runs; i++) {
      if (earlier) earlierFirst.push(await coldStart(earlier, { NODE_COMPILE_CACHE: path.join(cacheRoot, `earlier-empty-${i}`) }));
      first.push(await coldStart(bot, { NODE_COMPILE_CACHE: path.join(cacheRoot, `empty-${i}`) }));
      if (earlier) earlierRestart.push(await coldStart(earlier, { NODE_COMPILE_CACHE: earlierWarmCache }));
      restart.push(await coldStart(bot, { NODE_COMPILE_CACHE: warmCache }));
      baseline.push(await coldStart(minimal));
    }
    return {
      botFirst: percentile(first, 50),
      botRestart: percentile(restart, 50),
      minimal: percentile(baseline, 50),
      ...(earlier ? { earlier: { first: percentile(earlierFirst, 50), restart: percentile(earlierRestart, 50), entry: EARLIER_START } } : {}),
      runs,
    };
  } finally {
    fs.rmSync(cacheRoot, { recursive: true, force: true });
  }
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

function coldStartLine(cold: ColdStarts): string {
  const earlier = cold.earlier
    ? `; earlier build (${cold.earlier.entry}): first start ${seconds(cold.earlier.first)}, restart ${seconds(cold.earlier.restart)}`
    : '';
  return `| cold start to /healthz ≤ 1.0 s | first start after a build ${seconds(cold.botFirst)}, restart ${seconds(cold.botRestart)} (minimal bot ${seconds(cold.minimal)}${earlier}) | ${cold.botFirst <= 1000 ? 'met' : 'missed'} |`;
}

/** `npm run bench:turns -- --cold-start`: only the cold starts (about a minute). */
async function coldStartOnly(): Promise<void> {
  const loadBefore = os.loadavg();
  console.log(`cold start to /healthz, median of ${COLD_RUNS} (load average at start: ${loadBefore.map((l) => l.toFixed(2)).join(' ')})…`);
  const cold = await coldStarts();
  const loadAfter = os.loadavg();
  console.log(['', '| target | measured | |', '|---|---|---|', coldStartLine(cold)].join('\n'));
  console.log(`load average (1 min): ${loadBefore[0]?.toFixed(2)} at the start, ${loadAfter[0]?.toFixed(2)} at the end`);
}

/**
 * The Graph-shaped test server over the demo tenant, in its own process (Graph is not in the
 * bot's process either). Protocol, one JSON line each way: prints {baseUrl}; "mark" starts a
 * count; "count" prints {requests} since the mark.
 */
async function graphServerProcess(): Promise<void> {
  const server = await startGraphServer(demoDirectory(), { latencyMs: GRAPH_LATENCY_MS, pageSize: 100 });
  let from = 0;
  process.stdout.write(`${JSON.stringify({ baseUrl: server.baseUrl })}\n`);
  let buffered = '';
  for await (const chunk of process.stdin) {
    buffered += String(chunk);
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const command = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (command === 'mark') from = server.requestLog.length;
      const requests = server.requestLog.slice(from).filter((r) => !r.inBatch);
      process.stdout.write(`${JSON.stringify({ requests: requests.length, paths: requests.map((r) => `${r.method} ${r.path}`) })}\n`);
    }
  }
  await server.close();
}

interface GraphServerChild {
  baseUrl: string;
  /** Starts counting; resolves once the server has marked. */
  mark(): Promise<void>;
  count(): Promise<{ requests: number; paths: string[] }>;
  stop(): void;
}

async function startGraphServerChild(): Promise<GraphServerChild> {
  const child = spawn(process.execPath, [__filename, '--graph-server'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: string[] = [];
  const waiters: Array<(line: string) => void> = [];
  let buffered = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      const waiter = waiters.shift();
      if (waiter) waiter(line);
      else lines.push(line);
    }
  });
  const next = (): Promise<string> => new Promise((resolve) => (lines.length ? resolve(lines.shift() as string) : waiters.push(resolve)));
  const { baseUrl } = JSON.parse(await next()) as { baseUrl: string };
  const ask = async (command: string) => {
    child.stdin.write(`${command}\n`);
    return JSON.parse(await next()) as { requests: number; paths: string[] };
  };
  return {
    baseUrl,
    mark: async () => {
      await ask('mark');
    },
    count: () => ask('count'),
    stop: () => child.kill('SIGTERM'),
  };
}

// ---------------------------------------------------------------------------------------------
// The load.

interface TurnSample {
  kind: TurnKind;
  ms: number;
}

interface LoadResult {
  label: string;
  seconds: number;
  turns: number;
  turnsPerSecond: number;
  errors: number;
  errorKinds: Record<string, number>;
  errorSamples: Record<string, string>;
  samples: TurnSample[];
  cpuMsPerTurn: number;
  peakRssMb: number;
  /** RSS (MB) once started, before any load. */
  idleRssMb: number;
  atPeak: UsageReport['atPeak'];
  proactive: number;
}

let activitySeq = 0;

function activity(persona: Persona, conversationId: string, text: string, serviceUrl: string): Record<string, unknown> {
  return {
    type: 'message',
    id: `bench-${process.pid}-${++activitySeq}`,
    text,
    textFormat: 'plain',
    channelId: 'msteams',
    serviceUrl,
    timestamp: new Date().toISOString(),
    from: { id: `29:${persona.user.id}`, name: persona.user.displayName, aadObjectId: persona.user.id },
    recipient: { id: '28:bench-bot', name: 'Guest onboarding' },
    conversation: { id: conversationId, tenantId: DEMO.tenantId, conversationType: 'personal' },
    channelData: { tenant: { id: DEMO.tenantId } },
    locale: 'en-GB',
  };
}

interface TurnResult {
  ok: boolean;
  ms: number;
  error?: string;
  /** The start of what the bot said, for an unexpected reply. */
  sample?: string;
}

/** The texts of a reply (message text, TextBlock and TextRun texts), shortened. */
function replyWords(raw: string): string {
  const words = [...raw.matchAll(/"text":"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]).join(' | ');
  return words.slice(0, 200);
}

async function sendTurn(
  botUrl: string,
  connector: ConnectorStandIn,
  body: Record<string, unknown>,
  expect: RegExp | null,
): Promise<TurnResult> {
  const started = performance.now();
  let status = 0;
  try {
    const res = await fetch(`${botUrl}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(TURN_TIMEOUT_MS),
    });
    status = res.status;
    await res.arrayBuffer();
  } catch (e) {
    connector.take(String(body.id));
    return { ok: false, ms: performance.now() - started, error: e instanceof Error && e.name === 'TimeoutError' ? 'timeout' : 'network' };
  }
  const replies = connector.take(String(body.id));
  if (status !== 200 && status !== 201) return { ok: false, ms: performance.now() - started, error: `http ${status}` };
  if (!replies) return { ok: false, ms: performance.now() - started, error: 'no reply' };
  const ms = replies.lastAt - started;
  const text = replies.bodies.join('\n');
  if (text.toLowerCase().includes(TURN_ERROR_TEXT)) return { ok: false, ms, error: 'turn error' };
  if (expect && !expect.test(text)) return { ok: false, ms, error: 'unexpected reply', sample: replyWords(text) };
  return { ok: true, ms };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function think(): number {
  return THINK_MS * (0.5 + Math.random());
}

/** The persona of the i-th conversation: 40 % owners, 30 % members asking for approval, 30 % guests. */
function personaOf(i: number): Persona {
  const slot = i % 10;
  return slot < 4 ? PERSONAS.owner : slot < 7 ? PERSONAS.member : PERSONAS.guest;
}

async function runLoad(label: string, bot: BotChild, connector: ConnectorStandIn, serviceUrl: string, check: boolean): Promise<LoadResult> {
  const runTag = `${label}-${Date.now().toString(36)}`;
  const start = performance.now();
  const measureFrom = start + WARMUP_SECONDS * 1000;
  const end = measureFrom + SECONDS * 1000;
  const samples: TurnSample[] = [];
  const errorKinds: Record<string, number> = {};
  const errorSamples: Record<string, string> = {};
  let errors = 0;
  let turns = 0;
  let cpuAtStart = 0;
  const proactiveAtStart = connector.proactive;
  const idleRssMb = (await bot.usage()).rssMb;
  const cpuSampled = sleep(WARMUP_SECONDS * 1000).then(async () => {
    cpuAtStart = (await bot.usage()).cpuMs;
  });

  const conversation = async (i: number): Promise<void> => {
    const persona = personaOf(i);
    let conversationId = `a:${runTag}-${i}`;
    await sleep(Math.random() * THINK_MS);
    for (let round = 0; performance.now() < end; round++) {
      const tag = `${runTag}-${i}-${round}`.replace(/[^a-z0-9-]/gi, '');
      for (const step of persona.steps) {
        await sleep(think());
        if (performance.now() >= end) return;
        const t0 = performance.now();
        const result = await sendTurn(bot.url, connector, activity(persona, conversationId, step.text(tag), serviceUrl), check ? step.expect : null);
        const measured = t0 >= measureFrom && t0 < end;
        if (measured) {
          turns++;
          if (result.ok) samples.push({ kind: step.kind, ms: result.ms });
          else {
            errors++;
            const key = `${step.kind}: ${result.error ?? 'error'}`;
            errorKinds[key] = (errorKinds[key] ?? 0) + 1;
            if (result.sample && !errorSamples[key]) errorSamples[key] = result.sample;
          }
        }
        if (!result.ok) {
          // Start the script again in a new chat: a turn that timed out here may still be running
          // and would leave this conversation's state wherever it ends.
          conversationId = `a:${runTag}-${i}-after-${round}`;
          break;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: CONVERSATIONS }, (_, i) => conversation(i)));
  await cpuSampled;
  const usage = await bot.usage();
  return {
    label,
    seconds: SECONDS,
    turns,
    turnsPerSecond: turns / SECONDS,
    errors,
    errorKinds,
    errorSamples,
    samples,
    cpuMsPerTurn: (usage.cpuMs - cpuAtStart) / Math.max(1, turns),
    peakRssMb: usage.peakRssMb,
    idleRssMb,
    atPeak: usage.atPeak,
    proactive: connector.proactive - proactiveAtStart,
  };
}

interface AttributionRow {
  persona: string;
  kind: TurnKind;
  round: number;
  requests: number;
  /** What the Graph-shaped server received, e.g. "GET /v1.0/users". */
  paths: string[];
  ms: number;
  ok: boolean;
}

/**
 * One conversation per persona, one turn at a time, counting the Graph requests between marks.
 * Each script runs twice: the second round (new addresses, warm caches) is the steady state.
 */
async function attributeGraphRequests(
  bot: BotChild,
  connector: ConnectorStandIn,
  serviceUrl: string,
  graph: GraphServerChild,
): Promise<AttributionRow[]> {
  const rows: AttributionRow[] = [];
  for (const persona of Object.values(PERSONAS)) {
    const conversationId = `a:attribution-${persona.name}-${Date.now().toString(36)}`;
    for (let round = 1; round <= 2; round++) {
      for (const step of persona.steps) {
        await graph.mark();
        const result = await sendTurn(bot.url, connector, activity(persona, conversationId, step.text(`attr${round}${Date.now().toString(36)}`), serviceUrl), step.expect);
        // Work the turn started in the background (approval cards) lands here too.
        await sleep(250);
        const { requests, paths } = await graph.count();
        rows.push({ persona: persona.name, kind: step.kind, round, requests, paths, ms: result.ms, ok: result.ok });
      }
    }
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Reporting.

function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

function summarise(samples: readonly TurnSample[]): { p50: number; p95: number; p99: number; n: number } {
  const ms = samples.map((s) => s.ms);
  return { p50: percentile(ms, 50), p95: percentile(ms, 95), p99: percentile(ms, 99), n: ms.length };
}

function byKind(samples: readonly TurnSample[]): Map<TurnKind, TurnSample[]> {
  const out = new Map<TurnKind, TurnSample[]>();
  for (const s of samples) out.set(s.kind, [...(out.get(s.kind) ?? []), s]);
  return out;
}

const f1 = (n: number): string => (Number.isFinite(n) ? n.toFixed(1) : '–');
const f0 = (n: number): string => (Number.isFinite(n) ? n.toFixed(0) : '–');

function loadLine(r: LoadResult): string {
  const s = summarise(r.samples);
  return `| ${r.label} | ${f0(r.turnsPerSecond)} | ${f1(s.p50)} / ${f1(s.p95)} / ${f1(s.p99)} | ${f1(r.cpuMsPerTurn)} | ${f0(r.peakRssMb)} | ${r.errors} |`;
}

/**
 * `npm run bench:turns -- --memory`: only the memory phases (minimal bot, this bot on the demo
 * tenant, minimal bot again), with idle RSS and where the peak went (heap used / heap total /
 * external), for looking into memory without the whole run.
 */
async function memoryOnly(): Promise<void> {
  const loadBefore = os.loadavg();
  console.log(`memory: ${CONVERSATIONS} conversations, ${WARMUP_SECONDS} s warm-up + ${SECONDS} s (load average at start: ${loadBefore.map((l) => l.toFixed(2)).join(' ')})`);
  const connector = new ConnectorStandIn();
  const serviceUrl = await connector.start();
  const runs: LoadResult[] = [];
  const phases: Array<readonly [string, 'bot' | 'minimal' | 'earlier']> = [
    ['minimal bot (before)', 'minimal'],
    ...(EARLIER_BOT ? [[`this bot, earlier build (${path.basename(EARLIER_BOT)})`, 'earlier'] as const] : []),
    ['this bot, demo tenant', 'bot'],
    ['minimal bot (after)', 'minimal'],
  ];
  for (const [label, kind] of phases) {
    const bot = await startBot(kind);
    try {
      runs.push(await runLoad(label, bot, connector, serviceUrl, kind !== 'minimal'));
    } finally {
      await bot.stop();
    }
  }
  await connector.close();
  const loadAfter = os.loadavg();
  const out = [
    '',
    '| run | turns/s | errors | CPU per turn (ms) | idle RSS | peak RSS | at peak: heap used / heap total / external | RSS anonymous / files (MB) |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const r of runs) {
    const p = r.atPeak;
    out.push(
      `| ${r.label} | ${f0(r.turnsPerSecond)} | ${r.errors} | ${f1(r.cpuMsPerTurn)} | ${f0(r.idleRssMb)} | ${f0(r.peakRssMb)} | ${f0(p.heapUsed)} / ${f0(p.heapTotal)} / ${f0(p.external)} | ${f0(p.rssAnon)} / ${f0(p.rssFile)} |`,
    );
  }
  if (NODE_FLAGS.length) out.push('', `both bots ran with ${NODE_FLAGS.join(' ')}`);
  const minimalRss = Math.max(...runs.filter((r) => r.label.startsWith('minimal')).map((r) => r.peakRssMb));
  out.push('');
  for (const bot of runs.filter((r) => r.label.startsWith('this bot'))) {
    out.push(`${bot.label}: peak RSS ${(bot.peakRssMb / minimalRss).toFixed(2)}× the minimal bot (${f0(bot.peakRssMb)} vs ${f0(minimalRss)} MB)`);
  }
  out.push(`load average (1/5/15 min) at start ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, at end ${loadAfter.map((l) => l.toFixed(2)).join(' ')}`);
  console.log(out.join('\n'));
}

async function main(): Promise<void> {
  if (process.argv[2] === '--graph-server') return graphServerProcess();
  if (process.argv[2] === '--cold-start') return coldStartOnly();
  if (process.argv[2] === '--memory') return memoryOnly();
  const startedAt = new Date();
  const loadBefore = os.loadavg();
  console.log(`Turn benchmark: ${CONVERSATIONS} conversations, ~${THINK_MS} ms think time, ${WARMUP_SECONDS} s warm-up + ${SECONDS} s per phase`);
  console.log(`load average at start: ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`);
  if (NODE_FLAGS.length) console.log(`both bots run with ${NODE_FLAGS.join(' ')}`);

  const connector = new ConnectorStandIn();
  const serviceUrl = await connector.start();

  console.log(`cold start to /healthz (median of ${COLD_RUNS})…`);
  const cold = await coldStarts();

  const phase = async (label: string, kind: 'bot' | 'minimal' | 'earlier', env: Record<string, string> = {}, check = true): Promise<LoadResult> => {
    console.log(`${label}…`);
    const bot = await startBot(kind, env);
    try {
      return await runLoad(label, bot, connector, serviceUrl, check);
    } finally {
      await bot.stop();
    }
  };

  const minimalBefore = await phase('minimal bot (before)', 'minimal', {}, false);
  const earlier = EARLIER_BOT ? await phase(`this bot, earlier build (${path.basename(EARLIER_BOT)})`, 'earlier') : null;
  const demo = await phase('this bot, demo tenant', 'bot');
  const held = await phase(`this bot, ${INVITATIONS_HELD} invitations held`, 'bot', { BENCH_PRELOAD_INVITATIONS: String(INVITATIONS_HELD) });

  console.log('this bot, DIRECTORY=graph…');
  const graph = await startGraphServerChild();
  const graphEnv = {
    DIRECTORY: 'graph',
    GRAPH_TENANT_ID: DEMO.tenantId,
    GRAPH_CLIENT_ID: '00000000-0000-4000-8000-000000000001',
    GRAPH_CLIENT_SECRET: 'unused: the benchmark injects a fixed-token credential',
    GRAPH_BASE_URL: graph.baseUrl,
    APPROVER_GROUP_ID: DEMO.groups.guestApprovers.id,
  };
  let attribution: Awaited<ReturnType<typeof attributeGraphRequests>>;
  let graphLoad: LoadResult;
  let graphRequestsPerTurn: number;
  {
    const bot = await startBot('bot', graphEnv);
    try {
      attribution = await attributeGraphRequests(bot, connector, serviceUrl, graph);
    } finally {
      await bot.stop();
    }
    const loadBot = await startBot('bot', graphEnv);
    try {
      await graph.mark();
      graphLoad = await runLoad(`this bot, DIRECTORY=graph (${GRAPH_LATENCY_MS} ms per request)`, loadBot, connector, serviceUrl, true);
      graphRequestsPerTurn = (await graph.count()).requests / Math.max(1, graphLoad.turns);
    } finally {
      await loadBot.stop();
      graph.stop();
    }
  }
  const minimalAfter = await phase('minimal bot (after)', 'minimal', {}, false);
  await connector.close();
  const loadAfter = os.loadavg();

  // ---- report
  const minimalSamples = [...minimalBefore.samples, ...minimalAfter.samples];
  const minimal = summarise(minimalSamples);
  const minimalCpu = (minimalBefore.cpuMsPerTurn + minimalAfter.cpuMsPerTurn) / 2;
  const minimalRss = Math.max(minimalBefore.peakRssMb, minimalAfter.peakRssMb);
  const out: string[] = [];
  out.push('');
  out.push(`${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC, Node ${process.version}, ${os.cpus().length} cores`);
  out.push(`load average (1/5/15 min) at start ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, at end ${loadAfter.map((l) => l.toFixed(2)).join(' ')}`);
  out.push('');
  out.push('| run | turns/s | time to last reply p50 / p95 / p99 (ms) | CPU per turn (ms) | peak RSS (MB) | errors |');
  out.push('|---|---|---|---|---|---|');
  const loadRuns = [minimalBefore, ...(earlier ? [earlier] : []), demo, held, graphLoad, minimalAfter];
  for (const r of loadRuns) out.push(loadLine(r));
  out.push('');
  out.push('Per turn kind, this bot (demo tenant) | with invitations held | DIRECTORY=graph: p50 / p99 (ms)');
  out.push('');
  out.push(`| turn | demo p50 / p99 | ${INVITATIONS_HELD} held p50 / p99 | graph p50 / p99 | Graph requests (first / repeat) |`);
  out.push('|---|---|---|---|---|');
  const demoKinds = byKind(demo.samples);
  const heldKinds = byKind(held.samples);
  const graphKinds = byKind(graphLoad.samples);
  const kinds = [...new Set(Object.values(PERSONAS).flatMap((p) => p.steps.map((s) => s.kind)))];
  for (const kind of kinds) {
    const d = summarise(demoKinds.get(kind) ?? []);
    const h = summarise(heldKinds.get(kind) ?? []);
    const g = summarise(graphKinds.get(kind) ?? []);
    const counts = attribution.filter((a) => a.kind === kind);
    const first = counts.filter((a) => a.round === 1).map((a) => a.requests);
    const repeat = counts.filter((a) => a.round === 2).map((a) => a.requests);
    out.push(
      `| ${kind} | ${f1(d.p50)} / ${f1(d.p99)} | ${f1(h.p50)} / ${f1(h.p99)} | ${f1(g.p50)} / ${f1(g.p99)} | ${first.join(', ')} / ${repeat.join(', ')} |`,
    );
  }
  const bot = summarise(demo.samples);
  const heldSummary = summarise(held.samples);
  out.push('');
  out.push('| target | measured | |');
  out.push('|---|---|---|');
  const verdict = (ok: boolean): string => (ok ? 'met' : 'missed');
  const overhead = bot.p99 - minimal.p99;
  out.push(`| p99 overhead over the minimal bot ≤ 50 ms | ${f1(overhead)} ms (${f1(bot.p99)} vs ${f1(minimal.p99)}) | ${verdict(overhead <= 50)} |`);
  const cpuRatio = demo.cpuMsPerTurn / minimalCpu;
  out.push(`| CPU per turn ≤ 2× the minimal bot | ${cpuRatio.toFixed(2)}× (${f1(demo.cpuMsPerTurn)} vs ${f1(minimalCpu)} ms) | ${verdict(cpuRatio <= 2)} |`);
  if (earlier) {
    const earlierRatio = earlier.cpuMsPerTurn / minimalCpu;
    out.push(`| (earlier build) | CPU per turn ${earlierRatio.toFixed(2)}× (${f1(earlier.cpuMsPerTurn)} ms), peak RSS ${(earlier.peakRssMb / minimalRss).toFixed(2)}× (${f0(earlier.peakRssMb)} MB) | |`);
  }
  const rssRatio = demo.peakRssMb / minimalRss;
  out.push(`| peak RSS ≤ 1.5× | ${rssRatio.toFixed(2)}× (${f0(demo.peakRssMb)} vs ${f0(minimalRss)} MB) | ${verdict(rssRatio <= 1.5)} |`);
  out.push(coldStartLine(cold));
  const growth = held.cpuMsPerTurn / demo.cpuMsPerTurn;
  out.push(
    `| no growth with ${INVITATIONS_HELD} invitations held | CPU per turn ${growth.toFixed(2)}×, p99 ${f1(heldSummary.p99)} vs ${f1(bot.p99)} ms | ${verdict(growth <= 1.2)} |`,
  );
  out.push(`| Graph requests per turn under load (DIRECTORY=graph) | ${graphRequestsPerTurn.toFixed(2)} | |`);
  out.push('');
  out.push('Where the peak went (MB, sampled every 250 ms): heap used / heap total, RSS anonymous / files');
  for (const r of [minimalBefore, ...(earlier ? [earlier] : []), demo, minimalAfter]) {
    const p = r.atPeak;
    out.push(`- ${r.label}: ${f0(p.heapUsed)} / ${f0(p.heapTotal)}, ${f0(p.rssAnon)} / ${f0(p.rssFile)} (idle RSS ${f0(r.idleRssMb)})`);
  }
  if (NODE_FLAGS.length) out.push(`both bots ran with ${NODE_FLAGS.join(' ')}`);
  const errors = loadRuns.filter((r) => r.errors > 0);
  if (errors.length) {
    out.push('');
    for (const r of errors) {
      out.push(`errors in "${r.label}": ${JSON.stringify(r.errorKinds)}`);
      for (const [key, sample] of Object.entries(r.errorSamples)) out.push(`  ${key}: "${sample}"`);
    }
  }
  const failedAttribution = attribution.filter((a) => !a.ok);
  if (failedAttribution.length) out.push(`attribution turns that failed: ${failedAttribution.map((a) => `${a.persona}/${a.kind}#${a.round}`).join(', ')}`);
  console.log(out.join('\n'));

  const results = {
    startedAt: startedAt.toISOString(),
    node: process.version,
    loadAverage: { start: loadBefore, end: loadAfter },
    settings: {
      seconds: SECONDS,
      warmupSeconds: WARMUP_SECONDS,
      conversations: CONVERSATIONS,
      thinkMs: THINK_MS,
      graphLatencyMs: GRAPH_LATENCY_MS,
      invitationsHeld: INVITATIONS_HELD,
      nodeFlags: NODE_FLAGS,
    },
    coldStartMs: { botFirstStart: cold.botFirst, botRestart: cold.botRestart, minimal: cold.minimal, earlier: cold.earlier, runs: cold.runs },
    runs: loadRuns.map((r) => ({
      label: r.label,
      turns: r.turns,
      turnsPerSecond: r.turnsPerSecond,
      errors: r.errors,
      errorKinds: r.errorKinds,
      latency: summarise(r.samples),
      latencyByKind: Object.fromEntries([...byKind(r.samples)].map(([k, v]) => [k, summarise(v)])),
      cpuMsPerTurn: r.cpuMsPerTurn,
      peakRssMb: r.peakRssMb,
      idleRssMb: r.idleRssMb,
      atPeak: r.atPeak,
      proactive: r.proactive,
    })),
    graph: { attribution, requestsPerTurnUnderLoad: graphRequestsPerTurn },
  };
  const dir = path.join(ROOT, 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'turns-latest.json'), `${JSON.stringify(results, null, 2)}\n`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exit(1);
});
