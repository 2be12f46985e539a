/**
 * A store seeded for reports: guests at every stage on two sites with two sponsors, their
 * invitation records, pending approvals and audit events, at a fixed time. The figures a report
 * must show are worked out by hand in test/unit/reports/guestReport.test.ts.
 */
import type { Store } from '../../src/adapters/repositories';
import { DAY_MS, DEFAULT_LIFECYCLE_SETTINGS } from '../../src/domain/lifecycle';
import type { SignInMethod } from '../../src/domain/signInAdvice';
import type { GuestAccessState } from '../../src/domain/lifecycle';
import { ResultsLinkSigner } from '../../src/usecases/bulk/resultsLink';
import { ReportsService } from '../../src/usecases/reports/reportsService';
import type { ReportsDeps } from '../../src/usecases/reports/model';
import type { InvitationState } from '../../src/usecases/ports/invitations';
import type { ManualClock } from './store';

export const TENANT = '11111111-2222-3333-4444-555555555555';
export const OTHER_TENANT = '99999999-2222-3333-4444-555555555555';
export const NOW = '2026-12-01T09:00:00.000Z';

export const SITES = {
  falcon: { groupId: 'aaaaaaaa-0001-4000-8000-000000000001', siteName: 'Project Falcon', siteUrl: 'https://contoso.sharepoint.com/sites/falcon' },
  marketing: { groupId: 'aaaaaaaa-0002-4000-8000-000000000002', siteName: 'Contoso Marketing', siteUrl: 'https://contoso.sharepoint.com/sites/marketing' },
} as const;

export const PEOPLE = {
  megan: { id: 'bbbbbbbb-0001-4000-8000-000000000001', name: 'Megan Bowen' },
  alex: { id: 'bbbbbbbb-0002-4000-8000-000000000002', name: 'Alex Wilber' },
  /** In the approver group in these tests. */
  approver: { id: 'bbbbbbbb-0003-4000-8000-000000000003', name: 'Adele Vance' },
  /** A guest account (never an approver). */
  guest: { id: 'cccccccc-0001-4000-8000-000000000001', name: 'Jane Doe' },
} as const;

const ago = (days: number): string => new Date(Date.parse(NOW) - days * DAY_MS).toISOString();
const ahead = (days: number): string => new Date(Date.parse(NOW) + days * DAY_MS).toISOString();

interface SeedAccess {
  user: string;
  name: string;
  email: string;
  site: keyof typeof SITES;
  sponsor: keyof typeof PEOPLE;
  state: GuestAccessState;
  invitedDaysAgo: number;
  endsInDays: number | null;
  invitation?: { by: keyof typeof PEOPLE; predicted?: SignInMethod; actual?: SignInMethod };
}

/** The guests' access: see the expected figures in the report test. */
export const SEED_ACCESS: SeedAccess[] = [
  // 1. running, redeemed with a work account.
  { user: 'g-jane', name: 'Jane Doe', email: 'jane@fabrikam.com', site: 'falcon', sponsor: 'megan', state: 'accepted', invitedDaysAgo: 40, endsInDays: 100, invitation: { by: 'megan', predicted: 'workOrSchoolAccount', actual: 'workOrSchoolAccount' } },
  // 2. the same guest on a second site, not redeemed for 10 days; passcode advised.
  { user: 'g-jane', name: 'Jane Doe', email: 'Jane@Fabrikam.com', site: 'marketing', sponsor: 'alex', state: 'invited', invitedDaysAgo: 10, endsInDays: 170, invitation: { by: 'alex', predicted: 'emailOneTimePasscode' } },
  // 3. ends in 5 days (within the 14-day reminder reach): ending soon; no invitation record.
  { user: 'g-omar', name: 'Omar Haddad', email: 'omar@outlook.com', site: 'falcon', sponsor: 'megan', state: 'accepted', invitedDaysAgo: 175, endsInDays: 5 },
  // 4. invited 3 days ago (not "unredeemed over 7 days" yet); Google advised.
  { user: 'g-priya', name: 'Priya Shah', email: '=priya@gmail.com', site: 'falcon', sponsor: 'alex', state: 'invited', invitedDaysAgo: 3, endsInDays: 177, invitation: { by: 'alex', predicted: 'googleFederation' } },
  // 5. ended.
  { user: 'g-nora', name: 'Nora Quinn', email: 'nora@tailspintoys.com', site: 'marketing', sponsor: 'megan', state: 'ended', invitedDaysAgo: 200, endsInDays: -20 },
  // 6. withdrawn.
  { user: 'g-ivan', name: 'Ivan Petrov', email: 'ivan@litware.com', site: 'falcon', sponsor: 'megan', state: 'withdrawn', invitedDaysAgo: 60, endsInDays: 120 },
  // 7. never redeemed for 20 days and ends in 3: ending soon, and unredeemed.
  { user: 'g-lee', name: 'Lee Gu', email: 'lee@northwind.com', site: 'marketing', sponsor: 'alex', state: 'invited', invitedDaysAgo: 20, endsInDays: 3 },
];

async function seedInvitation(
  store: Store,
  input: { tenantId: string; email: string; site: keyof typeof SITES; by: keyof typeof PEOPLE; createdDaysAgo: number; state: InvitationState; predicted?: SignInMethod; actual?: SignInMethod },
  clock: ManualClock,
): Promise<string> {
  clock.set(ago(input.createdDaysAgo));
  const site = SITES[input.site];
  const { record } = await store.invitations.claim({
    tenantId: input.tenantId,
    emailNormalised: input.email.toLowerCase(),
    groupId: site.groupId,
    emailDisplay: input.email,
    displayName: input.email,
    siteName: site.siteName,
    siteUrl: site.siteUrl,
    requestedBy: PEOPLE[input.by],
    source: 'chat',
    predictedMethod: input.predicted ?? null,
  });
  await store.invitations.update(record.id, record.version, {
    state: input.state,
    actualMethod: input.actual ?? null,
    redeemUrl: input.state === 'failed' ? null : `https://login.microsoftonline.com/redeem?rd=secret-${record.id}`,
  });
  return record.id;
}

/** Seeds the store (the clock moves while seeding and ends at NOW). */
export async function seedReportStore(store: Store, clock: ManualClock, tenantId = TENANT): Promise<void> {
  for (const seed of SEED_ACCESS) {
    const invitationRecordId = seed.invitation
      ? await seedInvitation(
          store,
          { tenantId, email: seed.email, site: seed.site, by: seed.invitation.by, createdDaysAgo: seed.invitedDaysAgo, state: 'completed', predicted: seed.invitation.predicted, actual: seed.invitation.actual },
          clock,
        )
      : null;
    clock.set(ago(seed.invitedDaysAgo));
    const site = SITES[seed.site];
    const { record } = await store.guestAccess.claim({
      tenantId,
      groupId: site.groupId,
      userId: seed.user,
      siteName: site.siteName,
      siteUrl: site.siteUrl,
      email: seed.email,
      displayName: seed.name,
      invitationRecordId,
      sponsor: PEOPLE[seed.sponsor],
      invitedAt: ago(seed.invitedDaysAgo),
      acceptedAt: seed.state === 'accepted' || seed.state === 'ended' ? ago(seed.invitedDaysAgo - 1) : null,
      endsAt: seed.endsInDays === null ? null : ahead(seed.endsInDays),
      state: seed.state === 'accepted' || seed.state === 'invited' ? seed.state : 'accepted',
      nextUnredeemedReminderAt: null,
    });
    // A redeem link kept for Resend: exports must never carry it.
    let current = (await store.guestAccess.update(record.id, record.version, { redeemUrl: `https://login.microsoftonline.com/redeem?rd=access-${record.id}` })) ?? record;
    if (seed.state === 'ended' || seed.state === 'withdrawn' || seed.state === 'removed') {
      current = (await store.guestAccess.update(current.id, current.version, { state: seed.state, endedAt: ago(1), endReason: seed.state === 'ended' ? 'expired' : seed.state === 'withdrawn' ? 'withdrawn' : 'removed' })) ?? current;
    }
  }
  // Invitations in the last 30 days with no access record: one completed by Megan, one that
  // failed (not counted), one in another tenant (not counted), one older than 30 days (not counted).
  await seedInvitation(store, { tenantId, email: 'zoe@contoso-partner.com', site: 'falcon', by: 'megan', createdDaysAgo: 5, state: 'completed' }, clock);
  await seedInvitation(store, { tenantId, email: 'bad@fabrikam.com', site: 'falcon', by: 'megan', createdDaysAgo: 2, state: 'failed' }, clock);
  await seedInvitation(store, { tenantId: OTHER_TENANT, email: 'x@fabrikam.com', site: 'falcon', by: 'megan', createdDaysAgo: 2, state: 'completed' }, clock);
  await seedInvitation(store, { tenantId, email: 'old@fabrikam.com', site: 'marketing', by: 'alex', createdDaysAgo: 45, state: 'completed' }, clock);

  // Pending approvals: two invitations (4 and 1 days old) and a reset (2 days); one in another tenant.
  const pending = [
    { days: 4, tenantId, kind: 'invitation' as const },
    { days: 1, tenantId, kind: 'invitation' as const },
    { days: 2, tenantId, kind: 'redemptionReset' as const },
    { days: 9, tenantId: OTHER_TENANT, kind: 'invitation' as const },
  ];
  for (const [i, p] of pending.entries()) {
    clock.set(ago(p.days));
    await store.approvalRequests.create({
      tenantId: p.tenantId,
      requester: { userId: PEOPLE.megan.id, name: PEOPLE.megan.name, tenantId: p.tenantId },
      requesterConversationId: null,
      subject:
        p.kind === 'invitation'
          ? { kind: 'invitation', guestName: `Guest ${i}`, guestEmail: `g${i}@fabrikam.com`, groupId: SITES.falcon.groupId, siteName: SITES.falcon.siteName, siteUrl: SITES.falcon.siteUrl, signInMethod: null, signInSummary: null, warnings: [] }
          : { kind: 'redemptionReset', guestUserId: 'g-jane', guestName: 'Jane Doe', guestEmail: 'jane@fabrikam.com', redirectUrl: 'https://myapps.microsoft.com', currentMethod: 'emailOneTimePasscode' },
      justification: 'partner project',
      reasons: ['policy'],
      createdAt: ago(p.days),
      expiresAt: ahead(14),
    });
  }
  clock.set(NOW);
}

/** The reports use case over a store, with an approver roster of one person (PEOPLE.approver). */
export function reportsOver(
  store: Store,
  clock: ManualClock,
  overrides: Partial<ReportsDeps> = {},
): { service: ReportsService; signer: ResultsLinkSigner; approvers: Set<string> } {
  const approvers = new Set<string>([PEOPLE.approver.id]);
  const signer = new ResultsLinkSigner('reports-test-secret-at-least-32-bytes!!', clock);
  const service = new ReportsService({
    access: store.guestAccess,
    invitations: store.invitations,
    approvals: store.approvalRequests,
    audit: store.audit,
    work: store.scheduledWork,
    rights: { isApprover: async (userId) => approvers.has(userId) },
    signer: async () => signer,
    settings: { lifecycle: DEFAULT_LIFECYCLE_SETTINGS, publicBaseUrl: 'https://bot.contoso.example', linkTtlMs: 15 * 60_000, auditRetentionDays: 365 },
    clock,
    ...overrides,
  });
  return { service, signer, approvers };
}

export const actor = (who: keyof typeof PEOPLE, tenantId = TENANT): { userId: string; name: string; tenantId: string } => ({
  userId: PEOPLE[who].id,
  name: PEOPLE[who].name,
  tenantId,
});
