/**
 * A separate bot process for the kill-and-resume test: opens the shared database file, talks to
 * the Graph-shaped test server through GraphDirectory, and runs every unfinished bulk job
 * (BulkRunner.resumeAll), exactly as the bot does at start-up. The parent test kills it with
 * SIGKILL mid-job and starts another one.
 *
 * Environment: BULK_DB (database file), GRAPH_URL (test server base URL), LEASE_MS.
 * With HOLDER_TTL_MS set, it runs as the bot does: registered as a lock holder (a dead runner's
 * job is taken over at once, whatever its lease says), the shared store pacer (PACE_LIMIT per
 * PACE_WINDOW_MS) in GraphDirectory, and resumeAll every RECOVERY_INTERVAL_MS.
 * Prints "resumed <jobId>" when it takes a job over and "finished <jobId> <state>" at the end.
 */
import type { AccessToken } from '@azure/identity';
import { SqliteBulkJobRepository, bulkMigrations } from '../../src/adapters/sqlite/bulkJobs';
import { BulkRunner } from '../../src/usecases/bulk/bulkRunner';
import { SharedPacer, SlidingWindowPacer } from '../../src/usecases/ports/pacer';
import { GraphDirectory } from '../../src/adapters/graph/GraphDirectory';
import { openDatabase } from '../../src/adapters/sqlite/database';
import { SqliteInvitationRepository, invitationMigrations } from '../../src/adapters/sqlite/invitations';
import { leaseMigrations, SqliteHolderRegistry } from '../../src/adapters/sqlite/leases';
import { pacerWindowMigrations, SqlitePacerWindowStore } from '../../src/adapters/sqlite/pacerWindow';

async function main(): Promise<void> {
  const file = process.env.BULK_DB;
  const baseUrl = process.env.GRAPH_URL;
  if (!file || !baseUrl) throw new Error('BULK_DB and GRAPH_URL are required');
  const leaseMs = Number(process.env.LEASE_MS ?? '300');
  const db = openDatabase(file, [...invitationMigrations, ...bulkMigrations, ...leaseMigrations, ...pacerWindowMigrations]);
  const jobs = new SqliteBulkJobRepository(db);
  const asBot = process.env.HOLDER_TTL_MS !== undefined;
  const holders = asBot ? new SqliteHolderRegistry(db, { ttlMs: Number(process.env.HOLDER_TTL_MS) }) : undefined;
  holders?.start();
  // Slow enough that the parent can kill the process mid-job.
  const pace = { limit: Number(process.env.PACE_LIMIT ?? '10'), windowMs: Number(process.env.PACE_WINDOW_MS ?? '100') };
  const shared = asBot ? new SharedPacer(new SqlitePacerWindowStore(db), pace) : undefined;
  const credential = { getToken: async (): Promise<AccessToken> => ({ token: 'child-test-token', expiresOnTimestamp: Date.now() + 3_600_000 }) };
  const directory = new GraphDirectory({ credential, baseUrl, maxRetries: 1, retryDelaySeconds: 0.001, invitationPacer: shared });
  const runner = new BulkRunner({
    jobs,
    invitations: new SqliteInvitationRepository(db),
    directory,
    pacer: shared ? null : new SlidingWindowPacer(pace),
    holders,
    sendInvitationEmail: false,
    baseBackoffMs: 5,
    maxBackoffMs: 50,
    maxAttempts: 20,
    leaseMs,
    maxInFlight: 4,
  });
  if (asBot) {
    // As the bot: resumeAll at start-up, then every RECOVERY_INTERVAL_MS, until nothing is left.
    const interval = Number(process.env.RECOVERY_INTERVAL_MS ?? '1000');
    const runs: Array<Promise<void>> = [];
    for (;;) {
      for (const id of await runner.resumeAll()) {
        process.stdout.write(`resumed ${id}\n`);
        runs.push(runner.whenFinished(id).then(async () => void process.stdout.write(`finished ${id} ${(await jobs.get(id))?.state ?? 'missing'}\n`)));
      }
      if ((await jobs.listActive()).length === 0) break;
      await new Promise((resolve) => setTimeout(resolve, interval));
    }
    await Promise.all(runs);
    holders?.stop();
    db.close();
    return;
  }
  // The dead process's lease has to run out before another runner may take the job.
  for (;;) {
    const active = await jobs.listActive();
    if (active.length === 0) break;
    for (const id of await runner.resumeAll()) {
      process.stdout.write(`resumed ${id}\n`);
      await runner.whenFinished(id);
      process.stdout.write(`finished ${id} ${(await jobs.get(id))?.state ?? 'missing'}\n`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  db.close();
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
