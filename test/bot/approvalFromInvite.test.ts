/**
 * An invitation that needs approval, end to end through the bot: a member (Adele) asks in chat,
 * gives a reason, gets the "sent for approval" card; an approver (Alex) approves from his card
 * (an `adaptiveCard/action` invoke); the guest is invited once and Adele hears about it in the
 * chat she asked from. The real InviteGuestService, ApprovalService and GuestOnboardingBot run
 * over the demo directory; proactive messages go through the real Notifier to a recording adapter.
 */
import { ActivityTypes, ConversationState, MemoryStorage, TestAdapter, UserState, type Activity } from 'botbuilder';
import { TEST_STORE } from '../support/store';
import { GuestOnboardingBot } from '../../src/teams/bot/GuestOnboardingBot';
import { RootDialog } from '../../src/teams/bot/RootDialog';
import type { BotFeature } from '../../src/teams/bot/feature';
import { createInviteFeature } from '../../src/teams/invite/inviteFeature';
import { createLogger } from '../../src/shared/logger';
import { cardsIn, visibleText } from '../support/dialogHarness';
import {
  DEMO,
  approvalTestbed,
  personalConversationId,
  textOf,
  type ApprovalTestbed,
  type ApprovalTestbedOptions,
  type DemoUser,
} from '../unit/approvals/testbed';

const FALCON = DEMO.groups.projectFalcon;
/** The group chat Adele asks from: not her personal chat, so the answer must come back here. */
const FALCON_CHAT = '19:falcon-planning@thread.v2';

interface InvokeBody {
  statusCode: number;
  type: string;
  value: Record<string, unknown>;
}

interface ExecuteAction {
  type: string;
  verb?: string;
  title?: string;
  data?: Record<string, unknown>;
}

/** Every Action.Execute on a card, at any depth. */
function executeActions(card: unknown): ExecuteAction[] {
  const found: ExecuteAction[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (o.type === 'Action.Execute') found.push(o as unknown as ExecuteAction);
      Object.entries(o).forEach(([k, x]) => {
        if (k !== 'refresh') walk(x);
      });
    }
  };
  walk(card);
  return found;
}

function requestIdOnCancel(card: unknown): string {
  const cancel = executeActions(card).find((a) => a.verb === 'approval.cancel');
  const id = cancel?.data?.requestId;
  if (typeof id !== 'string') throw new Error('the card has no Cancel button naming the request');
  return id;
}

/** The whole bot (invite + approvals features) on a TestAdapter, storing conversation references like the real one. */
function approvalBot(options: ApprovalTestbedOptions = {}) {
  const bed = approvalTestbed(options);
  const features: BotFeature[] = [
    createInviteFeature({ service: bed.invite, directory: bed.directory }),
    bed.feature,
  ];
  // Bot state in the store under test (TEST_STORE=azure: Blob storage), else in memory.
  const storage = TEST_STORE === 'azure' ? bed.store.botStorage : new MemoryStorage();
  const bot = new GuestOnboardingBot({
    conversationState: new ConversationState(storage),
    userState: new UserState(storage),
    rootDialog: new RootDialog(features),
    features,
    logger: createLogger({ level: 'silent' }),
    conversationReferences: bed.store.conversationReferences,
  });
  const adapter = new TestAdapter((context) => bot.run(context));

  const from = (as: DemoUser, where: 'personal' | 'falconChat'): Partial<Activity> => {
    const user = DEMO.users[as];
    return {
      channelId: 'msteams',
      serviceUrl: 'https://smba.test.example/emea/',
      from: { id: `29:${user.id}`, name: user.displayName, aadObjectId: user.id },
      conversation:
        where === 'personal'
          ? { id: personalConversationId(as), conversationType: 'personal', tenantId: DEMO.tenantId, isGroup: false, name: '' }
          : { id: FALCON_CHAT, conversationType: 'groupChat', tenantId: DEMO.tenantId, isGroup: true, name: 'Falcon planning' },
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
    bed,
    say: (text: string, as: DemoUser = 'adele', where: 'personal' | 'falconChat' = 'falconChat') =>
      turn({ ...from(as, where), type: ActivityTypes.Message, text }),
    submit: (value: Record<string, unknown>, as: DemoUser = 'adele', where: 'personal' | 'falconChat' = 'falconChat') =>
      turn({ ...from(as, where), type: ActivityTypes.Message, value }),
    async click(verb: string, data: Record<string, unknown>, as: DemoUser): Promise<InvokeBody> {
      const replies = await turn({
        ...from(as, 'personal'),
        type: ActivityTypes.Invoke,
        name: 'adaptiveCard/action',
        value: { action: { type: 'Action.Execute', verb, data } },
      });
      const response = replies.find((r) => r.type === 'invokeResponse')?.value as { status: number; body: InvokeBody } | undefined;
      if (!response) throw new Error('no invoke response');
      expect(response.status).toBe(200);
      await bed.service.whenIdle();
      return response.body;
    },
  };
}

/** Adele asks for Zoe on Project Falcon and confirms; returns what the bot says after the confirmation. */
async function askAndConfirm(bot: ReturnType<typeof approvalBot>): Promise<string> {
  const confirm = await bot.say('invite Zoe Park <zoe@example.org> to Project Falcon');
  const confirmText = visibleText(confirm);
  expect(cardsIn(confirm)).toHaveLength(1);
  expect(confirmText).toContain('Zoe Park');
  // Written for the member: it asks to send a request, not to invite, and says why in a sentence of its own.
  expect(confirmText).toContain('Send this request for approval?');
  expect(confirmText).not.toContain('Invite this guest?');
  expect(confirmText).toContain('Send for approval');
  expect(confirmText).toContain('You are not an owner of this site, so an approver decides. Confirm sends the request to the approvers');
  expect(confirmText).not.toMatch(/\(You are not an owner|decides\.\)/);
  return visibleText(await bot.submit({ inviteAction: 'confirm' }));
}

function membersOf(bed: ApprovalTestbed, groupId: string): string[] {
  return bed.directory.snapshot().groups.find((g) => g.id === groupId)?.members ?? [];
}

describe('a member asks for a guest, an approver approves, through the bot', () => {
  it('Adele → reason → "sent for approval" card naming Alex → Alex approves → one invitation, Zoe in Falcon, Adele told in her chat', async () => {
    const bot = approvalBot();
    const { bed } = bot;

    const question = await askAndConfirm(bot);
    expect(question).toMatch(/Why does Zoe Park need access to Project Falcon\?/);
    expect(question).toMatch(/skip/);
    expect((await bed.requests.listPending(DEMO.tenantId))).toHaveLength(0); // nothing recorded before the reason

    const sent = await bot.say('Zoe audits the Falcon suppliers this quarter.');
    const [card] = cardsIn(sent);
    expect(cardsIn(sent)).toHaveLength(1);
    expect(textOf(card)).toContain('Sent for approval to Alex Wilber.');
    expect(textOf(card)).toContain('Invite Zoe Park to Project Falcon');
    expect(executeActions(card).map((a) => a.verb)).toEqual(['approval.cancel']);
    expect(bed.directory.callCount('invite')).toBe(0);

    // The request is recorded with the reason and this chat as the place to answer.
    const requestId = requestIdOnCancel(card);
    expect((await bed.requests.get(requestId))).toMatchObject({
      state: 'pending',
      requesterConversationId: FALCON_CHAT,
      justification: 'Zoe audits the Falcon suppliers this quarter.',
      requester: { userId: DEMO.users.adele.id },
    });

    // Alex got the request card in his personal chat, with the reason and the buttons.
    const alexCard = bed.adapter.cardsSentTo(personalConversationId('alex'))[0];
    expect(textOf(alexCard)).toContain('Zoe audits the Falcon suppliers this quarter.');
    const approve = executeActions(alexCard).find((a) => a.verb === 'approval.approve');
    expect(approve?.data?.requestId).toBe(requestId);

    const approved = await bot.click('approval.approve', approve?.data ?? {}, 'alex');
    expect(approved).toMatchObject({ statusCode: 200, type: 'application/vnd.microsoft.card.adaptive' });
    expect(textOf(approved.value)).toContain('Zoe Park (zoe@example.org) was invited and added to Project Falcon.');

    // Exactly one invitation, and Zoe is in the site's group.
    expect(bed.directory.callCount('invite')).toBe(1);
    const invitation = bed.directory.snapshot().invitations[0];
    expect(invitation).toMatchObject({ email: 'zoe@example.org', redirectUrl: FALCON.siteUrl });
    expect(membersOf(bed, FALCON.id)).toContain(invitation?.userId);

    // Adele is told in the chat she asked from (not her personal chat), with the link to pass on.
    const results = bed.adapter.cardsSentTo(FALCON_CHAT);
    expect(results).toHaveLength(1);
    expect(textOf(results[0])).toContain('Approved by Alex Wilber');
    expect(textOf(results[0])).toContain('Zoe Park (zoe@example.org) was invited and added to Project Falcon.');
    expect(textOf(results[0])).toContain(invitation?.redeemUrl ?? 'no redeem url');
    expect(bed.adapter.cardsSentTo(personalConversationId('adele'))).toHaveLength(0);

    // A second click changes nothing.
    const replay = await bot.click('approval.approve', approve?.data ?? {}, 'alex');
    expect(textOf(replay.value)).toMatch(/Alex Wilber already approved this request/);
    expect(bed.directory.callCount('invite')).toBe(1);
  });

  it("each party's card is written to them; expiry counts whole days", async () => {
    const bot = approvalBot();
    await askAndConfirm(bot);
    const [receipt] = cardsIn(await bot.say('Supplier audit.'));
    const alexCard = bot.bed.adapter.cardsSentTo(personalConversationId('alex'))[0];
    // The approver reads about the requester, not "You are not an owner…".
    expect(textOf(alexCard)).toContain('Adele Vance is not an owner of Project Falcon.');
    expect(textOf(alexCard)).not.toContain('You are not an owner');
    expect(textOf(alexCard)).toContain('Before you decide');
    // The requester reads it addressed to her.
    expect(textOf(receipt)).toContain('You are not an owner of this site');
    // A 14-day policy says 14 days, on both cards.
    expect(textOf(alexCard)).toMatch(/expires in 14 days/);
    expect(textOf(receipt)).toMatch(/expires in 14 days/);

    const approve = executeActions(alexCard).find((a) => a.verb === 'approval.approve');
    const approved = await bot.click('approval.approve', approve?.data ?? {}, 'alex');
    // After the decision there is nothing left to decide.
    expect(textOf(approved.value)).not.toContain('Before you decide');
  });

  it("the requester's own \"Sent for approval\" card is updated on approval with what a direct invitation shows; a late Cancel keeps the link", async () => {
    const bot = approvalBot();
    const { bed } = bot;
    await askAndConfirm(bot);
    const [receipt] = cardsIn(await bot.say('Supplier audit.'));
    const requestId = requestIdOnCancel(receipt);
    const alexCard = bed.adapter.cardsSentTo(personalConversationId('alex'))[0];
    const approve = executeActions(alexCard).find((a) => a.verb === 'approval.approve');
    await bot.click('approval.approve', approve?.data ?? {}, 'alex');
    const invitation = bed.directory.snapshot().invitations[0];
    const redeemUrl = invitation?.redeemUrl ?? 'no redeem url';

    // Adele's receipt in the chat she asked from was updated in place: approved, no Cancel, the link as a direct invitation gives it.
    const updated = bed.adapter.updatesIn(FALCON_CHAT).at(-1);
    expect(updated).toBeDefined();
    const text = textOf(updated);
    expect(text).toContain('Approved by Alex Wilber');
    expect(text).not.toContain('Waiting for a decision');
    expect(executeActions(updated).map((a) => a.verb)).not.toContain('approval.cancel');
    expect(JSON.stringify(updated)).toContain(`"id":"invitationLink","label":"Select the link, then copy it","value":${JSON.stringify(redeemUrl)}`);
    expect(text).toContain("Don't open this link yourself: it is for Zoe Park (zoe@example.org)");
    expect(text).toContain('What the guest will see');
    expect(text).toContain('OneDrive sync');
    expect(text).toMatch(/syncing will not be available to them/);
    expect(executeActions(updated).map((a) => a.verb)).toContain('invite.sendEmail');
    // The notice Adele got says the same.
    const notice = bed.adapter.cardsSentTo(FALCON_CHAT).at(-1);
    expect(textOf(notice)).toContain('What the guest will see');

    // Cancel from the old card after approval: nothing changes, and the answer still carries the link.
    const late = await bot.click('approval.cancel', { requestId }, 'adele');
    expect(textOf(late.value)).toMatch(/already approved|was approved|Approved/);
    expect(JSON.stringify(late.value)).toContain(JSON.stringify(redeemUrl));
    expect((await bed.requests.get(requestId))?.state).toBe('approved');
  });

  it("the requester's receipt is updated when they cancel elsewhere, and when the request expires", async () => {
    const bot = approvalBot();
    const { bed } = bot;
    await askAndConfirm(bot);
    const [receipt] = cardsIn(await bot.say('Supplier audit.'));
    const requestId = requestIdOnCancel(receipt);
    // Cancelled (e.g. from another copy): the receipt in the chat follows.
    await bot.click('approval.cancel', { requestId }, 'adele');
    const afterCancel = bed.adapter.updatesIn(FALCON_CHAT).at(-1);
    expect(textOf(afterCancel)).toContain('Cancelled by the requester');
    expect(executeActions(afterCancel).map((a) => a.verb)).not.toContain('approval.cancel');

    await askAndConfirm(bot);
    const [second] = cardsIn(await bot.say('Supplier audit, again.'));
    const secondId = requestIdOnCancel(second);
    bed.clock.advance(15 * 86_400_000);
    await bed.service.expireDue();
    await bed.service.whenIdle();
    const afterExpiry = bed.adapter.updatesIn(FALCON_CHAT).at(-1);
    expect(textOf(afterExpiry)).toContain('Expired without a decision');
    expect(executeActions(afterExpiry).map((a) => a.verb)).not.toContain('approval.cancel');
    expect((await bed.requests.get(secondId))?.state).toBe('expired');
  });

  it('"skip" sends the request without a reason', async () => {
    const bot = approvalBot();
    await askAndConfirm(bot);
    const [card] = cardsIn(await bot.say('skip'));
    expect((await bot.bed.requests.get(requestIdOnCancel(card)))?.justification).toBe('');
  });

  it.each([
    ['a reason over 500 characters', 'x'.repeat(501), /501 characters long; the most is 500/],
    ['a control character', 'Needs access\u0007 now', /control character \(U\+0007\)/],
    ['a bidirectional override', 'Needs \u202Eaccess', /control character \(U\+202E\)/],
  ])('%s is refused with the reason, asked again, and nothing is recorded', async (_label, answer, reason) => {
    const bot = approvalBot();
    await askAndConfirm(bot);
    const text = visibleText(await bot.say(answer));
    expect(text).toMatch(reason);
    expect(text).toMatch(/skip/);
    expect((await bot.bed.requests.listPending(DEMO.tenantId))).toHaveLength(0);
    // Still waiting for the reason: a good one sends the request.
    const [card] = cardsIn(await bot.say('Supplier audit.'));
    expect(textOf(card)).toContain('Sent for approval to Alex Wilber.');
  });

  it('a reason of exactly 500 characters, over two lines, is accepted', async () => {
    const bot = approvalBot();
    await askAndConfirm(bot);
    const reason = `${'a'.repeat(249)}\n${'b'.repeat(250)}`;
    const [card] = cardsIn(await bot.say(reason));
    expect((await bot.bed.requests.get(requestIdOnCancel(card)))?.justification).toBe(reason);
  });

  it('in a group chat, only the requester can give the reason', async () => {
    const bot = approvalBot();
    await askAndConfirm(bot);
    expect(visibleText(await bot.say('Because I say so.', 'megan'))).toMatch(/Only the person who started this invitation/);
    expect((await bot.bed.requests.listPending(DEMO.tenantId))).toHaveLength(0);
  });

  it('when no approver can be reached, the card says so and what happens next; the approver gets it on first contact', async () => {
    const bot = approvalBot({ reachable: ['adele', 'megan'] });
    await askAndConfirm(bot);
    const [card] = cardsIn(await bot.say('skip'));
    const text = textOf(card);
    expect(text).not.toContain('Sent for approval');
    expect(text).toContain('Recorded, waiting for an approver');
    expect(text).toMatch(/Could not reach Alex Wilber in Teams/);
    expect(text).toMatch(/as soon as one opens a chat with the bot or says "pending"/);
    const requestId = requestIdOnCancel(card);
    expect((await bot.bed.requests.get(requestId))?.state).toBe('pending');

    // Alex talks to the bot for the first time: the waiting request reaches him.
    await bot.say('hello', 'alex', 'personal');
    const delivered = bot.bed.adapter.cardsSentTo(personalConversationId('alex'));
    expect(delivered.some((c) => executeActions(c).some((a) => a.verb === 'approval.approve' && a.data?.requestId === requestId))).toBe(true);
  });

  it('guided: a member is offered the sites they belong to (not others), and the choice goes to approval', async () => {
    const bot = approvalBot();
    await bot.say('invite a guest', 'adele', 'personal');
    await bot.say('zoe@example.org', 'adele', 'personal');
    const question = visibleText(await bot.say('Zoe Park', 'adele', 'personal'));
    expect(question).toContain('Which site');
    expect(question).toContain('Project Falcon');
    expect(question).toContain('Research');
    expect(question).not.toContain('Marketing');
    expect(visibleText(await bot.say('Project Falcon', 'adele', 'personal'))).toMatch(/Send this request for approval\?/);
    expect(visibleText(await bot.submit({ inviteAction: 'confirm' }, 'adele', 'personal'))).toMatch(/Why does Zoe Park need access/);
    const [card] = cardsIn(await bot.say('skip', 'adele', 'personal'));
    expect((await bot.bed.requests.get(requestIdOnCancel(card)))?.requesterConversationId).toBe(personalConversationId('adele'));
  });

  it('asking twice for the same guest and site makes no second request', async () => {
    const bot = approvalBot();
    await askAndConfirm(bot);
    const [first] = cardsIn(await bot.say('skip'));
    await askAndConfirm(bot);
    const [second] = cardsIn(await bot.say('skip'));
    expect(requestIdOnCancel(second)).toBe(requestIdOnCancel(first));
    expect(textOf(second)).toMatch(/already asked for this/);
    expect((await bot.bed.requests.listPending(DEMO.tenantId))).toHaveLength(1);
  });
});

describe('the reason question repeats the guest name typed by the member', () => {
  it.each(['[x](https://evil.example)', '**x**', '<at>x</at>', '# x'])('shows %s inert, never as markdown or a mention', async (payload) => {
    const bot = approvalBot();
    await bot.say(`invite ${payload} Park <zoe@example.org> to Project Falcon`);
    const replies = await bot.submit({ inviteAction: 'confirm' });
    const question = replies.map((r) => r.text ?? '').find((t) => t.startsWith('Why does')) ?? '';
    expect(question).toMatch(/need access to Project Falcon\?/);
    expect(question).not.toMatch(/\]\(|\*\*|<\/?at\b|^[ \t]*#|https:\/\/evil/m);
  });
});

describe('an approved request records the guest access, with the requester as sponsor', () => {
  it('the cards say when access would end and who sponsors; once carried out the record names Adele, not the approver', async () => {
    const bot = approvalBot({ lifecycle: true });
    const { bed } = bot;
    const confirm = visibleText(await bot.say('invite Zoe Park <zoe@example.org> to Project Falcon'));
    expect(confirm).toContain('Access ends on 14 July 2025');
    expect(confirm).toContain("You become the guest's sponsor once an approver agrees");
    await bot.submit({ inviteAction: 'confirm' });
    const [receipt] = cardsIn(await bot.say('Supplier audit.'));
    expect(textOf(receipt)).toContain('Access ends on 14 July 2025 if approved today · Sponsor: you');

    const alexCard = bed.adapter.cardsSentTo(personalConversationId('alex'))[0];
    expect(textOf(alexCard)).toContain('Access ends on 14 July 2025 if approved today · Sponsor: Adele Vance (the requester)');

    // Approved two days later: the access counts from then.
    bed.clock.advance(2 * 24 * 60 * 60_000);
    const approve = executeActions(alexCard).find((a) => a.verb === 'approval.approve');
    const approved = await bot.click('approval.approve', approve?.data ?? {}, 'alex');
    expect(textOf(approved.value)).toContain('Access ends on 16 July 2025 · Sponsor: Adele Vance (the requester)');

    const userId = bed.directory.snapshot().invitations[0]?.userId as string;
    const access = await bed.store.guestAccess.findByKey({ tenantId: DEMO.tenantId, groupId: FALCON.id, userId });
    expect(access).toMatchObject({ state: 'invited', sponsor: { id: DEMO.users.adele.id, name: 'Adele Vance' }, endsAt: '2025-07-16T09:00:00.000Z' });
    // Entra has the requester as sponsor (invitedUserSponsors), never the approver.
    const sponsors = (await bed.directory.listSponsors(userId)).map((s) => s.id);
    expect(sponsors).toEqual([DEMO.users.adele.id]);

    // Adele's card, updated with the outcome, shows the recorded end.
    const updated = bed.adapter.updatesIn(FALCON_CHAT).at(-1);
    expect(textOf(updated)).toContain('Access ends on 16 July 2025 · Sponsor: you');
  });

  it('a carrying-out resumed after a stop records the access once (idempotent)', async () => {
    const bot = approvalBot({ lifecycle: true });
    const { bed } = bot;
    await askAndConfirm(bot);
    await bot.say('Supplier audit.');
    const alexCard = bed.adapter.cardsSentTo(personalConversationId('alex'))[0];
    const approve = executeActions(alexCard).find((a) => a.verb === 'approval.approve');
    await bot.click('approval.approve', approve?.data ?? {}, 'alex');
    // A second instance resuming the same approval (or the sweep) finds it done: still one record.
    await bed.service.resumeApproved();
    await bed.service.whenIdle();
    expect(await bed.store.guestAccess.listByGroup(DEMO.tenantId, FALCON.id)).toHaveLength(1);
  });
});
