/**
 * Notices to the requester (decision, outcome, a question, expiry) that do not arrive are kept
 * and sent again: when the requester's chat is next seen, and by the periodic sweep.
 */
import type { ConversationReference } from 'botbuilder';
import { REQUESTER_NOTICE_MAX_ATTEMPTS } from '../../../src/usecases/approvals/outbox';
import { DEMO, actorOf, approvalTestbed, personalConversationId, personalReference, textOf, type ApprovalTestbed } from './testbed';

const MINUTE = 60_000;
const GROUP_CHAT = '19:falcon-planning@thread.v2';

function groupChatReference(user: keyof typeof DEMO.users): Partial<ConversationReference> {
  return {
    channelId: 'msteams',
    serviceUrl: 'https://smba.test.example/emea/',
    bot: { id: '28:bot', name: 'Guest onboarding' },
    user: { id: `29:mri-${user}`, name: DEMO.users[user].displayName, aadObjectId: DEMO.users[user].id },
    conversation: { id: GROUP_CHAT, conversationType: 'groupChat', tenantId: DEMO.tenantId, isGroup: true, name: 'Falcon planning' },
  };
}

/** Cards Adele (the requester) received in her personal chat. */
const adeleCards = (bed: ApprovalTestbed): Array<Record<string, unknown>> => bed.adapter.cardsSentTo(personalConversationId('adele'));

async function approvedWhileAdeleUnreachable(status = 429): Promise<{ bed: ApprovalTestbed; requestId: string }> {
  const bed = approvalTestbed();
  const request = await bed.requestInvitation();
  bed.adapter.failing.set(personalConversationId('adele'), status);
  await bed.service.decide(actorOf('alex'), request.id, 'approve', null, request.version);
  await bed.service.whenIdle();
  expect(adeleCards(bed)).toHaveLength(0);
  return { bed, requestId: request.id };
}

describe('a requester notice that did not arrive', () => {
  it('reaches the requester when their chat is seen again, exactly once, however many turns see it at once', async () => {
    const { bed, requestId } = await approvedWhileAdeleUnreachable(429);
    expect((await bed.requests.listNotices(requestId))).toEqual([expect.objectContaining({ state: 'pending', lastError: expect.stringMatching(/^throttled/) })]);

    bed.adapter.failing.delete(personalConversationId('adele'));
    await Promise.all(Array.from({ length: 5 }, () => bed.seen(personalReference('adele'))));

    expect(adeleCards(bed).length).toBe(1);
    const text = textOf(adeleCards(bed)[0]);
    expect(text).toContain('Jane Doe (jane.doe@outlook.com) was invited and added to Project Falcon.');
    expect(text).toContain('Invitation link');
    expect((await bed.requests.listNotices(requestId))).toEqual([expect.objectContaining({ state: 'delivered', attempts: 2 })]);

    // Seen again, and the sweep runs: nothing more.
    await bed.seen(personalReference('adele'));
    bed.clock.advance(30 * MINUTE);
    expect(await bed.service.retryNotices({ minAgeMs: 5 * MINUTE })).toBe(0);
    expect(adeleCards(bed).length).toBe(1);
  });

  it('reaches a requester who had no chat with the bot when they first open one', async () => {
    const bed = approvalTestbed({ reachable: ['alex', 'megan'] });
    const request = await bed.requestInvitation();
    await bed.service.decide(actorOf('alex'), request.id, 'reject', 'Use the supplier portal instead.', request.version);
    await bed.service.whenIdle();
    expect((await bed.requests.listDeliveries(request.id))).toContainEqual(
      expect.objectContaining({ audience: 'requester', purpose: 'notice', status: 'unreachable' }),
    );
    // The sweep has nowhere to send it.
    bed.clock.advance(10 * MINUTE);
    expect(await bed.service.retryNotices({ minAgeMs: 5 * MINUTE })).toBe(0);

    await bed.store.conversationReferences.upsert(personalReference('adele'));
    await Promise.all([bed.seen(personalReference('adele')), bed.seen(personalReference('adele'))]);
    expect(adeleCards(bed).length).toBe(1);
    expect(textOf(adeleCards(bed)[0])).toContain('Use the supplier portal instead.');
  });

  it('is sent once when the group chat it was asked from and the personal chat are seen at the same moment', async () => {
    const bed = approvalTestbed();
    await bed.store.conversationReferences.upsert(groupChatReference('adele'));
    const result = await bed.invite.submitForApproval(
      {
        email: 'jane.doe@outlook.com',
        displayName: 'Jane Doe',
        groupId: DEMO.groups.projectFalcon.id,
        requestedBy: actorOf('adele'),
        conversationRefKey: GROUP_CHAT,
      },
      'Jane runs the supplier audit.',
    );
    const requestId = (result as { requestId?: string }).requestId ?? '';
    bed.adapter.failing.set(GROUP_CHAT, 429);
    bed.adapter.failing.set(personalConversationId('adele'), 429);
    await bed.service.decide(actorOf('alex'), requestId, 'approve', null);
    await bed.service.whenIdle();
    expect((await bed.requests.listNotices(requestId))).toEqual([expect.objectContaining({ state: 'pending' })]);

    bed.adapter.failing.clear();
    await Promise.all([
      bed.seen(groupChatReference('megan')),
      bed.seen(personalReference('adele')),
      bed.seen(groupChatReference('adele')),
    ]);
    const received = [...bed.adapter.cardsSentTo(GROUP_CHAT), ...adeleCards(bed)];
    expect(received.length).toBe(1);
    expect(textOf(received[0])).toContain('was invited and added to Project Falcon');
  });

  it('goes to the personal chat at once when the chat it was asked from is gone', async () => {
    const bed = approvalTestbed();
    await bed.store.conversationReferences.upsert(groupChatReference('adele'));
    const result = await bed.invite.submitForApproval(
      { email: 'jane.doe@outlook.com', displayName: 'Jane Doe', groupId: DEMO.groups.projectFalcon.id, requestedBy: actorOf('adele'), conversationRefKey: GROUP_CHAT },
      'Supplier audit.',
    );
    const requestId = (result as { requestId?: string }).requestId ?? '';
    bed.adapter.failing.set(GROUP_CHAT, 404);
    await bed.service.decide(actorOf('alex'), requestId, 'approve', null);
    await bed.service.whenIdle();
    expect(textOf(adeleCards(bed)[0])).toContain('was invited and added to Project Falcon');
    // Kept before it was sent (so that a crash could not lose it), and marked delivered.
    expect((await bed.requests.listNotices(requestId))).toEqual([expect.objectContaining({ state: 'delivered', attempts: 1 })]);
  });

  it('is retried by the sweep once a few minutes old, a bounded number of times; opening the chat still delivers it', async () => {
    const { bed, requestId } = await approvedWhileAdeleUnreachable(503);
    const attempts = async (): Promise<number> => (await bed.requests.listDeliveries(requestId)).filter((d) => d.purpose === 'notice').length;
    expect(await attempts()).toBe(1);
    expect(await bed.service.retryNotices({ minAgeMs: 5 * MINUTE })).toBe(0);
    expect(await attempts()).toBe(1); // too fresh
    for (let i = 0; i < REQUESTER_NOTICE_MAX_ATTEMPTS + 2; i++) {
      bed.clock.advance(15 * MINUTE);
      await bed.service.retryNotices({ minAgeMs: 5 * MINUTE });
    }
    expect(await attempts()).toBe(REQUESTER_NOTICE_MAX_ATTEMPTS);
    expect(adeleCards(bed)).toHaveLength(0);

    bed.adapter.failing.clear();
    bed.clock.advance(15 * MINUTE);
    expect(await bed.service.retryNotices({ minAgeMs: 5 * MINUTE })).toBe(0);
    await bed.seen(personalReference('adele'));
    expect(adeleCards(bed).length).toBe(1);
  });

  it('is delivered by the sweep once the throttling is over, and only once', async () => {
    const { bed, requestId } = await approvedWhileAdeleUnreachable(429);
    bed.clock.advance(15 * MINUTE);
    await bed.service.retryNotices({ minAgeMs: 5 * MINUTE });
    bed.adapter.failing.clear();
    bed.clock.advance(15 * MINUTE);
    const [first, second] = await Promise.all([
      bed.service.retryNotices({ minAgeMs: 5 * MINUTE }),
      bed.service.retryNotices({ minAgeMs: 5 * MINUTE }),
    ]);
    expect((first ?? 0) + (second ?? 0)).toBe(1);
    expect(adeleCards(bed).length).toBe(1);
    expect((await bed.requests.listNotices(requestId))).toEqual([expect.objectContaining({ state: 'delivered', attempts: 3 })]);
  });

  it('a notice that arrived is never sent again', async () => {
    const bed = approvalTestbed();
    const request = await bed.requestInvitation();
    await bed.service.decide(actorOf('alex'), request.id, 'approve', null);
    await bed.service.whenIdle();
    expect(adeleCards(bed).length).toBe(1);
    await Promise.all([bed.seen(personalReference('adele')), bed.seen(personalReference('adele'))]);
    bed.clock.advance(60 * MINUTE);
    expect(await bed.service.retryNotices({ minAgeMs: 0 })).toBe(0);
    expect(adeleCards(bed).length).toBe(1);
    expect((await bed.requests.listNotices(request.id))).toEqual([expect.objectContaining({ state: 'delivered', attempts: 1 })]);
  });

  it('only the latest is sent: a question that failed is dropped once the request is decided', async () => {
    const bed = approvalTestbed();
    const request = await bed.requestInvitation();
    bed.adapter.failing.set(personalConversationId('adele'), 429);
    const asked = await bed.service.requestMoreInfo(actorOf('alex'), request.id, 'Which supplier?');
    expect(asked.message).toMatch(/could not be messaged in Teams just now/);
    await bed.service.decide(actorOf('alex'), request.id, 'reject', 'No answer; ask again with the supplier name.');
    await bed.service.whenIdle();
    expect((await bed.requests.listNotices(request.id)).map((n) => [n.notice?.text ?? 'decision', n.state])).toEqual([
      [expect.stringContaining('needs more information'), 'superseded'],
      ['decision', 'pending'],
    ]);

    bed.adapter.failing.clear();
    await bed.seen(personalReference('adele'));
    expect(adeleCards(bed).length).toBe(1);
    const text = textOf(adeleCards(bed)[0]);
    expect(text).toContain('No answer; ask again with the supplier name.');
    expect(text).not.toContain('Which supplier?');
  });

  it('a question that failed is not sent after the requester cancelled the request', async () => {
    const bed = approvalTestbed();
    const request = await bed.requestInvitation();
    bed.adapter.failing.set(personalConversationId('adele'), 429);
    await bed.service.requestMoreInfo(actorOf('alex'), request.id, 'Which supplier?');
    expect((await bed.service.cancel(actorOf('adele'), request.id)).status).toBe('applied');

    bed.adapter.failing.clear();
    await bed.seen(personalReference('adele'));
    expect(adeleCards(bed)).toHaveLength(0);
    expect((await bed.requests.listNotices(request.id))).toEqual([expect.objectContaining({ state: 'superseded' })]);
  });
});
