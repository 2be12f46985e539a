/**
 * A separate bot process for the kill-and-resume test: opens the shared database file, talks to
 * the Graph-shaped test server through GraphDirectory, and runs every unfinished bulk job
 * (BulkRunner.resumeAll), exactly as the bot does at start-up. The parent test kills it with
 * SIGKILL mid-job and starts another one.
 *
 * Environment: BULK_DB (database file), GRAPH_URL (test server base URL), LEASE_MS.
 * Prints "resumed <jobId>" when it takes a job over and "finished <jobId> <state>" at the end.
 */
import type { AccessToken } from '@azure/identity';
import { BulkJobStore, bulkMigrations } from '../../src/bulk/bulkJobs';
import { BulkRunner } from '../../src/bulk/bulkRunner';
import { SlidingWindowPacer } from '../../src/bulk/pacer';
import { GraphDirectory } from '../../src/directory/GraphDirectory';
import { openDatabase } from '../../src/store/database';
import { SqliteInvitationRepository, invitationMigrations } from '../../src/store/invitations';

async function main(): Promise<void> {
  const file = process.env.BULK_DB;
  const baseUrl = process.env.GRAPH_URL;
  if (!file || !baseUrl) throw new Error('BULK_DB and GRAPH_URL are required');
  const leaseMs = Number(process.env.LEASE_MS ?? '300');
  const db = openDatabase(file, [...invitationMigrations, ...bulkMigrations]);
  const jobs = new BulkJobStore(db);
  const credential = { getToken: async (): Promise<AccessToken> => ({ token: 'child-test-token', expiresOnTimestamp: Date.now() + 3_600_000 }) };
  const directory = new GraphDirectory({ credential, baseUrl, maxRetries: 1, retryDelaySeconds: 0.001 });
  const runner = new BulkRunner({
    jobs,
    invitations: new SqliteInvitationRepository(db),
    directory,
    // Slow enough that the parent can kill the process mid-job.
    pacer: new SlidingWindowPacer({ limit: 10, windowMs: 100 }),
    sendInvitationEmail: false,
    baseBackoffMs: 5,
    maxBackoffMs: 50,
    maxAttempts: 20,
    leaseMs,
    maxInFlight: 4,
  });
  // The dead process's lease has to run out before another runner may take the job.
  for (;;) {
    const active = jobs.listActive();
    if (active.length === 0) break;
    for (const id of runner.resumeAll()) {
      process.stdout.write(`resumed ${id}\n`);
      await runner.whenFinished(id);
      process.stdout.write(`finished ${id} ${jobs.get(id)?.state ?? 'missing'}\n`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  db.close();
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
