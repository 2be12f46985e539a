import { ActivityTypes, ConversationState, MemoryStorage, TestAdapter, UserState, type Activity } from 'botbuilder';
import { botTestStore, TEST_STORE } from '../support/store';
import { ComponentDialog, type DialogContext, TextPrompt, WaterfallDialog } from 'botbuilder-dialogs';
import { GuestOnboardingBot, STALE_CARD_MESSAGE, TURN_ERROR_MESSAGE } from '../../src/teams/bot/GuestOnboardingBot';
import type { BotFeature } from '../../src/teams/bot/feature';
import { CANCELLED_MESSAGE, NOTHING_TO_CANCEL_MESSAGE, RootDialog } from '../../src/teams/bot/RootDialog';
import { WELCOME_TITLE } from '../../src/teams/cards/welcomeCard';
import { createLogger } from '../../src/shared/logger';
import { DEMO_APPROVER_GROUP_ID } from '../../src/app/approvalSettings';
import { helpReaderLookup } from '../../src/teams/bot/helpAudience';
import { DEMO, demoDirectory } from '../support/directory';

/** Every TextBlock / fact text of the cards in an activity, plus its plain text. */
function shownText(activity: Partial<Activity>): string {
  const parts: string[] = [activity.text ?? ''];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if (typeof value === 'string' && ['text', 'title', 'value'].includes(key)) parts.push(value);
        else walk(value);
      }
    }
  };
  walk(activity.attachments);
  return parts.join('\n');
}

const inviteHelp: BotFeature = {
  name: 'invite',
  help: [{ title: 'Invite a guest', example: 'invite Jane Doe jane@fabrikam.com', audience: 'owners' }],
};

/** A two-question dialog standing in for a real feature flow. */
class AskTwiceDialog extends ComponentDialog {
  constructor() {
    super('askTwice');
    this.addDialog(
      new WaterfallDialog('steps', [
        (step) => step.prompt('text', 'What is the guest\'s name?'),
        (step) => step.prompt('text', 'What is their email?'),
        async (step) => {
          await step.context.sendActivity(`Got ${String(step.result)}`);
          return step.endDialog();
        },
      ]),
    );
    this.addDialog(new TextPrompt('text'));
    this.initialDialogId = 'steps';
  }
}

const asker: BotFeature = {
  name: 'asker',
  dialogs: [new AskTwiceDialog()],
  onMessage: async (dc: DialogContext, text: string) => {
    if (text !== 'ask') return false;
    await dc.beginDialog('askTwice');
    return true;
  },
  interrupt: async (dc: DialogContext, text: string) => {
    if (text !== 'why did I get a code?') return false;
    await dc.context.sendActivity('Because you signed in with a one-time passcode.');
    return true;
  },
};

const boom: BotFeature = {
  name: 'boom',
  onMessage: async (_dc, text) => {
    if (text === 'boom') throw new Error('kaboom');
    return false;
  },
};

function testBot(features: BotFeature[] = [inviteHelp, asker, boom], rootDialog = new RootDialog(features)) {
  // Bot state in the store under test (TEST_STORE=azure: Blob storage), else in memory.
  const storage = TEST_STORE === 'azure' ? botTestStore().botStorage : new MemoryStorage();
  const bot = new GuestOnboardingBot({
    conversationState: new ConversationState(storage),
    userState: new UserState(storage),
    rootDialog,
    features,
    logger: createLogger({ level: 'silent' }),
  });
  const adapter = new TestAdapter((context) => bot.run(context));
  adapter.onTurnError = (context, error) => bot.handleTurnError(context, error);
  return { adapter, bot };
}

function installEvent(adapter: TestAdapter): Partial<Activity> {
  const bot = adapter.conversation.bot;
  return { type: ActivityTypes.ConversationUpdate, membersAdded: [{ id: bot.id, name: bot.name }] };
}

/** Help lines as the real features tag them. */
const helpLines: BotFeature = {
  name: 'lines',
  help: [
    { title: 'Invite a guest', example: 'invite a guest', audience: 'owners' },
    { title: 'Invite many guests from a CSV', example: 'bulk invite', audience: 'owners' },
    { title: 'See invitations waiting for your approval', example: 'pending', audience: 'admins' },
    { title: 'Why do I get a sign-in code?', example: 'why did I get a code?', audience: 'guests' },
    { title: 'I lost access', example: 'I lost access', audience: 'guests' },
    { title: 'Which sign-in will a guest get?', example: 'what sign-in will jane@fabrikam.com get?', audience: 'everyone' },
  ],
};

describe('help is written for whoever asks', () => {
  const who = DEMO.users;
  it.each([
    // [reader, aadObjectId, tenant, heading, shows, never shows, buttons]
    ['owner (Megan)', who.megan.id, DEMO.tenantId, 'For you, as a site owner', ['Invite many guests from a CSV', 'Which sign-in will a guest get?'], ['pending', 'I lost access', 'Why do I get a sign-in code?'], ['invite a guest', 'bulk invite', 'my invitations']],
    ['member (Adele)', who.adele.id, DEMO.tenantId, 'For you', ['Ask for a guest on a site you belong to (an approver decides)'], ['bulk invite', 'pending', 'I lost access'], ['invite a guest', 'my invitations']],
    ['approver who owns a site (Alex)', who.alex.id, DEMO.tenantId, 'For you, as an approver', ['See invitations waiting for your approval', 'Invite a guest'], ['I lost access'], ['invite a guest', 'bulk invite', 'my invitations', 'pending']],
    ['guest (Jordan)', who.jordan.id, DEMO.tenantId, 'For you, as a guest', ['Why do I get a sign-in code?', 'I lost access'], ['bulk invite', 'pending', 'Invite a guest'], ['why did I get a code?', 'how do I sync?', 'I lost access']],
    ['unknown (another tenant)', who.megan.id, '11111111-2222-3333-4444-555555555555', 'Guest questions', ["I can't tell who you are in this chat"], ['bulk invite', 'pending'], ['why did I get a code?', 'how do I sync?']],
  ])('%s', async (_reader, aadObjectId, tenantId, heading, shows, never, buttons) => {
    const features = [helpLines];
    const { adapter } = testBot(features, new RootDialog(features, helpReaderLookup(demoDirectory(), DEMO_APPROVER_GROUP_ID)));
    await adapter
      .send({ type: ActivityTypes.Message, text: 'help', from: { id: `29:${aadObjectId}`, name: 'Reader', aadObjectId }, conversation: { id: 'c1', tenantId, isGroup: false, conversationType: 'personal', name: '' } })
      .assertReply((reply) => {
        const card = reply.attachments?.[0]?.content as { actions?: Array<{ type: string; data?: { msteams?: { value?: string }; helpCommand?: string } }> };
        const text = shownText(reply);
        expect(text).toContain(heading);
        for (const s of shows) expect(text).toContain(s);
        for (const s of never) expect(text).not.toContain(s);
        // No command shown in quotes; every main action is a button that sends its words.
        expect(text).not.toMatch(/"(invite|bulk|pending|why|how|help|cancel)/);
        expect((card.actions ?? []).map((a) => a.data?.msteams?.value)).toEqual(buttons);
        expect((card.actions ?? []).every((a) => a.type === 'Action.Submit' && a.data?.helpCommand === a.data?.msteams?.value)).toBe(true);
        // Each line of the card's body once.
        const lines = shownText({ attachments: [{ contentType: 'x', content: { body: (card as { body?: unknown }).body } }] }).split('\n').filter((l) => l.length > 12);
        expect(new Set(lines).size).toBe(lines.length);
      });
  });

  it('a help button pressed where imBack is not supported (value only) is taken as the words', async () => {
    const features = [helpLines];
    const { adapter } = testBot(features);
    await adapter.send({ type: ActivityTypes.Message, value: { helpCommand: 'help' } }).assertReply((reply) => expect(shownText(reply)).toContain(WELCOME_TITLE));
  });
});

describe('welcome and the bot shell', () => {
  it('answers "help" with the welcome card listing what the features offer', async () => {
    const { adapter } = testBot();
    await adapter.send('help').assertReply((reply) => {
      const text = shownText(reply);
      expect(text).toContain(WELCOME_TITLE);
      expect(text).toContain('Any time');
    });
  });

  it('greets "hi" and unknown text with the welcome card too', async () => {
    const { adapter } = testBot();
    await adapter
      .send('hi')
      .assertReply((reply) => expect(shownText(reply)).toContain(WELCOME_TITLE))
      .send('what is the weather')
      .assertReply((reply) => {
        expect(shownText(reply)).toContain("Sorry, I didn't understand that");
        expect(shownText(reply)).toContain(WELCOME_TITLE);
      });
  });

  it('posts the welcome once when installed, not again on a second conversationUpdate', async () => {
    const { adapter } = testBot();
    await adapter
      .send(installEvent(adapter))
      .assertReply((reply) => expect(shownText(reply)).toContain(WELCOME_TITLE))
      .send(installEvent(adapter))
      .assertNoReply('no second welcome', 100)
      .send({ type: ActivityTypes.InstallationUpdate, action: 'add' })
      .assertNoReply('no second welcome', 100);
  });

  it('welcomes on installationUpdate add when that comes first', async () => {
    const { adapter } = testBot();
    await adapter
      .send({ type: ActivityTypes.InstallationUpdate, action: 'add' })
      .assertReply((reply) => expect(shownText(reply)).toContain(WELCOME_TITLE))
      .send(installEvent(adapter))
      .assertNoReply('no second welcome', 100);
  });

  it('does not welcome when someone else joins the conversation', async () => {
    const { adapter } = testBot();
    await adapter.send({ type: ActivityTypes.ConversationUpdate, membersAdded: [{ id: 'someone-else', name: 'Adele' }] }).assertNoReply('no second welcome', 100);
  });

  it('says there is nothing to cancel when no flow is running', async () => {
    const { adapter } = testBot();
    await adapter.send('cancel').assertReply(NOTHING_TO_CANCEL_MESSAGE);
  });

  it('cancels a running flow on "stop" and confirms it', async () => {
    const { adapter } = testBot();
    await adapter
      .send('ask')
      .assertReply("What is the guest's name?")
      .send('stop')
      .assertReply(CANCELLED_MESSAGE)
      .send('Jane')
      .assertReply((reply) => expect(shownText(reply)).toContain("Sorry, I didn't understand that"));
  });

  it('explains the current step on "help" mid-flow and asks the same question again', async () => {
    const { adapter } = testBot();
    await adapter
      .send('ask')
      .assertReply("What is the guest's name?")
      .send('Jane Doe')
      .assertReply('What is their email?')
      .send('help')
      .assertReply((reply) => expect(reply.text).toMatch(/say \*\*cancel\*\* to stop/))
      .assertReply('What is their email?')
      .send('jane@fabrikam.com')
      .assertReply('Got jane@fabrikam.com');
  });

  it('lets a feature answer an interruption mid-flow, then re-asks the question', async () => {
    const { adapter } = testBot();
    await adapter
      .send('ask')
      .assertReply("What is the guest's name?")
      .send('why did I get a code?')
      .assertReply('Because you signed in with a one-time passcode.')
      .assertReply("What is the guest's name?");
  });

  it('ignores the @mention of the bot in a channel message', async () => {
    const { adapter } = testBot();
    const bot = adapter.conversation.bot;
    await adapter
      .send({
        type: ActivityTypes.Message,
        text: '<at>Guest onboarding</at> cancel',
        entities: [{ type: 'mention', mentioned: { id: bot.id, name: 'Guest onboarding' }, text: '<at>Guest onboarding</at>' }],
      })
      .assertReply(NOTHING_TO_CANCEL_MESSAGE);
  });

  it('tells the user in plain words when a turn fails, and the next message starts cleanly', async () => {
    const { adapter } = testBot();
    await adapter
      .send('ask')
      .assertReply("What is the guest's name?")
      .send('cancel')
      .assertReply(CANCELLED_MESSAGE)
      .send('boom')
      .assertReply(TURN_ERROR_MESSAGE)
      .send('help')
      .assertReply((reply) => expect(shownText(reply)).toContain(WELCOME_TITLE));
  });

  it('answers a card action with an unknown verb with a full "out of date" card', async () => {
    const { adapter } = testBot();
    await adapter
      .send({ type: ActivityTypes.Invoke, name: 'adaptiveCard/action', value: { action: { type: 'Action.Execute', verb: 'gone.verb', data: {} } } })
      .assertReply((reply) => {
        expect(reply.type).toBe('invokeResponse');
        const response = reply.value as { status: number; body: { statusCode: number; type: string; value: unknown } };
        expect(response.status).toBe(200);
        expect(response.body.type).toBe('application/vnd.microsoft.card.adaptive');
        expect(JSON.stringify(response.body.value)).toContain('This card is out of date');
        expect(JSON.stringify(response.body.value)).toContain(STALE_CARD_MESSAGE.slice(0, 30));
      });
  });
});
