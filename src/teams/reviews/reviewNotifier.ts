/**
 * The access reviews' notification port over Teams: the review card goes to the person's personal
 * chat with the bot (a stored conversation reference), proactively. Someone who never talked to
 * the bot 1:1 cannot be reached: 'unreachable' (the review then escalates to the approvers).
 */
import type { Activity, ConversationReference } from 'botbuilder';
import type { Clock } from '../../domain/clock';
import type { NotifyResult } from '../bot/proactive';
import { cardAttachment } from '../cards';
import type { Delivery, ReviewNotifier, ReviewPerson, ReviewView } from '../../usecases/reviews/ports';
import { reviewCard } from './reviewCard';

export interface PersonalChats {
  getPersonal(userId: string): Promise<{ reference: Partial<ConversationReference> } | null | undefined>;
}

export interface ReviewSender {
  send(reference: Partial<ConversationReference>, activity: string | Partial<Activity>): Promise<NotifyResult>;
}

export class TeamsReviewNotifier implements ReviewNotifier {
  constructor(
    private readonly sender: ReviewSender,
    private readonly chats: PersonalChats,
    private readonly clock: Clock,
  ) {}

  reviewRequested(to: ReviewPerson, view: ReviewView): Promise<Delivery> {
    const card = reviewCard(view, this.clock.now());
    return this.deliver(to.id, { attachments: [cardAttachment(card)], summary: `Access review: ${view.siteName}` });
  }

  reviewEscalated(to: ReviewPerson, view: ReviewView, owners: ReviewPerson[]): Promise<Delivery> {
    const card = reviewCard(view, this.clock.now(), { escalation: { owners } });
    return this.deliver(to.id, { attachments: [cardAttachment(card)], summary: `Access review passed to you: ${view.siteName}` });
  }

  private async deliver(userId: string, message: Partial<Activity>): Promise<Delivery> {
    const chat = await this.chats.getPersonal(userId);
    if (!chat) return 'unreachable';
    const result = await this.sender.send(chat.reference, message);
    if (result.ok) return 'sent';
    if (result.reason === 'notFound' || result.reason === 'forbidden') return 'unreachable';
    // A transient failure: the scheduler retries the delivery (its claim is given back).
    throw new Error(`Sending the review card failed: ${result.reason}`);
  }
}
