import type { ConversationReference } from 'botbuilder';
import { ConversationReferenceError } from '../../../src/usecases/ports/conversationReferences';
import { manualClock, memoryStore, tempStore } from '../../support/store';

const TENANT = 'c0a7f3e2-1d4b-4e8a-9f6c-2b5d8e1a7c30';
const MEGAN = '6f1c2b3a-0001-4c5d-8e9f-0a1b2c3d4e01';

function personalChatWith(aadObjectId: string, conversationId = `a:1-personal-${aadObjectId}`): Partial<ConversationReference> {
  return {
    activityId: 'incoming-activity-1',
    channelId: 'msteams',
    serviceUrl: 'https://smba.trafficmanager.net/emea/',
    bot: { id: '28:bot', name: 'Guest onboarding' },
    user: { id: `29:${aadObjectId}`, name: 'Megan Bowen', aadObjectId },
    conversation: { id: conversationId, conversationType: 'personal', tenantId: TENANT, isGroup: false, name: '' },
  };
}

const channel: Partial<ConversationReference> = {
  channelId: 'msteams',
  serviceUrl: 'https://smba.trafficmanager.net/emea/',
  bot: { id: '28:bot', name: 'Guest onboarding' },
  user: { id: `29:${MEGAN}`, name: 'Megan Bowen', aadObjectId: MEGAN },
  conversation: { id: '19:approvals@thread.tacv2', conversationType: 'channel', tenantId: TENANT, isGroup: true, name: 'Approvals' },
};

describe('ConversationReferenceStore', () => {
  it('keeps references across a close and reopen of the same file', async () => {
    const first = tempStore();
    await first.conversationReferences.upsert(personalChatWith(MEGAN));
    await first.conversationReferences.upsert(channel);
    first.close();

    const second = tempStore([], { file: first.file });

    expect((await second.conversationReferences.getPersonal(MEGAN))?.reference.conversation?.id).toBe(`a:1-personal-${MEGAN}`);
    expect((await second.conversationReferences.get('19:approvals@thread.tacv2'))?.reference.serviceUrl).toBe(
      'https://smba.trafficmanager.net/emea/',
    );
  });

  it('finds a user’s personal chat by Entra object id, but never a channel they spoke in', async () => {
    const { conversationReferences } = memoryStore();
    await conversationReferences.upsert(channel);
    expect((await conversationReferences.getPersonal(MEGAN))).toBeNull();

    await conversationReferences.upsert(personalChatWith(MEGAN));
    await conversationReferences.upsert(channel);

    expect((await conversationReferences.getPersonal(MEGAN))?.conversationType).toBe('personal');
  });

  it('treats a chat without a type that is not a group (Agents Playground, Emulator) as personal', async () => {
    const { conversationReferences } = memoryStore();
    const playground = personalChatWith(MEGAN, 'playground-conv-1');
    playground.conversation = { id: 'playground-conv-1', isGroup: false, name: '', conversationType: '' };
    await conversationReferences.upsert(playground);
    expect((await conversationReferences.getPersonal(MEGAN))?.conversationId).toBe('playground-conv-1');
  });

  it('drops the incoming activity id so a notification is a new message, not a reply', async () => {
    const { conversationReferences } = memoryStore();
    const stored = await conversationReferences.upsert(personalChatWith(MEGAN));
    expect(stored.reference).not.toHaveProperty('activityId');
    expect((await conversationReferences.get(stored.conversationId))?.reference).not.toHaveProperty('activityId');
  });

  it('refreshes a reference in place (e.g. a new service URL) and stamps the time', async () => {
    const clock = manualClock('2025-03-01T09:00:00.000Z');
    const { conversationReferences } = memoryStore([], { clock });
    await conversationReferences.upsert(personalChatWith(MEGAN));
    clock.advance(60_000);
    await conversationReferences.upsert({ ...personalChatWith(MEGAN), serviceUrl: 'https://smba.trafficmanager.net/amer/' });

    const stored = await conversationReferences.getPersonal(MEGAN);
    expect(stored?.reference.serviceUrl).toBe('https://smba.trafficmanager.net/amer/');
    expect(stored?.updatedAt).toBe('2025-03-01T09:01:00.000Z');
    expect(stored?.tenantId).toBe(TENANT);
  });

  it('forgets a deleted conversation, including as the user’s personal chat', async () => {
    const { conversationReferences } = memoryStore();
    const stored = await conversationReferences.upsert(personalChatWith(MEGAN));

    expect((await conversationReferences.delete(stored.conversationId))).toBe(true);
    expect((await conversationReferences.get(stored.conversationId))).toBeNull();
    expect((await conversationReferences.getPersonal(MEGAN))).toBeNull();
    expect((await conversationReferences.delete(stored.conversationId))).toBe(false);
  });

  it('refuses a reference without a conversation id or service URL and stores nothing', async () => {
    const { conversationReferences, db } = memoryStore();
    await expect(conversationReferences.upsert({ ...channel, conversation: undefined })).rejects.toThrow(ConversationReferenceError);
    await expect(conversationReferences.upsert({ ...channel, serviceUrl: '' })).rejects.toThrow(/service URL/);
    expect(db.prepare('SELECT count(*) FROM conversation_references').pluck().get()).toBe(0);
  });
});
