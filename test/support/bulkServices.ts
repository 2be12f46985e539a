/**
 * BotServices for the bulk feature as the composition root builds it (buildBulkFeature), over a
 * given store and directory, in local mode unless the environment says otherwise.
 */
import { ConversationState, MemoryStorage, TestAdapter, TurnContext, UserState, type Activity } from 'botbuilder';
import type { BotServices } from '../../src/app/services';
import { bulkMigrations } from '../../src/adapters/sqlite/bulkJobs';
import { loadConfig } from '../../src/app/config';
import type { Directory } from '../../src/usecases/ports/Directory';
import { createLogger } from '../../src/shared/logger';
import type { Migration } from '../../src/adapters/sqlite/database';
import { invitationMigrations } from '../../src/adapters/sqlite/invitations';
import type { Store } from '../../src/adapters/repositories';
import { DEMO } from './directory';
import type { ProactiveAdapter } from '../../src/teams/bot/proactive';

export const BULK_STORE_MIGRATIONS: readonly Migration[] = [...invitationMigrations, ...bulkMigrations];

export function bulkServices(options: { store: Store; directory: Directory; adapter: ProactiveAdapter; env?: NodeJS.ProcessEnv }): BotServices {
  const storage = new MemoryStorage();
  return {
    config: loadConfig(options.env ?? {}),
    logger: createLogger({ level: 'silent' }),
    directory: options.directory,
    repositories: options.store,
    conversationState: new ConversationState(storage),
    botStorage: storage,
    userState: new UserState(storage),
    adapter: options.adapter,
    botAppId: '',
    clock: { now: () => new Date() },
  };
}

/** A turn context for calling a feature's Action.Execute handler directly, as `user` in a personal chat. */
export function invokeContext(user: keyof typeof DEMO.users, conversationType: 'personal' | 'groupChat' = 'personal'): TurnContext {
  const person = DEMO.users[user];
  const activity: Partial<Activity> = {
    type: 'invoke',
    name: 'adaptiveCard/action',
    channelId: 'msteams',
    serviceUrl: 'https://smba.trafficmanager.net/emea/',
    from: { id: `29:${person.id}`, name: person.displayName, aadObjectId: person.id },
    recipient: { id: '28:bot', name: 'Guest onboarding' },
    conversation: { id: `a:personal-${user}`, conversationType, tenantId: DEMO.tenantId, isGroup: conversationType !== 'personal', name: '' },
    replyToId: 'card-1',
  };
  return new TurnContext(new TestAdapter(), activity);
}
