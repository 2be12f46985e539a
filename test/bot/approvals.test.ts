/**
 * Approvals through the bot: `adaptiveCard/action` invokes on a TestAdapter, dispatched by the
 * real GuestOnboardingBot to the approvals feature. The clicker is whoever the activity says
 * (from.aadObjectId + tenant); the card data only names the request.
 */
import { ActivityTypes, ConversationState, MemoryStorage, TestAdapter, UserState, type Activity } from 'botbuilder';
import { TEST_STORE } from '../support/store';
import { GuestOnboardingBot } from '../../src/teams/bot/GuestOnboardingBot';
import { RootDialog } from '../../src/teams/bot/RootDialog';
import { createLogger } from '../../src/shared/logger';
import {
  DEMO,
  approvalTestbed,
  personalConversationId,
  textOf,
  verbsOn,
  type ApprovalTestbed,
  type DemoUser,
} from '../unit/approvals/testbed';

interface InvokeBody {
  statusCode: number;
  type: string;
  value: Record<string, unknown>;
}

function botFor(bed: ApprovalTestbed) {
  const feature = bed.feature;
  // Bot state in the store under test (TEST_STORE=azure: Blob storage), else in memory.
  const storage = TEST_STORE === 'azure' ? bed.store.botStorage : new MemoryStorage();
  const bot = new GuestOnboardingBot({
    conversationState: new ConversationState(storage),
    userState: new UserState(storage),
    rootDialog: new RootDialog([feature]),
    features: [feature],
    logger: createLogger({ level: 'silent' }),
  });
  const adapter = new TestAdapter((context) => bot.run(context));

  const from = (as: DemoUser | 'stranger'): Partial<Activity> => {
    const user =
      as === 'stranger'
        ? { id: '6f1c2b3a-9999-4c5d-8e9f-0a1b2c3d4e99', displayName: 'Someone Else' }
        : DEMO.users[as];
    return {
      channelId: 'msteams',
      from: { id: `29:${user.id}`, name: user.displayName, aadObjectId: user.id },
      conversation: { id: `a:personal-${as}`, conversationType: 'personal', tenantId: DEMO.tenantId, isGroup: false, name: '' },
      channelData: { tenant: { id: DEMO.tenantId } },
    };
  };

  async function turn(activity: Partial<Activity>): Promise<Partial<Activity>[]> {
    await adapter.processActivity(activity);
    const replies: Partial<Activity>[] = [];
    for (let next = adapter.activeQueue.shift(); next; next = adapter.activeQueue.shift()) replies.push(next);
    return replies;
  }

  return {
    async click(verb: string, data: Record<string, unknown>, as: DemoUser | 'stranger'): Promise<InvokeBody> {
      const replies = await turn({
        ...from(as),
        type: ActivityTypes.Invoke,
        name: 'adaptiveCard/action',
        value: { action: { type: 'Action.Execute', verb, data } },
      });
      const response = replies.find((r) => r.type === 'invokeResponse')?.value as { status: number; body: InvokeBody } | undefined;
      expect(response?.status).toBe(200);
      if (!response) throw new Error('no invoke response');
      await bed.service.whenIdle();
      return response.body;
    },
    /** A click whose from fields are given as is (e.g. one person's name and id with another's object id). */
    async invoke(claimed: { id: string; name: string; aadObjectId: string }, verb: string, data: Record<string, unknown>): Promise<InvokeBody> {
      const replies = await turn({
        ...from('alex'),
        from: claimed,
        type: ActivityTypes.Invoke,
        name: 'adaptiveCard/action',
        value: { action: { type: 'Action.Execute', verb, data } },
      });
      const response = replies.find((r) => r.type === 'invokeResponse')?.value as { status: number; body: InvokeBody } | undefined;
      if (!response) throw new Error('no invoke response');
      await bed.service.whenIdle();
      return response.body;
    },
    say: (text: string, as: DemoUser) => turn({ ...from(as), type: ActivityTypes.Message, text }),
  };
}

function expectFullCard(body: InvokeBody): Record<string, unknown> {
  expect(body).toMatchObject({ statusCode: 200, type: 'application/vnd.microsoft.card.adaptive' });
  expect(body.value).toMatchObject({ type: 'AdaptiveCard', version: '1.5' });
  return body.value;
}

describe('approval card actions through the bot', () => {
  it('Approve: the invitation is sent once and the card shows who approved it, without buttons', async () => {
    const bed = approvalTestbed();
    const bot = botFor(bed);
    const request = await bed.requestInvitation();
    const card = expectFullCard(await bot.click('approval.approve', { requestId: request.id, version: request.version }, 'alex'));
    expect(textOf(card)).toContain('Approved');
    expect(textOf(card)).toContain('Jane Doe (jane.doe@outlook.com) was invited and added to Project Falcon.');
    expect(verbsOn(card)).toEqual([]);
    expect(bed.directory.callCount('invite')).toBe(1);
    expect(textOf(bed.adapter.cardsSentTo(personalConversationId('adele'))[0])).toContain('Approved by Alex Wilber');
  });

  it('the card names the approver as the directory knows them, not the name the activity claims', async () => {
    const bed = approvalTestbed();
    const bot = botFor(bed);
    const request = await bed.requestInvitation();
    const forged = await bot.invoke(
      { id: `29:${DEMO.users.megan.id}`, name: DEMO.users.megan.displayName, aadObjectId: DEMO.users.alex.id },
      'approval.approve',
      { requestId: request.id, version: request.version },
    );
    const card = expectFullCard(forged);
    expect(textOf(card)).toContain('Alex Wilber');
    expect(textOf(card)).not.toContain('Megan Bowen');
    expect(textOf(bed.adapter.cardsSentTo(personalConversationId('adele'))[0])).toContain('Approved by Alex Wilber');
    expect((await bed.requests.get(request.id))?.decidedBy?.name).toBe('Alex Wilber');
  });

  it("the approver's card shows a look-alike address with its ASCII form", async () => {
    const bed = approvalTestbed();
    const bot = botFor(bed);
    const request = await bed.requestInvitation({ email: 'jane@gmаil.com' });
    const card = expectFullCard(await bot.click('approval.refresh', { requestId: request.id }, 'alex'));
    expect(textOf(card)).toContain('jane@gmаil.com is really jane@xn--gmil-63d.com');
    expect(textOf(card)).toContain('mixes Latin and Cyrillic letters');
  });

  it('Reject with a reason: the reason reaches the requester; without one the card asks for it and nothing changes', async () => {
    const bed = approvalTestbed();
    const bot = botFor(bed);
    const request = await bed.requestInvitation();
    const empty = expectFullCard(await bot.click('approval.reject', { requestId: request.id, version: request.version }, 'alex'));
    expect(textOf(empty)).toMatch(/Give a reason for rejecting/);
    expect(verbsOn(empty)).toContain('approval.reject');
    expect((await bed.requests.get(request.id))?.state).toBe('pending');

    const card = expectFullCard(
      await bot.click(
        'approval.reject',
        { requestId: request.id, version: request.version, [`reason-${request.id}`]: 'Use the supplier portal.' },
        'alex',
      ),
    );
    expect(textOf(card)).toContain('Reason: Use the supplier portal.');
    expect((await bed.requests.get(request.id))?.state).toBe('rejected');
    expect(bed.directory.callCount('invite')).toBe(0);
    expect(textOf(bed.adapter.cardsSentTo(personalConversationId('adele'))[0])).toContain('Use the supplier portal.');
  });

  it.each(['megan', 'stranger'] as const)('a non-approver (%s) clicking Approve changes nothing and gets a clear card', async (who) => {
    const bed = approvalTestbed();
    const bot = botFor(bed);
    const request = await bed.requestInvitation();
    const card = expectFullCard(await bot.click('approval.approve', { requestId: request.id, version: request.version }, who));
    expect(textOf(card)).toMatch(/Only members of the guest approver group can decide on this request\. Nothing was changed\./);
    expect(textOf(card)).not.toContain('jane.doe@outlook.com');
    expect(verbsOn(card)).toEqual([]);
    expect((await bed.requests.get(request.id))).toMatchObject({ state: 'pending', version: request.version });
    expect(bed.directory.callCount('invite')).toBe(0);
  });

  it('a hand-crafted invoke claiming to be Alex in its data is judged by the activity, not the data', async () => {
    const bed = approvalTestbed();
    const bot = botFor(bed);
    const request = await bed.requestInvitation();
    const card = expectFullCard(
      await bot.click(
        'approval.approve',
        { requestId: request.id, version: request.version, userId: DEMO.users.alex.id, actor: { userId: DEMO.users.alex.id } },
        'megan',
      ),
    );
    expect(textOf(card)).toMatch(/Nothing was changed/);
    expect((await bed.requests.get(request.id))?.state).toBe('pending');
  });

  it('a replay after the decision sends no second invitation and says who decided', async () => {
    const bed = approvalTestbed();
    const bot = botFor(bed);
    const request = await bed.requestInvitation();
    await bot.click('approval.approve', { requestId: request.id, version: request.version }, 'alex');
    const replay = expectFullCard(await bot.click('approval.approve', { requestId: request.id, version: request.version }, 'alex'));
    expect(textOf(replay)).toMatch(/Alex Wilber already approved this request/);
    expect(verbsOn(replay)).toEqual([]);
    expect(bed.executor.calls).toHaveLength(1);
    expect(bed.directory.callCount('invite')).toBe(1);
  });

  it('an unknown request id gets a clear card and changes nothing', async () => {
    const bed = approvalTestbed();
    const bot = botFor(bed);
    const card = expectFullCard(await bot.click('approval.approve', { requestId: 'f00dfeed-0000-4000-8000-000000000000' }, 'alex'));
    expect(textOf(card)).toMatch(/could not find that approval request/);
    const malformed = expectFullCard(await bot.click('approval.approve', {}, 'alex'));
    expect(textOf(malformed)).toMatch(/does not say which approval request/);
  });

  it('an expired request cannot be approved', async () => {
    const bed = approvalTestbed();
    const bot = botFor(bed);
    const request = await bed.requestInvitation();
    bed.clock.advance(15 * 86_400_000);
    const card = expectFullCard(await bot.click('approval.approve', { requestId: request.id, version: request.version }, 'alex'));
    expect(textOf(card)).toMatch(/expired/i);
    expect((await bed.requests.get(request.id))?.state).toBe('expired');
    expect(bed.directory.callCount('invite')).toBe(0);
  });

  it('Ask for more info → the requester answers from their card → the approver sees the answer and can decide', async () => {
    const bed = approvalTestbed();
    const bot = botFor(bed);
    const request = await bed.requestInvitation();
    const asked = expectFullCard(
      await bot.click('approval.moreInfo', { requestId: request.id, version: request.version, [`question-${request.id}`]: 'Until when?' }, 'alex'),
    );
    expect(textOf(asked)).toContain('Your question was sent to Adele Vance');
    const answered = expectFullCard(
      await bot.click('approval.provideInfo', { requestId: request.id, [`answer-${request.id}`]: 'Until the end of March.' }, 'adele'),
    );
    expect(textOf(answered)).toMatch(/your answer was added/);
    const refreshed = expectFullCard(await bot.click('approval.refresh', { requestId: request.id }, 'alex'));
    expect(textOf(refreshed)).toContain('Until the end of March.');
    expect(verbsOn(refreshed)).toEqual(['approval.approve', 'approval.reject', 'approval.moreInfo']);
  });

  it('refresh gives approvers buttons and everyone else the status only', async () => {
    const bed = approvalTestbed();
    const bot = botFor(bed);
    const request = await bed.requestInvitation();
    expect(verbsOn(expectFullCard(await bot.click('approval.refresh', { requestId: request.id }, 'alex')))).toEqual([
      'approval.approve',
      'approval.reject',
      'approval.moreInfo',
    ]);
    const requester = expectFullCard(await bot.click('approval.refresh', { requestId: request.id }, 'adele'));
    expect(textOf(requester)).toContain('Jane Doe');
  });

  it.each(['megan', 'jordan', 'stranger'] as const)(
    'refresh by %s, neither an approver nor the requester, gets a neutral card with nothing of the request',
    async (who) => {
      const bed = approvalTestbed();
      const bot = botFor(bed);
      const request = await bed.requestInvitation({ justification: 'Supplier audit in March' });
      const cards = [
        expectFullCard(await bot.click('approval.refresh', { requestId: request.id }, who)),
        expectFullCard(await bot.click('approval.refresh', { requestId: 'apr-does-not-exist' }, who)),
      ];
      for (const card of cards) {
        const text = textOf(card);
        expect(text).toContain('This approval request is not available to you');
        expect(text).toContain('Only the guest approvers and the person who asked for it can open it');
        for (const secret of ['Jane Doe', 'jane.doe@outlook.com', 'Supplier audit', 'Adele', 'Project Falcon', 'Waiting']) {
          expect(JSON.stringify(card)).not.toContain(secret);
        }
        expect(verbsOn(card)).toEqual([]);
      }
    },
  );

  it('the requester cancels from their card; a cancel by anyone else changes nothing', async () => {
    const bed = approvalTestbed();
    const bot = botFor(bed);
    const request = await bed.requestInvitation();
    const denied = expectFullCard(await bot.click('approval.cancel', { requestId: request.id }, 'megan'));
    expect(textOf(denied)).toMatch(/Only the person who made this request can cancel it/);
    const cancelled = expectFullCard(await bot.click('approval.cancel', { requestId: request.id }, 'adele'));
    expect(textOf(cancelled)).toMatch(/Your request was cancelled/);
    expect(verbsOn(cancelled)).toEqual([]);
    expect((await bed.requests.get(request.id))?.state).toBe('cancelled');
  });

  it('"pending" lists open requests for approvers and acting from the list returns the updated list', async () => {
    const bed = approvalTestbed();
    const bot = botFor(bed);
    const request = await bed.requestInvitation();
    await bed.requestInvitation({ email: 'sam@wingtiptoys.com', name: 'Sam Lee' });

    const replies = await bot.say('pending', 'alex');
    const list = replies[0]?.attachments?.[0]?.content as Record<string, unknown>;
    expect(textOf(list)).toContain('Pending approvals (2)');
    expect(textOf(list)).toContain('Invite Sam Lee to Project Falcon');

    const after = expectFullCard(
      await bot.click('approval.approve', { requestId: request.id, version: request.version, from: 'list' }, 'alex'),
    );
    expect(textOf(after)).toContain('Pending approvals (1)');
    expect(textOf(after)).toContain('You approved the request.');
    expect(textOf(after)).not.toContain('Invite Jane Doe');

    const megan = await bot.say('pending', 'megan');
    expect(megan[0]?.text).toMatch(/Only guest approvers can list pending approval requests/);
  });
});
