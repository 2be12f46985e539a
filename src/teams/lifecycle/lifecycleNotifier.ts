/**
 * The guest lifecycle's notification port over Teams: each notice is a card (cards/lifecycle*.json)
 * posted to the person's personal chat with the bot (a stored conversation reference),
 * proactively. A person the bot cannot reach now (no personal chat stored yet, or the chat is gone
 * or failed) gets the card kept for them (PendingNotices) and delivered when they next talk to the
 * bot; the use case is told 'unreachable'.
 */
import type { Activity, ConversationReference } from 'botbuilder';
import type { NotifyResult } from '../bot/proactive';
import { cardAttachment, type AdaptiveCard } from '../cards';
import type {
  AccessEndedNotice,
  Delivery,
  EndReason,
  GuestAccessSummary,
  LifecycleNotifier,
  NoticeRecipient,
  RenewalReminderNotice,
  UnredeemedReminderNotice,
} from '../../usecases/lifecycle/ports';
import { accessEndedCard, guestAccessEndedCard, renewalReminderCard, sponsorshipCard, unredeemedReminderCard } from './cards/noticeCards';
import type { PendingNotices } from './pendingNotices';

/** The part of the conversation reference store the notices use. */
export interface PersonalChats {
  getPersonal(userId: string): Promise<{ reference: Partial<ConversationReference> } | null | undefined>;
}

/** The part of Notifier (src/teams/bot/proactive.ts) the notices use. */
export interface LifecycleSender {
  send(reference: Partial<ConversationReference>, activity: string | Partial<Activity>): Promise<NotifyResult>;
}

export class TeamsLifecycleNotifier implements LifecycleNotifier {
  constructor(
    private readonly sender: LifecycleSender,
    private readonly chats: PersonalChats,
    private readonly pending: PendingNotices,
  ) {}

  unredeemedReminder(to: NoticeRecipient, notice: UnredeemedReminderNotice): Promise<Delivery> {
    return this.deliver(to.userId, `unredeemed:${notice.access.accessId}`, unredeemedReminderCard(to, notice));
  }

  autoWithdrawn(to: NoticeRecipient, notice: AccessEndedNotice): Promise<Delivery> {
    return this.deliver(to.userId, `ended:${notice.access.accessId}`, accessEndedCard(to, notice));
  }

  renewalReminder(to: NoticeRecipient, notice: RenewalReminderNotice): Promise<Delivery> {
    return this.deliver(to.userId, `renewal:${notice.access.accessId}`, renewalReminderCard(to, notice));
  }

  accessEnded(to: NoticeRecipient, notice: AccessEndedNotice): Promise<Delivery> {
    return this.deliver(to.userId, `ended:${notice.access.accessId}`, accessEndedCard(to, notice));
  }

  guestAccessEnded(guest: { userId: string; name: string }, notice: { siteName: string; endedAt: string; reason: EndReason }): Promise<Delivery> {
    return this.deliver(guest.userId, `guestEnded:${notice.siteName}:${notice.endedAt}`, guestAccessEndedCard(notice));
  }

  sponsorshipReceived(to: NoticeRecipient, notice: { access: GuestAccessSummary; from: string; by: string }): Promise<Delivery> {
    return this.deliver(to.userId, `sponsor:${notice.access.accessId}`, sponsorshipCard(notice));
  }

  private async deliver(userId: string, key: string, card: AdaptiveCard): Promise<Delivery> {
    const activity: Partial<Activity> = { type: 'message', attachments: [cardAttachment(card)] };
    const chat = await this.chats.getPersonal(userId);
    if (chat) {
      const result = await this.sender.send(chat.reference, activity);
      if (result.ok) return 'sent';
    }
    // Not reachable now (never talked to the bot 1:1, chat gone, or a failure): kept for their next visit.
    await this.pending.add(userId, key, activity);
    return 'unreachable';
  }
}
