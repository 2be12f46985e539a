import { ActivityTypes, type Attachment, type StatePropertyAccessor, TurnContext } from 'botbuilder';
import {
  ComponentDialog,
  Dialog,
  type DialogContext,
  DialogSet,
  type DialogState,
  type DialogTurnResult,
  DialogTurnStatus,
} from 'botbuilder-dialogs';
import { labelTurn } from '../telemetry/telemetry';
import { actorFromActivity } from './actor';
import { renderCard } from './cards';
import type { BotFeature } from './feature';

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

type HelpLine = NonNullable<BotFeature['help']>[number];

const BUILT_IN_HELP: readonly HelpLine[] = [
  { title: 'Show this list', example: 'help', audience: 'everyone' },
  { title: 'Stop what we are doing', example: 'cancel', audience: 'everyone' },
];

const SECTIONS: ReadonlyArray<{ audience: HelpLine['audience']; heading: string }> = [
  { audience: 'owners', heading: 'For site and team owners' },
  { audience: 'guests', heading: 'For guests' },
  { audience: 'admins', heading: 'For admins and approvers' },
  { audience: 'everyone', heading: 'Any time' },
];

export const WELCOME_TITLE = 'Guest onboarding';

/**
 * The welcome / help card: the registered features' help lines grouped by audience,
 * then the built-ins. `reason` changes only the opening sentence.
 */
export function welcomeCard(features: readonly BotFeature[], reason: 'welcome' | 'notUnderstood' = 'welcome'): Attachment {
  const lines = [...features.flatMap((f) => f.help ?? []), ...BUILT_IN_HELP];
  const sections = SECTIONS.map(({ audience, heading }) => ({
    heading,
    lines: lines.filter((l) => l.audience === audience).map(({ title, example }) => ({ title, example: `"${example}"` })),
  })).filter((s) => s.lines.length > 0);
  return renderCard('welcome', {
    intro:
      reason === 'notUnderstood'
        ? "Sorry, I didn't understand that. Here is what I can do:"
        : 'I help you bring outside partners into your team or SharePoint site as guests, and help guests get in. Here is what you can say:',
    sections,
    footer: 'In a channel, @mention me first.',
  });
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
  const withoutMention = activity.entities?.some((e) => e.type === 'mention')
    ? TurnContext.removeRecipientMention(activity)
    : activity.text;
  return (withoutMention ?? '').replace(/<at>[^<]*<\/at>/g, ' ').replace(/\s+/g, ' ').trim();
}

function keyword(text: string): string {
  return text.toLowerCase().replace(/[.!?]+$/, '');
}

/**
 * The root of every conversation. With no dialog running it offers the message to each
 * feature in turn and falls back to the welcome card; while a dialog runs it handles
 * "cancel" and "help" and lets features answer interruptions before the dialog continues.
 */
export class RootDialog extends ComponentDialog {
  constructor(private readonly features: readonly BotFeature[]) {
    super(ROOT_DIALOG_ID);
    for (const feature of features) for (const dialog of feature.dialogs ?? []) this.addDialog(dialog);
  }

  /** Runs one turn through the dialog stack persisted in `dialogState`. */
  async run(context: TurnContext, dialogState: StatePropertyAccessor<DialogState>): Promise<void> {
    const dialogSet = new DialogSet(dialogState);
    dialogSet.add(this);
    const dc = await dialogSet.createContext(context);
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
    const text = messageText(context);
    const word = keyword(text);
    if (WELCOME_WORDS.has(word)) {
      labelTurn(context.turnState, 'message:help');
      await context.sendActivity({ attachments: [welcomeCard(this.features)] });
      return;
    }
    if (CANCEL_WORDS.has(word)) {
      labelTurn(context.turnState, 'message:cancel');
      await context.sendActivity(NOTHING_TO_CANCEL_MESSAGE);
      return;
    }
    const actor = actorFromActivity(context.activity);
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
    await context.sendActivity({ attachments: [welcomeCard(this.features, text ? 'notUnderstood' : 'welcome')] });
  }

  private stillRunning(dc: DialogContext): DialogTurnResult {
    return dc.activeDialog ? Dialog.EndOfTurn : { status: DialogTurnStatus.complete };
  }
}
