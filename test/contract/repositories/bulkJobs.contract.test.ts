/**
 * The bulk job repository's observable behaviour, the same over every adapter: compare-and-set
 * on the job version, concurrent runners claiming a job (exactly one wins), idempotent row
 * insert, rows in file order with keyset paging, what "not found" looks like, and the clean-up
 * of drafts nobody confirmed.
 */
import { openDatabase } from '../../../src/adapters/sqlite/database';
import { SqliteBulkJobRepository, bulkMigrations } from '../../../src/adapters/sqlite/bulkJobs';
import { MemoryBulkJobRepository } from '../../../src/adapters/memory/bulkJobs';
import { emptyCounts, type BulkJob, type NewBulkJob, type NewBulkRow } from '../../../src/domain/bulkJob';
import type { BulkJobRepository } from '../../../src/usecases/bulk/ports';
import type { Clock } from '../../../src/domain/clock';
import { AzureBulkJobRepository } from '../../../src/adapters/azure/bulkJobs';
import { useAzurite } from '../../support/azurite';

class SettableClock implements Clock {
  constructor(public ms = Date.UTC(2026, 0, 5, 9, 0, 0)) {}
  now(): Date {
    return new Date(this.ms);
  }
}

type Make = (clock: Clock) => BulkJobRepository;

const makeSqlite: Make = (clock) => new SqliteBulkJobRepository(openDatabase(':memory:', bulkMigrations), { clock });
const makeMemory: Make = (clock) => new MemoryBulkJobRepository({ clock });
const azurite = useAzurite();
const makeAzure: Make = (clock) => new AzureBulkJobRepository(azurite.account(), { clock });

const SITE = { groupId: 'g-falcon', siteName: 'Project Falcon', siteUrl: 'https://contoso.sharepoint.com/sites/falcon' };

function draftInput(over: Partial<NewBulkJob> = {}): NewBulkJob {
  return {
    tenantId: 't1',
    requestedBy: { id: 'megan', name: 'Megan Bowen' },
    conversationId: 'a:personal-megan',
    defaultSite: null,
    summary: {
      sourceName: 'partners.csv',
      format: 'script',
      rows: 3,
      valid: 3,
      invalid: 0,
      invalidRows: [],
      duplicates: 0,
      internal: 0,
      blocked: 0,
      alreadyDone: 0,
      needsApproval: 0,
      approvalReasons: [],
      methods: { emailOneTimePasscode: 3 },
      sites: [{ siteName: 'Project Falcon', rows: 3 }],
      toSend: 3,
    },
    ...over,
  };
}

function row(rowNumber: number, over: Partial<NewBulkRow> = {}): NewBulkRow {
  return {
    rowNumber,
    name: `Partner ${rowNumber}`,
    email: `partner${rowNumber}@example.org`,
    emailKey: `partner${rowNumber}@example.org`,
    groupId: SITE.groupId,
    siteName: SITE.siteName,
    siteUrl: SITE.siteUrl,
    redirectUrl: null,
    sendEmail: null,
    message: null,
    predictedMethod: 'emailOneTimePasscode',
    state: 'pending',
    ...over,
  };
}

describe.each([
  ['sqlite', makeSqlite],
  ['memory', makeMemory],
  ['azure', makeAzure],
])('BulkJobRepository contract (%s)', (_name, make) => {
  let clock: SettableClock;
  let repo: BulkJobRepository;
  beforeEach(() => {
    clock = new SettableClock();
    repo = make(clock);
  });

  describe('jobs', () => {
    it('a new draft is version 1, dated by the clock, and reads back as written', async () => {
      const job = await repo.createDraft(draftInput({ defaultSite: SITE }));
      expect(job).toMatchObject({
        tenantId: 't1',
        requestedBy: { id: 'megan', name: 'Megan Bowen' },
        conversationId: 'a:personal-megan',
        conversationRef: null,
        progressActivityId: null,
        defaultSite: SITE,
        state: 'draft',
        error: null,
        leaseOwner: null,
        leaseUntil: null,
        createdAt: clock.ms,
        startedAt: null,
        finishedAt: null,
        finishedEventPending: false,
        version: 1,
      });
      expect(job.summary).toEqual(draftInput().summary);
      expect(await repo.get(job.id)).toEqual(job);
      const other = await repo.createDraft(draftInput());
      expect(other.id).not.toBe(job.id);
    });

    it('not found is null (or nothing) everywhere, and changes nothing', async () => {
      expect(await repo.get('no-such-job')).toBeNull();
      expect(await repo.update('no-such-job', 1, { state: 'queued' })).toBeNull();
      expect(await repo.transition('no-such-job', ['draft'], { state: 'queued' })).toBeNull();
      expect(await repo.getRow('no-such-job', 2)).toBeNull();
      expect(await repo.counts('no-such-job')).toEqual(emptyCounts());
      expect(await repo.nextDue('no-such-job')).toBeNull();
      expect(await repo.rowsAfter('no-such-job', 0, 10)).toEqual([]);
      expect(await repo.invitationEmails('no-such-job', false)).toEqual({ invited: 0, emailed: 0, notEmailed: 0 });
      await expect(repo.updateRow('no-such-job', 2, { state: 'done' })).resolves.toBeUndefined();
      await expect(repo.delete('no-such-job')).resolves.toBeUndefined();
      expect(await repo.listActive()).toEqual([]);
      expect(await repo.listFinishedEventPending()).toEqual([]);
    });

    it('compare-and-set: the expected version wins and moves the version on; a stale one is refused and changes nothing', async () => {
      const job = await repo.createDraft(draftInput());
      const reference = { conversation: { id: 'a:personal-megan' }, serviceUrl: 'https://smba.example/' };
      const queued = await repo.update(job.id, 1, { state: 'queued', defaultSite: SITE, conversationRef: reference, progressActivityId: 'card-1' });
      expect(queued).toMatchObject({ state: 'queued', version: 2, defaultSite: SITE, conversationRef: reference, progressActivityId: 'card-1' });
      expect(await repo.update(job.id, 1, { state: 'discarded' })).toBeNull();
      expect(await repo.get(job.id)).toEqual(queued);
      // Clearing a field is a change like any other.
      const cleared = await repo.update(job.id, 2, { progressActivityId: null });
      expect(cleared).toMatchObject({ progressActivityId: null, version: 3, state: 'queued' });
    });

    it('concurrent runners claiming the same job: exactly one wins, and the job names it', async () => {
      const job = await repo.createDraft(draftInput());
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) => repo.update(job.id, job.version, { state: 'running', leaseOwner: `runner-${i}`, leaseUntil: clock.ms + 30_000 })),
      );
      const winners = results.filter((r): r is BulkJob => r !== null);
      expect(winners).toHaveLength(1);
      expect((await repo.get(job.id))?.leaseOwner).toBe(winners[0]?.leaseOwner);
      expect((await repo.get(job.id))?.version).toBe(2);
    });

    it('transition moves a job only from the states given; concurrent transitions: exactly one wins', async () => {
      const job = await repo.createDraft(draftInput());
      expect(await repo.transition(job.id, ['queued', 'running'], { state: 'cancelling' })).toBeNull();
      const results = await Promise.all(Array.from({ length: 5 }, () => repo.transition(job.id, ['draft'], { state: 'discarded' })));
      expect(results.filter((r) => r !== null)).toHaveLength(1);
      expect(await repo.get(job.id)).toMatchObject({ state: 'discarded', version: 2 });
    });

    it('lists active jobs oldest first, and a requester\'s jobs newest first within the tenant, up to the limit', async () => {
      const a = await repo.createDraft(draftInput());
      clock.ms += 1000;
      const b = await repo.createDraft(draftInput());
      const c = await repo.createDraft(draftInput()); // same millisecond as b: created later, so newer
      clock.ms += 1000;
      const elsewhere = await repo.createDraft(draftInput({ tenantId: 't2' }));
      const someoneElse = await repo.createDraft(draftInput({ requestedBy: { id: 'adele', name: 'Adele Vance' } }));
      for (const job of [c, a, b]) await repo.transition(job.id, ['draft'], { state: 'queued' });
      await repo.transition(b.id, ['queued'], { state: 'completed' });
      await repo.transition(elsewhere.id, ['draft'], { state: 'running' });

      expect((await repo.listActive()).map((j) => j.id)).toEqual([a.id, c.id, elsewhere.id]);
      expect((await repo.listByRequester('t1', 'megan')).map((j) => j.id)).toEqual([c.id, b.id, a.id]);
      expect((await repo.listByRequester('t1', 'megan', 2)).map((j) => j.id)).toEqual([c.id, b.id]);
      expect((await repo.listByRequester('t1', 'adele')).map((j) => j.id)).toEqual([someoneElse.id]);
      expect(await repo.listByRequester('t2', 'nobody')).toEqual([]);
    });

    it('the compare-and-set that ends a job marks its finished event pending; listed oldest first until it is cleared', async () => {
      const a = await repo.createDraft(draftInput());
      clock.ms += 1000;
      const b = await repo.createDraft(draftInput());
      const c = await repo.createDraft(draftInput());
      for (const job of [a, b, c]) await repo.transition(job.id, ['draft'], { state: 'running', leaseOwner: 'runner-1', leaseUntil: clock.ms + 30_000 });
      expect(await repo.listFinishedEventPending()).toEqual([]);

      const ended = await repo.transition(b.id, ['running'], { state: 'completed', finishedAt: clock.ms, finishedEventPending: true, leaseOwner: 'runner-2', leaseUntil: clock.ms + 30_000 });
      expect(ended).toMatchObject({ state: 'completed', finishedEventPending: true, leaseOwner: 'runner-2', version: 3 });
      await repo.transition(a.id, ['running'], { state: 'cancelled', finishedAt: clock.ms, finishedEventPending: true, leaseOwner: 'runner-1', leaseUntil: clock.ms + 30_000 });
      // Ended without a pending event (no audit log): not listed.
      await repo.transition(c.id, ['running'], { state: 'completed', finishedAt: clock.ms, leaseOwner: null, leaseUntil: null });

      const pending = await repo.listFinishedEventPending();
      expect(pending.map((j) => j.id)).toEqual([a.id, b.id]);
      expect(pending[1]).toEqual(await repo.get(b.id));
      expect((await repo.listActive()).map((j) => j.id)).toEqual([]);

      // Another instance takes the writing over by compare-and-set: of several, one wins.
      const takeovers = await Promise.all(['runner-3', 'runner-4', 'runner-5'].map((r) => repo.update(b.id, 3, { leaseOwner: r, leaseUntil: clock.ms + 30_000 })));
      expect(takeovers.filter((t) => t !== null)).toHaveLength(1);

      const cleared = await repo.update(b.id, 4, { finishedEventPending: false, leaseOwner: null, leaseUntil: null });
      expect(cleared).toMatchObject({ state: 'completed', finishedEventPending: false, leaseOwner: null, version: 5 });
      expect((await repo.listFinishedEventPending()).map((j) => j.id)).toEqual([a.id]);
      expect(await repo.get(b.id)).toEqual(cleared);
    });

    it('what a caller holds is a copy: changing it changes nothing stored', async () => {
      const job = await repo.createDraft(draftInput({ defaultSite: SITE }));
      job.summary.rows = 999;
      if (job.defaultSite) job.defaultSite.siteName = 'Changed';
      expect(await repo.get(job.id)).toMatchObject({ summary: { rows: 3 }, defaultSite: { siteName: 'Project Falcon' } });
    });
  });

  describe('rows', () => {
    let jobId: string;
    beforeEach(async () => {
      jobId = (await repo.createDraft(draftInput())).id;
    });

    it('insert is idempotent per row number: a row already there is kept as it is', async () => {
      await repo.insertRows(jobId, [row(2), row(3)]);
      await repo.insertRows(jobId, [row(2, { name: 'Someone Else', state: 'invalid' }), row(4)]);
      expect(await repo.getRow(jobId, 2)).toMatchObject({ name: 'Partner 2', state: 'pending' });
      expect((await repo.rowsAfter(jobId, 0, 10)).map((r) => r.rowNumber)).toEqual([2, 3, 4]);
      expect((await repo.counts(jobId)).pending).toBe(3);
    });

    it('rows of a job that does not exist are refused', async () => {
      // Settled, not `rejects.toThrow()`: SQLite's error can come from another realm in a reused
      // test worker (the native module keeps the first test file's SqliteError class).
      const outcome = await repo.insertRows('no-such-job', [row(2)]).then(
        () => 'stored',
        () => 'refused',
      );
      expect(outcome).toBe('refused');
      expect(await repo.getRow('no-such-job', 2)).toBeNull();
    });

    it('a new row starts with no attempts, due now, and reads back as written', async () => {
      await repo.insertRows(jobId, [
        row(2, { sendEmail: true, message: 'Welcome', redirectUrl: 'https://contoso.example/welcome' }),
        row(3, { state: 'skipped', userId: 'u-3', redeemUrl: 'https://invite.example/3', inviteId: 'i-3', status: 'Accepted', error: 'success', time: '2026-01-01T00:00:00.000Z' }),
      ]);
      expect(await repo.getRow(jobId, 2)).toEqual({
        ...row(2, { sendEmail: true, message: 'Welcome', redirectUrl: 'https://contoso.example/welcome' }),
        jobId,
        accessEnd: null,
        invitationRecordId: null,
        lockVersion: null,
        userId: null,
        redeemUrl: null,
        inviteId: null,
        status: null,
        error: null,
        time: null,
        attempts: 0,
        nextAttemptAt: 0,
        approvalRequestId: null,
      });
      expect(await repo.getRow(jobId, 3)).toMatchObject({ state: 'skipped', userId: 'u-3', redeemUrl: 'https://invite.example/3', error: 'success', sendEmail: null });
    });

    it('row updates asked for all at once each land; two of one row in a row keep the later value of a field both set', async () => {
      const numbers = Array.from({ length: 150 }, (_, i) => i + 2);
      await repo.insertRows(jobId, numbers.map((n) => row(n)));
      await Promise.all([
        ...numbers.map((n) => repo.updateRow(jobId, n, { state: 'invited', userId: `u-${n}` })),
        repo.updateRow(jobId, 2, { state: 'done', error: 'success' }),
        // A row of another job that does not exist changes nothing and fails nothing.
        repo.updateRow('no-such-job', 3, { state: 'done' }),
        repo.updateRow(jobId, 999, { state: 'done' }),
      ]);
      expect(await repo.getRow(jobId, 2)).toMatchObject({ state: 'done', userId: 'u-2', error: 'success' });
      expect((await repo.rowsInState(jobId, 'invited', 0, 500)).map((r) => [r.rowNumber, r.userId])).toEqual(numbers.slice(1).map((n) => [n, `u-${n}`]));
      expect(await repo.getRow(jobId, 999)).toBeNull();
    });

    it('pages are in file order whatever the insert order, keyset-paged after the last row seen', async () => {
      await repo.insertRows(jobId, [row(5), row(2), row(9)]);
      await repo.insertRows(jobId, [row(3), row(7)]);
      const seen: number[][] = [];
      let after = 0;
      for (;;) {
        const page = await repo.rowsAfter(jobId, after, 2);
        if (page.length === 0) break;
        seen.push(page.map((r) => r.rowNumber));
        after = page[page.length - 1]?.rowNumber ?? after;
      }
      expect(seen).toEqual([[2, 3], [5, 7], [9]]);
    });

    it('work due now: pending and invited rows whose retry time has come, in order; the next due time among the unfinished', async () => {
      await repo.insertRows(jobId, [row(2), row(3), row(4), row(5), row(6)]);
      await repo.updateRow(jobId, 3, { state: 'invited', userId: 'u-3' });
      await repo.updateRow(jobId, 4, { nextAttemptAt: 5_000, attempts: 1 });
      await repo.updateRow(jobId, 5, { state: 'done' });
      await repo.updateRow(jobId, 6, { state: 'failed', nextAttemptAt: 100 });
      expect((await repo.dueRows(jobId, 0, 1_000, 10)).map((r) => r.rowNumber)).toEqual([2, 3]);
      expect((await repo.dueRows(jobId, 2, 1_000, 10)).map((r) => r.rowNumber)).toEqual([3]);
      expect((await repo.dueRows(jobId, 0, 5_000, 2)).map((r) => r.rowNumber)).toEqual([2, 3]);
      expect((await repo.dueRows(jobId, 3, 5_000, 10)).map((r) => r.rowNumber)).toEqual([4]);
      expect(await repo.nextDue(jobId)).toBe(0);
      await repo.updateRow(jobId, 2, { state: 'done' });
      await repo.updateRow(jobId, 3, { state: 'done' });
      expect(await repo.nextDue(jobId)).toBe(5_000);
      await repo.updateRow(jobId, 4, { state: 'failed' });
      expect(await repo.nextDue(jobId)).toBeNull();
    });

    it('rows in one state, in order and paged; counts per state with every state present', async () => {
      await repo.insertRows(jobId, [row(2, { state: 'needsApproval' }), row(3), row(4, { state: 'needsApproval' }), row(5, { state: 'invalid', error: 'bad address' })]);
      expect((await repo.rowsInState(jobId, 'needsApproval', 0, 10)).map((r) => r.rowNumber)).toEqual([2, 4]);
      expect((await repo.rowsInState(jobId, 'needsApproval', 2, 10)).map((r) => r.rowNumber)).toEqual([4]);
      expect((await repo.rowsInState(jobId, 'needsApproval', 0, 1)).map((r) => r.rowNumber)).toEqual([2]);
      expect(await repo.counts(jobId)).toEqual({ ...emptyCounts(), needsApproval: 2, pending: 1, invalid: 1 });
    });

    it('the access end a row asked for is kept, and replaced by the end its guest got', async () => {
      await repo.insertRows(jobId, [row(2, { accessEnd: '2027-05-30' }), row(3, { accessEnd: '90d' }), row(4)]);
      expect((await repo.getRow(jobId, 2))?.accessEnd).toBe('2027-05-30');
      expect((await repo.getRow(jobId, 3))?.accessEnd).toBe('90d');
      expect((await repo.getRow(jobId, 4))?.accessEnd).toBeNull();
      await repo.updateRow(jobId, 3, { state: 'done', accessEnd: '2026-04-01' });
      await repo.updateRow(jobId, 4, { state: 'done', accessEnd: 'none' });
      expect((await repo.rowsAfter(jobId, 0, 10)).map((r) => r.accessEnd)).toEqual(['2027-05-30', '2026-04-01', 'none']);
    });

    it('a row update changes only the fields given', async () => {
      await repo.insertRows(jobId, [row(2)]);
      await repo.updateRow(jobId, 2, { state: 'sentForApproval', approvalRequestId: 'req-1', status: 'PendingApproval', lockVersion: 4, invitationRecordId: 'rec-1' });
      await repo.updateRow(jobId, 2, { sendEmail: false, lockVersion: null });
      expect(await repo.getRow(jobId, 2)).toMatchObject({
        state: 'sentForApproval',
        approvalRequestId: 'req-1',
        status: 'PendingApproval',
        lockVersion: null,
        invitationRecordId: 'rec-1',
        sendEmail: false,
        name: 'Partner 2',
      });
      await repo.updateRow(jobId, 2, {});
      expect((await repo.getRow(jobId, 2))?.state).toBe('sentForApproval');
    });

    it('the default site goes to rows without one only', async () => {
      await repo.insertRows(jobId, [row(2, { groupId: null, siteName: null, siteUrl: null }), row(3, { groupId: 'g-other', siteName: 'Other', siteUrl: 'https://o' })]);
      await repo.assignDefaultSite(jobId, SITE);
      expect(await repo.getRow(jobId, 2)).toMatchObject({ groupId: SITE.groupId, siteName: SITE.siteName, siteUrl: SITE.siteUrl });
      expect(await repo.getRow(jobId, 3)).toMatchObject({ groupId: 'g-other', siteName: 'Other' });
    });

    it('invitation emails: new guests (done with a link), emailed by their own column or the default; the others in order', async () => {
      await repo.insertRows(jobId, [row(2), row(3, { sendEmail: true }), row(4, { sendEmail: false }), row(5), row(6)]);
      for (const n of [2, 3, 4, 5]) await repo.updateRow(jobId, n, { state: 'done', redeemUrl: `https://invite.example/${n}` });
      await repo.updateRow(jobId, 6, { state: 'done' }); // an existing guest: no invitation link
      expect(await repo.invitationEmails(jobId, false)).toEqual({ invited: 4, emailed: 1, notEmailed: 3 });
      expect(await repo.invitationEmails(jobId, true)).toEqual({ invited: 4, emailed: 3, notEmailed: 1 });
      expect((await repo.rowsNotEmailed(jobId, false, 0, 10)).map((r) => r.rowNumber)).toEqual([2, 4, 5]);
      expect((await repo.rowsNotEmailed(jobId, false, 2, 1)).map((r) => r.rowNumber)).toEqual([4]);
      expect((await repo.rowsNotEmailed(jobId, true, 0, 10)).map((r) => r.rowNumber)).toEqual([4]);
    });

    it('cancelling the rest marks pending rows only, with the reason', async () => {
      await repo.insertRows(jobId, [row(2), row(3), row(4)]);
      await repo.updateRow(jobId, 3, { state: 'invited', userId: 'u-3' });
      expect(await repo.cancelRemaining(jobId, 'Cancelled before it was sent.', '2026-01-05T09:00:00.000Z')).toBe(2);
      expect(await repo.getRow(jobId, 2)).toMatchObject({ state: 'cancelled', error: 'Cancelled before it was sent.', time: '2026-01-05T09:00:00.000Z' });
      expect((await repo.getRow(jobId, 3))?.state).toBe('invited');
      expect(await repo.cancelRemaining(jobId, 'again', 'x')).toBe(0);
    });
  });

  describe('clean-up', () => {
    it('drafts (and discarded drafts) older than the cutoff go with their rows; confirmed jobs and newer drafts stay', async () => {
      const old = await repo.createDraft(draftInput());
      const oldDiscarded = await repo.createDraft(draftInput());
      const oldQueued = await repo.createDraft(draftInput());
      await repo.insertRows(old.id, [row(2), row(3)]);
      await repo.transition(oldDiscarded.id, ['draft'], { state: 'discarded' });
      await repo.transition(oldQueued.id, ['draft'], { state: 'queued' });
      clock.ms += 10_000;
      const fresh = await repo.createDraft(draftInput());

      expect(await repo.discardDraftsOlderThan(clock.ms)).toBe(2);
      expect(await repo.get(old.id)).toBeNull();
      expect(await repo.get(oldDiscarded.id)).toBeNull();
      expect(await repo.getRow(old.id, 2)).toBeNull();
      expect(await repo.counts(old.id)).toEqual(emptyCounts());
      expect((await repo.get(oldQueued.id))?.state).toBe('queued');
      expect((await repo.get(fresh.id))?.state).toBe('draft');
      expect(await repo.discardDraftsOlderThan(clock.ms)).toBe(0);
    });

    it('delete removes a job with its rows', async () => {
      const job = await repo.createDraft(draftInput());
      await repo.insertRows(job.id, [row(2)]);
      await repo.delete(job.id);
      expect(await repo.get(job.id)).toBeNull();
      expect(await repo.getRow(job.id, 2)).toBeNull();
      expect(await repo.rowsAfter(job.id, 0, 10)).toEqual([]);
    });
  });
});
