import type { Attachment, TurnContext } from 'botbuilder';
import type { DialogTurnResult, PromptValidatorContext, WaterfallStepContext } from 'botbuilder-dialogs';
import { ComponentDialog, TextPrompt, WaterfallDialog } from '../bot/dialogParts';
import { actorFromActivity } from '../bot/actor';
import type { Actor } from '../../domain/actor';
import { extractEmail, parseEmail, type EmailAddress } from '../../domain/email';
import { quoteForChat } from '../../domain/text';

export const GUEST_HELP_DIALOG_ID = 'guestHelp';
const WATERFALL_ID = 'guestHelp.waterfall';
const ADDRESS_PROMPT_ID = 'guestHelp.addressPrompt';

import type { GuestHelpTopic } from '../../usecases/guestHelp/questions';

export interface GuestHelpDialogOptions {
  topic: GuestHelpTopic;
  /** The question as the user wrote it. */
  text: string;
}

/** What answers the questions; the feature provides it (keeps this dialog free of directory code). */
export interface GuestHelpResponder {
  /** A card for the topic, about the asker themself. */
  answer(topic: Exclude<GuestHelpTopic, 'advice'>, actor: Actor | null): Promise<Attachment>;
  /** The advisor's answer for one address, as a card (redacted for guest askers). */
  advice(email: EmailAddress, actor: Actor | null): Promise<Attachment>;
}

const ASK_ADDRESS = 'Which email address should I check? For example: jane@fabrikam.com';

/**
 * Answers one guest-help question. The only multi-turn case is "what sign-in will they get?"
 * without an address: it asks for one (validated) and then answers.
 */
export class GuestHelpDialog extends ComponentDialog {
  constructor(private readonly responder: GuestHelpResponder) {
    super(GUEST_HELP_DIALOG_ID);
    this.addDialog(new TextPrompt(ADDRESS_PROMPT_ID, (p) => this.validateAddress(p)));
    this.addDialog(new WaterfallDialog(WATERFALL_ID, [(s) => this.addressStep(s), (s) => this.answerStep(s)]));
    this.initialDialogId = WATERFALL_ID;
  }

  /** Shown when the user says "help" while we wait for the address. */
  stepHelp(): string {
    return `${ASK_ADDRESS} — or say **cancel** to stop.`;
  }

  private async addressStep(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const options = step.options as GuestHelpDialogOptions;
    if (options.topic !== 'advice') return step.next();
    const found = extractEmail(options.text);
    switch (found.kind) {
      case 'one':
        return step.next(found.email);
      case 'many':
        await step.context.sendActivity('Please ask about one address at a time.');
        return step.endDialog();
      case 'invalid':
        await step.context.sendActivity(`I can't check "${quoteForChat(found.raw)}": ${found.reason}.`);
        return step.endDialog();
      case 'none':
        return step.prompt(ADDRESS_PROMPT_ID, {
          prompt: ASK_ADDRESS,
          retryPrompt: 'Please give one email address, for example jane@fabrikam.com (or say **cancel**).',
        });
    }
  }

  private async answerStep(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const options = step.options as GuestHelpDialogOptions;
    const actor = actorFromActivity(step.context.activity);
    const card =
      options.topic === 'advice'
        ? await this.responder.advice(toEmail(step.result), actor)
        : await this.responder.answer(options.topic, actor);
    await step.context.sendActivity({ attachments: [card] });
    return step.endDialog();
  }

  private async validateAddress(prompt: PromptValidatorContext<string>): Promise<boolean> {
    const reply = prompt.recognized.value ?? '';
    // The answer to "which address?" is the address itself (or "Name <address>"): in
    // "jane doe@x.com" the space is a mistake to point out, not a sentence to search.
    const whole = parseEmail(reply);
    if (whole.ok) {
      prompt.recognized.value = whole.email.address;
      return true;
    }
    const found = extractEmail(reply);
    if (found.kind === 'one' && found.displayName !== null) {
      prompt.recognized.value = found.email.address;
      return true;
    }
    if (found.kind === 'many') await sendProblem(prompt.context, 'Please give just one address.');
    else if (found.kind === 'invalid') await sendProblem(prompt.context, `That address can't be used: ${found.reason}.`);
    else await sendProblem(prompt.context, `That address can't be used: ${whole.reason}.`);
    return false;
  }
}

async function sendProblem(context: TurnContext, message: string): Promise<void> {
  await context.sendActivity(message);
}

/** The waterfall carries either a parsed address (from the question) or the prompt's string. */
function toEmail(result: unknown): EmailAddress {
  if (typeof result === 'string') {
    const found = extractEmail(result);
    if (found.kind === 'one') return found.email;
    throw new Error('GuestHelpDialog: the address prompt returned an unusable address');
  }
  return result as EmailAddress;
}
