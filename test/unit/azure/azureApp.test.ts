/**
 * The app on STORE=azure (Azurite): the configuration alone picks the Azure store, a turn keeps
 * its conversation reference and dialog state there, /readyz follows the storage (503 once it is
 * down), and the process registers as a holder other instances can see.
 */
import { AzureBotStorage } from '../../../src/adapters/azure/botStorage';
import { AzureHolderRegistry } from '../../../src/adapters/azure/leases';
import type { AzureStore } from '../../../src/adapters/azure/store';
import { WELCOME_TITLE } from '../../../src/teams/cards/welcomeCard';
import { useAzurite } from '../../support/azurite';
import { messageFrom, replyTexts, startInProcessApp, type RunningApp } from '../../support/e2e/inProcessApp';

const azurite = useAzurite();

describe('the app with STORE=azure', () => {
  let running: RunningApp | undefined;
  afterEach(async () => {
    await running?.close();
    running = undefined;
  });

  it('keeps a turn’s reference and state in Azure Storage and answers /readyz 200, then 503 when the storage is down', async () => {
    const prefix = azurite.account().prefix;
    running = await startInProcessApp({
      env: { STORE: 'azure', AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString, AZURE_STORAGE_PREFIX: prefix },
    });
    const store = running.app.store as AzureStore;
    expect(store.account.prefix).toBe(prefix);

    const message = messageFrom('help');
    const res = await running.post(message);
    expect(replyTexts(await res.json())).toContain(WELCOME_TITLE);
    const conversationId = message.conversation?.id ?? '';
    // Read back through another account object: what another instance would see.
    const other = azurite.account(prefix);
    const refs = await other.table('ConversationRefs');
    expect((await refs.getEntity(encodeURIComponent(conversationId).replace(/%/g, '~'), 'ref')).conversationType).toBe('personal');
    const state = await new AzureBotStorage(other).read([`msteams/conversations/${conversationId}/`]);
    expect(Object.keys(state)).toHaveLength(1);
    // This process is a live holder to another instance.
    expect(await new AzureHolderRegistry(other).isAlive(store.holders.holderId)).toBe(true);

    expect((await fetch(`${running.baseUrl}/readyz`)).status).toBe(200);
    await azurite.instance.stop();
    expect((await fetch(`${running.baseUrl}/readyz`)).status).toBe(503);
  }, 60_000);
});
