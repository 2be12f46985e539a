/** The sponsor's and owners' actions: rights re-checked at the click, idempotent under replays and races. */
import { DAY_MS } from '../../../src/domain/lifecycle';
import type { UnredeemedReminderNotice } from '../../../src/usecases/lifecycle/ports';
import { LIFECYCLE_WORK } from '../../../src/usecases/lifecycle/schedule';
import { ADELE, ALEX, lifecycleHarness, MEGAN, STRANGER, T0 } from '../../support/lifecycle';

const at = (days: number): string => new Date(Date.parse(T0) + days * DAY_MS).toISOString();

async function remindedJane(h: ReturnType<typeof lifecycleHarness>): Promise<{ id: string; token: string }> {
  const id = await h.inviteJane();
  await h.travel(7);
  const token = (h.notifier.of('unredeemedReminder')[0]?.notice as UnredeemedReminderNotice).reminderToken;
  return { id, token };
}

describe('Resend', () => {
  it('sends a fresh invitation once per card: a double click shows the same new link', async () => {
    const h = lifecycleHarness();
    const { id, token } = await remindedJane(h);
    const [first, second] = await Promise.all([
      h.lifecycle.resend(MEGAN, { accessId: id, reminderToken: token, sendEmail: true }),
      h.lifecycle.resend(MEGAN, { accessId: id, reminderToken: token, sendEmail: true }),
    ]);
    expect(h.accounts.writes).toEqual(['reinvite:u-jane:email']);
    expect(first).toMatchObject({ kind: 'done', redeemUrl: 'https://login.microsoftonline.com/redeem?link=1' });
    expect(second.kind).toBe('already');
    const replay = await h.lifecycle.resend(MEGAN, { accessId: id, reminderToken: token, sendEmail: true });
    expect(replay).toMatchObject({ kind: 'already', redeemUrl: 'https://login.microsoftonline.com/redeem?link=1' });
    expect(h.accounts.writes).toHaveLength(1);
  });

  it('starts the reminder clock over: the sponsor is reminded again 7 days after the resend', async () => {
    const h = lifecycleHarness();
    const { id, token } = await remindedJane(h);
    await h.travel(1);
    await h.lifecycle.resend(MEGAN, { accessId: id, reminderToken: token, sendEmail: false });
    expect((await h.store.scheduledWork.get(LIFECYCLE_WORK.unredeemedReminder, id))?.dueAt).toBe(at(15));
    await h.travel(6.9);
    expect(h.notifier.of('unredeemedReminder')).toHaveLength(1);
    await h.travel(0.1);
    expect(h.notifier.of('unredeemedReminder')).toHaveLength(2);
    expect((h.notifier.of('unredeemedReminder')[1]?.notice as UnredeemedReminderNotice).daysWaiting).toBe(7);
  });

  it('a guest who redeemed meanwhile is not invited again: the record learns they accepted', async () => {
    const h = lifecycleHarness();
    const { id, token } = await remindedJane(h);
    h.accounts.accept('u-jane', at(7.5));
    expect(await h.lifecycle.resend(MEGAN, { accessId: id, reminderToken: token, sendEmail: true })).toMatchObject({ kind: 'already' });
    expect(h.accounts.writes).toEqual([]);
    expect(await h.store.guestAccess.get(id)).toMatchObject({ state: 'accepted', acceptedAt: at(7.5) });
  });

  it('is refused to someone who is neither the sponsor nor an owner, and to another tenant', async () => {
    const h = lifecycleHarness();
    const { id, token } = await remindedJane(h);
    expect(await h.lifecycle.resend(STRANGER, { accessId: id, reminderToken: token, sendEmail: false })).toMatchObject({ kind: 'refused', reason: 'notAllowed' });
    expect(await h.lifecycle.resend({ ...MEGAN, tenantId: 'fabrikam' }, { accessId: id, reminderToken: token, sendEmail: false })).toMatchObject({
      kind: 'refused',
      reason: 'notFound',
    });
    expect(h.accounts.writes).toEqual([]);
    // An owner of the site may.
    expect((await h.lifecycle.resend(ALEX, { accessId: id, reminderToken: token, sendEmail: false })).kind).toBe('done');
  });

  it('without the permission, is offered as instructions for an admin and can be tried again', async () => {
    const h = lifecycleHarness();
    const { id, token } = await remindedJane(h);
    h.accounts.denied.add('reinvite');
    const outcome = await h.lifecycle.resend(MEGAN, { accessId: id, reminderToken: token, sendEmail: false });
    expect(outcome).toMatchObject({ kind: 'needsAdmin', instructions: [{ action: 'reinvite', permission: 'User.ReadWrite.All' }] });
    h.accounts.denied.delete('reinvite');
    expect((await h.lifecycle.resend(MEGAN, { accessId: id, reminderToken: token, sendEmail: false })).kind).toBe('done');
  });
});

describe('Withdraw', () => {
  it('removes from the group and deletes a never-redeemed account without other memberships, once', async () => {
    const h = lifecycleHarness();
    const { id } = await remindedJane(h);
    const [a, b] = await Promise.all([h.lifecycle.withdraw(MEGAN, { accessId: id }), h.lifecycle.withdraw(MEGAN, { accessId: id })]);
    expect([a.kind, b.kind].sort()).toEqual(['already', 'done']);
    expect(h.accounts.writes).toEqual(['removeFromGroup:falcon:u-jane', 'deleteUser:u-jane']);
    expect(await h.store.guestAccess.get(id)).toMatchObject({ state: 'withdrawn', endReason: 'withdrawn', endedBy: { id: 'megan' }, accountAction: 'deleted' });
    expect(await h.store.audit.list({ action: 'guestAccess.ended' })).toHaveLength(1);
    // The sponsor saw it on the card; nobody else needs a notice (she is the sponsor).
    expect(h.notifier.of('accessEnded')).toEqual([]);
    expect(await h.store.scheduledWork.listBySubject(id)).toEqual([]);
    expect((await h.lifecycle.withdraw(MEGAN, { accessId: id })).kind).toBe('already');
  });

  it('keeps the account when policy forbids deleting or the guest is in another group', async () => {
    const h = lifecycleHarness({ settings: { deleteOnWithdraw: false } });
    const { id } = await remindedJane(h);
    expect(await h.lifecycle.withdraw(ALEX, { accessId: id })).toMatchObject({ kind: 'done', accountAction: 'none' });
    expect(h.accounts.writes).toEqual(['removeFromGroup:falcon:u-jane']);
    // An owner withdrew: the sponsor is told.
    expect(h.notifier.of('accessEnded').map((n) => n.to)).toEqual(['megan']);

    const other = lifecycleHarness();
    other.accounts.addGuest('u-jane', 'Jane Doe', ['falcon', 'eagle']);
    const { id: id2 } = await remindedJane(other);
    expect(await other.lifecycle.withdraw(MEGAN, { accessId: id2 })).toMatchObject({ kind: 'done', accountAction: 'keptOtherMemberships' });
  });

  it('is refused once the guest has accepted (Remove is the way then), and to strangers', async () => {
    const h = lifecycleHarness();
    const { id } = await remindedJane(h);
    expect(await h.lifecycle.withdraw(STRANGER, { accessId: id })).toMatchObject({ kind: 'refused', reason: 'notAllowed' });
    h.accounts.accept('u-jane', at(7.5));
    expect(await h.lifecycle.withdraw(MEGAN, { accessId: id })).toMatchObject({ kind: 'refused', reason: 'notActive' });
    expect(h.accounts.writes).toEqual([]);
  });

  it('without permission to remove from the group, the steps go to an admin', async () => {
    const h = lifecycleHarness();
    const { id } = await remindedJane(h);
    h.accounts.denied.add('removeFromGroup');
    const outcome = await h.lifecycle.withdraw(MEGAN, { accessId: id });
    expect(outcome).toMatchObject({ kind: 'needsAdmin', instructions: [{ action: 'removeFromGroup' }] });
    expect(outcome.kind === 'needsAdmin' && outcome.instructions[0]?.steps.join(' ')).toContain('Jane Doe (jane@fabrikam.com)');
    expect(await h.store.guestAccess.get(id)).toMatchObject({ state: 'withdrawn', accountAction: 'needsAdmin', endNoticesDone: true });
  });
});

describe('Keep waiting', () => {
  it('reminds again in 7 days, once per card', async () => {
    const h = lifecycleHarness();
    const { id, token } = await remindedJane(h);
    expect(await h.lifecycle.keepWaiting(MEGAN, { accessId: id, reminderToken: token })).toMatchObject({ kind: 'done', nextReminderAt: at(14) });
    expect(await h.lifecycle.keepWaiting(MEGAN, { accessId: id, reminderToken: token })).toMatchObject({ kind: 'already', nextReminderAt: at(14) });
    expect(await h.lifecycle.keepWaiting(STRANGER, { accessId: id, reminderToken: token })).toMatchObject({ kind: 'refused', reason: 'notAllowed' });
    await h.travel(7);
    expect(h.notifier.of('unredeemedReminder')).toHaveLength(2);
  });

  it('is audited once per card, as who clicked: a double click and a replay add nothing, a refusal is audited as such', async () => {
    const h = lifecycleHarness();
    const { id, token } = await remindedJane(h);
    await Promise.all([h.lifecycle.keepWaiting(MEGAN, { accessId: id, reminderToken: token }), h.lifecycle.keepWaiting(MEGAN, { accessId: id, reminderToken: token })]);
    await h.lifecycle.keepWaiting(MEGAN, { accessId: id, reminderToken: token });
    await h.lifecycle.keepWaiting(STRANGER, { accessId: id, reminderToken: token });
    expect(await h.store.audit.list({ subjectType: 'guestAccess', subjectId: id, limit: 1000 })).toEqual([
      expect.objectContaining({ action: 'guestAccess.recorded' }),
      expect.objectContaining({ action: 'guestAccess.keptWaiting', actorId: 'megan', actorName: 'Megan Bowen', details: { remindedAt: token, nextReminderAt: at(14) } }),
      expect.objectContaining({ action: 'guestAccess.refused', actorId: 'pradeep', details: { attempted: 'keepWaiting', reason: 'notSponsorOrOwner' } }),
    ]);
    // The next reminder's card is a new card: an owner's Keep waiting on it is recorded as theirs.
    await h.travel(7);
    const next = (h.notifier.of('unredeemedReminder')[1]?.notice as UnredeemedReminderNotice).reminderToken;
    expect((await h.lifecycle.keepWaiting(ALEX, { accessId: id, reminderToken: next })).kind).toBe('done');
    const kept = await h.store.audit.list({ action: 'guestAccess.keptWaiting', subjectId: id });
    expect(kept.map((e) => e.actorId)).toEqual(['megan', 'alex']);
  });
});

describe('Renew', () => {
  async function acceptedJane(h: ReturnType<typeof lifecycleHarness>): Promise<string> {
    const id = await h.inviteJane({ redeemed: true });
    await h.travel(166);
    return id;
  }

  it('extends by another period from the current end, once: double clicks and races renew once', async () => {
    const h = lifecycleHarness();
    const id = await acceptedJane(h);
    const outcomes = await Promise.all([1, 2, 3].map(() => h.lifecycle.renew(MEGAN, { accessId: id, forEndsAt: at(180) })));
    expect(outcomes.map((o) => o.kind).sort()).toEqual(['already', 'already', 'done']);
    expect(await h.store.guestAccess.get(id)).toMatchObject({ endsAt: at(360), renewals: 1, renewalRemindersSent: [] });
    expect(await h.lifecycle.renew(MEGAN, { accessId: id, forEndsAt: at(180) })).toMatchObject({ kind: 'already', endsAt: at(360) });
    expect(await h.store.audit.list({ action: 'guestAccess.renewed' })).toHaveLength(1);
    expect((await h.store.scheduledWork.listBySubject(id)).map((w) => [w.kind, w.dueAt])).toEqual([
      [LIFECYCLE_WORK.renewalReminder, at(346)],
      [LIFECYCLE_WORK.endOfAccess, at(360)],
    ]);
    // The old end passes without ending anything; the reminders of the new end come.
    await h.travel(14);
    expect(h.accounts.writes).toEqual([]);
    await h.travel(166);
    expect(h.notifier.of('renewalReminder')).toHaveLength(2);
  });

  it('is refused to strangers and after the end', async () => {
    const h = lifecycleHarness();
    const id = await acceptedJane(h);
    expect(await h.lifecycle.renew(STRANGER, { accessId: id, forEndsAt: at(180) })).toMatchObject({ kind: 'refused', reason: 'notAllowed' });
    await h.travel(14);
    expect(await h.lifecycle.renew(MEGAN, { accessId: id, forEndsAt: at(180) })).toMatchObject({ kind: 'refused', reason: 'notActive' });
  });

  it('goes through approval when the policy says so; only an approver applies it, once', async () => {
    const h = lifecycleHarness({ approval: { policy: 'nonOwners', partnerDomains: [] } });
    const id = await acceptedJane(h);
    // Megan is the sponsor but not an owner: an approver decides.
    const asked = await h.lifecycle.renew(MEGAN, { accessId: id, forEndsAt: at(180) });
    expect(asked).toMatchObject({ kind: 'pendingApproval', created: true });
    expect((await h.lifecycle.renew(MEGAN, { accessId: id, forEndsAt: at(180) })).kind === 'pendingApproval').toBe(true);
    expect(h.approvals.requests.size).toBe(1);
    expect((await h.store.guestAccess.get(id))?.endsAt).toBe(at(180));
    expect(h.notifier.of('renewalReminder')[0]?.notice).toMatchObject({ renewNeedsApproval: true });

    expect(await h.lifecycle.approveRenewal(MEGAN, { accessId: id, forEndsAt: at(180) })).toMatchObject({ kind: 'refused', reason: 'notAllowed' });
    expect(await h.lifecycle.approveRenewal(ADELE, { accessId: id, forEndsAt: at(180) })).toMatchObject({ kind: 'done', endsAt: at(360) });
    expect(await h.lifecycle.approveRenewal(ADELE, { accessId: id, forEndsAt: at(180) })).toMatchObject({ kind: 'already', endsAt: at(360) });
    // An owner renews without approval under nonOwners.
    expect(await h.lifecycle.renew(ALEX, { accessId: id, forEndsAt: at(360) })).toMatchObject({ kind: 'done', endsAt: at(540) });
  });
});

describe('Let it end', () => {
  it('stops the renewal reminders; the access ends on its date', async () => {
    const h = lifecycleHarness();
    const id = await h.inviteJane({ redeemed: true });
    await h.travel(166);
    expect(await h.lifecycle.letEnd(MEGAN, { accessId: id, forEndsAt: at(180) })).toMatchObject({ kind: 'done', endsAt: at(180) });
    expect((await h.lifecycle.letEnd(MEGAN, { accessId: id, forEndsAt: at(180) })).kind).toBe('already');
    expect(await h.lifecycle.letEnd(STRANGER, { accessId: id, forEndsAt: at(180) })).toMatchObject({ kind: 'refused' });
    await h.travel(13);
    expect(h.notifier.of('renewalReminder')).toHaveLength(1);
    await h.travel(1);
    expect((await h.store.guestAccess.get(id))?.state).toBe('ended');
  });
});

describe('Remove', () => {
  it('an owner ends access before its date; the sponsor is told, the guest too; removal mode applies; once', async () => {
    const h = lifecycleHarness({ settings: { removal: 'blockSignIn' } });
    const id = await h.inviteJane({ redeemed: true });
    await h.travel(10);
    expect(await h.lifecycle.remove(STRANGER, { accessId: id })).toMatchObject({ kind: 'refused', reason: 'notAllowed' });
    const [a, b] = await Promise.all([h.lifecycle.remove(ALEX, { accessId: id }), h.lifecycle.remove(ALEX, { accessId: id })]);
    expect([a.kind, b.kind].sort()).toEqual(['already', 'done']);
    expect(h.accounts.writes).toEqual(['removeFromGroup:falcon:u-jane', 'disableSignIn:u-jane']);
    expect(await h.store.guestAccess.get(id)).toMatchObject({ state: 'removed', endReason: 'removed', endedBy: { id: 'alex' }, accountAction: 'signInBlocked' });
    expect(h.notifier.of('accessEnded').map((n) => n.to)).toEqual(['megan']);
    expect(h.notifier.of('guestAccessEnded').map((n) => n.to)).toEqual(['u-jane']);
    await h.travel(200);
    expect(h.accounts.writes).toHaveLength(2);
    expect(h.notifier.of('accessEnded')).toHaveLength(1);
  });
});

describe('Hand over sponsorship', () => {
  it('an owner makes Alex the sponsor: Entra sponsors change, the record moves, Alex is told', async () => {
    const h = lifecycleHarness();
    h.accounts.users.get('u-jane')?.sponsors.add('megan');
    const id = await h.inviteJane();
    const outcome = await h.lifecycle.handOver(ALEX, { accessId: id, newSponsor: { id: 'alex', name: 'Alex Wilber' } });
    expect(outcome).toMatchObject({ kind: 'done', sponsor: { id: 'alex' } });
    expect(h.accounts.writes).toEqual(['addSponsor:u-jane:alex', 'removeSponsor:u-jane:megan']);
    expect(h.notifier.of('sponsorshipReceived').map((n) => n.to)).toEqual(['alex']);
    expect((await h.lifecycle.myGuests(ALEX)).map((r) => r.access.guestName)).toEqual(['Jane Doe']);
    expect(await h.lifecycle.myGuests(MEGAN)).toEqual([]);
    expect((await h.lifecycle.handOver(ALEX, { accessId: id, newSponsor: { id: 'alex', name: 'Alex Wilber' } })).kind).toBe('already');
    // Reminders now go to Alex.
    await h.travel(7);
    expect(h.notifier.of('unredeemedReminder').map((n) => n.to)).toEqual(['alex']);
  });

  it('refuses strangers and sponsors who cannot sign in', async () => {
    const h = lifecycleHarness();
    const id = await h.inviteJane();
    expect(await h.lifecycle.handOver(STRANGER, { accessId: id, newSponsor: { id: 'pradeep', name: 'Pradeep' } })).toMatchObject({ kind: 'refused', reason: 'notAllowed' });
    h.accounts.users.get('pradeep')!.enabled = false;
    expect(await h.lifecycle.handOver(MEGAN, { accessId: id, newSponsor: { id: 'pradeep', name: 'Pradeep' } })).toMatchObject({ kind: 'refused', reason: 'sponsorNotFound' });
    expect(h.accounts.writes).toEqual([]);
  });

  it('without the sponsor permission, the record changes and an admin gets the Entra steps', async () => {
    const h = lifecycleHarness();
    const id = await h.inviteJane();
    h.accounts.denied.add('addSponsor');
    const outcome = await h.lifecycle.handOver(MEGAN, { accessId: id, newSponsor: { id: 'alex', name: 'Alex Wilber' } });
    expect(outcome).toMatchObject({ kind: 'needsAdmin', instructions: [{ action: 'addSponsor', permission: 'User.ReadWrite.All' }] });
    expect((await h.store.guestAccess.get(id))?.sponsor.id).toBe('alex');
  });
});

describe('queries', () => {
  it('"my guests" lists the sponsor\'s guests with state, dates and fitting actions; "guests of" is for owners', async () => {
    const h = lifecycleHarness();
    await h.inviteJane();
    h.accounts.addGuest('u-bob', 'Bob Kelly', ['falcon'], 'Accepted');
    h.clock.advance(DAY_MS);
    await h.lifecycle.recordAccess({
      tenantId: 'contoso',
      groupId: 'falcon',
      siteName: 'Project Falcon',
      siteUrl: 'https://contoso.sharepoint.com/sites/falcon',
      guest: { userId: 'u-bob', email: 'bob@northwind.com', displayName: 'Bob Kelly' },
      invitationRecordId: null,
      sponsor: { id: 'megan', name: 'Megan Bowen' },
      redeemed: true,
      sponsorSetByInvitation: true,
    });
    await h.travel(169);
    const rows = await h.lifecycle.myGuests(MEGAN);
    // Newest invitation first.
    expect(rows.map((r) => [r.access.guestName, r.access.status, r.actions])).toEqual([
      ['Bob Kelly', 'endingSoon', ['renew', 'remove']],
      ['Jane Doe', 'endingSoon', ['resend', 'withdraw', 'renew']],
    ]);
    expect(await h.lifecycle.guestsOfSite(MEGAN, { groupId: 'falcon', siteName: 'Project Falcon' })).toMatchObject({ kind: 'refused', reason: 'notAllowed' });
    // Resend from the list: a double click resends once; the refreshed list offers a new token.
    const janeRow = rows[1]!;
    await h.lifecycle.resend(MEGAN, { accessId: janeRow.access.accessId, reminderToken: janeRow.resendToken, sendEmail: false });
    expect((await h.lifecycle.resend(MEGAN, { accessId: janeRow.access.accessId, reminderToken: janeRow.resendToken, sendEmail: false })).kind).toBe('already');
    const refreshed = (await h.lifecycle.myGuests(MEGAN))[1]!;
    expect(refreshed.resendToken).not.toBe(janeRow.resendToken);
    expect((await h.lifecycle.resend(MEGAN, { accessId: janeRow.access.accessId, reminderToken: refreshed.resendToken, sendEmail: false })).kind).toBe('done');
    expect(h.accounts.writes.filter((w) => w.startsWith('reinvite'))).toHaveLength(2);
    const ofSite = await h.lifecycle.guestsOfSite(ALEX, { groupId: 'falcon', siteName: 'Project Falcon' });
    expect(ofSite.kind === 'list' && ofSite.rows).toHaveLength(2);
    await h.travel(11);
    expect(await h.lifecycle.myGuests(MEGAN)).toEqual([]);
    expect((await h.lifecycle.myGuests(MEGAN, { includeEnded: true })).map((r) => r.access.status)).toEqual(['ended', 'ended']);
  });

  it('"what is scheduled for jane@…" shows the due work to her sponsor and owners only', async () => {
    const h = lifecycleHarness();
    await h.inviteJane();
    const seen = await h.lifecycle.scheduleFor(MEGAN, 'Jane@Fabrikam.com');
    expect(seen).toHaveLength(1);
    expect(seen[0]?.scheduled.map((s) => [s.kind, s.dueAt])).toEqual([
      [LIFECYCLE_WORK.unredeemedReminder, at(7)],
      [LIFECYCLE_WORK.renewalReminder, at(166)],
      [LIFECYCLE_WORK.endOfAccess, at(180)],
    ]);
    expect(await h.lifecycle.scheduleFor(ALEX, 'jane@fabrikam.com')).toHaveLength(1);
    expect(await h.lifecycle.scheduleFor(STRANGER, 'jane@fabrikam.com')).toEqual([]);
  });
});
