/** Conversation references: the same keys, personal index and refusals over SQLite and memory. */
import type { ConversationReference } from 'botbuilder';
import { coreMigrations } from '../../../src/adapters/sqlite/coreMigrations';
import { openDatabase } from '../../../src/adapters/sqlite/database';
import { SqliteConversationReferenceRepository } from '../../../src/adapters/sqlite/conversationReferences';
import { MemoryConversationReferenceRepository } from '../../../src/adapters/memory/conversationReferences';
import { ConversationReferenceError, type ConversationReferenceRepository } from '../../../src/usecases/ports/conversationReferences';
import { manualClock, type ManualClock } from '../../support/store';
import { AzureConversationReferenceRepository } from '../../../src/adapters/azure/conversationReferences';
import { useAzurite } from '../../support/azurite';

const azurite = useAzurite();

type Make = (clock: ManualClock) => ConversationReferenceRepository;

const makeSqlite: Make = (clock) => new SqliteConversationReferenceRepository(openDatabase(':memory:', coreMigrations), clock);
const makeMemory: Make = (clock) => new MemoryConversationReferenceRepository(clock);
const makeAzure: Make = (clock) => new AzureConversationReferenceRepository(azurite.account(), clock);

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

describe.each([
  ['sqlite', makeSqlite],
  ['memory', makeMemory],
  ['azure', makeAzure],
])('ConversationReferenceRepository contract (%s)', (_name, make) => {
  it('finds a user’s personal chat by Entra object id, but never a channel they spoke in', async () => {
    const references = make(manualClock());
    await references.upsert(channel);
    expect(await references.getPersonal(MEGAN)).toBeNull();

    await references.upsert(personalChatWith(MEGAN));
    await references.upsert(channel);

    expect((await references.getPersonal(MEGAN))?.conversationType).toBe('personal');
    expect((await references.get('19:approvals@thread.tacv2'))?.reference.serviceUrl).toBe('https://smba.trafficmanager.net/emea/');
  });

  it('treats a chat without a type that is not a group (Agents Playground, Emulator) as personal', async () => {
    const references = make(manualClock());
    const playground = personalChatWith(MEGAN, 'playground-conv-1');
    playground.conversation = { id: 'playground-conv-1', isGroup: false, name: '', conversationType: '' };
    await references.upsert(playground);
    const stored = await references.getPersonal(MEGAN);
    expect(stored?.conversationId).toBe('playground-conv-1');
    expect(stored?.conversationType).toBeUndefined();
  });

  it('drops the incoming activity id so a notification is a new message, not a reply', async () => {
    const references = make(manualClock());
    const stored = await references.upsert(personalChatWith(MEGAN));
    expect(stored.reference).not.toHaveProperty('activityId');
    expect((await references.get(stored.conversationId))?.reference).not.toHaveProperty('activityId');
  });

  it('refreshes a reference in place (e.g. a new service URL) and stamps the time', async () => {
    const clock = manualClock('2025-03-01T09:00:00.000Z');
    const references = make(clock);
    await references.upsert(personalChatWith(MEGAN));
    clock.advance(60_000);
    await references.upsert({ ...personalChatWith(MEGAN), serviceUrl: 'https://smba.trafficmanager.net/amer/' });

    const stored = await references.getPersonal(MEGAN);
    expect(stored?.reference.serviceUrl).toBe('https://smba.trafficmanager.net/amer/');
    expect(stored?.updatedAt).toBe('2025-03-01T09:01:00.000Z');
    expect(stored?.tenantId).toBe(TENANT);
  });

  it('a user’s newest personal chat is the one found', async () => {
    const references = make(manualClock());
    await references.upsert(personalChatWith(MEGAN, 'a:first'));
    await references.upsert(personalChatWith(MEGAN, 'a:second'));
    expect((await references.getPersonal(MEGAN))?.conversationId).toBe('a:second');
    expect((await references.get('a:first'))?.conversationId).toBe('a:first');
  });

  it('forgets a deleted conversation, including as the user’s personal chat; not found is null', async () => {
    const references = make(manualClock());
    const stored = await references.upsert(personalChatWith(MEGAN));

    expect(await references.delete(stored.conversationId)).toBe(true);
    expect(await references.get(stored.conversationId)).toBeNull();
    expect(await references.getPersonal(MEGAN)).toBeNull();
    expect(await references.delete(stored.conversationId)).toBe(false);
    expect(await references.get('never-seen')).toBeNull();
  });

  it('refuses a reference without a conversation id or service URL and stores nothing', async () => {
    const references = make(manualClock());
    await expect(references.upsert({ ...channel, conversation: undefined })).rejects.toThrow(ConversationReferenceError);
    await expect(references.upsert({ ...channel, serviceUrl: '' })).rejects.toThrow(/service URL/);
    expect(await references.get('19:approvals@thread.tacv2')).toBeNull();
  });

  it('returns copies: changing a returned reference changes nothing stored', async () => {
    const references = make(manualClock());
    const stored = await references.upsert(personalChatWith(MEGAN));
    if (stored.reference.conversation) stored.reference.conversation.id = 'changed';
    const read = await references.get(`a:1-personal-${MEGAN}`);
    if (read?.reference.user) read.reference.user.name = 'changed';
    expect((await references.getPersonal(MEGAN))?.reference).toMatchObject({
      conversation: { id: `a:1-personal-${MEGAN}` },
      user: { name: 'Megan Bowen' },
    });
  });

  it('concurrent upserts of one conversation leave one reference, the last written', async () => {
    const references = make(manualClock());
    await Promise.all(
      ['emea', 'amer', 'apac'].map((region) => references.upsert({ ...channel, serviceUrl: `https://smba.trafficmanager.net/${region}/` })),
    );
    expect((await references.get('19:approvals@thread.tacv2'))?.reference.serviceUrl).toBe('https://smba.trafficmanager.net/apac/');
  });
});
