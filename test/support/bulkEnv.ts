/**
 * Builders for bulk invitation tests: a store with the bulk and invitation tables, the demo
 * directory (optionally wrapped with injected faults), a fast pacer and a runner.
 */
import type { AccessRecording } from '../../src/usecases/invite/accessRecording';
import { systemClock } from '../../src/domain/clock';
import type { Actor } from '../../src/domain/actor';
import { SqliteBulkJobRepository, bulkMigrations } from '../../src/adapters/sqlite/bulkJobs';
import type { BulkJob, BulkRow } from '../../src/domain/bulkJob';
import type { BulkJobRepository } from '../../src/usecases/bulk/ports';
import type { InvitationRepository } from '../../src/usecases/ports/invitations';
import { rowsInOrder } from '../../src/usecases/bulk/resultsCsv';
import { BulkRunner } from '../../src/usecases/bulk/bulkRunner';
import { type BulkRunnerOptions } from '../../src/usecases/bulk/runnerOptions';
import { stageBulkFile, type StagedBulkJob } from '../../src/usecases/bulk/bulkValidation';
import { SlidingWindowPacer } from '../../src/usecases/ports/pacer';
import { DirectoryError, type Directory } from '../../src/usecases/ports/Directory';
import type { FakeDirectory } from '../../src/adapters/demo/FakeDirectory';
import { SignInAdvisor } from '../../src/usecases/signIn/signInAdvisor';
import { SqliteInvitationRepository, invitationMigrations } from '../../src/adapters/sqlite/invitations';
import { applyMigrations, type SqliteDatabase } from '../../src/adapters/sqlite/database';
import { SqliteWorkQueue, workQueueMigrations } from '../../src/adapters/sqlite/workQueue';
import type { WorkQueue } from '../../src/usecases/ports/workQueue';
import { DEMO, demoDirectory } from './directory';
import { memoryStore } from './store';

export const MEGAN: Actor = { userId: DEMO.users.megan.id, name: DEMO.users.megan.displayName, tenantId: DEMO.tenantId };
export const ADELE: Actor = { userId: DEMO.users.adele.id, name: DEMO.users.adele.displayName, tenantId: DEMO.tenantId };
export const ALEX: Actor = { userId: DEMO.users.alex.id, name: DEMO.users.alex.displayName, tenantId: DEMO.tenantId };
export const FALCON = DEMO.groups.projectFalcon;

/** A CSV of `count` new partners at example.org (no Entra tenant: one-time passcode guests). */
export function partnersCsv(count: number, start = 1, domain = 'example.org'): string {
  const lines = ['Name,Email'];
  for (let i = start; i < start + count; i++) lines.push(`Partner ${i},partner${i}@${domain}`);
  return `${lines.join('\n')}\n`;
}

/** Deterministic pseudo-random numbers (mulberry32), so a failing fault test can be replayed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Wraps a directory so that a share of invite / addMembers / findUsersByEmail calls fail:
 * half before the call reaches the directory (nothing changed), half after it (the change was
 * made but the answer was lost: the hard case for exactly-once). Failures are throttled or
 * transient, as Graph's are.
 */
export function faultyDirectory(inner: Directory, rate: number, seed = 42): Directory & { injected: number } {
  const random = seededRandom(seed);
  const state = { injected: 0 };
  const fault = (): DirectoryError => {
    state.injected++;
    return random() < 0.5
      ? new DirectoryError('throttled', 'Microsoft Graph asked us to slow down.', { retryAfterMs: 1 })
      : new DirectoryError('transient', 'Microsoft Graph did not answer in time.');
  };
  const wrap = <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const roll = random();
      if (roll < rate / 2) throw fault();
      const result = await call(...args);
      if (roll < rate) throw fault();
      return result;
    };
  const faulty: Partial<Directory> = {
    findUsersByEmail: wrap((emails: readonly string[]) => inner.findUsersByEmail(emails)),
    invite: wrap((input: Parameters<Directory['invite']>[0]) => inner.invite(input)),
    addMembers: wrap((groupId: string, ids: readonly string[]) => inner.addMembers(groupId, ids)),
  };
  // Everything else goes straight to the inner directory (whatever the port grows to).
  const wrapped = new Proxy(inner, {
    get(target, prop, receiver) {
      if (typeof prop === 'string' && prop in faulty) return faulty[prop as keyof Directory];
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return Object.defineProperty(wrapped, 'injected', { get: () => state.injected }) as Directory & { injected: number };
}

export interface BulkTestEnv {
  db: SqliteDatabase;
  jobs: BulkJobRepository;
  /** The work queue the runner takes its work from (default: SQLite over `db`). */
  queue: WorkQueue;
  invitations: InvitationRepository;
  fake: FakeDirectory;
  directory: Directory;
  runner: BulkRunner;
  stage(csv: string, actor?: Actor, siteHint?: string | null): Promise<StagedBulkJob>;
  /** Stages and confirms (default site: Project Falcon). */
  submit(csv: string, actor?: Actor): Promise<BulkJob>;
}

export function bulkTestEnv(
  options: {
    fake?: FakeDirectory;
    directory?: (fake: FakeDirectory) => Directory;
    db?: SqliteDatabase;
    /** The job repository (default: SQLite over `db`). */
    jobs?: BulkJobRepository;
    /** The invitation repository (default: SQLite over `db`). */
    invitations?: InvitationRepository;
    /** The work queue (default: SQLite over `db`). */
    queue?: WorkQueue;
    runner?: Partial<BulkRunnerOptions>;
    approvalPolicy?: 'nonOwners' | 'unlistedDomains' | 'always';
    partnerDomains?: string[];
    /** The guest lifecycle's recording: rows record access, and staging checks the end-date column. */
    access?: AccessRecording | null;
  } = {},
): BulkTestEnv {
  const db = options.db ?? memoryStore([...invitationMigrations, ...bulkMigrations, ...workQueueMigrations]).db;
  if (!options.queue) applyMigrations(db, workQueueMigrations);
  const queue = options.queue ?? new SqliteWorkQueue(db);
  const fake = options.fake ?? demoDirectory();
  const directory = options.directory ? options.directory(fake) : fake;
  const jobs = options.jobs ?? new SqliteBulkJobRepository(db);
  const invitations = options.invitations ?? new SqliteInvitationRepository(db);
  const runner = new BulkRunner({
    jobs,
    queue,
    invitations,
    directory,
    pacer: new SlidingWindowPacer({ limit: 1000, windowMs: 50 }),
    sendInvitationEmail: false,
    baseBackoffMs: 1,
    maxBackoffMs: 5,
    maxAttempts: 30,
    progressIntervalMs: 10,
    leaseMs: 60_000,
    access: options.access ?? null,
    ...options.runner,
  });
  const advisor = new SignInAdvisor(fake);
  const stage = (csv: string, actor: Actor = MEGAN, siteHint: string | null = 'Project Falcon') =>
    stageBulkFile(
      {
        jobs,
        directory: fake,
        advisor,
        approvals: { policy: options.approvalPolicy ?? 'nonOwners', partnerDomains: options.partnerDomains ?? [] },
        approverGroupId: DEMO.groups.guestApprovers.id,
        limits: { maxBytes: 20 * 1024 * 1024, maxRows: 50_000 },
        access: options.access ? { settings: options.access.settings, clock: systemClock } : null,
      },
      { actor, source: csv, sourceName: 'partners.csv', conversationId: 'conv-1', siteHint },
    );
  const submit = async (csv: string, actor: Actor = MEGAN): Promise<BulkJob> => {
    const staged = await stage(csv, actor);
    const job = await jobs.transition(staged.job.id, ['draft'], { state: 'queued' });
    if (!job) throw new Error('could not confirm the staged job');
    return job;
  };
  return { db, jobs, queue, invitations, fake, directory, runner, stage, submit };
}

/** How many POST /invitations each address got (the fake records every one). */
export function invitationsPerAddress(fake: FakeDirectory): Map<string, number> {
  const counts = new Map<string, number>();
  for (const inv of fake.state.invitations) counts.set(inv.email.toLowerCase(), (counts.get(inv.email.toLowerCase()) ?? 0) + 1);
  return counts;
}

/** Every row of a job in file order. */
export async function allRows(jobs: BulkJobRepository, jobId: string): Promise<BulkRow[]> {
  const rows: BulkRow[] = [];
  for await (const row of rowsInOrder(jobs, jobId)) rows.push(row);
  return rows;
}
