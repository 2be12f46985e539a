/**
 * npm run migrate:sqlite-to-azure: an embedded store with bot state, chats and invitations is
 * copied into the target through its ports; a second run copies nothing new; the report says
 * what was copied and what was not.
 */
import { openMemoryStore } from '../../../src/adapters/memory/store';
import { openAzureStore } from '../../../src/adapters/azure/store';
import { useAzurite } from '../../support/azurite';
import { openStore } from '../../../src/adapters/sqlite/store';
import { describeReport, migrateStore } from '../../../src/tools/migrateSqliteToAzure';
import { DEMO } from '../../support/directory';
import { tempDatabaseFile } from '../../support/store';
import { personalReference } from '../approvals/testbed';

async function embeddedStoreWithData(file: string): Promise<void> {
  const store = openStore({ file });
  await store.botStorage.write({
    'msteams/conversations/a:chat-megan': { DialogState: { dialogStack: [{ id: 'inviteGuest', state: { step: 1 } }] } },
    'msteams/users/29:megan': { seen: true },
  });
  await store.conversationReferences.upsert(personalReference('megan'));
  await store.conversationReferences.upsert(personalReference('adele'));
  for (const [i, state] of (['completed', 'failed', 'pending'] as const).entries()) {
    const { record } = await store.invitations.claim({
      tenantId: DEMO.tenantId,
      emailNormalised: `moved${i}@fabrikam.com`,
      groupId: DEMO.groups.projectFalcon.id,
      emailDisplay: `Moved${i}@fabrikam.com`,
      displayName: `Moved ${i}`,
      siteName: 'Project Falcon',
      siteUrl: 'https://contoso.sharepoint.com/sites/ProjectFalcon',
      requestedBy: { id: DEMO.users.megan.id, name: DEMO.users.megan.displayName },
      source: 'chat',
    });
    await store.invitations.update(record.id, record.version, {
      state,
      userId: state === 'completed' ? `user-${i}` : null,
      redeemUrl: state === 'completed' ? `https://login.microsoftonline.com/redeem?rd=${i}` : null,
      lockedBy: 'a-process-long-gone',
    });
  }
  store.close();
}

const azurite = useAzurite();

describe.each([
  ['Azure Storage (Azurite)', () => openAzureStore({ account: azurite.account() })],
  ['the memory store', () => openMemoryStore()],
])('migrating the embedded store into %s', (_label, openTarget) => {
  it('copies bot state, conversation references and invitation records once, and says so', async () => {
    const file = tempDatabaseFile();
    await embeddedStoreWithData(file);
    const target = openTarget();
    const source = openStore({ file });
    try {
      const first = await migrateStore(source, target);
      expect(first).toMatchObject({
        botState: { found: 2, copied: 2, present: 0 },
        conversationReferences: { found: 2, copied: 2, present: 0 },
        invitations: { found: 3, copied: 3, present: 0 },
        notCopied: { approvalRequests: { total: 0, open: 0 }, bulkJobs: { total: 0, open: 0 } },
      });
      // What the bot reads after the move: the dialog where it was, the chats, the records by key.
      const state = await target.botStorage.read(['msteams/conversations/a:chat-megan']);
      expect(state['msteams/conversations/a:chat-megan']).toMatchObject({ DialogState: { dialogStack: [{ id: 'inviteGuest' }] } });
      expect((await target.conversationReferences.getPersonal(DEMO.users.adele.id))?.conversationId).toBe(personalReference('adele').conversation?.id);
      const moved = await target.invitations.findByKey({ tenantId: DEMO.tenantId, emailNormalised: 'moved0@fabrikam.com', groupId: DEMO.groups.projectFalcon.id });
      expect(moved).toMatchObject({ state: 'completed', userId: 'user-0', emailDisplay: 'Moved0@fabrikam.com', lockedBy: null });
      expect(moved?.redeemUrl).toContain('rd=0');

      const second = await migrateStore(source, target);
      expect([second.botState.copied, second.conversationReferences.copied, second.invitations.copied]).toEqual([0, 0, 0]);
      expect([second.botState.present, second.conversationReferences.present, second.invitations.present]).toEqual([2, 2, 3]);
      expect(describeReport(second)).toContain('invitation records: 0 copied, 3 already there (3 in the embedded store)');
    } finally {
      source.close();
      await target.close();
    }
  });
});
