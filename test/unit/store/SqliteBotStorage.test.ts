import { ConversationState, TestAdapter } from 'botbuilder';
import { tempDatabaseFile, tempStore } from '../../support/store';

// The eTag and value rules every bot Storage adapter shares: test/contract/repositories/botStorage.contract.test.ts.

describe('SqliteBotStorage', () => {
  it('keeps conversation state across a restart of the bot', async () => {
    const file = tempDatabaseFile();
    const runTurn = async (text: string): Promise<string[]> => {
      const store = tempStore([], { file });
      const state = new ConversationState(store.botStorage);
      const counter = state.createProperty<number>('turns');
      const replies: string[] = [];
      const adapter = new TestAdapter(async (context) => {
        const turns = (await counter.get(context, 0)) + 1;
        await counter.set(context, turns);
        await context.sendActivity(`turn ${turns}`);
        await state.saveChanges(context);
      });
      await adapter.send(text).assertReply((activity) => {
        replies.push(activity.text ?? '');
      });
      store.close();
      return replies;
    };

    expect(await runTurn('hi')).toEqual(['turn 1']);
    expect(await runTurn('hi again')).toEqual(['turn 2']);
  });
});
