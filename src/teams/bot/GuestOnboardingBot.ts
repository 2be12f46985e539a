import {
  ActivityTypes,
  type ConversationState,
  type InvokeResponse,
  type StatePropertyAccessor,
  TeamsActivityHandler,
  TurnContext,
  type UserState,
} from 'botbuilder';
import type { DialogState } from 'botbuilder-dialogs';
import { turnLogger, type Logger } from '../../shared/logger';
import type { ConversationReferenceRepository } from '../../usecases/ports/conversationReferences';
import type { LeaseStore } from '../../usecases/ports/leases';
import type { AuditLog } from '../../usecases/ports/auditLog';
import { recordUnidentifiedClick } from '../../usecases/refusals/unidentifiedClick';
import { failTurn, inTurnContext, labelTurn, turnReachedBot } from '../../shared/telemetry';
import { actorFromActivity } from './actor';
import { errorCard } from '../cards/errorCard';
import { staleCard } from '../cards/staleCard';
import type { ActionData, ActionHandler, BotFeature, RefusedClickOf } from './feature';
import { cardInvokeResponse } from './invokeResponse';
import { cutLongMessage, MAX_MESSAGE_CHARS, MESSAGE_CUT_NOTICE } from './messageLimits';
import { type RootDialog } from './RootDialog';
import { welcomeCard } from '../cards/welcomeCard';

export const TURN_ERROR_MESSAGE = 'Sorry, something went wrong on my side. Your request was not completed; please try again.';
export const STALE_CARD_MESSAGE =
  'This card no longer matches anything I can do, so nothing was changed. Say "help" to start again.';
export const ACTION_FAILED_MESSAGE = 'Something went wrong on my side and nothing was changed. Please try again in a moment.';
export const CROSSED_TURN_MESSAGE =
  'Two of your messages reached me at the same moment and I went on with the other one. If this one still matters, send it again.';
export const STORE_UNAVAILABLE_MESSAGE = "I can't reach my storage just now, so nothing was done. Please try again in a moment: we carry on where we were.";

const TURN_LOGGER_KEY = Symbol('turnLogger');

/** The logger for the current turn (labelled with its turn id), for features to use. */
export function loggerFor(context: TurnContext, fallback: Logger): Logger {
  return (context.turnState.get(TURN_LOGGER_KEY) as Logger | undefined) ?? fallback;
}

export interface GuestOnboardingBotOptions {
  conversationState: ConversationState;
  userState: UserState;
  rootDialog: RootDialog;
  features: readonly BotFeature[];
  logger: Logger;
  /** Where conversation references are kept for proactive messages; absent in some tests. */
  conversationReferences?: Pick<ConversationReferenceRepository, 'upsert'>;
  /**
   * Where "welcomed" is claimed by compare-and-set before the welcome is sent, so two turns or two
   * processes never both send it (Teams sends conversationUpdate and installationUpdate together).
   * Absent in some tests: then an in-memory guard stands in.
   */
  onceClaims?: { leases: Pick<LeaseStore, 'acquire' | 'release' | 'complete'>; holderId: string };
  /**
   * Whether a turn's error means the store was out of reach for a moment (src/adapters/storeErrors.ts):
   * the person is asked to try again in a moment and the conversation's state is left as it was.
   */
  isStoreUnavailable?: (error: unknown) => boolean;
  /**
   * The audit log: a card click from someone Teams did not identify is recorded here (what the
   * feature says it attempted, reason 'unidentified', no one named). Absent in some tests: not recorded.
   */
  audit?: Pick<AuditLog, 'append'> | null;
}

/** How long a welcome being sent is held by its turn (a crash frees it at once; see leases.ts). */
const WELCOME_CLAIM_MS = 60_000;

export class GuestOnboardingBot extends TeamsActivityHandler {
  private readonly conversationState: ConversationState;
  private readonly userState: UserState;
  private readonly rootDialog: RootDialog;
  private readonly features: readonly BotFeature[];
  private readonly logger: Logger;
  private readonly conversationReferences: Pick<ConversationReferenceRepository, 'upsert'> | undefined;
  private readonly dialogState: StatePropertyAccessor<DialogState>;
  private readonly welcomeSent: StatePropertyAccessor<boolean>;
  private readonly actions = new Map<string, ActionHandler>();
  private readonly refusedClicks = new Map<string, RefusedClickOf>();
  private readonly audit: Pick<AuditLog, 'append'> | null;
  /** Conversations being welcomed right now: Teams sends conversationUpdate and installationUpdate together. */
  private readonly welcoming = new Set<string>();
  private readonly onceClaims: GuestOnboardingBotOptions['onceClaims'];
  private readonly isStoreUnavailable: (error: unknown) => boolean;

  constructor(options: GuestOnboardingBotOptions) {
    super();
    this.conversationState = options.conversationState;
    this.userState = options.userState;
    this.rootDialog = options.rootDialog;
    this.features = options.features;
    this.isStoreUnavailable = options.isStoreUnavailable ?? (() => false);
    this.logger = options.logger;
    this.conversationReferences = options.conversationReferences;
    this.onceClaims = options.onceClaims;
    this.audit = options.audit ?? null;
    this.dialogState = this.conversationState.createProperty<DialogState>('DialogState');
    this.welcomeSent = this.conversationState.createProperty<boolean>('welcomeSent');
    for (const feature of this.features) {
      for (const [verb, handler] of Object.entries(feature.actions ?? {})) {
        if (this.actions.has(verb)) throw new Error(`Action verb "${verb}" is registered by two features`);
        this.actions.set(verb, handler);
      }
      for (const [verb, refused] of Object.entries(feature.refusedClicks ?? {})) this.refusedClicks.set(verb, refused);
    }

    this.onMessage(async (context, next) => {
      await this.rootDialog.run(context, this.dialogState);
      await next();
    });
    this.onInstallationUpdateAdd(async (context, next) => {
      await this.welcomeOnce(context);
      await next();
    });
  }

  override async run(context: TurnContext): Promise<void> {
    // Inside the turn's span (TurnTelemetry middleware, in app.ts): this turn got past the guards.
    turnReachedBot(context.turnState);
    const log = turnLogger(this.logger, context.activity);
    context.turnState.set(TURN_LOGGER_KEY, log);
    log.debug('turn started');
    await this.rememberConversation(context, log);
    if (context.activity.type === ActivityTypes.Message && cutLongMessage(context)) {
      log.info({ maxChars: MAX_MESSAGE_CHARS }, 'message text cut to the limit');
      await context.sendActivity(MESSAGE_CUT_NOTICE);
    }
    await super.run(context);
    await this.conversationState.saveChanges(context, false);
    await this.userState.saveChanges(context, false);
  }

  /**
   * Stores the conversation reference of every activity (install, message, invoke) so that
   * notifications reach this chat later, then tells features. Never fails the turn.
   */
  private async rememberConversation(context: TurnContext, log: Logger): Promise<void> {
    const activity = context.activity;
    if (!activity.conversation?.id || !activity.serviceUrl) return;
    const reference = TurnContext.getConversationReference(activity);
    try {
      await this.conversationReferences?.upsert(reference);
    } catch (error) {
      log.warn({ err: describe(error) }, 'could not store the conversation reference');
    }
    for (const feature of this.features) {
      if (!feature.onConversationSeen) continue;
      try {
        await feature.onConversationSeen(reference);
      } catch (error) {
        log.warn({ err: describe(error), feature: feature.name }, 'feature failed on a new conversation reference');
      }
    }
  }

  /**
   * adapter.onTurnError: log (no activity text, no secrets), tell the user in plain words,
   * and clear only this conversation's dialog stack so the next message starts cleanly.
   */
  async handleTurnError(context: TurnContext, error: Error): Promise<void> {
    return inTurnContext(context.turnState, () => this.answerTurnError(context, error));
  }

  private async answerTurnError(context: TurnContext, error: Error): Promise<void> {
    const log = loggerFor(context, turnLogger(this.logger, context.activity));
    // Two turns of one conversation at once (two instances, or two devices): the state's eTag let
    // the other turn's save win. Its dialog is the conversation's now; nothing here is cleared.
    if (/due to eTag conflict/i.test(error.message)) {
      log.info({ err: describe(error) }, 'turn lost a state eTag race');
      try {
        await context.sendActivity(CROSSED_TURN_MESSAGE);
      } catch (sendError) {
        log.warn({ err: describe(sendError) }, 'could not tell the user about the crossed turn');
      }
      return;
    }
    if (this.isStoreUnavailable(error)) {
      // Nothing to clear: the state could not be read or written, and the dialog carries on once it can.
      log.warn({ err: describe(error) }, 'store unavailable during a turn');
      try {
        await context.sendActivity(STORE_UNAVAILABLE_MESSAGE);
      } catch (sendError) {
        log.warn({ err: describe(sendError) }, 'could not tell the user the store is unavailable');
      }
      return;
    }
    log.error({ err: { name: error.name, message: error.message, stack: error.stack } }, 'unhandled error in turn');
    try {
      await context.sendActivity(TURN_ERROR_MESSAGE);
    } catch (sendError) {
      log.warn({ err: describe(sendError) }, 'could not tell the user about the error');
    }
    try {
      await this.dialogState.delete(context);
      await this.conversationState.saveChanges(context, false);
    } catch (stateError) {
      log.warn({ err: describe(stateError) }, 'could not clear the dialog state after the error');
    }
  }

  protected override async onConversationUpdateActivity(context: TurnContext): Promise<void> {
    const botId = context.activity.recipient?.id;
    if (botId && context.activity.membersAdded?.some((m) => m.id === botId)) await this.welcomeOnce(context);
    await super.onConversationUpdateActivity(context);
  }

  protected override async onInvokeActivity(context: TurnContext): Promise<InvokeResponse> {
    if (context.activity.name === 'adaptiveCard/action') return this.onCardAction(context);
    return super.onInvokeActivity(context);
  }

  /** Action.Execute: always answered with a full card, whatever happens. */
  private async onCardAction(context: TurnContext): Promise<InvokeResponse> {
    const log = loggerFor(context, this.logger);
    const action = parseExecuteAction(context.activity.value);
    const handler = action ? this.actions.get(action.verb) : undefined;
    if (!action || !handler) {
      labelTurn(context.turnState, 'action:unknown');
      log.info({ verb: action?.verb }, 'card action with an unknown verb');
      return cardInvokeResponse(staleCard({ message: STALE_CARD_MESSAGE }));
    }
    // Only registered verbs become labels: a card's data is never trusted, not even as a name.
    labelTurn(context.turnState, `action:${action.verb}`);
    try {
      const actor = actorFromActivity(context.activity);
      if (!actor) await this.recordUnidentifiedClick(action.verb, action.data, log);
      return await handler(context, actor, action.data);
    } catch (error) {
      failTurn(context.turnState, error);
      log.error({ err: describe(error), verb: action.verb }, 'card action failed');
      return cardInvokeResponse(errorCard({ title: 'That did not work', message: ACTION_FAILED_MESSAGE }));
    }
  }

  /**
   * A click from someone Teams did not identify: every handler refuses it (no rights without an
   * Entra user), and it is on the record here, once for all features. Never fails the click.
   */
  private async recordUnidentifiedClick(verb: string, data: ActionData, log: Logger): Promise<void> {
    if (!this.audit) return;
    const refused = this.refusedClicks.get(verb);
    if (refused === undefined) {
      log.warn({ verb }, 'unidentified click on a verb that says nothing of what it attempts: not audited');
      return;
    }
    if (refused === null) return;
    try {
      await recordUnidentifiedClick(this.audit, await refused(data));
    } catch (error) {
      log.warn({ verb, err: describe(error) }, 'unidentified click not audited');
    }
  }

  private async welcomeOnce(context: TurnContext): Promise<void> {
    const conversationId = context.activity.conversation?.id ?? '';
    // The in-memory set is only a shortcut: the claim in the store decides, across turns and processes.
    if (this.welcoming.has(conversationId)) return;
    this.welcoming.add(conversationId);
    const claims = this.onceClaims;
    const key = `welcome:${conversationId}`;
    try {
      // Chats welcomed before the claim existed carry the flag in their conversation state.
      if (await this.welcomeSent.get(context, false)) return;
      if (claims && !(await claims.leases.acquire(key, claims.holderId, WELCOME_CLAIM_MS))) return;
      try {
        await context.sendActivity({ attachments: [welcomeCard(this.features)] });
      } catch (error) {
        // Not sent: the next first-contact event may try again.
        await claims?.leases.release(key, claims.holderId);
        throw error;
      }
      await claims?.leases.complete(key, claims.holderId);
      await this.welcomeSent.set(context, true);
      await this.conversationState.saveChanges(context, false);
    } finally {
      this.welcoming.delete(conversationId);
    }
  }
}

function parseExecuteAction(value: unknown): { verb: string; data: ActionData } | null {
  if (!value || typeof value !== 'object') return null;
  const action = (value as { action?: unknown }).action;
  if (!action || typeof action !== 'object') return null;
  const { type, verb, data } = action as { type?: unknown; verb?: unknown; data?: unknown };
  if (type !== 'Action.Execute' || typeof verb !== 'string' || !verb) return null;
  const fields: ActionData = data && typeof data === 'object' && !Array.isArray(data) ? { ...(data as ActionData) } : {};
  delete fields.verb;
  return { verb, data: fields };
}

function describe(error: unknown): { name: string; message: string } {
  return error instanceof Error ? { name: error.name, message: error.message } : { name: 'Error', message: String(error) };
}
