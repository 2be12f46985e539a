/**
 * "guests report" and the exports on a seeded store (test/support/reports.ts), checked against
 * figures worked out by hand from the seed; the CSVs are parsed back with csv-parse.
 */
import { parse } from 'csv-parse/sync';
import { openMemoryStore } from '../../../src/adapters/memory/store';
import { methodLabel } from '../../../src/domain/signInWording';
import { AUDIT_EXPORT_COLUMNS, GUEST_EXPORT_COLUMNS, auditOutcome, streamText } from '../../../src/usecases/reports/exportFiles';
import { parseExportFileId } from '../../../src/usecases/reports/reportsService';
import { manualClock, memoryStore, type ManualClock } from '../../support/store';
import { actor, NOW, OTHER_TENANT, PEOPLE, reportsOver, seedReportStore, SITES, TENANT } from '../../support/reports';

function parseCsv(text: string): Array<Record<string, string>> {
  expect(text.startsWith('\ufeff')).toBe(true);
  expect(text).toContain('\r\n');
  return parse(text, { bom: true, columns: true, skip_empty_lines: true }) as Array<Record<string, string>>;
}

describe.each([
  ['SQLite', (clock: ManualClock) => memoryStore([], { clock })],
  ['memory', (clock: ManualClock) => openMemoryStore({ clock })],
])('guests report on a seeded store (%s)', (_name, open) => {
  it('shows the figures worked out by hand from the seed', async () => {
    const clock = manualClock(NOW);
    const store = open(clock);
    await seedReportStore(store, clock);
    const { service } = reportsOver(store, clock);

    const answer = await service.guestReport(actor('approver'));
    if (answer.kind !== 'report') throw new Error(answer.message);
    const r = answer.report;

    // Running access: #1 #2 #3 #4 #7 (5 records); guests Jane (two sites), Omar, Priya, Lee.
    expect(r.activeAccess).toBe(5);
    expect(r.activeGuests).toBe(4);
    expect(Object.fromEntries(r.byState.map((s) => [s.state, s.count]))).toEqual({
      invited: 2, // #2, #4
      accepted: 1, // #1
      endingSoon: 2, // #3 (5 days), #7 (3 days) within the 14-day reminder reach
      ended: 1,
      withdrawn: 1,
      removed: 0,
    });
    expect(r.bySite.rows).toEqual([
      { label: SITES.falcon.siteName, count: 3 },
      { label: SITES.marketing.siteName, count: 2 },
    ]);
    expect(r.bySponsor.rows).toEqual([
      { label: PEOPLE.alex.name, count: 3 },
      { label: PEOPLE.megan.name, count: 2 },
    ]);
    expect(r.bySignInMethod.rows).toEqual([
      { label: 'unknown', count: 2 }, // #3 and #7 have no invitation record
      { label: `${methodLabel('googleFederation')} (expected)`, count: 1 },
      { label: `${methodLabel('emailOneTimePasscode')} (expected)`, count: 1 },
      { label: methodLabel('workOrSchoolAccount'), count: 1 },
    ].sort((a, b) => b.count - a.count || a.label.localeCompare(b.label)));
    expect(r.bySignInMethod.total).toBe(5);
    // Pending: two invitations (4 and 1 days) and one reset; the other tenant's is not ours.
    expect(r.pendingApprovals).toEqual({ total: 3, invitations: 2, resets: 1, oldestDays: 4 });
    // Last 30 days, not failed, this tenant: Alex #2 (10 d) #4 (3 d); Megan zoe (5 d).
    expect(r.invitationsByOwner.rows).toEqual([
      { label: PEOPLE.alex.name, count: 2 },
      { label: PEOPLE.megan.name, count: 1 },
    ]);
    expect(r.invitationsByOwner.total).toBe(3);
    // Invited and not redeemed for more than 7 days: Lee (20 d), Jane on Marketing (10 d), oldest first.
    expect(r.unredeemed.total).toBe(2);
    expect(r.unredeemed.oldest.map((u) => [u.guestName, u.siteName, u.sponsorName, u.daysWaiting])).toEqual([
      ['Lee Gu', SITES.marketing.siteName, PEOPLE.alex.name, 20],
      ['Jane Doe', SITES.marketing.siteName, PEOPLE.alex.name, 10],
    ]);
  });

  it('refuses owners, guests and an unknown sender, shows them no figure, and records the refusal', async () => {
    const clock = manualClock(NOW);
    const store = open(clock);
    await seedReportStore(store, clock);
    const { service } = reportsOver(store, clock);

    for (const who of ['megan', 'guest'] as const) {
      const answer = await service.guestReport(actor(who));
      expect(answer).toEqual({ kind: 'refused', reason: 'notApprover', message: expect.stringMatching(/approver group/) });
      const link = await service.exportLink(actor(who), { kind: 'guests' });
      expect(link).toMatchObject({ kind: 'refused', reason: 'notApprover' });
    }
    expect(await service.guestReport(null)).toMatchObject({ kind: 'refused', reason: 'unknownUser' });
    const refusals = await store.audit.list({ action: 'report.refused' });
    expect(refusals.map((e) => [e.actorId, e.subjectId])).toEqual([
      [PEOPLE.megan.id, 'guests'],
      [PEOPLE.megan.id, 'export:guests'],
      [PEOPLE.guest.id, 'guests'],
      [PEOPLE.guest.id, 'export:guests'],
    ]);
  });

  it('says it cannot check rights (and shows nothing) when the directory does not answer', async () => {
    const clock = manualClock(NOW);
    const store = open(clock);
    const { service } = reportsOver(store, clock, { rights: { isApprover: () => Promise.reject(new Error('503')) } });
    expect(await service.guestReport(actor('approver'))).toMatchObject({ kind: 'refused', reason: 'unavailable' });
  });

  it('exports every guest as CSV, parsed back: the seed, no redeem link, formulas neutralised', async () => {
    const clock = manualClock(NOW);
    const store = open(clock);
    await seedReportStore(store, clock);
    const { service, signer } = reportsOver(store, clock);

    const link = await service.exportLink(actor('approver'), { kind: 'guests' });
    if (link.kind !== 'link') throw new Error(link.message);
    expect(link.url).toMatch(/^https:\/\/bot\.contoso\.example\/exports\/file\?t=/);
    expect(link.fileName).toBe('guests-2026-12-01.csv');
    const claims = signer.verify(decodeURIComponent(new URL(link.url).searchParams.get('t') ?? ''));
    const file = await service.openExport(claims);
    if (!file) throw new Error('refused');
    const text = await streamText(file.stream);
    // The seed keeps redeem links on the access and invitation records: none reaches the file.
    expect(text).not.toMatch(/login\.microsoftonline\.com|redeem\?rd=/);
    const rows = parseCsv(text);
    expect(Object.keys(rows[0] ?? {})).toEqual([...GUEST_EXPORT_COLUMNS]);
    expect(rows).toHaveLength(7);
    // Site by site (Contoso Marketing first), newest invitation first within a site.
    expect(rows.map((r) => [r.Site, r.Guest, r.State])).toEqual([
      [SITES.marketing.siteName, 'Jane Doe', 'invited (not redeemed)'],
      [SITES.marketing.siteName, 'Lee Gu', 'ending soon'],
      [SITES.marketing.siteName, 'Nora Quinn', 'ended'],
      [SITES.falcon.siteName, 'Priya Shah', 'invited (not redeemed)'],
      [SITES.falcon.siteName, 'Jane Doe', 'accepted'],
      [SITES.falcon.siteName, 'Ivan Petrov', 'withdrawn'],
      [SITES.falcon.siteName, 'Omar Haddad', 'ending soon'],
    ]);
    const priya = rows.find((r) => r.Guest === 'Priya Shah');
    // "=priya@…" would run as a formula in Excel: kept as text with an apostrophe.
    expect(priya?.Email).toBe("'=priya@gmail.com");
    expect(priya).toMatchObject({ Sponsor: PEOPLE.alex.name, 'Invited by': PEOPLE.alex.name, 'Sign-in method': `${methodLabel('googleFederation')} (expected)` });
    expect(rows.find((r) => r.Guest === 'Nora Quinn')).toMatchObject({ 'End reason': 'expired', Ended: '2026-11-30T09:00:00.000Z' });
    expect(await store.audit.list({ action: 'export.downloaded' })).toHaveLength(1);
  });

  it('exports the audit log of a period as CSV, parsed back, with outcomes and no secrets', async () => {
    const clock = manualClock('2026-10-31T23:00:00.000Z');
    const store = open(clock);
    const who = { actorId: PEOPLE.megan.id, actorName: PEOPLE.megan.name };
    await store.audit.append({ ...who, action: 'invitation.requested', subjectType: 'invitation', subjectId: 'before' });
    clock.set('2026-11-01T00:00:00.000Z');
    await store.audit.append({ ...who, action: 'invitation.invited', subjectType: 'invitation', subjectId: 'inv-1', details: { userId: 'g-jane', redeemUrl: 'https://login.microsoftonline.com/redeem?rd=SECRET' } });
    clock.set('2026-11-15T12:00:00.000Z');
    await store.audit.append({ ...who, action: 'invitation.failed', subjectType: 'invitation', subjectId: 'inv-2', details: { code: '=HYPERLINK("x")' } });
    clock.set('2026-11-30T23:59:59.000Z');
    await store.audit.append({ actorId: PEOPLE.approver.id, actorName: '@Adele', action: 'approval.rejected', subjectType: 'approval', subjectId: 'req-1' });
    clock.set('2026-12-01T00:00:00.000Z');
    await store.audit.append({ ...who, action: 'invitation.requested', subjectType: 'invitation', subjectId: 'after' });
    clock.set(NOW);
    const { service, signer } = reportsOver(store, clock);

    const link = await service.exportLink(actor('approver'), { kind: 'audit', fromDay: '2026-11-01', toDay: '2026-11-30' });
    if (link.kind !== 'link') throw new Error(link.message);
    expect(link.fileName).toBe('audit-2026-11-01-to-2026-11-30.csv');
    const file = await service.openExport(signer.verify(decodeURIComponent(new URL(link.url).searchParams.get('t') ?? '')));
    if (!file) throw new Error('refused');
    const text = await streamText(file.stream);
    expect(text).not.toContain('SECRET');
    const rows = parseCsv(text);
    expect(Object.keys(rows[0] ?? {})).toEqual([...AUDIT_EXPORT_COLUMNS]);
    expect(rows).toEqual([
      { When: '2026-11-01T00:00:00.000Z', Who: PEOPLE.megan.name, 'Who id': PEOPLE.megan.id, Action: 'invitation.invited', Subject: 'invitation inv-1', Outcome: 'done', Details: '{"userId":"g-jane","redeemUrl":"[not exported]"}' },
      { When: '2026-11-15T12:00:00.000Z', Who: PEOPLE.megan.name, 'Who id': PEOPLE.megan.id, Action: 'invitation.failed', Subject: 'invitation inv-2', Outcome: 'failed', Details: '{"code":"=HYPERLINK(\\"x\\")"}' },
      { When: '2026-11-30T23:59:59.000Z', Who: "'@Adele", 'Who id': PEOPLE.approver.id, Action: 'approval.rejected', Subject: 'approval req-1', Outcome: 'rejected', Details: '' },
    ]);
  });

  it('a link whose holder has left the approver group opens nothing, and the refusal is on the record', async () => {
    const clock = manualClock(NOW);
    const store = open(clock);
    const { service, signer, approvers } = reportsOver(store, clock);
    const link = await service.exportLink(actor('approver'), { kind: 'guests' });
    if (link.kind !== 'link') throw new Error(link.message);
    const last = (await store.audit.list({ limit: 1 }))[0]?.seq ?? 0;
    approvers.clear();
    expect(await service.openExport(signer.verify(decodeURIComponent(new URL(link.url).searchParams.get('t') ?? '')))).toBeNull();
    // A bulk job's token never opens an export (and refuses no one: it names no export).
    expect(await service.openExport({ jobId: 'b1e7c1f0-0000-4000-8000-000000000000', userId: PEOPLE.approver.id, tenantId: TENANT, approver: true, expiresAt: 0 })).toBeNull();
    const events = (await store.audit.list({ limit: 100 })).filter((e) => e.seq > last);
    expect(events).toEqual([
      expect.objectContaining({
        action: 'report.refused',
        actorId: PEOPLE.approver.id,
        actorName: '(export link)',
        subjectType: 'report',
        subjectId: 'export:guests',
        details: { attempted: 'download', reason: 'notApprover' },
      }),
    ]);
  });

  it('a link opened while the directory cannot say who is an approver opens nothing, and is no refusal', async () => {
    const clock = manualClock(NOW);
    const store = open(clock);
    let failing = false;
    const approvers = new Set<string>([PEOPLE.approver.id]);
    const { service, signer } = reportsOver(store, clock, {
      rights: {
        isApprover: async (userId) => {
          if (failing) throw new Error('directory unavailable');
          return approvers.has(userId);
        },
      },
    });
    const link = await service.exportLink(actor('approver'), { kind: 'guests' });
    if (link.kind !== 'link') throw new Error(link.message);
    const last = (await store.audit.list({ limit: 1 }))[0]?.seq ?? 0;
    failing = true;
    expect(await service.openExport(signer.verify(decodeURIComponent(new URL(link.url).searchParams.get('t') ?? '')))).toBeNull();
    expect((await store.audit.list({ limit: 100 })).filter((e) => e.seq > last)).toEqual([]);
  });
});

describe('export file ids and outcomes', () => {
  it('round-trips the ids and refuses anything else', () => {
    expect(parseExportFileId('export:guests')).toEqual({ kind: 'guests' });
    expect(parseExportFileId('export:audit:2026-11-01:2026-11-30')).toEqual({ kind: 'audit', fromDay: '2026-11-01', toDay: '2026-11-30' });
    expect(parseExportFileId('export:audit:2026-02-30:2026-11-30')).toBeNull();
    expect(parseExportFileId('export:other')).toBeNull();
    expect(OTHER_TENANT).not.toBe(TENANT);
  });

  it.each([
    ['invitation.completed', {}, 'done'],
    ['invitation.partial', {}, 'partial'],
    ['invitation.refused', { attempted: 'retry', reason: 'notOwner' }, 'refused'],
    ['redemptionReset.declined', {}, 'rejected'],
    ['approval.expired', {}, 'expired'],
    ['approval.carriedOut', { status: 'failed' }, 'failed'],
  ])('%s with %j reads as %s', (action, details, outcome) => {
    expect(auditOutcome({ action, details })).toBe(outcome);
  });
});
