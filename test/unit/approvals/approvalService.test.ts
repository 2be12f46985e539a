import { pendingListCard } from '../../../src/teams/approvals/cards/pendingCard';
import type { ApprovalReceipt } from '../../../src/usecases/invite/ports';
import { DirectoryError } from '../../../src/usecases/ports/Directory';
import {
  APPROVALS_CHANNEL,
  DEMO,
  actorOf,
  approvalTestbed,
  channelReference,
  mriOf,
  personalConversationId,
  personalReference,
  RecordingAdapter,
  textOf,
  verbsOn,
} from './testbed';

const DAY = 86_400_000;

describe('sending a request for approval', () => {
  it('a member inviting a partner to a site they do not own gets "sent for approval to Alex Wilber", and Alex gets the card', async () => {
    const bed = approvalTestbed();
    const result = await bed.invite.submitForApproval(
      {
        email: 'jane.doe@outlook.com',
        displayName: 'Jane Doe',
        groupId: DEMO.groups.projectFalcon.id,
        requestedBy: actorOf('adele'),
        conversationRefKey: personalConversationId('adele'),
      },
      'Jane runs the supplier audit.',
    );
    expect(result).toMatchObject({ approvers: ['Alex Wilber'], unreachable: [] });
    const card = await bed.render((result as ApprovalReceipt).card);
    expect(textOf(card)).toContain('Sent for approval to Alex Wilber.');
    expect(textOf(card)).toMatch(/expires on 29 Jan 2025/);
    expect(verbsOn(card)).toEqual(['approval.cancel']);

    const [alexCard] = bed.adapter.cardsSentTo(personalConversationId('alex'));
    expect(textOf(alexCard)).toContain('Invite Jane Doe to Project Falcon');
    expect(textOf(alexCard)).toContain('jane.doe@outlook.com');
    expect(textOf(alexCard)).toContain('Adele Vance');
    expect(textOf(alexCard)).toContain('Jane runs the supplier audit.');
    expect(verbsOn(alexCard)).toEqual(['approval.approve', 'approval.reject', 'approval.moreInfo']);
    expect((alexCard?.refresh as { userIds: string[] }).userIds).toEqual([mriOf('alex')]);
    // Nobody else is an approver; the guest is not invited yet.
    expect(bed.adapter.sent).toHaveLength(1);
    expect(bed.directory.callCount('invite')).toBe(0);
    expect((await bed.store.audit.list({ action: 'approval.requested' }))).toHaveLength(1);
  });

  it('an owner inviting to their own site needs no approval under nonOwners', async () => {
    const bed = approvalTestbed();
    const decision = await bed.invite.check(actorOf('megan'), { email: 'jane@fabrikam.com', displayName: 'Jane', groupId: DEMO.groups.projectFalcon.id });
    expect(decision.kind).toBe('allowed');
  });

  it('an approver who never chatted with the bot is recorded as unreachable and the requester is told', async () => {
    const bed = approvalTestbed({ reachable: ['adele', 'megan'] });
    const request = await bed.requestInvitation();
    const result = await bed.render(await bed.service.requesterView(request, null));
    expect(textOf(result)).toMatch(/Could not reach Alex Wilber in Teams/);
    expect((await bed.requests.listDeliveries(request.id))).toEqual([
      expect.objectContaining({ audience: 'approver', recipientName: 'Alex Wilber', status: 'unreachable' }),
    ]);
  });

  it('delivers the missed card when that approver opens a chat with the bot', async () => {
    const bed = approvalTestbed({ reachable: ['adele', 'megan'] });
    const request = await bed.requestInvitation();
    expect(bed.adapter.cardsSentTo(personalConversationId('alex'))).toHaveLength(0);
    const { personalReference } = await import('./testbed');
    await bed.store.conversationReferences.upsert(personalReference('alex'));
    await bed.seen(personalReference('alex'));
    expect(textOf(bed.adapter.cardsSentTo(personalConversationId('alex'))[0])).toContain('Invite Jane Doe to Project Falcon');
    // Seen again: not sent twice.
    await bed.seen(personalReference('alex'));
    expect(bed.adapter.cardsSentTo(personalConversationId('alex'))).toHaveLength(1);
    expect((await bed.requests.listCardCopies(request.id))).toHaveLength(1);
  });

  it('a missed card that reaches its approver just as the request is decided is brought up to date, not left with live buttons', async () => {
    const adapter = new RecordingAdapter();
    const bed = approvalTestbed({ reachable: ['adele', 'megan'], settings: { approvalsChannelId: APPROVALS_CHANNEL }, adapter });
    await bed.store.conversationReferences.upsert(channelReference());
    const request = await bed.requestInvitation();
    await bed.store.conversationReferences.upsert(personalReference('alex'));
    // The moment the missed card goes out to Alex, the request is approved from the channel's copy.
    const send = adapter.continueConversationAsync.bind(adapter);
    let decidedMeanwhile = false;
    adapter.continueConversationAsync = async (appId, reference, logic) => {
      if (reference.conversation?.id === personalConversationId('alex') && !decidedMeanwhile) {
        decidedMeanwhile = true;
        await bed.service.decide(actorOf('alex'), request.id, 'approve', null, request.version);
      }
      return send(appId, reference, logic);
    };
    await bed.seen(personalReference('alex'));
    await bed.service.whenIdle();
    expect(decidedMeanwhile).toBe(true);
    const [late] = bed.adapter.cardsSentTo(personalConversationId('alex'));
    expect(verbsOn(late)).toContain('approval.approve');
    const updates = bed.adapter.updatesIn(personalConversationId('alex'));
    expect(textOf(updates[updates.length - 1])).toMatch(/Approved by Alex Wilber/);
    expect(verbsOn(updates[updates.length - 1])).toEqual([]);
  });

  it('an approver whose chat opens with several install events at once gets the missed card once', async () => {
    const bed = approvalTestbed({ reachable: ['adele', 'megan'] });
    const request = await bed.requestInvitation();
    await bed.store.conversationReferences.upsert(personalReference('alex'));
    // Teams sends conversationUpdate and installationUpdate together when a chat opens.
    await Promise.all(Array.from({ length: 5 }, () => bed.seen(personalReference('alex'))));
    expect(bed.adapter.cardsSentTo(personalConversationId('alex')).length).toBe(1);
    const cards = (await bed.requests.listDeliveries(request.id)).filter((d) => d.recipientName === 'Alex Wilber' && d.status === 'sent');
    expect(cards).toHaveLength(1);
    expect((await bed.requests.listUndeliveredFor(DEMO.users.alex.id))).toEqual([]);
  });

  it('asking twice for the same guest and site makes no second request', async () => {
    const bed = approvalTestbed();
    const first = await bed.requestInvitation();
    const second = await bed.requestInvitation();
    expect(second.id).toBe(first.id);
    expect(bed.adapter.cardsSentTo(personalConversationId('alex'))).toHaveLength(1);
  });

  it('posts a copy to the approvals channel without buttons (approvers get them by refresh)', async () => {
    const bed = approvalTestbed({ settings: { approvalsChannelId: APPROVALS_CHANNEL } });
    await bed.store.conversationReferences.upsert(channelReference());
    await bed.requestInvitation();
    const [channelCard] = bed.adapter.cardsSentTo(APPROVALS_CHANNEL);
    expect(textOf(channelCard)).toContain('Invite Jane Doe to Project Falcon');
    expect(verbsOn(channelCard)).toEqual([]);
    expect(channelCard?.refresh).toMatchObject({ action: { verb: 'approval.refresh' }, userIds: [mriOf('alex')] });
  });

  it('with OWNERS_MAY_APPROVE the site owner also gets the card', async () => {
    const bed = approvalTestbed({ settings: { ownersMayApprove: true } });
    await bed.requestInvitation();
    expect(bed.adapter.cardsSentTo(personalConversationId('megan'))).toHaveLength(1);
    expect(bed.adapter.cardsSentTo(personalConversationId('alex'))).toHaveLength(1);
  });
});

describe('deciding', () => {
  it('approving carries out the invitation once, updates every copy and tells the requester with the link', async () => {
    const bed = approvalTestbed({ settings: { approvalsChannelId: APPROVALS_CHANNEL } });
    await bed.store.conversationReferences.upsert(channelReference());
    const request = await bed.requestInvitation();

    const outcome = await bed.service.decide(actorOf('alex'), request.id, 'approve', null, request.version);
    await bed.service.whenIdle();

    expect(outcome.status).toBe('applied');
    expect(outcome.message).toContain('Jane Doe (jane.doe@outlook.com) was invited and added to Project Falcon.');
    expect(bed.executor.calls).toHaveLength(1);
    expect(bed.executor.calls[0]).toMatchObject({ source: 'approval', approval: { requestId: request.id, approvedBy: { name: 'Alex Wilber' } } });
    expect(bed.directory.callCount('invite')).toBe(1);
    expect((await bed.requests.get(request.id))).toMatchObject({ state: 'approved', outcome: { status: 'succeeded' } });

    for (const conversation of [personalConversationId('alex'), APPROVALS_CHANNEL]) {
      const updates = bed.adapter.updatesIn(conversation);
      const last = updates[updates.length - 1];
      expect(textOf(last)).toMatch(/Approved by Alex Wilber on 15 Jan 2025/);
      expect(verbsOn(last)).toEqual([]);
    }
    const [told] = bed.adapter.cardsSentTo(personalConversationId('adele'));
    expect(textOf(told)).toContain('was invited and added to Project Falcon');
    expect(textOf(told)).toMatch(/https:\/\/login\.microsoftonline\.com\/redeem/);
    expect((await bed.store.audit.list({ subjectId: request.id })).map((e) => e.action)).toEqual([
      'approval.requested',
      'approval.approved',
      'approval.carriedOut',
    ]);
  });

  it('rejecting needs a reason; with one, the requester is told why and nothing is invited', async () => {
    const bed = approvalTestbed();
    const request = await bed.requestInvitation();
    const noReason = await bed.service.decide(actorOf('alex'), request.id, 'reject', '  ', request.version);
    expect(noReason.status).toBe('invalid');
    expect((await bed.requests.get(request.id))?.state).toBe('pending');

    const rejected = await bed.service.decide(actorOf('alex'), request.id, 'reject', 'Use the supplier portal.', request.version);
    await bed.service.whenIdle();
    expect(rejected.status).toBe('applied');
    expect(bed.executor.calls).toHaveLength(0);
    const [told] = bed.adapter.cardsSentTo(personalConversationId('adele'));
    expect(textOf(told)).toContain('Reason: Use the supplier portal.');
    expect(textOf(told)).toContain('Rejected by Alex Wilber');
  });

  it('a non-approver (Megan) changes nothing and is not shown the request', async () => {
    const bed = approvalTestbed();
    const request = await bed.requestInvitation();
    const outcome = await bed.service.decide(actorOf('megan'), request.id, 'approve', null, request.version);
    expect(outcome).toMatchObject({ status: 'forbidden', request: null });
    expect(outcome.message).toMatch(/Only members of the guest approver group/);
    expect((await bed.requests.get(request.id))).toMatchObject({ state: 'pending', version: request.version });
    expect(bed.executor.calls).toHaveLength(0);
  });

  it('rights are checked at click time: an approver removed from the group can no longer decide', async () => {
    const bed = approvalTestbed();
    const request = await bed.requestInvitation();
    const group = bed.directory.state.group(DEMO.groups.guestApprovers.id);
    group?.members.splice(0);
    const outcome = await bed.service.decide(actorOf('alex'), request.id, 'approve', null);
    expect(outcome.status).toBe('forbidden');
    expect((await bed.requests.get(request.id))?.state).toBe('pending');
  });

  it('a directory fault during the rights check changes nothing and says to retry', async () => {
    const bed = approvalTestbed();
    const request = await bed.requestInvitation();
    bed.directory.failNext('isMember', new DirectoryError('transient', 'Microsoft Graph is not answering right now.'));
    const outcome = await bed.service.decide(actorOf('alex'), request.id, 'approve', null);
    expect(outcome.status).toBe('unavailable');
    expect(outcome.message).toMatch(/try again/);
    expect((await bed.requests.get(request.id))?.state).toBe('pending');
  });

  it('nobody decides their own request, even an approver', async () => {
    const bed = approvalTestbed();
    const request = await bed.requestInvitation({ as: 'alex', groupId: DEMO.groups.projectFalcon.id });
    const outcome = await bed.service.decide(actorOf('alex'), request.id, 'approve', null);
    expect(outcome.status).toBe('forbidden');
    expect(outcome.message).toMatch(/another approver has to decide/);
  });

  it('a replayed approval after the decision sends no second invitation', async () => {
    const bed = approvalTestbed();
    const request = await bed.requestInvitation();
    await bed.service.decide(actorOf('alex'), request.id, 'approve', null, request.version);
    await bed.service.whenIdle();
    const replay = await bed.service.decide(actorOf('alex'), request.id, 'approve', null, request.version);
    const lateReject = await bed.service.decide(actorOf('alex'), request.id, 'reject', 'changed my mind');
    expect(replay.status).toBe('alreadyDecided');
    expect(lateReject.message).toMatch(/Alex Wilber already approved this request/);
    expect(bed.executor.calls).toHaveLength(1);
    expect(bed.directory.callCount('invite')).toBe(1);
  });

  it('an unknown request id changes nothing and says so', async () => {
    const bed = approvalTestbed();
    const outcome = await bed.service.decide(actorOf('alex'), 'no-such-request', 'approve', null);
    expect(outcome).toMatchObject({ status: 'notFound', request: null });
  });

  it('a card drawn before the requester answered a question must be reviewed again', async () => {
    const bed = approvalTestbed();
    const request = await bed.requestInvitation();
    await bed.service.requestMoreInfo(actorOf('alex'), request.id, 'How long?', request.version);
    await bed.service.provideInfo(actorOf('adele'), request.id, 'Until March.');
    const stale = await bed.service.decide(actorOf('alex'), request.id, 'approve', null, request.version);
    expect(stale.status).toBe('changed');
    expect(bed.executor.calls).toHaveLength(0);
  });

  it('a failed invitation keeps the decision and says what went wrong', async () => {
    const bed = approvalTestbed();
    const request = await bed.requestInvitation();
    bed.directory.failNext('invite', new DirectoryError('permissionMissing', 'The bot is missing the User.Invite.All permission.'), 10);
    const outcome = await bed.service.decide(actorOf('alex'), request.id, 'approve', null);
    await bed.service.whenIdle();
    expect(outcome.status).toBe('applied');
    expect((await bed.requests.get(request.id))).toMatchObject({ state: 'approved', outcome: { status: 'failed' } });
    expect((await bed.requests.get(request.id))?.outcome?.message).toMatch(/User\.Invite\.All/);
    expect(textOf(bed.adapter.cardsSentTo(personalConversationId('adele'))[0])).toMatch(/User\.Invite\.All/);
  });
});

describe('more information', () => {
  it('the requester is asked, answers, and the answer is appended to the justification on every copy', async () => {
    const bed = approvalTestbed();
    const request = await bed.requestInvitation();
    const asked = await bed.service.requestMoreInfo(actorOf('alex'), request.id, 'How long does Jane need access?', request.version);
    expect(asked.status).toBe('applied');
    const [question] = bed.adapter.cardsSentTo(personalConversationId('adele'));
    expect(textOf(question)).toContain('Alex Wilber asks: How long does Jane need access?');
    expect(verbsOn(question)).toEqual(['approval.provideInfo', 'approval.cancel']);

    const answered = await bed.service.provideInfo(actorOf('adele'), request.id, 'Until the end of March.');
    expect(answered.status).toBe('applied');
    const stored = (await bed.requests.get(request.id));
    expect(stored?.justification).toMatch(/^Jane runs the supplier audit for Falcon\.\n\nAnswer to Alex Wilber .*: Until the end of March\.$/);
    expect(stored?.infoRequest).toBeNull();
    const updates = bed.adapter.updatesIn(personalConversationId('alex'));
    expect(textOf(updates[updates.length - 1])).toContain('Until the end of March.');
    expect(verbsOn(updates[updates.length - 1])).toEqual(['approval.approve', 'approval.reject', 'approval.moreInfo']);
  });

  it('only the requester can answer', async () => {
    const bed = approvalTestbed();
    const request = await bed.requestInvitation();
    await bed.service.requestMoreInfo(actorOf('alex'), request.id, 'Why?', request.version);
    const outcome = await bed.service.provideInfo(actorOf('megan'), request.id, 'Because I say so');
    expect(outcome.status).toBe('forbidden');
    expect((await bed.requests.get(request.id))?.justification).not.toContain('Because I say so');
  });
});

describe('cancelling', () => {
  it('the requester cancels their pending request and approvers see it on their cards', async () => {
    const bed = approvalTestbed();
    const request = await bed.requestInvitation();
    const outcome = await bed.service.cancel(actorOf('adele'), request.id);
    expect(outcome.status).toBe('applied');
    const updates = bed.adapter.updatesIn(personalConversationId('alex'));
    expect(textOf(updates[updates.length - 1])).toContain('Cancelled by the requester');
    expect(verbsOn(updates[updates.length - 1])).toEqual([]);
    const late = await bed.service.decide(actorOf('alex'), request.id, 'approve', null);
    expect(late.message).toMatch(/Adele Vance cancelled this request/);
    expect(bed.executor.calls).toHaveLength(0);
  });

  it('someone else cannot cancel it', async () => {
    const bed = approvalTestbed();
    const request = await bed.requestInvitation();
    expect((await bed.service.cancel(actorOf('alex'), request.id)).status).toBe('forbidden');
    expect((await bed.requests.get(request.id))?.state).toBe('pending');
  });
});

describe('expiry', () => {
  it('the sweep expires overdue requests, updates the cards and tells the requester; later clicks change nothing', async () => {
    const bed = approvalTestbed();
    const request = await bed.requestInvitation();
    expect(await bed.service.expireDue(new Date(bed.clock().getTime() + 13 * DAY))).toBe(0);
    bed.clock.advance(14 * DAY);
    expect(await bed.service.expireDue()).toBe(1);
    expect(await bed.service.expireDue()).toBe(0);

    expect((await bed.requests.get(request.id))?.state).toBe('expired');
    const updates = bed.adapter.updatesIn(personalConversationId('alex'));
    expect(textOf(updates[updates.length - 1])).toContain('Expired without a decision');
    expect(textOf(bed.adapter.cardsSentTo(personalConversationId('adele'))[0])).toMatch(/expired/);
    const late = await bed.service.decide(actorOf('alex'), request.id, 'approve', null);
    expect(late.status).toBe('alreadyDecided');
    expect(bed.executor.calls).toHaveLength(0);
    expect((await bed.store.audit.list({ action: 'approval.expired' }))).toHaveLength(1);
  });

  it('a click on an overdue request the sweep has not reached yet expires it instead of approving', async () => {
    const bed = approvalTestbed();
    const request = await bed.requestInvitation();
    bed.clock.advance(15 * DAY);
    const outcome = await bed.service.decide(actorOf('alex'), request.id, 'approve', null);
    expect(outcome.status).toBe('alreadyDecided');
    expect(outcome.message).toMatch(/expired/);
    expect(bed.executor.calls).toHaveLength(0);
  });

  it('honours APPROVAL_EXPIRY_DAYS', async () => {
    const bed = approvalTestbed({ settings: { expiryDays: 3 } });
    const request = await bed.requestInvitation();
    expect(request.expiresAt).toBe(new Date(bed.clock().getTime() + 3 * DAY).toISOString());
  });
});

describe('notifications that fail', () => {
  it('a requester chat the bot was removed from is recorded, and the decision and invitation stand', async () => {
    const bed = approvalTestbed();
    const request = await bed.requestInvitation();
    bed.adapter.failing.set(personalConversationId('adele'), 403);
    const outcome = await bed.service.decide(actorOf('alex'), request.id, 'approve', null);
    await bed.service.whenIdle();
    expect(outcome.status).toBe('applied');
    expect((await bed.requests.get(request.id))).toMatchObject({ state: 'approved', outcome: { status: 'succeeded' } });
    expect(bed.directory.callCount('invite')).toBe(1);
    expect((await bed.requests.listDeliveries(request.id))).toContainEqual(
      expect.objectContaining({ audience: 'requester', purpose: 'notice', status: 'failed', error: expect.stringMatching(/^forbidden/) }),
    );
  });

  it('a card copy that cannot be updated is recorded and the others are still updated', async () => {
    const bed = approvalTestbed({ settings: { ownersMayApprove: true } });
    const request = await bed.requestInvitation();
    bed.adapter.failing.set(personalConversationId('megan'), 403);
    await bed.service.decide(actorOf('alex'), request.id, 'reject', 'Not needed');
    await bed.service.whenIdle();
    expect(bed.adapter.updatesIn(personalConversationId('alex'))).not.toHaveLength(0);
    expect((await bed.requests.listDeliveries(request.id))).toContainEqual(
      expect.objectContaining({ recipientName: 'Megan Bowen', purpose: 'update', status: 'failed' }),
    );
  });
});

describe('pending list', () => {
  it('shows approvers the open requests with their age; others get null', async () => {
    const bed = approvalTestbed();
    await bed.requestInvitation();
    bed.clock.advance(3 * DAY);
    const pending = await bed.service.listPending(actorOf('alex'));
    expect(pending).toHaveLength(1);
    const card = pendingListCard(pending ?? [], bed.clock());
    expect(textOf(card)).toMatch(/Asked by Adele Vance 3 days ago; expires in 11 days/);
    expect(verbsOn(card)).toEqual(['approval.approve', 'approval.reject', 'approval.moreInfo']);
    expect(await bed.service.listPending(actorOf('megan'))).toBeNull();
  });
});

describe('redemption resets', () => {
  const jordan = DEMO.users.jordan;

  it('with resets disabled, approvers are warned and approval records the manual instruction', async () => {
    const bed = approvalTestbed();
    const submitted = await bed.service.submitReset({
      guest: actorOf('jordan'),
      guestEmail: jordan.mail,
      guestName: jordan.displayName,
      redirectUrl: `https://myapps.microsoft.com/?tenantid=${DEMO.tenantId}`,
      currentMethod: 'emailOneTimePasscode',
      reason: 'My company now has Microsoft 365 and I keep getting codes.',
      conversationRefKey: personalConversationId('jordan'),
    });
    expect(textOf(bed.adapter.cardsSentTo(personalConversationId('alex'))[0])).toMatch(/Redemption resets are disabled in this deployment/);
    await bed.service.decide(actorOf('alex'), submitted.requestId, 'approve', null);
    await bed.service.whenIdle();
    expect(bed.directory.callCount('resetRedemption')).toBe(0);
    expect((await bed.requests.get(submitted.requestId))?.outcome).toMatchObject({
      status: 'manualActionRequired',
      message: expect.stringMatching(/Microsoft Entra admin center .*Reset redemption status/),
    });
  });

  it('with resets enabled, approval resets the redemption and gives the guest the new link', async () => {
    const bed = approvalTestbed({ settings: { allowRedemptionReset: true } });
    const submitted = await bed.service.submitReset({
      guest: actorOf('jordan'),
      guestEmail: jordan.mail,
      guestName: jordan.displayName,
      redirectUrl: `https://myapps.microsoft.com/?tenantid=${DEMO.tenantId}`,
      currentMethod: 'emailOneTimePasscode',
      reason: 'New work account.',
      conversationRefKey: personalConversationId('jordan'),
    });
    await bed.service.decide(actorOf('alex'), submitted.requestId, 'approve', null);
    await bed.service.whenIdle();
    expect(bed.directory.callCount('resetRedemption')).toBe(1);
    expect((await bed.requests.get(submitted.requestId))?.outcome?.status).toBe('succeeded');
    expect(textOf(bed.adapter.cardsSentTo(personalConversationId('jordan'))[0])).toMatch(/Invitation link/);
  });
});
