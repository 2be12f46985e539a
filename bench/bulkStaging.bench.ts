/**
 * Bulk staging benchmark: how long validating and staging a 50,000-row file takes, and the
 * longest the event loop stalls meanwhile (other conversations and /healthz wait that long),
 * for a file of distinct addresses (the baseline, measured in the same run), a file that
 * repeats one address, and a file where every other row repeats an earlier one.
 *
 *   npm run bench:staging      (also run at the end of npm run bench)
 *   BENCH_STAGING_ROWS=5000 npm run bench:staging     a quick look
 *
 * Prints a table and writes bench/results/staging.json. Target: the longest stall at most
 * 100 ms in every case, and no case much slower than the baseline.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Actor } from '../src/domain/actor';
import { SqliteBulkJobRepository, bulkMigrations } from '../src/adapters/sqlite/bulkJobs';
import { stageBulkFile } from '../src/usecases/bulk/bulkValidation';
import { openDatabase } from '../src/adapters/sqlite/database';
import { invitationMigrations } from '../src/adapters/sqlite/invitations';
import { SignInAdvisor } from '../src/usecases/signIn/signInAdvisor';
import { DEMO, demoDirectory } from '../test/support/directory';
import { writePartnersCsv } from './partnersCsv';

const ROWS = Number(process.env.BENCH_STAGING_ROWS ?? '50000');
const STALL_TARGET_MS = 100;
const MEGAN: Actor = { userId: DEMO.users.megan.id, name: DEMO.users.megan.displayName, tenantId: DEMO.tenantId };

interface Case {
  name: string;
  /** The address of data row i (1-based). */
  address: (i: number) => string;
}

const CASES: Case[] = [
  { name: `${ROWS.toLocaleString('en-US')} rows, distinct addresses (baseline)`, address: (i) => `partner${i}@example.org` },
  { name: `${ROWS.toLocaleString('en-US')} rows, one address`, address: () => 'same.partner@example.org' },
  { name: `${ROWS.toLocaleString('en-US')} rows, 50 % duplicates`, address: (i) => `partner${Math.ceil(i / 2)}@example.org` },
];

interface StagingResult {
  scenario: string;
  rows: number;
  seconds: number;
  rowsPerSecond: number;
  /** Seconds relative to the baseline case of the same run. */
  ratioToBaseline: number;
  /** Longest event-loop stall while staging (monitorEventLoopDelay, 10 ms resolution). */
  maxStallMs: number;
  /** 99th percentile of the event-loop delay. */
  p99StallMs: number;
  /**
   * Most CPU this process used between two consecutive 5 ms timer ticks: the bot's own part of
   * a stall. On a machine busier than its cores, maxStallMs also holds time the operating
   * system gave to other processes.
   */
  maxCpuStallMs: number;
  duplicates: number;
  valid: number;
}

function writeCsv(c: Case, rows: number): string {
  return writePartnersCsv('bulk-staging-', rows, c.address);
}

async function stageOnce(c: Case, rows = ROWS): Promise<Omit<StagingResult, 'ratioToBaseline'>> {
  const file = writeCsv(c, rows);
  const db = openDatabase(':memory:', [...invitationMigrations, ...bulkMigrations]);
  const jobs = new SqliteBulkJobRepository(db);
  const directory = demoDirectory();
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  try {
    histogram.enable();
    let maxCpuStallMs = 0;
    let lastCpu = process.cpuUsage();
    const ticker = setInterval(() => {
      const used = process.cpuUsage(lastCpu);
      maxCpuStallMs = Math.max(maxCpuStallMs, (used.user + used.system) / 1000);
      lastCpu = process.cpuUsage();
    }, 5);
    const started = performance.now();
    const staged = await stageBulkFile(
      {
        jobs,
        directory,
        advisor: new SignInAdvisor(directory),
        approvals: { policy: 'nonOwners', partnerDomains: [] },
        approverGroupId: DEMO.groups.guestApprovers.id,
        limits: { maxBytes: 512 * 1024 * 1024, maxRows: 1_000_000 },
      },
      { actor: MEGAN, source: fs.createReadStream(file), sourceName: 'bench.csv', conversationId: null, siteHint: DEMO.groups.projectFalcon.displayName },
    );
    const seconds = (performance.now() - started) / 1000;
    histogram.disable();
    clearInterval(ticker);
    return {
      scenario: c.name,
      rows: staged.summary.rows,
      seconds: round(seconds, 2),
      rowsPerSecond: Math.round(staged.summary.rows / seconds),
      maxStallMs: round(histogram.max / 1e6, 1),
      p99StallMs: round(histogram.percentile(99) / 1e6, 1),
      maxCpuStallMs: round(maxCpuStallMs, 1),
      duplicates: staged.summary.duplicates,
      valid: staged.summary.valid,
    };
  } finally {
    histogram.disable();
    db.close();
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  }
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

async function main(): Promise<void> {
  const load = os.loadavg().map((l) => l.toFixed(2)).join(' ');
  console.log(`Bulk staging, ${ROWS.toLocaleString('en-US')} rows per case; load average ${load}`);
  // Warm up the parser, the validator and the store on a small file first.
  await stageOnce({ name: 'warm-up', address: (i) => `warm${i}@example.org` }, 2_000);
  const measured: Array<Omit<StagingResult, 'ratioToBaseline'>> = [];
  for (const c of CASES) measured.push(await stageOnce(c));
  const baseline = measured[0]?.seconds ?? 1;
  const results: StagingResult[] = measured.map((m) => ({ ...m, ratioToBaseline: round(m.seconds / baseline, 2) }));
  console.table(
    results.map((r) => ({
      case: r.scenario,
      seconds: r.seconds,
      'rows/s': r.rowsPerSecond,
      'x baseline': r.ratioToBaseline,
      'longest stall ms': r.maxStallMs,
      'p99 delay ms': r.p99StallMs,
      'longest CPU stall ms': r.maxCpuStallMs,
      duplicates: r.duplicates,
    })),
  );
  const worst = Math.max(...results.map((r) => r.maxStallMs));
  const worstCpu = Math.max(...results.map((r) => r.maxCpuStallMs));
  const busy = os.loadavg()[0]! > os.cpus().length;
  // On an overloaded machine the wall-clock stall is mostly other processes' time: judge the bot's own.
  const judged = busy ? worstCpu : worst;
  const verdict = judged <= STALL_TARGET_MS ? 'met' : 'NOT met';
  console.log(
    `Longest event-loop stall: ${worst} ms (monitorEventLoopDelay), of which the bot's own CPU at most ${worstCpu} ms. ` +
      `Target ≤ ${STALL_TARGET_MS} ms${busy ? ', judged on CPU because the load average exceeds the cores' : ''}: ${verdict}.`,
  );
  const outDir = path.join(__dirname, '..', '..', 'bench', 'results');
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(
    path.join(outDir, 'staging.json'),
    `${JSON.stringify({ date: new Date().toISOString(), loadAverage: load, node: process.version, rows: ROWS, stallTargetMs: STALL_TARGET_MS, results }, null, 2)}\n`,
  );
  if (worst > STALL_TARGET_MS) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
