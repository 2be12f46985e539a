/**
 * The approvals' notification port over Teams: views are rendered as Adaptive Cards and posted or
 * updated through proactive messaging, into the conversations the bot has stored references for.
 * Who refreshes a card by themselves (refresh.userIds) is worked out here: Teams user ids (MRIs)
 * from the people's personal chats.
 */
import type { Activity, ConversationReference } from 'botbuilder';
import { cardAttachment, type AdaptiveCard } from '../cards';
import type { NotifyResult } from '../bot/proactive';
import type { ConversationAddress, Delivery } from '../../usecases/approvals/model';
import type { ApprovalChats, ApprovalNotifier, ApprovalView, PostResult } from '../../usecases/approvals/notifications';
import { MAX_REFRESH_USERS } from './cards/common';
import { requestCard } from './cards/requestCard';
import { requesterCard } from './cards/submittedCard';

/** A stored conversation reference (the store may answer at once or through a promise). */
interface StoredReference {
  reference: Partial<ConversationReference>;
}
type Maybe<T> = T | Promise<T>;

/** The part of the conversation reference store approvals use. */
export interface ConversationLookup {
  get(conversationId: string): Maybe<StoredReference | undefined | null>;
  getPersonal(userId: string): Maybe<StoredReference | undefined | null>;
  upsert(reference: Partial<ConversationReference>): unknown;
}

/** The part of Notifier (src/teams/bot/proactive.ts) approvals use. */
export interface ProactiveSender {
  send(reference: Partial<ConversationReference>, activity: string | Partial<Activity>): Promise<NotifyResult>;
  update(reference: Partial<ConversationReference>, activityId: string, card: AdaptiveCard): Promise<NotifyResult>;
}

/** The chats the bot knows, from the stored conversation references. */
export function teamsApprovalChats(conversations: ConversationLookup): ApprovalChats {
  return {
    personalChat: async (userId) => (await conversations.getPersonal(userId))?.reference.conversation?.id ?? null,
    isKnown: async (conversationId) => Boolean(await conversations.get(conversationId)),
  };
}

export class TeamsApprovalNotifier implements ApprovalNotifier {
  constructor(
    private readonly sender: ProactiveSender,
    private readonly conversations: ConversationLookup,
  ) {}

  async post(conversationId: string, view: ApprovalView): Promise<PostResult> {
    const stored = await this.conversations.get(conversationId);
    if (!stored) return { ok: false, address: null, error: 'No stored conversation reference for this chat.' };
    const reference = stored.reference;
    const card = await this.render(view);
    const result = await this.sender.send(reference, { type: 'message', attachments: [cardAttachment(card)] });
    const address = reference as ConversationAddress;
    return result.ok
      ? { ok: true, address, activityId: result.activityId ?? null }
      : { ok: false, address, error: `${result.reason}: ${result.message}` };
  }

  async update(copy: Delivery, view: ApprovalView): Promise<{ ok: true } | { ok: false; error: string }> {
    if (!copy.activityId || !copy.conversation) return { ok: false, error: 'The copy has no message to update.' };
    // The stored reference is fresher (e.g. a new service URL) than the one kept with the copy.
    const id = copy.conversation.conversation?.id;
    const fresh = id ? await this.conversations.get(id) : undefined;
    const reference = fresh?.reference ?? (copy.conversation as Partial<ConversationReference>);
    const result = await this.sender.update(reference, copy.activityId, await this.render(view));
    return result.ok ? { ok: true } : { ok: false, error: `${result.reason}: ${result.message}` };
  }

  /** A view as its card. */
  async render(view: ApprovalView): Promise<AdaptiveCard> {
    if (view.kind === 'requester') return requesterCard(view);
    return requestCard(view, await this.refreshUserIds(view.refreshFor));
  }

  /** Teams user ids (MRIs) of the people with a personal chat: their copies refresh by themselves. */
  private async refreshUserIds(userIds: readonly string[]): Promise<string[]> {
    const ids: string[] = [];
    for (const userId of userIds) {
      const mri = (await this.conversations.getPersonal(userId))?.reference.user?.id;
      if (mri && !ids.includes(mri)) ids.push(mri);
      if (ids.length >= MAX_REFRESH_USERS) break;
    }
    return ids;
  }
}
