import { TestAdapter, TurnContext, type Activity, type ConversationReference } from 'botbuilder';
import type { AdaptiveCard } from '../../../src/teams/cards';
import { Notifier, describeFailure, type NotifierLogger, type ProactiveAdapter } from '../../../src/teams/bot/proactive';
import { memoryStore } from '../../support/store';

const MEGAN = '6f1c2b3a-0001-4c5d-8e9f-0a1b2c3d4e01';
const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJib3QifQ.c2lnbmF0dXJlLXNlY3JldA';

const meganChat: Partial<ConversationReference> = {
  channelId: 'msteams',
  serviceUrl: 'https://smba.trafficmanager.net/emea/',
  bot: { id: '28:bot', name: 'Guest onboarding' },
  user: { id: `29:${MEGAN}`, name: 'Megan Bowen', aadObjectId: MEGAN },
  conversation: { id: 'a:megan-personal', conversationType: 'personal', isGroup: false, name: '' },
};

const card = (text: string): AdaptiveCard => ({
  type: 'AdaptiveCard',
  version: '1.5',
  body: [{ type: 'TextBlock', text }],
});

/**
 * Continues a conversation the way CloudAdapter does (a context built from the reference), over
 * TestAdapter's wire so posted and updated activities can be inspected. A conversation can be
 * made to fail like the Bot Connector does: a RestError-shaped error whose request carries the token.
 */
class FakeProactiveAdapter implements ProactiveAdapter {
  readonly wire = new TestAdapter();
  readonly appIds: string[] = [];
  failWith: number | undefined;

  async continueConversationAsync(
    botAppId: string,
    reference: Partial<ConversationReference>,
    logic: (context: TurnContext) => Promise<void>,
  ): Promise<void> {
    this.appIds.push(botAppId);
    if (this.failWith !== undefined) {
      throw Object.assign(new Error(`Operation failed with status ${this.failWith}. Authorization: Bearer ${TOKEN}`), {
        statusCode: this.failWith,
        code: this.failWith === 403 ? 'BotNotInConversationRoster' : 'ConversationNotFound',
        request: { headers: { authorization: `Bearer ${TOKEN}` } },
      });
    }
    const activity = TurnContext.applyConversationReference({ type: 'event', name: 'continueConversation' }, reference, true);
    await logic(new TurnContext(this.wire, activity));
  }

  get posted(): Array<Partial<Activity>> {
    return this.wire.activeQueue;
  }
}

class RecordingLogger implements NotifierLogger {
  readonly lines: string[] = [];
  warn(details: Record<string, unknown>, message: string): void {
    this.lines.push(`${message} ${JSON.stringify(details)}`);
  }
}

describe('Notifier', () => {
  it('posts text to the stored conversation and returns the new message id', async () => {
    const adapter = new FakeProactiveAdapter();
    const result = await new Notifier(adapter, '').send(meganChat, 'Your guest Jane Doe was invited.');

    expect(result).toEqual({ ok: true, activityId: expect.any(String) });
    expect(adapter.posted).toHaveLength(1);
    expect(adapter.posted[0]).toMatchObject({
      text: 'Your guest Jane Doe was invited.',
      conversation: { id: 'a:megan-personal' },
      recipient: { aadObjectId: MEGAN },
    });
    expect(adapter.posted[0]?.id).toBe(result.ok ? result.activityId : 'no id');
  });

  it('passes the bot app id to the adapter (empty in local mode)', async () => {
    const adapter = new FakeProactiveAdapter();
    await new Notifier(adapter, '').send(meganChat, 'local');
    await new Notifier(adapter, '00000000-0000-4000-8000-00000000b07a').send(meganChat, 'cloud');
    expect(adapter.appIds).toEqual(['', '00000000-0000-4000-8000-00000000b07a']);
  });

  it('replaces a posted card in place', async () => {
    const adapter = new FakeProactiveAdapter();
    const notifier = new Notifier(adapter, '');
    const sent = await notifier.send(meganChat, { type: 'message', attachments: [] });
    if (!sent.ok || !sent.activityId) throw new Error('send failed');

    const updated = await notifier.update(meganChat, sent.activityId, card('Approved by Alex Wilber'));

    expect(updated).toEqual({ ok: true, activityId: sent.activityId });
    expect(adapter.posted).toHaveLength(1);
    expect(adapter.posted[0]?.attachments?.[0]).toEqual({
      contentType: 'application/vnd.microsoft.card.adaptive',
      content: card('Approved by Alex Wilber'),
    });
  });

  it('reports a chat the bot was removed from (403) instead of throwing, and logs no token', async () => {
    const adapter = new FakeProactiveAdapter();
    adapter.failWith = 403;
    const logger = new RecordingLogger();

    const result = await new Notifier(adapter, '', logger).send(meganChat, 'hello');

    expect(result).toMatchObject({ ok: false, reason: 'forbidden', statusCode: 403 });
    expect(JSON.stringify(result)).not.toContain(TOKEN);
    expect(logger.lines).toHaveLength(1);
    expect(logger.lines[0]).toContain('a:megan-personal');
    expect(logger.lines[0]).toContain('BotNotInConversationRoster');
    expect(logger.lines[0]).not.toContain(TOKEN);
  });

  it('reports a conversation or message that no longer exists (404) on update', async () => {
    const adapter = new FakeProactiveAdapter();
    adapter.failWith = 404;
    const result = await new Notifier(adapter, '').update(meganChat, 'gone', card('x'));
    expect(result).toMatchObject({ ok: false, reason: 'notFound', statusCode: 404 });
  });

  it('refuses a reference without a conversation or service URL without calling the adapter', async () => {
    const adapter = new FakeProactiveAdapter();
    const result = await new Notifier(adapter, '').send({ ...meganChat, serviceUrl: undefined }, 'hello');
    expect(result).toMatchObject({ ok: false, reason: 'failed' });
    expect(adapter.appIds).toEqual([]);
  });

  it('reaches a user through the personal chat stored for them', async () => {
    const { conversationReferences } = memoryStore();
    await conversationReferences.upsert({ ...meganChat, activityId: 'incoming-1' });
    const adapter = new FakeProactiveAdapter();

    const stored = await conversationReferences.getPersonal(MEGAN);
    if (!stored) throw new Error('no personal chat stored');
    await new Notifier(adapter, '').send(stored.reference, 'Alex approved your invitation.');

    expect(adapter.posted[0]).toMatchObject({ text: 'Alex approved your invitation.', conversation: { id: 'a:megan-personal' } });
    expect(adapter.posted[0]?.replyToId).toBeUndefined();
  });
});

describe('describeFailure', () => {
  it.each([
    [429, 'throttled'],
    [500, 'failed'],
    [undefined, 'failed'],
  ])('classifies status %s as %s', (statusCode, reason) => {
    expect(describeFailure(Object.assign(new Error('x'), { statusCode })).reason).toBe(reason);
  });
});
