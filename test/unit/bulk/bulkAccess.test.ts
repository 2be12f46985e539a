/**
 * Bulk rows and the guest lifecycle: each guest a row adds gets a recorded access (sponsor: the
 * person who started the job; end: the row's own end-date or days column, else the site's
 * period), the CSV's end column is checked with a clear reason per row, the summary card says
 * the ends and the results file carries them.
 */
import { systemClock } from '../../../src/domain/clock';
import { DAY_MS, DEFAULT_LIFECYCLE_SETTINGS, type LifecycleSettings } from '../../../src/domain/lifecycle';
import { formatAccessDay } from '../../../src/domain/accessEnd';
import { guestAccountsFrom } from '../../../src/app/lifecycleWiring';
import { createGuestLifecycle } from '../../../src/usecases/lifecycle/guestLifecycle';
import { AccessRecording, RECORD_ACCESS_WORK, type AccessRecorder } from '../../../src/usecases/invite/accessRecording';
import { resultsCsvText } from '../../../src/usecases/bulk/resultsCsv';
import { bulkSummaryCardData } from '../../../src/teams/bulk/cards/summaryCard';
import type { Store } from '../../../src/adapters/repositories';
import { FALCON, MEGAN, allRows, bulkTestEnv, type BulkTestEnv } from '../../support/bulkEnv';
import { DEMO } from '../../support/directory';
import { RecordingNotifier } from '../../support/lifecycle';
import { memoryStore } from '../../support/store';

const day = (msFromNow: number): string => new Date(Date.now() + msFromNow).toISOString().slice(0, 10);

function withLifecycle(settings: Partial<LifecycleSettings> = {}, recorder?: AccessRecorder): { env: BulkTestEnv; store: Store; access: AccessRecording } {
  const store = memoryStore();
  let env: BulkTestEnv | null = null;
  const full = { ...DEFAULT_LIFECYCLE_SETTINGS, ...settings };
  const fakeHolder: { directory?: BulkTestEnv['fake'] } = {};
  const lifecycle = {
    recordAccess: (input: Parameters<AccessRecorder['recordAccess']>[0]) =>
      createGuestLifecycle({
        access: store.guestAccess,
        work: store.scheduledWork,
        accounts: guestAccountsFrom(fakeHolder.directory as BulkTestEnv['fake']),
        notifier: new RecordingNotifier(),
        audit: store.audit,
        clock: systemClock,
        settings: full,
        approvals: null,
      }).recordAccess(input),
  };
  const access = new AccessRecording({
    recorder: recorder ?? lifecycle,
    work: store.scheduledWork,
    invitations: { get: (id) => (env as BulkTestEnv).invitations.get(id) },
    accessRecords: store.guestAccess,
    settings: full,
    clock: systemClock,
  });
  env = bulkTestEnv({ access });
  fakeHolder.directory = env.fake;
  return { env, store, access };
}

async function run(env: BulkTestEnv, csv: string) {
  const job = await env.submit(csv);
  await env.runner.start(job.id);
  await env.runner.whenFinished(job.id);
  return job;
}

async function accessOf(store: Store, userId: string) {
  return store.guestAccess.findByKey({ tenantId: DEMO.tenantId, groupId: FALCON.id, userId });
}

describe('bulk rows record the guest access', () => {
  it('each new guest: sponsor the person who started the job (on the invitation too), the default end or the row\'s own', async () => {
    const { env, store } = withLifecycle();
    const ownDate = day(60 * DAY_MS);
    const csv = `Name,Email,Access ends on,Access days\nAna,ana@example.org,,\nBo,bo@example.org,${ownDate},\nCy,cy@example.org,,30\n`;
    const job = await run(env, csv);
    expect(await env.jobs.counts(job.id)).toMatchObject({ done: 3, failed: 0 });
    const rows = await allRows(env.jobs, job.id);
    const [ana, bo, cy] = await Promise.all(rows.map((r) => accessOf(store, r.userId as string)));

    for (const a of [ana, bo, cy]) expect(a).toMatchObject({ state: 'invited', sponsor: { id: MEGAN.userId, name: 'Megan Bowen' } });
    expect(ana?.endsAt?.slice(0, 10)).toBe(day(180 * DAY_MS));
    expect(bo?.endsAt).toBe(`${ownDate}T23:59:59.999Z`);
    expect(cy?.endsAt?.slice(0, 10)).toBe(day(30 * DAY_MS));
    // invitedUserSponsors: Entra has the job's requester as each new guest's sponsor.
    for (const r of rows) expect((await env.fake.listSponsors(r.userId as string)).map((s) => s.id)).toEqual([MEGAN.userId]);

    // The results file says the end each guest got.
    const csvOut = (await resultsCsvText(env.jobs, job.id)).replace(/^\uFEFF/, '').trim().split('\r\n');
    expect(csvOut[0]?.endsWith(',error,Access ends on')).toBe(true);
    expect(csvOut[1]?.endsWith(`,success,${day(180 * DAY_MS)}`)).toBe(true);
    expect(csvOut[2]?.endsWith(`,success,${ownDate}`)).toBe(true);
    expect(csvOut[3]?.endsWith(`,success,${day(30 * DAY_MS)}`)).toBe(true);
  });

  it('an existing guest counts as redeemed per its state; a member of the organisation gets no record', async () => {
    const { env, store } = withLifecycle();
    const job = await run(env, `Name,Email\nJordan,${DEMO.users.jordan.mail}\nLee,${DEMO.users.leeGu.mail}\nAdele,${DEMO.users.adele.mail}\n`);
    expect(await env.jobs.counts(job.id)).toMatchObject({ done: 3 });
    expect(await accessOf(store, DEMO.users.jordan.id)).toMatchObject({ state: 'accepted', sponsor: { id: MEGAN.userId } });
    expect(await accessOf(store, DEMO.users.leeGu.id)).toMatchObject({ state: 'invited' });
    expect(await accessOf(store, DEMO.users.adele.id)).toBeNull();
    // No invitation was sent to them: the lifecycle added the sponsor to the existing guests.
    expect((await env.fake.listSponsors(DEMO.users.jordan.id)).map((s) => s.id)).toContain(MEGAN.userId);
  });

  it('a site without an end records none, and "none" in the file is accepted there', async () => {
    const { env, store } = withLifecycle({ siteAccessDays: { [FALCON.id.toLowerCase()]: null } });
    const job = await run(env, 'Name,Email,Access ends on\nAna,ana@example.org,none\n');
    const [row] = await allRows(env.jobs, job.id);
    expect(row?.state).toBe('done');
    expect((await accessOf(store, row?.userId as string))?.endsAt).toBeNull();
    expect((await resultsCsvText(env.jobs, job.id)).trim().endsWith(',success,none')).toBe(true);
  });

  it('the same file run again records nothing twice', async () => {
    const { env, store } = withLifecycle();
    await run(env, 'Name,Email\nAna,ana@example.org\n');
    await run(env, 'Name,Email\nAna,ana@example.org\n');
    expect(await store.guestAccess.listByGroup(DEMO.tenantId, FALCON.id)).toHaveLength(1);
  });

  it('a failed recording never fails the row: the guest is in, and the recording waits as due work', async () => {
    const failing: AccessRecorder = {
      recordAccess: async () => {
        throw new Error('store unavailable');
      },
    };
    const { env, store } = withLifecycle({}, failing);
    const job = await run(env, 'Name,Email\nAna,ana@example.org\n');
    const [row] = await allRows(env.jobs, job.id);
    expect(row?.state).toBe('done');
    expect(env.fake.snapshot().groups.find((g) => g.id === FALCON.id)?.members).toContain(row?.userId);
    expect(await store.scheduledWork.get(RECORD_ACCESS_WORK, row?.invitationRecordId as string)).not.toBeNull();
  });
});

describe('the CSV end-date column', () => {
  const max = (): string => day(180 * DAY_MS);

  it.each([
    ['a date in the past', 'Access ends on', '2020-01-31', /is not in the future/],
    ['today', 'Access ends on', day(0), /is not in the future/],
    ['beyond the site\'s maximum', 'Access ends on', day(400 * DAY_MS), /later than this site allows \(at most 180 days/],
    ['garbage', 'Expiry date', 'soon', /access end date: "soon" is not a date I can read: write it as 2027-05-30/],
    ['an impossible date', 'End date', '2027-02-30', /"2027-02-30" is not a real date/],
    ['an ambiguous day/month', 'Expires', '05/06/2027', /could be read day-first or month-first/],
    ['too many days', 'Access days', '400', /400 access days is more than this site allows \(at most 180 days\)/],
    ['days that are not a number', 'Days', 'three', /must be a whole number of days/],
    ['"none" where the site has an end', 'Access ends on', 'none', /only sites set up without an end date allow that/],
  ])('refuses %s with a clear reason for that row, and keeps the other rows', async (_label, column, value, reason) => {
    const { env } = withLifecycle();
    const staged = await env.stage(`Name,Email,${column}\nAna,ana@example.org,${value}\nBo,bo@example.org,\n`);
    expect(staged.summary.invalid).toBe(1);
    expect(staged.summary.toSend).toBe(1);
    expect(staged.summary.invalidRows[0]?.reason).toMatch(reason);
  });

  it.each([
    ['ISO', 'Access ends on', () => day(90 * DAY_MS)],
    ['a named month', 'Expiry', () => formatAccessDay(`${day(90 * DAY_MS)}T12:00:00Z`)],
    ['a number of days', 'accessDays', () => '90'],
    ['days with the word', 'Duration (days)', () => '90 days'],
  ])('accepts %s (%s)', async (_label, column, value) => {
    const { env } = withLifecycle();
    const staged = await env.stage(`Name,Email,${column}\nAna,ana@example.org,${value()}\n`);
    expect(staged.summary.invalidRows).toEqual([]);
    expect(staged.summary.toSend).toBe(1);
    expect(staged.summary.ownAccessEnd).toBe(1);
  });

  it('refuses a row that gives both a date and days', async () => {
    const { env } = withLifecycle();
    const staged = await env.stage(`Name,Email,Access ends on,Access days\nAna,ana@example.org,${max()},30\n`);
    expect(staged.summary.invalidRows[0]?.reason).toMatch(/both an access end date and a number of access days/);
  });

  it('the summary card shows the default end per site and how many rows set their own', async () => {
    const { env } = withLifecycle();
    const staged = await env.stage(`Name,Email,Access days\nAna,ana@example.org,30\nBo,bo@example.org,\n`);
    const data = bulkSummaryCardData(staged.job, staged.siteChoices);
    expect(data.hasAccessEnds).toBe(true);
    expect(data.accessEnds).toEqual([{ siteName: 'Project Falcon', endText: `Access ends on ${formatAccessDay(`${max()}T12:00:00Z`)}` }]);
    expect(data.accessNote).toContain('1 row gives its own end date');
    expect(data.accessNote).toContain("Megan Bowen becomes each new guest's sponsor");
  });

  it('the summary names the columns it read, as the file writes them, end column included', async () => {
    const { env } = withLifecycle();
    const withEnd = await env.stage(`Name,Email,Notes,Access days\nAna,ana@example.org,met at the fair,30\n`);
    expect(bulkSummaryCardData(withEnd.job, withEnd.siteChoices).formatLabel).toBe('Name,Email,Access days');
    const plain = await env.stage(`Name,Email\nAna,ana@example.org\n`);
    expect(bulkSummaryCardData(plain.job, plain.siteChoices).formatLabel).toBe('Name,Email');
  });

  it('without the guest lifecycle the column is read but no end is promised on the summary', async () => {
    const env = bulkTestEnv();
    const staged = await env.stage(`Name,Email,Access days\nAna,ana@example.org,30\n`);
    expect(staged.summary.toSend).toBe(1);
    expect(bulkSummaryCardData(staged.job, staged.siteChoices).hasAccessEnds).toBe(false);
  });
});
