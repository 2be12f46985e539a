/**
 * "review Project Falcon" and the decisions on its card, over the demo tenant: Megan owns Project
 * Falcon (Jordan, a guest the bot did not invite, and the four lifecycle-stage guests the bot
 * records); Alex is a guest approver; Adele is a member who owns nothing; Jordan is a guest.
 */
import { DEMO, DEMO_LIFECYCLE } from '../../../src/adapters/demo/demoTenant';
import type { ReviewOutcome } from '../../../src/usecases/reviews/model';
import { DirectoryError } from '../../../src/usecases/ports/Directory';
import type { ReviewView } from '../../../src/usecases/reviews/ports';
import { ADELE, ALEX, JORDAN, MEGAN, OTHER_TENANT_MEGAN, reviewHarness } from '../../support/reviews';

const { guests } = DEMO_LIFECYCLE;
const falcon = DEMO.groups.projectFalcon;

function viewOf(outcome: ReviewOutcome): ReviewView {
  if (outcome.kind === 'refused') throw new Error(`refused: ${outcome.message}`);
  return outcome.view;
}

const row = (view: ReviewView, userId: string) => {
  const found = view.rows.find((r) => r.userId === userId);
  if (!found) throw new Error(`no row for ${userId}`);
  return found;
};

describe('review Project Falcon: the card', () => {
  it('shows every guest of the site, the ones the bot did not invite too, with sponsor, dates, sign-in method, last sign-in and the inactive flag', async () => {
    const h = await reviewHarness();
    const outcome = await h.reviews.startReview(MEGAN, 'project falcon');
    expect(outcome.kind).toBe('done');
    const view = viewOf(outcome);
    expect(view.siteName).toBe('Project Falcon');
    expect(view.viewer).toEqual({ as: 'owner' });
    expect(view.rows.map((r) => r.name).sort()).toEqual(['Isabel Ruiz', 'Jordan Lee', 'Nora Quinn', 'Omar Haddad', 'Priya Shah']);
    expect(view.undecided).toBe(5);
    expect(view.signInsUnavailable).toBeNull();

    // Jordan: added to the group without the bot; interactive sign-in 200 days ago, Teams (non-interactive) 3 days ago.
    expect(row(view, DEMO.users.jordan.id)).toMatchObject({ tracked: false, signInMethod: 'emailOneTimePasscode', inactive: false, endsAt: null, acceptedAt: '2024-11-04T16:20:00Z' });
    expect(row(view, DEMO.users.jordan.id).activity).toMatchObject({ status: 'active', basis: 'nonInteractive', days: 3 });
    // Omar: nothing for 125 days.
    expect(row(view, guests.endedYesterday.id)).toMatchObject({ tracked: true, sponsor: 'Megan Bowen', inactive: true, signInMethod: 'microsoftAccount' });
    expect(row(view, guests.endedYesterday.id).activity).toMatchObject({ status: 'inactive', days: 125 });
    // Isabel never redeemed: counts from the invitation 10 days ago, not flagged.
    expect(row(view, guests.unredeemed.id)).toMatchObject({ inactive: false, acceptedAt: null, signInMethod: null, lastSignInAt: null });
    expect(row(view, guests.unredeemed.id).activity).toMatchObject({ status: 'active', basis: 'invitation', days: 10 });
    // Priya only ever signs in non-interactively, and not for 100 days; her sponsor left (the record still names him).
    expect(row(view, guests.sponsorGone.id)).toMatchObject({ inactive: true, sponsor: 'Diego Siciliani', signInMethod: 'googleFederation' });
    expect(row(view, guests.sponsorGone.id).activity).toMatchObject({ status: 'inactive', basis: 'nonInteractive', days: 100 });
  });

  it('says "last sign-in unknown" and flags nobody without AuditLog.Read.All, asking Graph once', async () => {
    const h = await reviewHarness();
    h.fake.denyPermission('AuditLog.Read.All');
    const view = viewOf(await h.reviews.startReview(MEGAN, 'Project Falcon'));
    expect(view.signInsUnavailable).toBe('permissionMissing');
    expect(view.rows.every((r) => !r.inactive && r.activity.status === 'unknown' && r.lastSignInAt === null)).toBe(true);
    expect(h.fake.callCount('getSignInActivity')).toBe(1);
  });

  it('says "last sign-in unknown" in a tenant without Entra ID P1', async () => {
    const h = await reviewHarness();
    h.fake.setEntraIdPremium(false);
    const view = viewOf(await h.reviews.startReview(MEGAN, 'Project Falcon'));
    expect(view.signInsUnavailable).toBe('licenceMissing');
    expect(view.rows.some((r) => r.inactive)).toBe(false);
  });

  it('does not flag a guest excluded by INACTIVE_EXCLUDE', async () => {
    const h = await reviewHarness({ settings: { inactivity: { inactiveDays: 90, exclusions: { domains: ['outlook.com'], emails: [], userIds: [] } } } });
    const view = viewOf(await h.reviews.startReview(MEGAN, 'Project Falcon'));
    expect(row(view, guests.endedYesterday.id)).toMatchObject({ inactive: false, activity: { status: 'excluded', by: 'domain' } });
  });

  it('gives the open review again rather than a second one', async () => {
    const h = await reviewHarness();
    const first = viewOf(await h.reviews.startReview(MEGAN, 'Project Falcon'));
    const again = await h.reviews.startReview(MEGAN, 'Project Falcon');
    expect(again.kind).toBe('already');
    expect(viewOf(again).roundId).toBe(first.roundId);
  });
});

describe('review rights: an owner sees only their sites; guests and others get nothing', () => {
  const nothing = /I found no site called "(.+)" that you can review\. Only a site's owners and guest approvers can review its guests\./;

  it.each([
    ['a member who owns nothing', ADELE, 'Project Falcon'],
    ['a guest of the site', JORDAN, 'Project Falcon'],
    ['an owner, for a site she does not own', MEGAN, 'Research'],
    ['someone of another tenant', OTHER_TENANT_MEGAN, 'Project Falcon'],
    ['an owner, for a site that does not exist', MEGAN, 'Project Osprey'],
  ])('%s gets the same refusal, and no review is opened', async (_who, actor, site) => {
    const h = await reviewHarness();
    const outcome = await h.reviews.startReview(actor, site);
    expect(outcome).toMatchObject({ kind: 'refused', reason: 'notAllowed' });
    expect(outcome.kind === 'refused' && outcome.message).toMatch(nothing);
    expect(await h.store.reviewRounds.listBySite(DEMO.tenantId, falcon.id)).toEqual([]);
  });

  it('a guest approver may review a site the bot knows, as approver', async () => {
    const h = await reviewHarness();
    const view = viewOf(await h.reviews.startReview(ALEX, 'Project Falcon'));
    expect(view.viewer).toEqual({ as: 'approver' });
  });

  it('re-checks rights at every click: others cannot decide, see or keep all, and nothing changes', async () => {
    const h = await reviewHarness();
    const view = viewOf(await h.reviews.startReview(MEGAN, 'Project Falcon'));
    for (const actor of [ADELE, JORDAN]) {
      expect(await h.reviews.decide(actor, { roundId: view.roundId, userId: guests.endedYesterday.id, decision: 'remove' })).toMatchObject({ kind: 'refused', reason: 'notAllowed' });
      expect(await h.reviews.keepAll(actor, { roundId: view.roundId })).toMatchObject({ kind: 'refused', reason: 'notAllowed' });
      expect(await h.reviews.view(actor, { roundId: view.roundId })).toMatchObject({ kind: 'refused', reason: 'notAllowed' });
    }
    expect(await h.reviews.decide(OTHER_TENANT_MEGAN, { roundId: view.roundId, userId: guests.endedYesterday.id, decision: 'keep' })).toMatchObject({ kind: 'refused', reason: 'notFound' });
    // Megan no longer owns the site: her old card does nothing either.
    h.fake.state.fixture.groups.find((g) => g.id === falcon.id)!.owners = [DEMO.users.alex.id];
    expect(await h.reviews.decide(MEGAN, { roundId: view.roundId, userId: guests.endedYesterday.id, decision: 'remove' })).toMatchObject({ kind: 'refused', reason: 'notAllowed' });
    const round = await h.store.reviewRounds.get(view.roundId);
    expect(round?.decisions).toEqual([]);
    expect(h.fake.callCount('removeMember')).toBe(0);
  });
});

describe('decisions: applied once, audited, Remove through the lifecycle', () => {
  it('Keep on a double click (two at once, then a replay) is recorded and audited once', async () => {
    const h = await reviewHarness();
    const { roundId } = viewOf(await h.reviews.startReview(MEGAN, 'Project Falcon'));
    const input = { roundId, userId: DEMO.users.jordan.id, decision: 'keep' as const };
    const [a, b] = await Promise.all([h.reviews.decide(MEGAN, input), h.reviews.decide(MEGAN, input)]);
    expect([a.kind, b.kind].sort()).toEqual(['already', 'done']);
    const replay = await h.reviews.decide(MEGAN, input);
    expect(replay).toMatchObject({ kind: 'already', message: 'Jordan Lee was already kept by Megan Bowen.' });
    const round = await h.store.reviewRounds.get(roundId);
    expect(round?.decisions).toHaveLength(1);
    expect(await h.store.audit.list({ action: 'accessReview.kept' })).toHaveLength(1);
    expect(row(viewOf(replay), DEMO.users.jordan.id).decision).toMatchObject({ decision: 'keep', outcome: 'kept', by: { id: DEMO.users.megan.id } });
  });

  it('Remove ends the recorded access through the lifecycle (out of the group, record removed), once however often it is clicked', async () => {
    const h = await reviewHarness();
    const { roundId } = viewOf(await h.reviews.startReview(MEGAN, 'Project Falcon'));
    const input = { roundId, userId: guests.endedYesterday.id, decision: 'remove' as const };
    const [a, b] = await Promise.all([h.reviews.decide(MEGAN, input), h.reviews.decide(MEGAN, input)]);
    expect([a.kind, b.kind].sort()).toEqual(['already', 'done']);
    const done = a.kind === 'done' ? a : b;
    expect(done).toMatchObject({ message: 'Omar Haddad no longer has access to Project Falcon.' });
    await h.reviews.decide(MEGAN, input);
    expect(await h.fake.isMember(falcon.id, guests.endedYesterday.id)).toBe(false);
    expect(h.fake.callCount('removeMember')).toBe(1);
    const access = await h.store.guestAccess.findByKey({ tenantId: DEMO.tenantId, groupId: falcon.id, userId: guests.endedYesterday.id });
    expect(access).toMatchObject({ state: 'removed', endReason: 'removed', endedBy: { id: DEMO.users.megan.id } });
    expect((await h.store.reviewRounds.get(roundId))?.decisions).toEqual([expect.objectContaining({ decision: 'remove', outcome: 'removed' })]);
    expect((await h.store.audit.list({ action: 'accessReview.removeDecided' })).length).toBe(1);
    expect((await h.store.audit.list({ action: 'accessReview.removed' })).map((e) => e.details)).toEqual([expect.objectContaining({ outcome: 'removed', userId: guests.endedYesterday.id })]);
  });

  it('Remove of a guest the bot did not invite records their access first, then removes it the same way', async () => {
    const h = await reviewHarness();
    const { roundId } = viewOf(await h.reviews.startReview(MEGAN, 'Project Falcon'));
    const outcome = await h.reviews.decide(MEGAN, { roundId, userId: DEMO.users.jordan.id, decision: 'remove' });
    expect(outcome).toMatchObject({ kind: 'done', message: 'Jordan Lee no longer has access to Project Falcon.' });
    expect(await h.fake.isMember(falcon.id, DEMO.users.jordan.id)).toBe(false);
    const access = await h.store.guestAccess.findByKey({ tenantId: DEMO.tenantId, groupId: falcon.id, userId: DEMO.users.jordan.id });
    expect(access).toMatchObject({ state: 'removed', sponsor: { id: DEMO.users.megan.id } });
    expect(h.fake.callCount('addSponsor')).toBe(0);
  });

  it('an approver may decide (escalated reviews), and Remove goes through for them too', async () => {
    const h = await reviewHarness();
    const { roundId } = viewOf(await h.reviews.startReview(MEGAN, 'Project Falcon'));
    const outcome = await h.reviews.decide(ALEX, { roundId, userId: guests.endedYesterday.id, decision: 'remove' });
    expect(outcome.kind).toBe('done');
    expect(row(viewOf(outcome), guests.endedYesterday.id).decision).toMatchObject({ as: 'approver', outcome: 'removed' });
    expect(await h.fake.isMember(falcon.id, guests.endedYesterday.id)).toBe(false);
  });

  it('a removal the bot may not do is decided, and the card says an administrator has the steps', async () => {
    const h = await reviewHarness();
    h.fake.denyPermission('GroupMember.ReadWrite.All');
    const { roundId } = viewOf(await h.reviews.startReview(MEGAN, 'Project Falcon'));
    const outcome = await h.reviews.decide(MEGAN, { roundId, userId: guests.endedYesterday.id, decision: 'remove' });
    expect(row(viewOf(outcome), guests.endedYesterday.id).decision).toMatchObject({ outcome: 'needsAdmin' });
  });

  it('Keep all keeps every undecided guest once and completes the review', async () => {
    const h = await reviewHarness();
    const { roundId } = viewOf(await h.reviews.startReview(MEGAN, 'Project Falcon'));
    await h.reviews.decide(MEGAN, { roundId, userId: guests.endedYesterday.id, decision: 'remove' });
    const [a, b] = await Promise.all([h.reviews.keepAll(MEGAN, { roundId }), h.reviews.keepAll(MEGAN, { roundId })]);
    expect([a.kind, b.kind].sort()).toEqual(['already', 'done']);
    const round = await h.store.reviewRounds.get(roundId);
    expect(round?.decisions.filter((d) => d.decision === 'keep')).toHaveLength(4);
    expect(round?.completedAt).not.toBeNull();
    expect(await h.store.audit.list({ action: 'accessReview.kept' })).toHaveLength(4);
    expect(viewOf(a.kind === 'done' ? a : b)).toMatchObject({ undecided: 0 });
    // A finished review: the next "review Project Falcon" starts a new one.
    h.clock.advance(60_000);
    expect((await h.reviews.startReview(MEGAN, 'Project Falcon')).kind).toBe('done');
  });
});

describe('a removal cut short', () => {
  it('stays pending, and the next click after a minute finishes it (once)', async () => {
    const h = await reviewHarness();
    const { roundId } = viewOf(await h.reviews.startReview(MEGAN, 'Project Falcon'));
    // The lifecycle's removal fails half-way: Graph is down for the membership write.
    h.fake.failNext('removeMember', new DirectoryError('transient', 'Graph is down'), 1);
    await expect(h.reviews.decide(MEGAN, { roundId, userId: guests.endedYesterday.id, decision: 'remove' })).rejects.toThrow();
    expect((await h.store.reviewRounds.get(roundId))?.decisions).toEqual([expect.objectContaining({ outcome: 'pending' })]);
    expect(await h.fake.isMember(falcon.id, guests.endedYesterday.id)).toBe(true);

    h.clock.advance(61_000);
    const replay = await h.reviews.decide(MEGAN, { roundId, userId: guests.endedYesterday.id, decision: 'remove' });
    expect(replay.kind).toBe('already');
    expect((await h.store.reviewRounds.get(roundId))?.decisions).toEqual([expect.objectContaining({ outcome: expect.stringMatching(/removed|alreadyEnded/) })]);
    expect(await h.store.audit.list({ action: 'accessReview.removed' })).toHaveLength(1);
    // The end the lifecycle began is completed by its own safety net (scheduled work), as for any Remove.
    const { ScheduledWorkRunner } = await import('../../../src/usecases/scheduling/workRunner');
    h.clock.advance(20 * 60_000);
    await new ScheduledWorkRunner({ work: h.store.scheduledWork, holderId: h.store.holders.holderId, clock: h.clock, handlers: h.lifecycle.handlers }).runOnce();
    expect(await h.fake.isMember(falcon.id, guests.endedYesterday.id)).toBe(false);
    expect(h.fake.callCount('removeMember')).toBe(2);
  });
});
