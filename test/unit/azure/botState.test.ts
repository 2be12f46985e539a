/**
 * Two turns of one conversation on two instances at once (Azure Blob storage through
 * botbuilder-azure-blobs): both read the same state, the first save wins, the second is refused
 * by the state's ETag, never written over the first (botbuilder's own save says `eTag: '*'`; the
 * Azure bot storage makes it conditional). A later turn reads the winner's state.
 */
import { ConversationState, TestAdapter, TurnContext, type Activity } from 'botbuilder';
import { AzureBotStorage } from '../../../src/adapters/azure/botStorage';
import { useAzurite } from '../../support/azurite';

const azurite = useAzurite();

function turnContext(adapter: TestAdapter): TurnContext {
  const activity: Partial<Activity> = {
    type: 'message',
    text: 'hi',
    channelId: 'msteams',
    conversation: { id: 'a:shared-chat', isGroup: false, conversationType: 'personal', name: '' },
    from: { id: '29:megan', name: 'Megan' },
    recipient: { id: 'bot', name: 'bot' },
  };
  return new TurnContext(adapter, activity);
}

describe('conversation state across two instances', () => {
  it('two turns saving one conversation at once: the ETag lets one win and refuses the other', async () => {
    const prefix = azurite.account().prefix;
    const [first, second] = [azurite.account(prefix), azurite.account(prefix)].map((account) => new ConversationState(new AzureBotStorage(account)));
    const adapter = new TestAdapter(async () => undefined);
    const seed = turnContext(adapter);
    await first!.createProperty<string>('step').set(seed, 'email');
    await first!.saveChanges(seed, true);

    // Both instances read the same version of the state.
    const onFirst = turnContext(adapter);
    const onSecond = turnContext(adapter);
    const stepOnFirst = first!.createProperty<string>('step');
    const stepOnSecond = second!.createProperty<string>('step');
    expect(await stepOnFirst.get(onFirst)).toBe('email');
    expect(await stepOnSecond.get(onSecond)).toBe('email');
    await stepOnFirst.set(onFirst, 'name');
    await stepOnSecond.set(onSecond, 'site');

    await first!.saveChanges(onFirst);
    await expect(second!.saveChanges(onSecond)).rejects.toThrow(/eTag conflict/);
    // The losing turn's error handler clears its dialog and saves: refused too, the winner's state stays.
    await stepOnSecond.delete(onSecond);
    await expect(second!.saveChanges(onSecond)).rejects.toThrow(/eTag conflict/);

    const later = turnContext(adapter);
    expect(await second!.createProperty<string>('step').get(later)).toBe('name');
  });
});
