import { ActivityTypes, type Attachment, type StatePropertyAccessor, TurnContext } from 'botbuilder';
import type { DialogContext, DialogState, DialogTurnResult } from 'botbuilder-dialogs';
import { ComponentDialog, Dialog, DialogSet, DialogTurnStatus } from './dialogParts';
import { trimEndChars } from '../../domain/text';
import { labelTurn } from '../../shared/telemetry';
import { actorFromActivity } from './actor';
import { renderCard } from '../cards';
import type { BotFeature } from './feature';
import type { HelpAudience, HelpReaderLookup } from './helpAudience';

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


export const WELCOME_TITLE = 'Guest onboarding';

/** Which help lines each reader gets (features tag their lines owners / guests / admins / everyone). */
const LINES_FOR: Record<HelpAudience, ReadonlyArray<HelpLine['audience']>> = {
  owner: ['owners', 'everyone'],
  member: ['everyone'],
  approver: ['admins', 'everyone'],
  guest: ['guests', 'everyone'],
  unknown: ['guests', 'everyone'],
};

/** A member who owns no site asks for guests; an approver decides. */
const MEMBER_HELP: readonly HelpLine[] = [
  { title: 'Ask for a guest on a site you belong to (an approver decides)', example: 'invite a guest', audience: 'owners' },
  { title: 'See the invitations you asked for', example: 'my invitations', audience: 'owners' },
];

/** The main actions, as buttons, per reader: each sends its words as if typed. */
const BUTTONS: Record<HelpAudience, ReadonlyArray<{ title: string; say: string }>> = {
  owner: [
    { title: 'Invite a guest', say: 'invite a guest' },
    { title: 'Invite many (CSV)', say: 'bulk invite' },
    { title: 'My invitations', say: 'my invitations' },
  ],
  member: [
    { title: 'Ask for a guest', say: 'invite a guest' },
    { title: 'My invitations', say: 'my invitations' },
  ],
  approver: [{ title: 'Pending approvals', say: 'pending' }],
  guest: [
    { title: 'Why do I get a code?', say: 'why did I get a code?' },
    { title: 'How do I sync?', say: 'how do I sync?' },
    { title: 'I lost access', say: 'I lost access' },
  ],
  unknown: [
    { title: 'Why do I get a code?', say: 'why did I get a code?' },
    { title: 'How do I sync?', say: 'how do I sync?' },
  ],
};

const HEADINGS: Record<HelpAudience, string> = {
  owner: 'For you, as a site owner',
  member: 'For you',
  approver: 'For you, as an approver',
  guest: 'For you, as a guest',
  unknown: 'Guest questions',
};

const INTROS: Record<HelpAudience, string> = {
  owner: 'I help you bring outside partners into your sites as guests, one by one or from a CSV file, and tell you beforehand how each will sign in.',
  member: "You don't own a site, so you can ask for a guest and an approver decides; I tell you how they will sign in and keep you posted.",
  approver: 'I bring you the guest requests that need a decision, and carry out what you approve.',
  guest: 'I answer questions about signing in, syncing and access as a guest here, from your own account.',
  unknown: "I can't tell who you are in this chat, so here are the questions anyone can ask. Site owners can invite guests from a chat with me in their organisation's Teams.",
};

/**
 * The welcome / help card for one reader: only the lines and buttons that are theirs, each
 * action once. `reason` changes only the opening sentence. Without a reader (the first welcome,
 * before anyone asked) it is the 'unknown' card.
 */
export function welcomeCard(
  features: readonly BotFeature[],
  reason: 'welcome' | 'notUnderstood' = 'welcome',
  readers?: readonly HelpAudience[],
): Attachment {
  if (!readers) return firstWelcome(features, reason);
  const all = features.flatMap((f) => f.help ?? []);
  const seen = new Set<string>();
  const take = (lines: readonly HelpLine[]) =>
    lines
      .filter((l) => l.audience !== 'everyone' && !seen.has(l.example) && (seen.add(l.example), true))
      // A line whose words are its own example says it once.
      .map(({ title, example }) => ({ title, example: example.toLowerCase() === title.toLowerCase() ? '' : example }));
  const sections = readers
    .map((reader) => ({
      heading: HEADINGS[reader],
      lines: take(reader === 'member' ? MEMBER_HELP : all.filter((l) => LINES_FOR[reader].includes(l.audience))),
    }))
    .filter((s) => s.lines.length > 0);
  const anyTime = take([...all, ...BUILT_IN_HELP].filter((l) => l.audience === 'everyone').map((l) => ({ ...l, audience: 'owners' as const })));
  if (anyTime.length > 0) sections.push({ heading: 'Any time', lines: anyTime });
  const buttonSeen = new Set<string>();
  const buttons = readers.flatMap((r) => BUTTONS[r]).filter((b) => !buttonSeen.has(b.say) && (buttonSeen.add(b.say), true)).slice(0, 5);
  const first = readers[0] ?? 'unknown';
  return renderCard('welcome', {
    intro: `${reason === 'notUnderstood' ? "Sorry, I didn't understand that. " : ''}${INTROS[first]}${readers.includes('approver') && first !== 'approver' ? ` ${INTROS.approver}` : ''}`,
    sections,
    buttons,
    footer: 'In a channel, @mention me first.',
  });
}

/**
 * The welcome posted on install, before anyone has asked anything: it does not know its reader
 * yet, so it says briefly what the bot does for each kind of person; "help" then gives the
 * reader's own card.
 */
function firstWelcome(features: readonly BotFeature[], reason: 'welcome' | 'notUnderstood'): Attachment {
  const all = [...features.flatMap((f) => f.help ?? []), ...BUILT_IN_HELP];
  const groups: ReadonlyArray<[HelpLine['audience'], string]> = [
    ['owners', 'For site and team owners'],
    ['guests', 'For guests'],
    ['admins', 'For approvers'],
    ['everyone', 'Any time'],
  ];
  const sections = groups
    .map(([audience, heading]) => ({
      heading,
      lines: all
        .filter((l) => l.audience === audience)
        .map(({ title, example }) => ({ title, example: example.toLowerCase() === title.toLowerCase() ? '' : example })),
    }))
    .filter((g) => g.lines.length > 0);
  return renderCard('welcome', {
    intro: `${reason === 'notUnderstood' ? "Sorry, I didn't understand that. " : ''}I help you bring outside partners into your team or SharePoint site as guests, and help guests get in. Here is what you can say (say help for the part that is yours):`,
    sections,
    buttons: [{ title: 'Help for me', say: 'help' }],
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
