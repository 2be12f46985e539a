/** Every scheduled transition of a guest's access, with a clock that only moves when told. */
import { DAY_MS } from '../../../src/domain/lifecycle';
import { LIFECYCLE_WORK } from '../../../src/usecases/lifecycle/schedule';
import type { AccessEndedNotice, RenewalReminderNotice, UnredeemedReminderNotice } from '../../../src/usecases/lifecycle/ports';
import { lifecycleHarness, T0 } from '../../support/lifecycle';

const at = (days: number): string => new Date(Date.parse(T0) + days * DAY_MS).toISOString();

describe('guest lifecycle over time', () => {
  it('records the access at invitation with its end date and schedules the reminder and the end', async () => {
    const h = lifecycleHarness();
    const id = await h.inviteJane();
    const access = await h.store.guestAccess.get(id);
    expect(access).toMatchObject({ state: 'invited', sponsor: { id: 'megan' }, invitedAt: T0, endsAt: at(180), nextUnredeemedReminderAt: at(7) });
    const scheduled = await h.store.scheduledWork.listBySubject(id);
    expect(scheduled.map((w) => [w.kind, w.dueAt])).toEqual([
      [LIFECYCLE_WORK.unredeemedReminder, at(7)],
      [LIFECYCLE_WORK.renewalReminder, at(166)],
      [LIFECYCLE_WORK.endOfAccess, at(180)],
    ]);
    // Recording the same invitation again (a replay) keeps the one access and its schedule.
    expect(await h.inviteJane()).toBe(id);
    expect(await h.store.scheduledWork.listBySubject(id)).toEqual(scheduled);
    expect(await h.store.audit.list({ action: 'guestAccess.recorded' })).toHaveLength(1);
  });

  it('reminds the sponsor once after 7 days unredeemed, with a token for the card', async () => {
    const h = lifecycleHarness();
    await h.inviteJane();
    await h.travel(6.9);
    expect(h.notifier.sent).toEqual([]);
    await h.travel(0.1);
    const reminders = h.notifier.of('unredeemedReminder');
    expect(reminders).toHaveLength(1);
    expect(reminders[0]).toMatchObject({ to: 'megan', as: 'sponsor' });
    const notice = reminders[0]?.notice as UnredeemedReminderNotice;
    expect(notice).toMatchObject({ daysWaiting: 7, autoWithdrawAt: null, access: { guestName: 'Jane Doe', status: 'invited' } });
    expect(notice.reminderToken).toBe(at(7));
    await h.travel(1);
    await h.travel(30);
    expect(h.notifier.of('unredeemedReminder')).toHaveLength(1);
  });

  it('a guest who redeemed before the reminder is marked accepted and nobody is reminded', async () => {
    const h = lifecycleHarness();
    const id = await h.inviteJane();
    h.accounts.accept('u-jane', at(2));
    await h.travel(7);
    expect(h.notifier.sent).toEqual([]);
    expect(await h.store.guestAccess.get(id)).toMatchObject({ state: 'accepted', acceptedAt: at(2) });
    expect((await h.store.scheduledWork.listBySubject(id)).map((w) => w.kind)).toEqual([LIFECYCLE_WORK.renewalReminder, LIFECYCLE_WORK.endOfAccess]);
  });

  it('does not withdraw automatically by default', async () => {
    const h = lifecycleHarness();
    const id = await h.inviteJane();
    await h.travel(7);
    await h.travel(60);
    expect((await h.store.guestAccess.get(id))?.state).toBe('invited');
    expect(h.accounts.writes).toEqual([]);
  });

  it('withdraws automatically after UNREDEEMED_WITHDRAW_DAYS when on: out of the group, account deleted, sponsor told', async () => {
    const h = lifecycleHarness({ settings: { unredeemedWithdrawDays: 30 } });
    const id = await h.inviteJane();
    await h.travel(7);
    expect((h.notifier.of('unredeemedReminder')[0]?.notice as UnredeemedReminderNotice).autoWithdrawAt).toBe(at(30));
    await h.travel(22.9);
    expect((await h.store.guestAccess.get(id))?.state).toBe('invited');
    await h.travel(0.1);
    expect(await h.store.guestAccess.get(id)).toMatchObject({ state: 'withdrawn', endReason: 'autoWithdrawn', accountAction: 'deleted', endNoticesDone: true });
    expect(h.accounts.writes).toEqual(['removeFromGroup:falcon:u-jane', 'deleteUser:u-jane']);
    expect(h.notifier.of('autoWithdrawn')).toHaveLength(1);
    expect(h.notifier.of('autoWithdrawn')[0]).toMatchObject({ to: 'megan' });
    // A guest who never redeemed is not told (the bot cannot reach them).
    expect(h.notifier.of('guestAccessEnded')).toEqual([]);
    expect(await h.store.audit.list({ action: 'guestAccess.ended' })).toHaveLength(1);
    expect(await h.store.scheduledWork.listBySubject(id)).toEqual([]);
  });

  it('an auto-withdrawn guest with other memberships keeps the account', async () => {
    const h = lifecycleHarness({ settings: { unredeemedWithdrawDays: 30 } });
    h.accounts.addGuest('u-jane', 'Jane Doe', ['falcon', 'eagle']);
    const id = await h.inviteJane();
    await h.travel(30);
    expect(await h.store.guestAccess.get(id)).toMatchObject({ state: 'withdrawn', accountAction: 'keptOtherMemberships' });
    expect(h.accounts.writes).toEqual(['removeFromGroup:falcon:u-jane']);
  });

  it('renewal reminders 14 and 1 days before, then the end: out of the group, audited, sponsor and guest told', async () => {
    const h = lifecycleHarness();
    const id = await h.inviteJane();
    h.accounts.accept('u-jane', at(1));
    await h.travel(7);
    await h.travel(158.9); // day 165.9
    expect(h.notifier.of('renewalReminder')).toEqual([]);
    await h.travel(0.1); // day 166
    expect(h.notifier.of('renewalReminder').map((n) => (n.notice as RenewalReminderNotice).daysLeft)).toEqual([14]);
    const first = h.notifier.of('renewalReminder')[0]?.notice as RenewalReminderNotice;
    expect(first).toMatchObject({ forEndsAt: at(180), renewNeedsApproval: false, access: { status: 'endingSoon' } });
    await h.travel(13); // day 179
    expect(h.notifier.of('renewalReminder').map((n) => (n.notice as RenewalReminderNotice).daysLeft)).toEqual([14, 1]);
    expect(h.accounts.writes).toEqual([]);
    await h.travel(1); // day 180
    expect(await h.store.guestAccess.get(id)).toMatchObject({ state: 'ended', endReason: 'expired', accountAction: 'none', endNoticesDone: true, endedAt: at(180) });
    expect(h.accounts.writes).toEqual(['removeFromGroup:falcon:u-jane']);
    expect(h.notifier.of('accessEnded').map((n) => n.to)).toEqual(['megan']);
    expect((h.notifier.of('accessEnded')[0]?.notice as AccessEndedNotice).reason).toBe('expired');
    expect(h.notifier.of('guestAccessEnded').map((n) => n.to)).toEqual(['u-jane']);
    const audit = await h.store.audit.list({ action: 'guestAccess.ended' });
    expect(audit).toHaveLength(1);
    expect(audit[0]?.details).toMatchObject({ reason: 'expired', accountAction: 'none' });
    // Nothing more happens later.
    await h.travel(100);
    expect(h.notifier.sent).toHaveLength(4);
  });

  it('catches up after downtime: one renewal reminder (the most urgent), not two, then the end once', async () => {
    const h = lifecycleHarness();
    const id = await h.inviteJane({ redeemed: true });
    await h.travel(179.5); // the bot was down from day 0 to day 179.5
    expect(h.notifier.of('renewalReminder').map((n) => (n.notice as RenewalReminderNotice).daysLeft)).toEqual([1]);
    expect((await h.store.guestAccess.get(id))?.renewalRemindersSent).toEqual([14, 1]);
    await h.travel(0.5);
    expect(h.notifier.of('renewalReminder')).toHaveLength(1);
    expect(h.notifier.of('accessEnded')).toHaveLength(1);
  });

  it('down past the end: the end runs once, without late renewal reminders', async () => {
    const h = lifecycleHarness();
    const id = await h.inviteJane({ redeemed: true });
    await h.travel(200);
    expect(h.notifier.of('renewalReminder')).toEqual([]);
    expect(h.notifier.of('accessEnded')).toHaveLength(1);
    expect((await h.store.guestAccess.get(id))?.state).toBe('ended');
    expect(h.accounts.writes).toEqual(['removeFromGroup:falcon:u-jane']);
  });

  it('GUEST_REMOVAL=blockSignIn blocks sign-in when this was the last membership', async () => {
    const h = lifecycleHarness({ settings: { removal: 'blockSignIn' } });
    const id = await h.inviteJane({ redeemed: true });
    await h.travel(180);
    expect(h.accounts.writes).toEqual(['removeFromGroup:falcon:u-jane', 'disableSignIn:u-jane']);
    expect((await h.store.guestAccess.get(id))?.accountAction).toBe('signInBlocked');
    await h.travel(60);
    expect(h.accounts.users.has('u-jane')).toBe(true);
  });

  it('a guest whose sign-in was blocked at the end is unblocked when invited again', async () => {
    const h = lifecycleHarness({ settings: { removal: 'blockSignIn' } });
    await h.inviteJane({ redeemed: true });
    await h.travel(181);
    expect(h.accounts.users.get('u-jane')?.enabled).toBe(false);
    await h.inviteJane({ redeemed: true });
    expect(h.accounts.users.get('u-jane')?.enabled).toBe(true);
    expect(h.accounts.writes).toEqual(['removeFromGroup:falcon:u-jane', 'disableSignIn:u-jane', 'enableSignIn:u-jane']);
    // A replay of that invitation changes nothing more.
    await h.inviteJane({ redeemed: true });
    expect(h.accounts.writes).toHaveLength(3);
  });

  it('GUEST_REMOVAL=blockSignIn leaves a guest with other memberships alone', async () => {
    const h = lifecycleHarness({ settings: { removal: 'blockSignIn' } });
    h.accounts.addGuest('u-jane', 'Jane Doe', ['falcon', 'eagle'], 'Accepted');
    const id = await h.inviteJane({ redeemed: true });
    await h.travel(180);
    expect(h.accounts.writes).toEqual(['removeFromGroup:falcon:u-jane']);
    expect((await h.store.guestAccess.get(id))?.accountAction).toBe('keptOtherMemberships');
  });

  it('GUEST_REMOVAL=delete blocks sign-in at the end and deletes after GUEST_DELETE_AFTER_DAYS', async () => {
    const h = lifecycleHarness({ settings: { removal: 'delete', deleteAfterDays: 30 } });
    const id = await h.inviteJane({ redeemed: true });
    await h.travel(180);
    expect(h.accounts.writes).toEqual(['removeFromGroup:falcon:u-jane', 'disableSignIn:u-jane']);
    expect((await h.store.scheduledWork.listBySubject(id)).map((w) => [w.kind, w.dueAt])).toEqual([[LIFECYCLE_WORK.deleteAccount, at(210)]]);
    await h.travel(29.9);
    expect(h.accounts.users.has('u-jane')).toBe(true);
    await h.travel(0.1);
    expect(h.accounts.writes).toEqual(['removeFromGroup:falcon:u-jane', 'disableSignIn:u-jane', 'deleteUser:u-jane']);
    expect((await h.store.guestAccess.get(id))?.accountAction).toBe('deleted');
    expect(await h.store.audit.list({ action: 'guestAccess.accountDeleted' })).toHaveLength(1);
  });

  it('GUEST_REMOVAL=delete does not delete an account re-enabled or back in a group meanwhile', async () => {
    const h = lifecycleHarness({ settings: { removal: 'delete', deleteAfterDays: 30 } });
    const id = await h.inviteJane({ redeemed: true });
    await h.travel(180);
    h.accounts.users.get('u-jane')?.memberOf.add('eagle');
    await h.travel(30);
    expect(h.accounts.users.has('u-jane')).toBe(true);
    expect((await h.store.guestAccess.get(id))?.accountAction).toBe('keptOtherMemberships');
  });

  it('a sponsor who left: the site\'s owners get the reminders instead', async () => {
    const h = lifecycleHarness();
    await h.inviteJane();
    h.accounts.users.get('megan')!.enabled = false;
    await h.travel(7);
    expect(h.notifier.of('unredeemedReminder').map((n) => [n.to, n.as])).toEqual([['alex', 'owner']]);
    h.accounts.users.delete('megan');
    h.accounts.accept('u-jane', at(8));
    await h.travel(159);
    expect(h.notifier.of('renewalReminder').map((n) => [n.to, n.as])).toEqual([['alex', 'owner']]);
  });

  it('a site configured with no end: no renewal reminders and no end', async () => {
    const h = lifecycleHarness({ settings: { siteAccessDays: { falcon: null } } });
    const id = await h.inviteJane({ redeemed: true });
    expect((await h.store.guestAccess.get(id))?.endsAt).toBeNull();
    expect(await h.store.scheduledWork.listBySubject(id)).toEqual([]);
    await h.travel(400);
    expect(h.notifier.sent).toEqual([]);
  });

  it('a per-site period overrides GUEST_ACCESS_DAYS', async () => {
    const h = lifecycleHarness({ settings: { siteAccessDays: { falcon: 30 } } });
    const id = await h.inviteJane({ redeemed: true });
    expect((await h.store.guestAccess.get(id))?.endsAt).toBe(at(30));
  });

  it('a guest invited again after the access ended starts a new period with the new sponsor', async () => {
    const h = lifecycleHarness();
    const id = await h.inviteJane({ redeemed: true });
    await h.travel(181);
    h.accounts.users.get('u-jane')?.memberOf.add('falcon');
    const again = await h.lifecycle.recordAccess({
      tenantId: 'contoso',
      groupId: 'falcon',
      siteName: 'Project Falcon',
      siteUrl: 'https://contoso.sharepoint.com/sites/falcon',
      guest: { userId: 'u-jane', email: 'jane@fabrikam.com', displayName: 'Jane Doe' },
      invitationRecordId: 'inv-2',
      sponsor: { id: 'alex', name: 'Alex Wilber' },
      redeemed: true,
      sponsorSetByInvitation: false,
    });
    expect(again).toMatchObject({ created: true, endsAt: at(361), sponsor: 'set' });
    expect(again.access.accessId).toBe(id);
    expect(await h.store.guestAccess.get(id)).toMatchObject({ state: 'accepted', sponsor: { id: 'alex' }, endedAt: null, renewals: 0 });
    expect(h.accounts.writes).toContain('addSponsor:u-jane:alex');
  });
});
