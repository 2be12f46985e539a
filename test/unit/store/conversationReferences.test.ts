import type { ConversationReference } from 'botbuilder';
import { ConversationReferenceError } from '../../../src/usecases/ports/conversationReferences';
import { coreMigrations } from '../../../src/adapters/sqlite/coreMigrations';
import { SqliteConversationReferenceRepository } from '../../../src/adapters/sqlite/conversationReferences';
import { openDatabase } from '../../../src/adapters/sqlite/database';
import { tempStore } from '../../support/store';

// Behaviour every adapter shares: test/contract/repositories/conversationReferences.contract.test.ts.

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

describe('SqliteConversationReferenceRepository', () => {
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

  it('refuses a reference without a conversation id or service URL and stores nothing', async () => {
    const db = openDatabase(':memory:', coreMigrations);
    const conversationReferences = new SqliteConversationReferenceRepository(db);
    await expect(conversationReferences.upsert({ ...channel, conversation: undefined })).rejects.toThrow(ConversationReferenceError);
    await expect(conversationReferences.upsert({ ...channel, serviceUrl: '' })).rejects.toThrow(/service URL/);
    expect(db.prepare('SELECT count(*) FROM conversation_references').pluck().get()).toBe(0);
    db.close();
  });
});
