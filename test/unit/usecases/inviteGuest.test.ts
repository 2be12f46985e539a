import { DirectoryError } from '../../../src/usecases/ports/Directory';
import { sqliteDatabaseOf } from '../../../src/adapters/sqlite/store';
import { DEMO } from '../../support/directory';
import { inviteTestbed } from '../../support/dialogHarness';
import { InviteGuestService } from '../../../src/usecases/invite/inviteGuest';
import { type ApprovalGateway, type ApprovalReceipt } from '../../../src/usecases/invite/ports';
import { SqliteInvitationRepository } from '../../../src/adapters/sqlite/invitations';
import { SignInAdvisor } from '../../../src/usecases/signIn/signInAdvisor';

const FALCON = DEMO.groups.projectFalcon;

function request(tb: ReturnType<typeof inviteTestbed>, overrides: Partial<{ email: string; displayName: string; groupId: string; as: 'megan' | 'alex' | 'adele' }> = {}) {
  return {
    email: overrides.email ?? 'jane@fabrikam.com',
    displayName: overrides.displayName ?? 'Jane Doe',
    groupId: overrides.groupId ?? FALCON.id,
    requestedBy: tb.actor(overrides.as ?? 'megan'),
  };
}

function membersOf(tb: ReturnType<typeof inviteTestbed>, groupId: string): string[] {
  return tb.directory.snapshot().groups.find((g) => g.id === groupId)?.members ?? [];
}

describe('InviteGuestService.execute', () => {
  it('invites a new guest with the site as redirect, adds them to the group and records it', async () => {
    const tb = inviteTestbed();
    const outcome = await tb.service.execute(request(tb));

    expect(outcome.status).toBe('completed');
    expect(outcome.kind).toBe('newGuest');
    expect(outcome.redeemUrl).toMatch(/^https:\/\//);
    const invitations = tb.directory.snapshot().invitations;
    expect(invitations).toHaveLength(1);
    expect(invitations[0]).toMatchObject({ email: 'jane@fabrikam.com', displayName: 'Jane Doe', redirectUrl: FALCON.siteUrl, sendInvitationMessage: false });
    expect(membersOf(tb, FALCON.id)).toContain(outcome.record?.userId);
    expect(outcome.record).toMatchObject({
      state: 'completed',
      predictedMethod: 'workOrSchoolAccount',
      requestedBy: { id: DEMO.users.megan.id, name: 'Megan Bowen' },
      siteUrl: FALCON.siteUrl,
      redeemUrl: outcome.redeemUrl,
    });
    const actions = (await tb.store.audit.list({ subjectId: outcome.record?.id })).map((e) => e.action);
    expect(actions).toEqual(['invitation.requested', 'invitation.invited', 'invitation.completed']);
    expect(JSON.stringify(await tb.store.audit.list())).not.toContain('redeem');
  });

  it('honours SEND_INVITATION_EMAIL', async () => {
    const tb = inviteTestbed({ sendInvitationEmail: true });
    await tb.service.execute(request(tb));
    expect(tb.directory.snapshot().invitations[0]?.sendInvitationMessage).toBe(true);
  });

  it('ten identical requests at once make one invitation and one membership', async () => {
    const tb = inviteTestbed();
    const outcomes = await Promise.all(Array.from({ length: 10 }, () => tb.service.execute(request(tb))));

    expect(tb.directory.callCount('invite')).toBe(1);
    expect(tb.directory.callCount('addMembers')).toBe(1);
    expect(outcomes.every((o) => o.status === 'completed')).toBe(true);
    expect(new Set(outcomes.map((o) => o.record?.id)).size).toBe(1);
  });

  it('two service instances over one database (two processes) still make one invitation', async () => {
    const tb = inviteTestbed();
    const second = new InviteGuestService({
      directory: tb.directory,
      advisor: new SignInAdvisor(tb.directory),
      invitations: new SqliteInvitationRepository(sqliteDatabaseOf(tb.store), { clock: tb.clock }),
      audit: tb.store.audit,
      sendInvitationEmail: false,
      clock: tb.clock,
      sleep: async () => {},
    });
    const outcomes = await Promise.all([tb.service.execute(request(tb)), second.execute(request(tb)), tb.service.execute(request(tb))]);
    expect(tb.directory.callCount('invite')).toBe(1);
    expect(outcomes.some((o) => o.status === 'completed')).toBe(true);
    expect(outcomes.every((o) => o.status === 'completed' || o.status === 'inProgress')).toBe(true);
    const again = await second.execute(request(tb));
    expect(again).toMatchObject({ status: 'completed', alreadyDone: true });
    expect(tb.directory.callCount('invite')).toBe(1);
  });

  it('the same request from two owners yields one invitation, credited to the first', async () => {
    const tb = inviteTestbed({
      tweak: (t) => {
        t.groups.find((g) => g.id === FALCON.id)?.owners.push(DEMO.users.alex.id);
      },
    });
    const first = await tb.service.execute(request(tb, { as: 'megan' }));
    const second = await tb.service.execute(request(tb, { as: 'alex', email: 'JANE@Fabrikam.com' }));

    expect(tb.directory.callCount('invite')).toBe(1);
    expect(second).toMatchObject({ status: 'completed', alreadyDone: true });
    expect(second.record?.id).toBe(first.record?.id);
    expect(second.record?.requestedBy.id).toBe(DEMO.users.megan.id);
    expect((await tb.store.audit.list({ action: 'invitation.requestedAgain' }))[0]?.actorId).toBe(DEMO.users.alex.id);
  });

  it('adding to the group failing leaves a partial record, and a retry completes it without a second invitation', async () => {
    const tb = inviteTestbed();
    tb.directory.failNext('addMembers', new DirectoryError('permissionMissing', 'The bot is missing GroupMember.ReadWrite.All.', { permission: 'GroupMember.ReadWrite.All' }));
    const outcome = await tb.service.execute(request(tb));

    expect(outcome.status).toBe('partial');
    expect(outcome.record?.state).toBe('partial');
    expect(outcome.record?.lastError).toContain('GroupMember.ReadWrite.All');
    expect(outcome.redeemUrl).toMatch(/^https:/);
    expect(membersOf(tb, FALCON.id)).not.toContain(outcome.record?.userId);

    const retried = await tb.service.retryMembership(outcome.record?.id ?? '', tb.actor('megan'));
    expect(retried.status).toBe('completed');
    expect(retried.record?.state).toBe('completed');
    expect(membersOf(tb, FALCON.id)).toContain(outcome.record?.userId);
    expect(tb.directory.callCount('invite')).toBe(1);
  });

  it('a retry of the partial record by someone who is not an owner changes nothing', async () => {
    const tb = inviteTestbed();
    tb.directory.failNext('addMembers', new DirectoryError('transient', 'Graph hiccup'), 10);
    const outcome = await tb.service.execute(request(tb));
    expect(outcome.status).toBe('partial');

    const refused = await tb.service.retryMembership(outcome.record?.id ?? '', tb.actor('adele'));
    expect(refused.status).toBe('failed');
    expect(refused.refusal?.message).toMatch(/Only the person who asked for this invitation or an owner of its site can retry it/);
    // Someone else's invitation: nothing of it comes back.
    expect(refused.record).toBeNull();
    expect(refused.target).toBeNull();
    expect((await tb.invitations.get(outcome.record?.id ?? ''))?.state).toBe('partial');
  });

  it('an existing guest who has not redeemed (Lee Gu) is not invited again as a new user but gets a fresh link', async () => {
    const tb = inviteTestbed();
    const usersBefore = tb.directory.snapshot().users.length;
    const outcome = await tb.service.execute(request(tb, { email: DEMO.users.leeGu.mail, displayName: 'Lee Gu' }));

    expect(outcome).toMatchObject({ status: 'completed', kind: 'existingGuest' });
    expect(outcome.redeemUrl).toMatch(/^https:/);
    expect(outcome.record?.userId).toBe(DEMO.users.leeGu.id);
    expect(tb.directory.snapshot().users).toHaveLength(usersBefore);
    expect(membersOf(tb, FALCON.id)).toContain(DEMO.users.leeGu.id);
  });

  it('an existing guest who redeemed (Jordan) gets no link and is just added', async () => {
    const tb = inviteTestbed();
    const outcome = await tb.service.execute(request(tb, { email: DEMO.users.jordan.mail, displayName: 'Jordan Lee', groupId: DEMO.groups.marketing.id }));

    expect(outcome).toMatchObject({ status: 'completed', kind: 'existingGuest', redeemUrl: null });
    expect(tb.directory.callCount('invite')).toBe(0);
    expect(membersOf(tb, DEMO.groups.marketing.id)).toContain(DEMO.users.jordan.id);
  });

  it('a guest already in the group is fine ("already a member")', async () => {
    const tb = inviteTestbed();
    const outcome = await tb.service.execute(request(tb, { email: DEMO.users.jordan.mail, displayName: 'Jordan Lee' }));
    expect(outcome.status).toBe('completed');
  });

  it('an internal user (adele@contoso.com) is simply added, with no invitation', async () => {
    const tb = inviteTestbed();
    const outcome = await tb.service.execute(request(tb, { email: 'Adele.Vance@contoso.com', displayName: 'Adele Vance', groupId: DEMO.groups.marketing.id }));

    expect(outcome).toMatchObject({ status: 'completed', kind: 'internalUser', redeemUrl: null });
    expect(tb.directory.callCount('invite')).toBe(0);
    expect(membersOf(tb, DEMO.groups.marketing.id)).toContain(DEMO.users.adele.id);
  });

  it('throttling within the bound is retried, honouring Retry-After', async () => {
    const tb = inviteTestbed();
    tb.directory.throttle({ retryAfterMs: 1500, times: 2, methods: ['invite'] });
    const outcome = await tb.service.execute(request(tb));
    expect(outcome.status).toBe('completed');
    expect(tb.waits).toEqual([1500, 1500]);
  });

  it('throttling past the retry bound fails honestly and changes nothing', async () => {
    const tb = inviteTestbed();
    tb.directory.throttle({ retryAfterMs: 1000, times: 4, methods: ['invite'] });
    const outcome = await tb.service.execute(request(tb));

    expect(outcome.status).toBe('failed');
    expect(outcome.refusal?.code).toBe('throttled');
    expect(outcome.record?.state).toBe('failed');
    expect(tb.directory.snapshot().invitations).toHaveLength(0);
    expect(tb.directory.callCount('invite')).toBe(4);

    // Later, the same request starts over and succeeds on the same record.
    const later = await tb.service.execute(request(tb));
    expect(later.status).toBe('completed');
    expect(later.record?.id).toBe(outcome.record?.id);
    expect(later.record?.attempts).toBe(2);
  });

  it('refuses a non-owner without an approval gateway, and changes nothing', async () => {
    const tb = inviteTestbed();
    const outcome = await tb.service.execute(request(tb, { as: 'adele' }));
    expect(outcome.status).toBe('failed');
    expect(outcome.refusal?.message).toBe(
      "Only the site's owners can invite guests to Project Falcon. Ask one of its owners, or an owner can add you as an owner.",
    );
    expect(tb.directory.callCount('invite')).toBe(0);
    expect(await tb.invitations.listByState(['pending', 'invited', 'completed', 'partial', 'failed'])).toHaveLength(0);
  });

  it('asks the approval gateway, and an approved request is carried out for a non-owner', async () => {
    const submitted: unknown[] = [];
    const gateway: ApprovalGateway = {
      needsApproval: async (ctx) => ({ required: !ctx.isOwner, reason: 'requester is not an owner of the site' }),
      submit: async (s) => {
        submitted.push(s);
        return { requestId: 'apr-1', approvers: ['Alex Wilber'], unreachable: [], duplicate: false, card: {} as ApprovalReceipt['card'] };
      },
    };
    const tb = inviteTestbed({ approvals: gateway });
    const decision = await tb.service.check(tb.actor('adele'), request(tb, { as: 'adele' }));
    expect(decision).toMatchObject({ kind: 'needsApproval', reason: 'requester is not an owner of the site' });

    const blocked = await tb.service.execute(request(tb, { as: 'adele' }));
    expect(blocked.status).toBe('failed');
    expect(tb.directory.callCount('invite')).toBe(0);

    const sent = await tb.service.submitForApproval(request(tb, { as: 'adele' }), 'partner on Falcon');
    expect(sent).toMatchObject({ requestId: 'apr-1', approvers: ['Alex Wilber'], unreachable: [] });
    expect((await tb.store.audit.list({ action: 'invitation.submittedForApproval' }))[0]?.details).toMatchObject({ approvalId: 'apr-1' });
    expect(submitted).toHaveLength(1);

    const approved = await tb.service.execute({
      ...request(tb, { as: 'adele' }),
      approval: { requestId: 'apr-1', approvedBy: { id: DEMO.users.alex.id, name: 'Alex Wilber' } },
    });
    expect(approved.status).toBe('completed');
    expect(approved.record?.source).toBe('approval');
  });

  it.each([
    ['a blocked domain', { email: 'sam@litware.com' }, 'b2bManagementPolicy.blockList'],
    ['an unknown internal address', { email: 'nobody@contoso.com' }, null],
    ['a malformed address', { email: 'jane doe@fabrikam.com' }, null],
    ['an empty name', { displayName: '   ' }, null],
    ['a 300-character name', { displayName: 'J'.repeat(300) }, null],
    ['a name with control characters', { displayName: 'Jane\u0007Doe' }, null],
    ['an unknown site', { groupId: '7a2e9d41-9999-4b6c-9d8e-1f2a3b4c5d99' }, null],
    ['a group with no site', { groupId: DEMO.groups.guestApprovers.id }, null],
  ] as const)('refuses %s before anything is sent', async (_label, overrides, setting) => {
    const tb = inviteTestbed();
    const outcome = await tb.service.execute({ ...request(tb), ...overrides });
    expect(outcome.status).toBe('failed');
    expect(outcome.refusal?.message.length).toBeGreaterThan(10);
    if (setting) expect(outcome.refusal?.setting).toBe(setting);
    expect(tb.directory.callCount('invite')).toBe(0);
    expect(tb.directory.callCount('addMembers')).toBe(0);
  });

  it.each([
    ['guest invitations restricted to admins', { allowInvitesFrom: 'adminsAndGuestInviters' as const }, 'authorizationPolicy.allowInvitesFrom'],
    ['nobody may invite', { allowInvitesFrom: 'none' as const }, 'authorizationPolicy.allowInvitesFrom'],
  ])('refuses when %s, naming the setting and who can change it', async (_label, policy, setting) => {
    const tb = inviteTestbed();
    tb.directory.setPolicies(policy);
    const decision = await tb.service.check(tb.actor('megan'), request(tb));
    expect(decision.kind).toBe('refused');
    if (decision.kind !== 'refused') return;
    expect(decision.refusal.setting).toBe(setting);
    expect(decision.refusal.whoCanChange).toMatch(/Administrator/);
  });

  it('refuses when SharePoint external sharing is disabled', async () => {
    const tb = inviteTestbed();
    tb.directory.setPolicies({ sharePoint: { sharingCapability: 'disabled', sharingDomainRestrictionMode: 'none', sharingAllowedDomainList: [], sharingBlockedDomainList: [] } } as never);
    const outcome = await tb.service.execute(request(tb));
    expect(outcome.status).toBe('failed');
    expect(outcome.refusal?.setting).toBe('sharePoint.sharingCapability');
    expect(outcome.refusal?.whoCanChange).toMatch(/SharePoint Administrator/);
    expect(tb.directory.callCount('invite')).toBe(0);
  });

  it('a missing Graph permission on invite is reported by name and leaves a failed record', async () => {
    const tb = inviteTestbed();
    tb.directory.failNext('invite', new DirectoryError('permissionMissing', 'The bot is missing the Microsoft Graph permission User.Invite.All. An administrator must grant it.', { permission: 'User.Invite.All' }));
    const outcome = await tb.service.execute(request(tb));
    expect(outcome.status).toBe('failed');
    expect(outcome.refusal).toMatchObject({ code: 'permissionMissing', setting: 'Microsoft Graph application permission User.Invite.All' });
    expect(tb.directory.snapshot().invitations).toHaveLength(0);
  });
});

describe('InviteGuestService repeats and retries', () => {
  function removeFromGroup(tb: ReturnType<typeof inviteTestbed>, groupId: string, userId: string): void {
    const group = tb.directory.state.group(groupId);
    if (!group) throw new Error(`no group ${groupId}`);
    group.members = group.members.filter((m) => m !== userId);
  }

  it('a repeat request for a guest still in the group is "already done" and changes nothing', async () => {
    const tb = inviteTestbed();
    const first = await tb.service.execute(request(tb));
    const again = await tb.service.execute(request(tb));
    expect(again).toMatchObject({ status: 'completed', alreadyDone: true });
    expect(again.record?.id).toBe(first.record?.id);
    expect(tb.directory.callCount('invite')).toBe(1);
    expect(tb.directory.callCount('addMembers')).toBe(1);
  });

  it('a guest removed from the group since is added back by a repeat request, without a second invitation', async () => {
    const tb = inviteTestbed();
    const first = await tb.service.execute(request(tb));
    const userId = first.record?.userId ?? '';
    removeFromGroup(tb, FALCON.id, userId);
    expect(membersOf(tb, FALCON.id)).not.toContain(userId);

    const again = await tb.service.execute(request(tb));

    expect(again.status).toBe('completed');
    expect(again.alreadyDone).toBe(false);
    expect(again.membershipRestored).toBe(true);
    expect(again.record?.id).toBe(first.record?.id);
    expect(membersOf(tb, FALCON.id)).toContain(userId);
    expect(tb.directory.callCount('invite')).toBe(1);
    expect(tb.directory.snapshot().invitations).toHaveLength(1);
    expect((await tb.store.audit.list({ action: 'invitation.membershipLost' }))).toHaveLength(1);
  });

  it('retrying a failed invitation re-checks the tenant policy, and sends nothing once invitations are restricted', async () => {
    const tb = inviteTestbed();
    tb.directory.failNext('invite', new DirectoryError('permissionMissing', 'The bot is missing User.Invite.All.', { permission: 'User.Invite.All' }));
    const failed = await tb.service.execute(request(tb));
    expect(failed.status).toBe('failed');
    const recordId = failed.record?.id ?? '';
    const invitesBefore = tb.directory.callCount('invite');

    tb.directory.setPolicies({ allowInvitesFrom: 'adminsAndGuestInviters' });
    const refused = await tb.service.retryMembership(recordId, tb.actor('megan'));
    expect(refused.status).toBe('failed');
    expect(refused.refusal?.setting).toBe('authorizationPolicy.allowInvitesFrom');
    expect(tb.directory.callCount('invite')).toBe(invitesBefore);
    expect((await tb.invitations.get(recordId))?.state).toBe('failed');

    tb.directory.setPolicies({ allowInvitesFrom: 'adminsGuestInvitersAndAllMembers' });
    const retried = await tb.service.retryMembership(recordId, tb.actor('megan'));
    expect(retried.status).toBe('completed');
    expect(tb.directory.snapshot().invitations).toHaveLength(1);
  });

  it('retrying a failed invitation to a domain blocked since then is refused by the block list', async () => {
    const tb = inviteTestbed();
    tb.directory.failNext('invite', new DirectoryError('permissionMissing', 'The bot is missing User.Invite.All.', { permission: 'User.Invite.All' }));
    const failed = await tb.service.execute(request(tb));
    const recordId = failed.record?.id ?? '';
    const invitesBefore = tb.directory.callCount('invite');

    tb.directory.setPolicies({ b2bDomainPolicy: { mode: 'blockList', domains: ['litware.com', 'fabrikam.com'] } });
    const refused = await tb.service.retryMembership(recordId, tb.actor('megan'));
    expect(refused.status).toBe('failed');
    expect(refused.refusal?.setting).toBe('b2bManagementPolicy.blockList');
    expect(tb.directory.callCount('invite')).toBe(invitesBefore);
    expect(tb.directory.snapshot().invitations).toHaveLength(0);
  });
});

describe('InviteGuestService status', () => {
  it('"status of" shows pending, then accepted with the actual sign-in refreshed from identities', async () => {
    const tb = inviteTestbed();
    const outcome = await tb.service.execute(request(tb));
    let [view] = await tb.service.statusOf(tb.actor('megan'), 'jane@fabrikam.com');
    expect(view?.externalUserState).toBe('PendingAcceptance');
    expect(view?.actualMethod).toBeNull();

    tb.directory.redeem(outcome.record?.userId ?? '', 'workOrSchoolAccount');
    [view] = await tb.service.statusOf(tb.actor('megan'), 'Jane@Fabrikam.com');
    expect(view?.externalUserState).toBe('Accepted');
    expect(view?.actualMethod).toBe('workOrSchoolAccount');
    expect((await tb.invitations.get(outcome.record?.id ?? ''))?.actualMethod).toBe('workOrSchoolAccount');
  });

  it('"status of" hides invitations to sites the asker neither requested nor owns', async () => {
    const tb = inviteTestbed();
    await tb.service.execute(request(tb));
    expect(await tb.service.statusOf(tb.actor('adele'), 'jane@fabrikam.com')).toEqual([]);
  });

  it('"my invitations" lists the requester\'s own, newest first', async () => {
    const tb = inviteTestbed();
    await tb.service.execute(request(tb, { email: 'a@fabrikam.com', displayName: 'A' }));
    tb.clock.advance(1000);
    await tb.service.execute(request(tb, { email: 'b@example.org', displayName: 'B', groupId: DEMO.groups.marketing.id }));
    const mine = await tb.service.myInvitations(tb.actor('megan'));
    expect(mine.map((v) => v.record.emailNormalised)).toEqual(['b@example.org', 'a@fabrikam.com']);
    expect(await tb.service.myInvitations(tb.actor('alex'))).toEqual([]);
  });
});
