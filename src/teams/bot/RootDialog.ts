import { ActivityTypes, type StatePropertyAccessor, TurnContext } from 'botbuilder';
import type { DialogContext, DialogState, DialogStateManagerConfiguration, DialogTurnResult } from 'botbuilder-dialogs';
import { ComponentDialog, Dialog, DialogSet, DialogTurnStatus } from './dialogParts';
import { trimEndChars } from '../../domain/text';
import { labelTurn } from '../../shared/telemetry';
import { actorFromActivity } from './actor';
import { welcomeCard } from '../cards/welcomeCard';
import type { BotFeature } from './feature';
import type { HelpReaderLookup } from './helpAudience';

export const ROOT_DIALOG_ID = 'root';

const CANCEL_WORDS = new Set(['cancel', 'stop', 'quit']);
const WELCOME_WORDS = new Set(['hi', 'hello', 'help', 'menu']);

export const CANCELLED_MESSAGE = "OK, I've stopped. Say **help** to see what I can do.";
export const NOTHING_TO_CANCEL_MESSAGE = "There's nothing to cancel right now. Say **help** to see what I can do.";
export const STALE_SUBMIT_MESSAGE =
  'That card is no longer waiting for an answer, so nothing was changed. Say **help** to start again.';
const DEFAULT_STEP_HELP =
  "We're in the middle of something: answer the question below to carry on, or say **cancel** to stop.";

/** A dialog can explain its current step when the user says "help" mid-flow. */
export interface ExplainsStep {
  stepHelp(dc: DialogContext): string | undefined;
}

function explainsStep(dialog: Dialog | undefined): dialog is Dialog & ExplainsStep {
  return typeof (dialog as Partial<ExplainsStep> | undefined)?.stepHelp === 'function';
}

/** The id of the innermost active dialog (the prompt being answered), for the turn's telemetry label. */
function activeStep(dc: DialogContext): string {
  let current = dc;
  while (current.child) current = current.child;
  return current.activeDialog?.id ?? 'none';
}

/** The user's words: recipient @mention removed, whitespace collapsed. */
export function messageText(context: TurnContext): string {
  const activity = context.activity;
  if (activity.type !== ActivityTypes.Message || typeof activity.text !== 'string') return '';
  return removeRecipientMentions(activity.text, activity.entities, activity.recipient?.id)
    .replace(/<at>[^<]*<\/at>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * Removes the text of every mention of the bot. Not TurnContext.removeRecipientMention: its
 * pattern (`(?<=<at.*>)(.*?)(?=<\/at>)`) is quadratic in the mention's text, which the sender
 * controls, and it throws on a null entity. Plain string search is linear.
 */
function removeRecipientMentions(text: string, entities: unknown, recipientId: string | undefined): string {
  if (!Array.isArray(entities) || !recipientId) return text;
  let result = text;
  for (const entity of entities as unknown[]) {
    if (!entity || typeof entity !== 'object') continue;
    const { type, mentioned, text: mentionText } = entity as { type?: unknown; mentioned?: { id?: unknown } | null; text?: unknown };
    if (type !== 'mention' || mentioned?.id !== recipientId || typeof mentionText !== 'string' || mentionText === '') continue;
    result = result.split(mentionText).join(' ');
  }
  return result;
}

function helpCommandOf(value: unknown): string {
  const command = (value as { helpCommand?: unknown } | undefined)?.helpCommand;
  return typeof command === 'string' ? command.replace(/\s+/g, ' ').trim().slice(0, 100) : '';
}

function keyword(text: string): string {
  return trimEndChars(text.toLowerCase(), '.!?');
}

/** Where DialogStateManager looks for its configuration in turnState (botbuilder-dialogs 4.23's key). */
const STATE_MANAGER_CONFIGURATION = 'DialogStateManagerConfiguration';

/**
 * The root of every conversation. With no dialog running it offers the message to each
 * feature in turn and falls back to the welcome card; while a dialog runs it handles
 * "cancel" and "help" and lets features answer interruptions before the dialog continues.
 */
export class RootDialog extends ComponentDialog {
  constructor(
    private readonly features: readonly BotFeature[],
    /** Who is reading help: the card shows only their part. Without it, the card for 'unknown'. */
    private readonly helpReader: HelpReaderLookup = () => Promise.resolve(['unknown']),
  ) {
    super(ROOT_DIALOG_ID);
    for (const feature of features) for (const dialog of feature.dialogs ?? []) this.addDialog(dialog);
  }

  /**
   * The memory scopes and path resolvers every DialogContext's state manager uses. botbuilder-
   * dialogs gathers them from its component registrations once per turn (kept in turnState under
   * STATE_MANAGER_CONFIGURATION); they are stateless (each reads the turn's state from the
   * context), so the first turn's set serves every turn: about 0.1 ms less per turn.
   */
  private stateManagerConfiguration: DialogStateManagerConfiguration | undefined;

  /** Runs one turn through the dialog stack persisted in `dialogState`. */
  async run(context: TurnContext, dialogState: StatePropertyAccessor<DialogState>): Promise<void> {
    const dialogSet = new DialogSet(dialogState);
    dialogSet.add(this);
    if (this.stateManagerConfiguration && !context.turnState.has(STATE_MANAGER_CONFIGURATION)) {
      context.turnState.set(STATE_MANAGER_CONFIGURATION, this.stateManagerConfiguration);
    }
    const dc = await dialogSet.createContext(context);
    this.stateManagerConfiguration ??= dc.state.configuration;
    const result = await dc.continueDialog();
    if (result.status === DialogTurnStatus.empty) await dc.beginDialog(this.id);
  }

  protected override async onBeginDialog(innerDc: DialogContext): Promise<DialogTurnResult> {
    await this.routeTopLevel(innerDc);
    return this.stillRunning(innerDc);
  }

  protected override async onContinueDialog(innerDc: DialogContext): Promise<DialogTurnResult> {
    if (!innerDc.activeDialog) {
      await this.routeTopLevel(innerDc);
      return this.stillRunning(innerDc);
    }
    const text = messageText(innerDc.context);
    // A submit without text (Action.Submit) belongs to the active dialog as is.
    if (text) {
      const word = keyword(text);
      if (CANCEL_WORDS.has(word)) {
        labelTurn(innerDc.context.turnState, 'dialog:cancel');
        await innerDc.cancelAllDialogs();
        await innerDc.context.sendActivity(CANCELLED_MESSAGE);
        return { status: DialogTurnStatus.complete };
      }
      if (word === 'help') {
        labelTurn(innerDc.context.turnState, 'dialog:help');
        const active = innerDc.findDialog(innerDc.activeDialog.id);
        const help = (explainsStep(active) ? active.stepHelp(innerDc) : undefined) ?? DEFAULT_STEP_HELP;
        await innerDc.context.sendActivity(help);
        await innerDc.repromptDialog();
        return Dialog.EndOfTurn;
      }
      const actor = actorFromActivity(innerDc.context.activity);
      for (const feature of this.features) {
        if (feature.interrupt && (await feature.interrupt(innerDc, text, actor))) {
          labelTurn(innerDc.context.turnState, `interrupt:${feature.name}`);
          if (innerDc.activeDialog) await innerDc.repromptDialog();
          return this.stillRunning(innerDc);
        }
      }
    }
    // Labelled by the step being answered, e.g. "dialog:inviteGuest.confirm".
    labelTurn(innerDc.context.turnState, `dialog:${activeStep(innerDc)}`);
    await innerDc.continueDialog();
    return this.stillRunning(innerDc);
  }

  private async routeTopLevel(dc: DialogContext): Promise<void> {
    const context = dc.context;
    if (context.activity.type !== ActivityTypes.Message) return;
    // A help-card button sends its words as text (imBack); hosts without imBack send them as value.
    const text = messageText(context) || helpCommandOf(context.activity.value);
    const word = keyword(text);
    const actor = actorFromActivity(context.activity);
    if (WELCOME_WORDS.has(word)) {
      labelTurn(context.turnState, 'message:help');
      await context.sendActivity({ attachments: [welcomeCard(this.features, 'welcome', await this.helpReader(actor))] });
      return;
    }
    if (CANCEL_WORDS.has(word)) {
      labelTurn(context.turnState, 'message:cancel');
      await context.sendActivity(NOTHING_TO_CANCEL_MESSAGE);
      return;
    }
    for (const feature of this.features) {
      // Labelled before the feature runs, so a turn that fails inside it is still attributed to it.
      labelTurn(context.turnState, `message:${feature.name}`);
      if (feature.onMessage && (await feature.onMessage(dc, text, actor))) return;
    }
    if (!text && context.activity.value !== undefined) {
      labelTurn(context.turnState, 'message:staleSubmit');
      await context.sendActivity(STALE_SUBMIT_MESSAGE);
      return;
    }
    labelTurn(context.turnState, text ? 'message:notUnderstood' : 'message:welcome');
    await context.sendActivity({ attachments: [welcomeCard(this.features, text ? 'notUnderstood' : 'welcome', await this.helpReader(actor))] });
  }

  private stillRunning(dc: DialogContext): DialogTurnResult {
    return dc.activeDialog ? Dialog.EndOfTurn : { status: DialogTurnStatus.complete };
  }
}
