import { ConversationState, MemoryStorage, TestAdapter, type TurnContext } from 'botbuilder';
import type { DialogState } from 'botbuilder-dialogs';
import { DialogsComponentRegistration } from 'botbuilder-dialogs/lib/dialogsComponentRegistration';
import { DialogStateManager } from 'botbuilder-dialogs/lib/memory/dialogStateManager';
import type { BotFeature } from '../../../src/teams/bot/feature';
import { RootDialog } from '../../../src/teams/bot/RootDialog';

/**
 * The dialog state manager's memory scopes and path resolvers are gathered on the first turn
 * only and shared by later turns (they are stateless), and the dialogs work as before.
 */
describe('RootDialog: the dialog state configuration', () => {
  it('is gathered once and shared by later turns, which still see their own state', async () => {
    const seen: unknown[] = [];
    const echo: BotFeature = {
      name: 'echo',
      onMessage: async (dc, text) => {
        seen.push(dc.state.configuration);
        // Scopes read this turn's state: a value set now is visible now, and gone next turn.
        expect(dc.state.getValue('turn.mark')).toBeUndefined();
        dc.state.setValue('turn.mark', text);
        await dc.context.sendActivity(`echo ${String(dc.state.getValue('turn.mark'))}`);
        return true;
      },
    };
    const conversation = new ConversationState(new MemoryStorage());
    const accessor = conversation.createProperty<DialogState>('dialogState');
    const root = new RootDialog([echo]);
    const gathered = jest.spyOn(DialogsComponentRegistration.prototype, 'getMemoryScopes');
    const adapter = new TestAdapter(async (context: TurnContext) => {
      await root.run(context, accessor);
      await conversation.saveChanges(context);
    });
    await adapter.send('one').assertReply('echo one').send('two').assertReply('echo two').send('three').assertReply('echo three');
    expect(gathered).toHaveBeenCalledTimes(1);
    expect(seen).toHaveLength(3);
    expect(new Set(seen).size).toBe(1);
    expect((seen[0] as DialogStateManager['configuration']).memoryScopes.length).toBeGreaterThan(5);
    gathered.mockRestore();
  });
});
