import type { ConversationReference, TurnContext, InvokeResponse } from 'botbuilder';
import type { Server } from 'restify';
import type { Dialog, DialogContext } from 'botbuilder-dialogs';
import type { Actor } from '../../domain/actor';
import type { RefusedClick } from '../../usecases/refusals/unidentifiedClick';

/** The `data` of an Action.Execute / Action.Submit, after the verb is taken out. */
export type ActionData = Record<string, unknown>;

/**
 * Handles one Action.Execute verb (`adaptiveCard/action` invoke). Must return a full Adaptive
 * Card invoke response body (Teams shows "Something went wrong" otherwise): use
 * `cardInvokeResponse(card)` from ./invokeResponse. Rights are re-checked here, every time.
 */
export type ActionHandler = (context: TurnContext, actor: Actor | null, data: ActionData) => Promise<InvokeResponse>;

/**
 * What a click of one verb attempts, and on what (from the button's data), for the audit of a
 * click from someone Teams did not identify. null: the verb only shows a card (Refresh, a list),
 * which is refused but, as for anyone, not recorded.
 */
export type RefusedClickOf = ((data: ActionData) => RefusedClick | Promise<RefusedClick>) | null;

/**
 * A feature plugs into the root of the bot. The bot tries each feature's onMessage in order
 * when no dialog is active (and for interruptions, see `interrupt`).
 */
export interface BotFeature {
  name: string;
  /** Dialogs added to the root DialogSet (ComponentDialogs, one per file). */
  dialogs?: Dialog[];
  /**
   * Takes a top-level message when no dialog is running. Return true if handled
   * (began a dialog or replied). `text` has @mentions removed and is trimmed.
   */
  onMessage?(dc: DialogContext, text: string, actor: Actor | null): Promise<boolean>;
  /**
   * Called while another dialog is active, before it continues. Return true if the message
   * was answered here (the active dialog is kept and will re-prompt), e.g. "why did I get a code?"
   * mid-invitation.
   */
  interrupt?(dc: DialogContext, text: string, actor: Actor | null): Promise<boolean>;
  /** Action.Execute verbs this feature owns. Verb names are prefixed with the feature, e.g. "approval.approve". */
  actions?: Record<string, ActionHandler>;
  /**
   * For every verb of `actions`: what its click attempts. A click from someone Teams did not
   * identify (no `from.aadObjectId`) is recorded by the bot from this, as `<event>.refused` with
   * reason 'unidentified', before the handler refuses it as usual.
   */
  refusedClicks?: Record<string, RefusedClickOf>;
  /** Lines for the welcome/help card: what a user can say. */
  help?: Array<{ title: string; example: string; audience: 'owners' | 'guests' | 'admins' | 'everyone' }>;
  /**
   * Every incoming activity's conversation reference, after the bot has stored it (so proactive
   * messages reach this chat later, even after a restart). Failures are logged, never fatal.
   */
  onConversationSeen?(reference: Partial<ConversationReference>): Promise<void>;
  /** Background work (resuming jobs, expiry sweeps): started once the server listens. */
  start?(): Promise<void>;
  /** Stops background work; called before the store closes. */
  stop?(): Promise<void>;
  /** HTTP routes the feature serves besides /api/messages (e.g. results downloads). */
  registerRoutes?(server: Server): void;
}
