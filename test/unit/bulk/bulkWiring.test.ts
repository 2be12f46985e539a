/**
 * The bulk feature as the composition root builds it (buildBulkFeature): the results-link
 * secret kept in the store, and the approver group defaulted as the approvals feature does.
 */
import type { AddressInfo } from 'node:net';
import restify from 'restify';
import type { BulkFeature } from '../../../src/teams/bulk/bulkFeature';
import { buildBulkFeature } from '../../../src/app/bulkWiring';
import type { BulkJob } from '../../../src/domain/bulkJob';
import { emptyValidationSummary } from '../../../src/usecases/bulk/bulkValidation';
import { openStore, sqliteDatabaseOf, type SqliteStore as Store } from '../../../src/adapters/sqlite/store';
import { BULK_STORE_MIGRATIONS, bulkServices, invokeContext } from '../../support/bulkServices';
import { DEMO, demoDirectory } from '../../support/directory';
import { tempDatabaseFile } from '../../support/store';
import { RecordingAdapter } from '../approvals/testbed';
import { textOf } from '../../support/bulkBot';
import { BULK_QUEUE, QUEUED_OWNER, rowsMessage } from '../../../src/usecases/bulk/workMessages';

const stores: Store[] = [];
afterEach(() => {
  for (const store of stores.splice(0)) if (sqliteDatabaseOf(store).open) store.close();
});

function open(file: string): Store {
  const store = openStore({ file, extraMigrations: BULK_STORE_MIGRATIONS });
  stores.push(store);
  return store;
}

const PUBLIC = { PUBLIC_BASE_URL: 'https://bot.contoso.example' };

function feature(store: Store, env: NodeJS.ProcessEnv = PUBLIC): BulkFeature {
  return buildBulkFeature(bulkServices({ store, directory: demoDirectory(), adapter: new RecordingAdapter(), env }));
}

/** A finished job of Megan's with one invited row, as a run would leave it. */
async function finishedJob(bulk: BulkFeature, state: 'completed' | 'draft' = 'completed'): Promise<BulkJob> {
  const falcon = DEMO.groups.projectFalcon;
  const draft = await bulk.jobs.createDraft({
    tenantId: DEMO.tenantId,
    requestedBy: { id: DEMO.users.megan.id, name: DEMO.users.megan.displayName },
    conversationId: 'a:personal-megan',
    defaultSite: { groupId: falcon.id, siteName: falcon.displayName, siteUrl: falcon.siteUrl },
    summary: { ...emptyValidationSummary('partners.csv'), rows: 1, valid: 1, toSend: 1 },
  });
  await bulk.jobs.insertRows(draft.id, [
    {
      rowNumber: 2,
      name: 'Ana Silva',
      email: 'ana@example.org',
      emailKey: 'ana@example.org',
      groupId: falcon.id,
      siteName: falcon.displayName,
      siteUrl: falcon.siteUrl,
      redirectUrl: null,
      sendEmail: null,
      message: null,
      predictedMethod: 'emailOneTimePasscode',
      state: state === 'completed' ? 'done' : 'pending',
      error: state === 'completed' ? 'success' : null,
    },
  ]);
  if (state === 'draft') return draft;
  const done = await bulk.jobs.update(draft.id, draft.version, { state: 'completed', finishedAt: Date.now() });
  if (!done) throw new Error('could not finish the job');
  return done;
}

async function linkFor(bulk: BulkFeature, jobId: string, as: keyof typeof DEMO.users): Promise<string | null> {
  const handler = bulk.actions?.['bulk.results'];
  if (!handler) throw new Error('no bulk.results handler');
  const user = DEMO.users[as];
  const response = await handler(invokeContext(as), { userId: user.id, name: user.displayName, tenantId: DEMO.tenantId }, { jobId });
  const m = /(https?:\/\/[^"\s]+\/bulk\/results\?t=[^"\s]+)/.exec(JSON.stringify(response.body));
  return m?.[1] ?? null;
}

async function serve(bulk: BulkFeature): Promise<{ base: string; close: () => Promise<void> }> {
  const server = restify.createServer();
  bulk.registerRoutes(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return { base: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('results links across restarts', () => {
  it("a link issued before a restart still downloads afterwards, and the other instance's links work too", async () => {
    const file = tempDatabaseFile();
    const before = feature(open(file));
    const job = await finishedJob(before);
    const link = await linkFor(before, job.id, 'megan');
    expect(link).not.toBeNull();
    stores[0]?.close();

    // A new process over the same store: no secret configured anywhere.
    const after = feature(open(file));
    const { base, close } = await serve(after);
    try {
      const res = await fetch(new URL(new URL(link ?? '').search, `${base}/bulk/results`));
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('ana@example.org');
      // And the other way round: a second instance running next to the first accepts its links.
      const sibling = feature(open(file));
      const fresh = await linkFor(sibling, job.id, 'megan');
      expect((await fetch(new URL(new URL(fresh ?? '').search, `${base}/bulk/results`))).status).toBe(200);
    } finally {
      await close();
    }
  });

  it('a tampered link is refused by another instance', async () => {
    const file = tempDatabaseFile();
    const first = feature(open(file));
    const job = await finishedJob(first);
    const token = new URL(((await linkFor(first, job.id, 'megan')) ?? '').replace(/^http:/, 'https:')).searchParams.get('t') ?? '';
    const second = feature(open(file));
    const { base, close } = await serve(second);
    try {
      const [body, mac] = token.split('.');
      const payload = JSON.parse(Buffer.from(body ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
      // Someone else's id in the payload, the signature kept.
      const forAdele = Buffer.from(JSON.stringify({ ...payload, u: DEMO.users.adele.id }), 'utf8').toString('base64url');
      expect((await fetch(`${base}/bulk/results?t=${forAdele}.${mac}`)).status).toBe(403);
      const flipped = `${(mac ?? '').slice(0, -2)}${(mac ?? '').endsWith('AA') ? 'BB' : 'AA'}`;
      expect((await fetch(`${base}/bulk/results?t=${body}.${flipped}`)).status).toBe(403);
      expect((await fetch(`${base}/bulk/results?t=${token}`)).status).toBe(200);
    } finally {
      await close();
    }
  });

  it('a link minted over another store (another secret) is refused', async () => {
    const file = tempDatabaseFile();
    const a = feature(open(file));
    const job = await finishedJob(a);
    const link = await linkFor(a, job.id, 'megan');
    const elsewhere = feature(open(tempDatabaseFile()));
    const { base, close } = await serve(elsewhere);
    try {
      // Not a copy of this job's store: the link is not this instance's, so it is refused.
      expect((await fetch(new URL(new URL(link ?? '').search, `${base}/bulk/results`))).status).toBe(403);
    } finally {
      await close();
    }
  });
});

describe('results link in local mode', () => {
  it('with no public https address the link is given as text to open in the browser', async () => {
    const bulk = feature(open(tempDatabaseFile()), {});
    const job = await finishedJob(bulk);
    const link = await linkFor(bulk, job.id, 'megan');
    expect(link).toMatch(/^http:\/\/localhost:\d+\/bulk\/results\?t=/);
    const { base, close } = await serve(bulk);
    try {
      expect((await fetch(new URL(new URL(link ?? '').search, `${base}/bulk/results`))).status).toBe(200);
    } finally {
      await close();
    }
  });
});

describe('approver group in local mode', () => {
  it("with no APPROVER_GROUP_ID the demo admin can get the results of someone else's job, and others cannot", async () => {
    const bulk = feature(open(tempDatabaseFile()));
    const job = await finishedJob(bulk);
    const alexLink = await linkFor(bulk, job.id, 'alex');
    expect(alexLink).not.toBeNull();
    expect(await linkFor(bulk, job.id, 'adele')).toBeNull();
    const { base, close } = await serve(bulk);
    try {
      // The route re-checks Alex's membership of the demo approver group at download time.
      expect((await fetch(new URL(new URL(alexLink ?? '').search, `${base}/bulk/results`))).status).toBe(200);
    } finally {
      await close();
    }
  });

  it("with no APPROVER_GROUP_ID the demo admin can cancel someone else's job", async () => {
    const bulk = feature(open(tempDatabaseFile()));
    const job = await finishedJob(bulk, 'draft');
    const cancel = bulk.actions?.['bulk.cancel'];
    if (!cancel) throw new Error('no bulk.cancel handler');
    const adele = await cancel(invokeContext('adele'), { userId: DEMO.users.adele.id, name: 'Adele Vance', tenantId: DEMO.tenantId }, { jobId: job.id });
    expect(textOf(adele.body)).toContain('Only Megan Bowen or an approver can cancel');
    expect((await bulk.jobs.get(job.id))?.state).toBe('draft');
    const alex = await cancel(invokeContext('alex'), { userId: DEMO.users.alex.id, name: 'Alex Wilber', tenantId: DEMO.tenantId }, { jobId: job.id });
    expect(textOf(alex.body)).toContain('Nothing was sent');
    expect((await bulk.jobs.get(job.id))?.state).toBe('discarded');
  });

  it('an explicit APPROVER_GROUP_ID still decides who approves', async () => {
    // Research's members (Alex, Adele) as the approver group: now Adele may see Megan's results.
    const bulk = feature(open(tempDatabaseFile()), { ...PUBLIC, APPROVER_GROUP_ID: DEMO.groups.research.id });
    const job = await finishedJob(bulk);
    expect(await linkFor(bulk, job.id, 'adele')).not.toBeNull();
  });

  it("a job's rows are worked from the store's work queue, and BULK_MAX_DEQUEUES is the poison limit", async () => {
    const store = open(tempDatabaseFile());
    const bulk = feature(store, { ...PUBLIC, BULK_MAX_DEQUEUES: '1' });
    const draft = await finishedJob(bulk, 'draft');
    const job = await bulk.jobs.update(draft.id, draft.version, { state: 'running', leaseOwner: QUEUED_OWNER, leaseUntil: null });
    // One instance received the row's message and died on it.
    await store.workQueue.send(BULK_QUEUE, rowsMessage(draft.id, 2, 2));
    const [message] = await store.workQueue.receive(BULK_QUEUE, 1, 60_000);
    await store.workQueue.extend(BULK_QUEUE, message!, 0);
    expect(job).not.toBeNull();
    await bulk.runner.resumeAll();
    await bulk.runner.whenFinished(draft.id);
    const row = await bulk.jobs.getRow(draft.id, 2);
    expect(row).toMatchObject({ state: 'failed', error: expect.stringMatching(/^Gave up after 1 attempt: it stopped before this row was finished/) });
    expect((await bulk.jobs.get(draft.id))?.state).toBe('completed');
    await bulk.runner.stop();
  });
});
