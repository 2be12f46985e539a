/**
 * The guest lifecycle's notification port over Teams: each notice goes to the person's personal
 * chat with the bot (a stored conversation reference), proactively. A person who never talked to
 * the bot 1:1 cannot be reached: 'unreachable', and the lifecycle falls back as it decides.
 */
import type { Activity, ConversationReference } from 'botbuilder';
import type { NotifyResult } from '../bot/proactive';
import type {
  AccessEndedNotice,
  Delivery,
  LifecycleNotifier,
  NoticeRecipient,
  RenewalReminderNotice,
  UnredeemedReminderNotice,
  GuestAccessSummary,
  EndReason,
} from '../../usecases/lifecycle/ports';

/** The part of the conversation reference store the notices use. */
export interface PersonalChats {
  getPersonal(userId: string): Promise<{ reference: Partial<ConversationReference> } | null | undefined>;
}

/** The part of Notifier (src/teams/bot/proactive.ts) the notices use. */
export interface LifecycleSender {
  send(reference: Partial<ConversationReference>, activity: string | Partial<Activity>): Promise<NotifyResult>;
}

/** What each notice looks like in chat; the message sent is built from it. */
export interface LifecycleMessages {
  unredeemedReminder(to: NoticeRecipient, notice: UnredeemedReminderNotice): Partial<Activity> | string;
  autoWithdrawn(to: NoticeRecipient, notice: AccessEndedNotice): Partial<Activity> | string;
  renewalReminder(to: NoticeRecipient, notice: RenewalReminderNotice): Partial<Activity> | string;
  accessEnded(to: NoticeRecipient, notice: AccessEndedNotice): Partial<Activity> | string;
  guestAccessEnded(guest: { userId: string; name: string }, notice: { siteName: string; endedAt: string; reason: EndReason }): Partial<Activity> | string;
  sponsorshipReceived(to: NoticeRecipient, notice: { access: GuestAccessSummary; from: string; by: string }): Partial<Activity> | string;
}

export class TeamsLifecycleNotifier implements LifecycleNotifier {
  constructor(
    private readonly sender: LifecycleSender,
    private readonly chats: PersonalChats,
    private readonly messages: LifecycleMessages,
  ) {}

  unredeemedReminder(to: NoticeRecipient, notice: UnredeemedReminderNotice): Promise<Delivery> {
    return this.deliver(to.userId, this.messages.unredeemedReminder(to, notice));
  }

  autoWithdrawn(to: NoticeRecipient, notice: AccessEndedNotice): Promise<Delivery> {
    return this.deliver(to.userId, this.messages.autoWithdrawn(to, notice));
  }

  renewalReminder(to: NoticeRecipient, notice: RenewalReminderNotice): Promise<Delivery> {
    return this.deliver(to.userId, this.messages.renewalReminder(to, notice));
  }

  accessEnded(to: NoticeRecipient, notice: AccessEndedNotice): Promise<Delivery> {
    return this.deliver(to.userId, this.messages.accessEnded(to, notice));
  }

  guestAccessEnded(guest: { userId: string; name: string }, notice: { siteName: string; endedAt: string; reason: EndReason }): Promise<Delivery> {
    return this.deliver(guest.userId, this.messages.guestAccessEnded(guest, notice));
  }

  sponsorshipReceived(to: NoticeRecipient, notice: { access: GuestAccessSummary; from: string; by: string }): Promise<Delivery> {
    return this.deliver(to.userId, this.messages.sponsorshipReceived(to, notice));
  }

  private async deliver(userId: string, message: Partial<Activity> | string): Promise<Delivery> {
    const chat = await this.chats.getPersonal(userId);
    if (!chat) return 'unreachable';
    const result = await this.sender.send(chat.reference, message);
    if (result.ok) return 'sent';
    // A transient failure is retried by the scheduler (the handler throws); a chat that is gone is not.
    if (result.reason === 'notFound' || result.reason === 'forbidden') return 'unreachable';
    throw new Error(`Sending the lifecycle notice failed: ${result.reason}`);
  }
}
