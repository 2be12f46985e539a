/**
 * A separate bot process for the kill-and-resume tests: opens the shared database file, talks to
 * the Graph-shaped test server through GraphDirectory, and works the bulk queue exactly as the
 * bot does (BulkRunner.resumeAll at start-up and every RECOVERY_INTERVAL_MS) until no job is
 * active. The parent test kills it with SIGKILL mid-job and starts another one.
 *
 * Environment: BULK_DB (database file), GRAPH_URL (test server base URL), VISIBILITY_MS (how
 * long a message stays hidden without renewal: after a kill, its rows come back this long after
 * the last renewal), LEASE_MS, RECOVERY_INTERVAL_MS.
 * With HOLDER_TTL_MS set, it runs as the bot does: registered as a lock holder (the invitation
 * records a dead process locked are taken over at once) and with the shared store pacer
 * (PACE_LIMIT per PACE_WINDOW_MS) in GraphDirectory.
 * Prints "resumed <jobId>" when it first works on a job and "finished <jobId> <state>" at the end.
 */
import type { AccessToken } from '@azure/identity';
import { SqliteBulkJobRepository, bulkMigrations } from '../../src/adapters/sqlite/bulkJobs';
import { BulkRunner } from '../../src/usecases/bulk/bulkRunner';
import type { BulkRunnerLogger } from '../../src/usecases/bulk/runnerOptions';
import { SharedPacer, SlidingWindowPacer } from '../../src/usecases/ports/pacer';
import { GraphDirectory } from '../../src/adapters/graph/GraphDirectory';
import { openDatabase } from '../../src/adapters/sqlite/database';
import { SqliteInvitationRepository, invitationMigrations } from '../../src/adapters/sqlite/invitations';
import { leaseMigrations, SqliteHolderRegistry } from '../../src/adapters/sqlite/leases';
import { pacerWindowMigrations, SqlitePacerWindowStore } from '../../src/adapters/sqlite/pacerWindow';
import { SqliteWorkQueue, workQueueMigrations } from '../../src/adapters/sqlite/workQueue';

async function main(): Promise<void> {
  const file = process.env.BULK_DB;
  const baseUrl = process.env.GRAPH_URL;
  if (!file || !baseUrl) throw new Error('BULK_DB and GRAPH_URL are required');
  const db = openDatabase(file, [...invitationMigrations, ...bulkMigrations, ...leaseMigrations, ...pacerWindowMigrations, ...workQueueMigrations]);
  const jobs = new SqliteBulkJobRepository(db);
  const asBot = process.env.HOLDER_TTL_MS !== undefined;
  const holders = asBot ? new SqliteHolderRegistry(db, { ttlMs: Number(process.env.HOLDER_TTL_MS) }) : undefined;
  holders?.start();
  // Slow enough that the parent can kill the process mid-job.
  const pace = { limit: Number(process.env.PACE_LIMIT ?? '10'), windowMs: Number(process.env.PACE_WINDOW_MS ?? '100') };
  const shared = asBot ? new SharedPacer(new SqlitePacerWindowStore(db), pace) : undefined;
  const credential = { getToken: async (): Promise<AccessToken> => ({ token: 'child-test-token', expiresOnTimestamp: Date.now() + 3_600_000 }) };
  const directory = new GraphDirectory({ credential, baseUrl, maxRetries: 1, retryDelaySeconds: 0.001, invitationPacer: shared });
  const seen = new Set<string>();
  const logger: BulkRunnerLogger = {
    info: (obj, msg) => {
      if (msg === 'bulk job worked here' && typeof obj.jobId === 'string' && !seen.has(obj.jobId)) {
        seen.add(obj.jobId);
        process.stdout.write(`resumed ${obj.jobId}\n`);
      }
    },
    warn: () => undefined,
    error: (obj, msg) => void process.stderr.write(`${msg} ${JSON.stringify(obj)}\n`),
  };
  const runner = new BulkRunner({
    jobs,
    queue: new SqliteWorkQueue(db),
    invitations: new SqliteInvitationRepository(db),
    directory,
    pacer: shared ? null : new SlidingWindowPacer(pace),
    holders,
    sendInvitationEmail: false,
    baseBackoffMs: 5,
    maxBackoffMs: 50,
    maxAttempts: 20,
    leaseMs: Number(process.env.LEASE_MS ?? '300'),
    visibilityMs: Number(process.env.VISIBILITY_MS ?? '1000'),
    pollMs: 100,
    maxInFlight: 4,
    logger,
  });
  // As the bot: resumeAll at start-up, then every RECOVERY_INTERVAL_MS, until nothing is left.
  const interval = Number(process.env.RECOVERY_INTERVAL_MS ?? '1000');
  const active = async (): Promise<string[]> => (await jobs.listActive()).map((j) => j.id);
  const ids = new Set(await active());
  for (;;) {
    await runner.resumeAll();
    const now = await active();
    for (const id of now) ids.add(id);
    if (now.length === 0) break;
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
  await Promise.all([...ids].map((id) => runner.whenFinished(id)));
  for (const id of ids) process.stdout.write(`finished ${id} ${(await jobs.get(id))?.state ?? 'missing'}\n`);
  await runner.stop();
  holders?.stop();
  db.close();
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
