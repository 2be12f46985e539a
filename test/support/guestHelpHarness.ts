/**
 * A minimal bot for feature tests: the real RootDialog over a TestAdapter with in-memory state,
 * plus Action.Execute invokes routed to the features' action handlers (as the Teams handler does).
 */
import {
  type Activity,
  type ChannelAccount,
  type ConversationAccount,
  ConversationState,
  type InvokeResponse,
  MemoryStorage,
  TestAdapter,
} from 'botbuilder';
import type { DialogState } from 'botbuilder-dialogs';
import { actorFromActivity } from '../../src/teams/bot/actor';
import type { BotFeature } from '../../src/teams/bot/feature';
import { RootDialog } from '../../src/teams/bot/RootDialog';
import { botTestStore, TEST_STORE } from './store';

export interface Person {
  id: string;
  displayName: string;
}

export interface FeatureHarness {
  /** Sends a message as `person` (in their own 1:1 chat) and returns the bot's replies. */
  say(person: Person, text: string, tenantId: string): Promise<Array<Partial<Activity>>>;
  /** Sends an Action.Execute invoke as `person` and returns the handler's invoke response. */
  execute(person: Person, verb: string, data: Record<string, unknown>, tenantId: string): Promise<InvokeResponse | undefined>;
}

function who(person: Person, tenantId: string): { from: ChannelAccount; conversation: ConversationAccount } {
  return {
    from: { id: `29:${person.id}`, name: person.displayName, aadObjectId: person.id },
    conversation: { id: `a:chat-${person.id}`, tenantId, isGroup: false, conversationType: 'personal', name: '' },
  };
}

export function featureHarness(features: BotFeature[]): FeatureHarness {
  // The dialog state in the store under test (TEST_STORE=azure: Blob storage), else in memory.
  const conversationState = new ConversationState(TEST_STORE === 'azure' ? botTestStore().botStorage : new MemoryStorage());
  const dialogState = conversationState.createProperty<DialogState>('dialogState');
  const root = new RootDialog(features);
  const handlers = new Map(features.flatMap((f) => Object.entries(f.actions ?? {})));
  let invokeResponse: InvokeResponse | undefined;

  const adapter = new TestAdapter(async (context) => {
    const activity = context.activity;
    if (activity.type === 'invoke' && activity.name === 'adaptiveCard/action') {
      const action = (activity.value as { action?: { verb?: string; data?: Record<string, unknown> } }).action ?? {};
      const handler = action.verb ? handlers.get(action.verb) : undefined;
      invokeResponse = handler ? await handler(context, actorFromActivity(activity), action.data ?? {}) : undefined;
    } else {
      await root.run(context, dialogState);
    }
    await conversationState.saveChanges(context);
  });

  return {
    async say(person, text, tenantId) {
      await adapter.processActivity({ type: 'message', text, channelId: 'msteams', ...who(person, tenantId) });
      return adapter.activeQueue.splice(0);
    },
    async execute(person, verb, data, tenantId) {
      invokeResponse = undefined;
      await adapter.processActivity({
        type: 'invoke',
        name: 'adaptiveCard/action',
        channelId: 'msteams',
        value: { action: { type: 'Action.Execute', verb, data } },
        ...who(person, tenantId),
      });
      adapter.activeQueue.splice(0);
      return invokeResponse;
    },
  };
}

/** Everything a reply shows: its text and its cards' JSON, for "does the user see X" assertions. */
export function visibleText(replies: ReadonlyArray<Partial<Activity>>): string {
  return replies
    .map((r) => [r.text ?? '', ...(r.attachments ?? []).map((a) => JSON.stringify(a.content))].join('\n'))
    .join('\n');
}
