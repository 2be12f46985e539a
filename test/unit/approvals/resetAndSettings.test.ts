import { approvalSettingsFromConfig, ApprovalConfigError, DEMO_APPROVER_GROUP_ID } from '../../../src/app/approvalSettings';
import { approvalResetSink, tenantRedirectUrl } from '../../../src/usecases/approvals/resetApprovals';
import { loadConfig } from '../../../src/app/config';
import { APPROVALS_CHANNEL, DEMO, actorOf, approvalTestbed, channelReference, personalConversationId, textOf } from './testbed';

describe('approval settings from the environment', () => {
  it('defaults to the demo "Guest Approvers" group in local mode, 14-day expiry, nonOwners', () => {
    const settings = approvalSettingsFromConfig(loadConfig({}));
    expect(settings).toMatchObject({ approverGroupId: DEMO_APPROVER_GROUP_ID, expiryDays: 14, policy: 'nonOwners', ownersMayApprove: false });
  });

  it('reads every approval variable', () => {
    const settings = approvalSettingsFromConfig(
      loadConfig({
        APPROVAL_POLICY: 'unlistedDomains',
        PARTNER_DOMAINS: 'Fabrikam.com, tailspintoys.com',
        APPROVER_GROUP_ID: 'group-x',
        OWNERS_MAY_APPROVE: 'true',
        APPROVALS_CHANNEL_ID: APPROVALS_CHANNEL,
        APPROVAL_EXPIRY_DAYS: '7',
        ALLOW_REDEMPTION_RESET: 'true',
      }),
    );
    expect(settings).toEqual({
      policy: 'unlistedDomains',
      partnerDomains: ['fabrikam.com', 'tailspintoys.com'],
      approverGroupId: 'group-x',
      ownersMayApprove: true,
      approvalsChannelId: APPROVALS_CHANNEL,
      expiryDays: 7,
      allowRedemptionReset: true,
    });
  });

  it('does not fall back to the demo group with a real directory', () => {
    const config = loadConfig({});
    expect(() => approvalSettingsFromConfig({ ...config, directory: 'graph' })).toThrow(ApprovalConfigError);
  });
});

describe('reset requests from the guest-help feature', () => {
  it('are recorded, sent to approvers once, and the record is closed when rejected', async () => {
    const bed = approvalTestbed();
    const sink = approvalResetSink(bed.resetLedger, bed.service);
    const input = {
      tenantId: DEMO.tenantId,
      userId: DEMO.users.jordan.id,
      userName: DEMO.users.jordan.displayName,
      email: DEMO.users.jordan.mail,
      redeemedWith: 'emailOneTimePasscode' as const,
      reason: 'Tailspin Toys now has Microsoft Entra ID.',
    };
    const first = await sink.submit(input);
    const second = await sink.submit(input);
    expect(first.approval).toMatchObject({ approvers: ['Alex Wilber'], duplicate: false });
    expect(second).toMatchObject({ alreadyOpen: true, approval: { duplicate: true, requestId: first.approval?.requestId } });
    expect(bed.adapter.cardsSentTo(personalConversationId('alex'))).toHaveLength(1);
    const request = (await bed.requests.get(first.approval?.requestId ?? ''));
    expect(request?.subject).toMatchObject({ kind: 'redemptionReset', redirectUrl: tenantRedirectUrl(DEMO.tenantId) });

    await bed.service.decide(actorOf('alex'), request?.id ?? '', 'reject', 'Ask your Tailspin admin first.');
    await bed.service.whenIdle();
    expect((await bed.resetLedger.findOpen(DEMO.tenantId, DEMO.users.jordan.id))).toBeNull();
    // The guest hears back in their personal chat.
    expect(textOf(bed.adapter.cardsSentTo(personalConversationId('jordan'))[0])).toContain('Ask your Tailspin admin first.');
  });

  it('site owners never decide resets, even with OWNERS_MAY_APPROVE', async () => {
    const bed = approvalTestbed({ settings: { ownersMayApprove: true } });
    const sent = await bed.service.submitReset({
      guest: actorOf('jordan'),
      guestEmail: DEMO.users.jordan.mail,
      guestName: DEMO.users.jordan.displayName,
      redirectUrl: tenantRedirectUrl(DEMO.tenantId),
      currentMethod: 'emailOneTimePasscode',
      reason: 'x',
      conversationRefKey: null,
    });
    expect((await bed.service.decide(actorOf('megan'), sent.requestId, 'approve', null)).status).toBe('forbidden');
  });
});

describe('the approvals channel', () => {
  it('becomes reachable once the bot sees a message in one of its threads', async () => {
    const bed = approvalTestbed({ settings: { approvalsChannelId: APPROVALS_CHANNEL } });
    await bed.seen(channelReference(`${APPROVALS_CHANNEL};messageid=1736931600000`));
    expect(await bed.store.conversationReferences.get(APPROVALS_CHANNEL)).not.toBeNull();
    await bed.requestInvitation();
    expect(bed.adapter.cardsSentTo(APPROVALS_CHANNEL)).toHaveLength(1);
  });

  it('without a stored reference the channel copy is recorded as undeliverable', async () => {
    const bed = approvalTestbed({ settings: { approvalsChannelId: APPROVALS_CHANNEL } });
    const request = await bed.requestInvitation();
    expect((await bed.requests.listDeliveries(request.id))).toContainEqual(expect.objectContaining({ audience: 'channel', status: 'unreachable' }));
  });
});
