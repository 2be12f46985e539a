/**
 * Bulk invitations on each store, in one run: a 5,000-row CSV attached in Teams and confirmed,
 * worked by the bot as it runs in production (the instances harness: the app built from its
 * configuration, local mode, DIRECTORY=graph against the Graph-shaped test server with Graph's
 * documented limits enforced, 150 invitations per 5 s, and ~50 ms per request):
 *
 *   1. SQLite, one process (STORE=sqlite, the embedded default);
 *   2. Azure Storage on Azurite, one instance (STORE=azure);
 *   3. Azure Storage on Azurite, two instances behind a round-robin proxy.
 *
 *   npm run bench:azure                 (builds first, as the other benches)
 *   BENCH_ROWS=1000 npm run bench:azure a quicker look
 *   BENCH_ONLY=2,3 npm run bench:azure  only these configurations (numbered as above)
 *
 * For each: the fraction of the tenant's invitation limit reached while the job ran (target
 * ≥ 0.9), Graph requests per guest (≤ 1.1; $batch counted once: a guest's invitation, look-up
 * and membership add; what the Confirm click costs whatever the file's size, its rights checks
 * and what the instance it reached did not know about the clicker yet, is shown beside it as
 * "+n" per job), duplicate invitations and
 * memberships (0), 429s (0), Azure Storage transactions per guest (every request each instance
 * made to the account, staging included: they are billed), CPU per guest, and the load average.
 * Prints a table and writes bench/results/bulk-azure-latest.json.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startAzurite, type AzuriteInstance } from '../src/tools/azurite';
import { DEMO } from '../test/support/directory';
import { graphCounts, startCluster, type Cluster, type InstanceUsage, type StoreChoice } from '../test/support/instances/cluster';
import { teamsUser } from '../test/support/instances/teamsClient';

const ROWS = Number(process.env.BENCH_ROWS ?? '5000');
const INVITES_PER_5S = 150;
const LATENCY_MS = Number(process.env.BENCH_GRAPH_LATENCY_MS ?? '50');
const LIMIT_PER_SECOND = INVITES_PER_5S / 5;

interface RunResult {
  configuration: string;
  instances: number;
  rows: number;
  /** From Confirm to the finished card. */
  seconds: number;
  invitationsPerSecond: number;
  fractionOfLimit: number;
  /** Graph requests per guest: the guests' own (invitations, look-ups, membership adds) over the rows. */
  requestsPerGuest: number;
  /** Every other request after Confirm: per job, whatever its size (the click's rights checks, the clicker's profile and sites on a cold instance). */
  requestsPerJob: number;
  duplicateInvitations: number;
  duplicateMemberships: number;
  lost: number;
  throttled429: number;
  /** Azure Storage requests of every instance per guest, from Confirm to the finished card. */
  storageTransactionsPerGuest: number | null;
  /** The same while the file was checked and staged (before the summary card). */
  stagingTransactionsPerGuest: number | null;
  cpuMsPerGuest: number;
  loadAverage: { start: number; end: number };
}

function writeCsv(folder: string, rows: number, tag: string): string {
  const name = `partners-${tag}.csv`;
  const lines = ['Name,Email'];
  for (let i = 1; i <= rows; i++) lines.push(`Partner ${i},partner${i}.${tag}@example.org`);
  fs.writeFileSync(path.join(folder, name), `${lines.join('\n')}\n`);
  return name;
}

async function run(configuration: string, store: StoreChoice, instances: number, filesDir: string, tag: string): Promise<RunResult> {
  const loadStart = os.loadavg()[0] ?? 0;
  const cluster: Cluster = await startCluster({
    instances,
    store,
    filesDir,
    env: { INVITES_PER_5S: String(INVITES_PER_5S), LOG_LEVEL: 'warn', RECOVERY_INTERVAL_MS: '5000', HOLDER_TTL_MS: '10000' },
    graph: { latencyMs: LATENCY_MS, limits: { invitationsPer5s: INVITES_PER_5S } },
  });
  try {
    const megan = teamsUser('megan', cluster);
    const file = writeCsv(filesDir, ROWS, tag);
    const usageAtStart = await Promise.all(cluster.instances.map((i) => i.usage()));
    const emails = Array.from({ length: ROWS }, (_, i) => `partner${i + 1}.${tag}@example.org`);
    const answer = await megan.attach(file, 'bulk invite to Project Falcon');
    if (answer.status >= 300) throw new Error(`attaching the file: HTTP ${answer.status}`);
    await megan.waitForText('Will be sent', { timeoutMs: 300_000 });
    const usageBefore = await Promise.all(cluster.instances.map((i) => i.usage()));
    const fromRequest = cluster.graph.requestLog.length;
    const started = performance.now();
    const confirmed = await megan.press('Confirm');
    if (confirmed.status >= 300) throw new Error(`Confirm: HTTP ${confirmed.status}`);
    // Generous: on a busy shared machine Azurite runs at a tenth of the limit or less (say so, do not time out).
    await megan.waitForText('Bulk invitation finished', { timeoutMs: (ROWS / LIMIT_PER_SECOND) * 15_000 + 120_000 });
    const seconds = (performance.now() - started) / 1000;
    const usageAfter = await Promise.all(cluster.instances.map((i) => i.usage()));
    const counts = graphCounts(cluster, DEMO.groups.projectFalcon.id, emails, fromRequest);
    const invited = emails.length - counts.lost;
    const transactionsBetween = (from: InstanceUsage[], to: InstanceUsage[]): number | null =>
      to.every((u) => u.storageTransactions !== null)
        ? to.reduce((sum, u, i) => sum + (u.storageTransactions ?? 0) - (from[i]?.storageTransactions ?? 0), 0)
        : null;
    const transactions = transactionsBetween(usageBefore, usageAfter);
    const staging = transactionsBetween(usageAtStart, usageBefore);
    const cpuMs = usageAfter.reduce((sum, u, i) => sum + u.cpuMs - (usageBefore[i]?.cpuMs ?? 0), 0);
    return {
      configuration,
      instances,
      rows: ROWS,
      seconds,
      invitationsPerSecond: invited / seconds,
      fractionOfLimit: invited / seconds / LIMIT_PER_SECOND,
      requestsPerGuest: (counts.requests - counts.perJob) / ROWS,
      requestsPerJob: counts.perJob,
      duplicateInvitations: counts.duplicateInvitations,
      duplicateMemberships: counts.duplicateMemberships,
      lost: counts.lost,
      throttled429: counts.throttled,
      storageTransactionsPerGuest: transactions === null ? null : transactions / ROWS,
      stagingTransactionsPerGuest: staging === null ? null : staging / ROWS,
      cpuMsPerGuest: cpuMs / ROWS,
      loadAverage: { start: loadStart, end: os.loadavg()[0] ?? 0 },
    };
  } finally {
    await cluster.close();
  }
}

const fmt = (n: number | null, digits = 2): string => (n === null ? '—' : n.toFixed(digits));

async function main(): Promise<void> {
  const filesDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bulk-azure-bench-'));
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bulk-azure-bench-data-'));
  let azurite: AzuriteInstance | undefined;
  const results: RunResult[] = [];
  process.stdout.write(`Bulk on each store: ${ROWS} rows, limit ${INVITES_PER_5S} invitations per 5 s, ${LATENCY_MS} ms per Graph request\n`);
  try {
    azurite = await startAzurite();
    const azure = (prefix: string): StoreChoice => ({
      kind: 'azure',
      env: { AZURE_STORAGE_CONNECTION_STRING: (azurite as AzuriteInstance).connectionString, AZURE_STORAGE_PREFIX: prefix },
    });
    const plan: Array<[string, StoreChoice, number]> = [
      ['SQLite, one process', { kind: 'sqlite', dataDir }, 1],
      ['Azurite, one instance', azure('benchone'), 1],
      ['Azurite, two instances', azure('benchtwo'), 2],
    ];
    const only = (process.env.BENCH_ONLY ?? '').split(',').map((n) => Number(n.trim())).filter((n) => n >= 1);
    for (const [i, [label, store, instances]] of plan.entries()) {
      if (only.length > 0 && !only.includes(i + 1)) continue;
      process.stdout.write(`${label}…\n`);
      results.push(await run(label, store, instances, filesDir, `r${i}`));
    }
  } finally {
    await azurite?.stop();
    fs.rmSync(filesDir, { recursive: true, force: true });
    fs.rmSync(dataDir, { recursive: true, force: true });
  }

  const table = [
    ['configuration', 'seconds', 'invites/s', 'of limit', 'requests/guest (+ per job)', 'duplicates (inv/memb)', 'lost', '429s', 'storage tx/guest (job / staging)', 'CPU ms/guest', 'load avg start→end'],
    ...results.map((r) => [
      r.configuration,
      fmt(r.seconds, 1),
      fmt(r.invitationsPerSecond, 1),
      fmt(r.fractionOfLimit),
      `${fmt(r.requestsPerGuest, 3)} (+${r.requestsPerJob})`,
      `${r.duplicateInvitations} / ${r.duplicateMemberships}`,
      String(r.lost),
      String(r.throttled429),
      r.storageTransactionsPerGuest === null ? '—' : `${fmt(r.storageTransactionsPerGuest)} / ${fmt(r.stagingTransactionsPerGuest)}`,
      fmt(r.cpuMsPerGuest, 1),
      `${fmt(r.loadAverage.start)} → ${fmt(r.loadAverage.end)}`,
    ]),
  ];
  process.stdout.write(`\n${table.map((row) => `| ${row.join(' | ')} |`).join('\n')}\n`);
  const failures = results.flatMap((r) => [
    ...(r.fractionOfLimit < 0.9 ? [`${r.configuration}: ${fmt(r.fractionOfLimit)} of the limit (target ≥ 0.9)`] : []),
    // Judged at the precision shown (1.1000000002 is 1.100, not a miss).
    ...(Math.round(r.requestsPerGuest * 1000) / 1000 > 1.1 ? [`${r.configuration}: ${fmt(r.requestsPerGuest, 3)} requests per guest (target ≤ 1.1)`] : []),
    ...(r.duplicateInvitations + r.duplicateMemberships + r.lost + r.throttled429 > 0 ? [`${r.configuration}: duplicates, losses or 429s`] : []),
  ]);
  process.stdout.write(failures.length ? `\nMissed:\n  ${failures.join('\n  ')}\n` : '\nEvery target met.\n');
  const out = path.resolve(__dirname, __dirname.includes(`${path.sep}dist${path.sep}`) ? '../../bench/results' : 'results');
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(
    path.join(out, 'bulk-azure-latest.json'),
    JSON.stringify({ at: new Date().toISOString(), node: process.version, cpus: os.cpus().length, rows: ROWS, latencyMs: LATENCY_MS, results }, null, 2),
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
