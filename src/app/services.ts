import type { ConversationState, Storage, UserState } from 'botbuilder';
import type { AppConfig } from './config';
import type { Directory } from '../usecases/ports/Directory';
import type { Logger } from '../shared/logger';
import type { Repositories } from '../adapters/repositories';
import type { Clock } from '../domain/clock';
import type { InvitationPacer } from '../usecases/ports/pacer';
import type { ProactiveAdapter } from '../teams/bot/proactive';

/**
 * What a feature factory receives. Kept minimal on purpose: the lead extends it as
 * features need more (use cases, job queues).
 */
export interface BotServices {
  config: AppConfig;
  logger: Logger;
  directory: Directory;
  /** Every repository (ports), built by the store adapter; the store itself stays with the app. */
  repositories: Repositories;
  conversationState: ConversationState;
  /** The store's bot-state Storage (small Teams-side records: notices waiting for a chat, renewal requests). */
  botStorage: Storage;
  userState: UserState;
  /** For proactive messages (the CloudAdapter in the app, a fake in tests). */
  adapter: ProactiveAdapter;
  /** The bot's app id for continueConversationAsync ('' in local mode). */
  botAppId: string;
  clock: Clock;
  /**
   * The process's one invitation pacer, for features that send invitations through a directory
   * that does not pace them itself; null when the directory paces every POST /invitations
   * (GraphDirectory, retries included). Absent in tests that build services by hand.
   */
  invitationPacer?: InvitationPacer | null;
}
