import type { Attachment, InvokeResponse } from 'botbuilder';
import type { Actor } from '../../domain/actor';
import { extractEmail, type EmailAddress } from '../../domain/email';
import { day } from '../../usecases/guestHelp/asker';
import { GuestHelpService } from '../../usecases/guestHelp/guestHelpService';
import type { GuestHelpDependencies } from '../../usecases/guestHelp/ports';
import { classifyGuestQuestion, type GuestHelpTopic } from '../../usecases/guestHelp/questions';
import type { BotFeature } from '../bot/feature';
import { cardInvokeResponse } from '../bot/invokeResponse';
import { cardAttachment } from '../cards';
import { guestHelpMenuCard } from './cards/guestHelpMenuCard';
import { guestOtpHelpCard } from './cards/guestOtpHelpCard';
import { lostAccessHelpCard } from './cards/lostAccessHelpCard';
import { signInAdviceCard } from './cards/signInAdviceCard';
import { syncHelpCard } from './cards/syncHelpCard';
import { GUEST_HELP_DIALOG_ID, GuestHelpDialog, type GuestHelpDialogOptions, type GuestHelpResponder } from './GuestHelpDialog';

export const RESET_VERB = 'guestHelp.requestReset';

/** Guest help's answers as cards: the use case answers, this renders. */
export class GuestHelpCards implements GuestHelpResponder {
  constructor(private readonly service: GuestHelpService) {}

  async answer(topic: Exclude<GuestHelpTopic, 'advice'>, actor: Actor | null): Promise<Attachment> {
    switch (topic) {
      case 'menu':
        return cardAttachment(guestHelpMenuCard());
      case 'lostAccess':
        return cardAttachment(lostAccessHelpCard(await this.service.lostAccess(actor)));
      case 'otp':
        return cardAttachment(guestOtpHelpCard(await this.service.otp(actor)));
      case 'sync':
        return cardAttachment(syncHelpCard(await this.service.sync(actor)));
    }
  }

  async advice(email: EmailAddress, actor: Actor | null): Promise<Attachment> {
    return cardAttachment(signInAdviceCard(await this.service.advice(email, actor)));
  }

  /** The reset button: the card is replaced by the answer with what became of the request. */
  async requestReset(actor: Actor | null): Promise<InvokeResponse> {
    const outcome = await this.service.requestReset(actor);
    let resetStatus: string;
    if (outcome.kind === 'notAllowed') {
      resetStatus = 'Only guests who have accepted their invitation can ask for a sign-in reset, so nothing was recorded.';
    } else if (outcome.alreadyOpen) {
      resetStatus = `You already asked on ${day(outcome.requestedAt)}. Your request is recorded; an admin will review it.`;
    } else {
      resetStatus =
        'Recorded: an admin will review your request. Nothing changes until they reset your sign-in; then you accept the invitation again with your current account.';
    }
    return cardInvokeResponse(guestOtpHelpCard(outcome.otp, resetStatus));
  }
}

// ---------------------------------------------------------------------------------------------
// The feature

/**
 * Guest help: "why did I get a code?", "how do I sync?", "I lost access", "what sign-in will
 * jane@x.com get?", and the reset-request button. Best placed last among the features, since
 * it answers unrecognised guest questions with its menu.
 */
export function createGuestHelpFeature(deps: GuestHelpDependencies): BotFeature {
  const service = new GuestHelpService(deps);
  const answers = new GuestHelpCards(service);
  const dialog = new GuestHelpDialog(answers);

  return {
    name: 'guestHelp',
    dialogs: [dialog],

    async onMessage(dc, text, actor) {
      // Menu buttons send the question as text (imBack); hosts without imBack send it as value.
      const value = dc.context.activity.value as { guestHelpQuestion?: unknown } | undefined;
      const question = text || (typeof value?.guestHelpQuestion === 'string' ? value.guestHelpQuestion : '');
      const topic = classifyGuestQuestion(question);
      if (topic) {
        const options: GuestHelpDialogOptions = { topic, text: question };
        await dc.beginDialog(GUEST_HELP_DIALOG_ID, options);
        return true;
      }
      if (!(await service.offersMenuFor(question, actor))) return false;
      await dc.context.sendActivity({ attachments: [cardAttachment(guestHelpMenuCard())] });
      return true;
    },

    async interrupt(dc, text, actor) {
      const topic = classifyGuestQuestion(text);
      if (topic === 'otp') {
        await dc.context.sendActivity({ attachments: [await answers.answer('otp', actor)] });
        return true;
      }
      if (topic === 'advice') {
        const found = extractEmail(text);
        if (found.kind === 'one') {
          await dc.context.sendActivity({ attachments: [await answers.advice(found.email, actor)] });
        } else {
          // Mid-flow we must not take the next message for ourselves: it belongs to the active dialog.
          await dc.context.sendActivity(
            'Ask me with the address, for example: "what sign-in will jane@fabrikam.com get?" — we carry on where we were.',
          );
        }
        return true;
      }
      return false;
    },

    actions: {
      [RESET_VERB]: async (_context, actor) => answers.requestReset(actor),
    },
    // A reset is for the asker's own account: from someone Teams did not identify, there is none to name.
    refusedClicks: {
      [RESET_VERB]: () => ({ event: 'redemptionReset', subjectType: 'user', subjectId: null, attempted: 'request' }),
    },

    help: [
      { title: 'Why do I get a sign-in code?', example: 'why did I get a code?', audience: 'guests' },
      { title: 'How do I sync the files?', example: 'how do I sync?', audience: 'guests' },
      { title: 'I lost access', example: 'I lost access', audience: 'guests' },
      { title: 'Which sign-in will a guest get?', example: 'what sign-in will jane@fabrikam.com get?', audience: 'everyone' },
    ],
  };
}

