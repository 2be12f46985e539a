import type { Activity, Attachment, ConversationReference } from 'botbuilder';
import { cardAttachment, type AdaptiveCard } from '../cards';
import type { NotifyResult } from '../bot/proactive';
import { quoteForChat } from '../../domain/text';
import type { BulkJob, InvitationEmails } from '../../domain/bulkJob';
import type { BulkJobNotifier, CardPosted, EmailOutcome } from '../../usecases/bulk/ports';
import type { BulkProgress } from '../../usecases/bulk/progress';
import { doneCard } from './cards/doneCard';
import { progressCard } from './cards/progressCard';

/** Sends and updates messages outside a turn (the bot's Notifier satisfies it). */
export interface ProactiveMessenger {
  send(reference: Partial<ConversationReference>, activityOrText: string | Partial<Activity>): Promise<NotifyResult>;
  update(reference: Partial<ConversationReference>, activityId: string, card: AdaptiveCard | Attachment): Promise<NotifyResult>;
}

/**
 * The bulk feature's notices in Teams: the job's card is updated in place (or posted once, when
 * the job has none yet), and the requester gets a short message when the job finishes.
 */
export class TeamsBulkNotifier implements BulkJobNotifier {
  constructor(
    private readonly messenger: ProactiveMessenger,
    private readonly cards: { invitesPer5s: number; resultsLinkTtlMs: number },
  ) {}

  private get ttlMinutes(): number {
    return Math.round(this.cards.resultsLinkTtlMs / 60_000);
  }

  /** Updates the job's card in place; posts one when there is none yet (its id is returned, to remember). */
  private async publish(job: BulkJob, card: AdaptiveCard): Promise<CardPosted> {
    const reference = job.conversationRef as Partial<ConversationReference> | null;
    if (!reference) return null;
    if (job.progressActivityId) {
      await this.messenger.update(reference, job.progressActivityId, card);
      return null;
    }
    const sent = await this.messenger.send(reference, { attachments: [cardAttachment(card)] });
    return sent.ok && sent.activityId ? sent.activityId : null;
  }

  progress(job: BulkJob, progress: BulkProgress): Promise<CardPosted> {
    return this.publish(job, progressCard(job, progress, this.cards.invitesPer5s));
  }

  async finished(job: BulkJob, progress: BulkProgress, emails: InvitationEmails): Promise<CardPosted> {
    const posted = await this.publish(job, doneCard(job, progress, null, this.ttlMinutes, null, emails));
    if (job.conversationRef) {
      await this.messenger.send(
        job.conversationRef as Partial<ConversationReference>,
        `Your bulk invitation (${quoteForChat(job.summary.sourceName)}) has finished: ${progress.done} invited and added, ${progress.failed} failed${
          progress.counts.sentForApproval > 0 ? `, ${progress.counts.sentForApproval} sent for approval (you hear from the approvers)` : ''
        }.${
          emails.notEmailed > 0
            ? ` Microsoft did not email ${emails.notEmailed === 1 ? 'the new guest' : `${emails.notEmailed} new guests`}: their invitation links are in the results file, or use "Send Microsoft's invitation email to these guests" on the card.`
            : ''
        } Use "Get the results file" on the card.`,
      );
    }
    return posted;
  }

  emailsSent(job: BulkJob, progress: BulkProgress, emails: InvitationEmails, outcome: EmailOutcome): Promise<CardPosted> {
    const { sent, failed } = outcome;
    const notice = `Microsoft emailed the invitation to ${sent === 1 ? '1 guest' : `${sent} guests`}${failed > 0 ? `; ${failed} could not be emailed (their links are in the results file)` : ''}.`;
    return this.publish(job, doneCard(job, progress, null, this.ttlMinutes, notice, emails));
  }
}
