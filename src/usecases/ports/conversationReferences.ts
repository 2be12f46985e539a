/**
 * Conversation references: what the bot keeps to message a conversation proactively (approval
 * requests, bulk-job progress, "your guest was invited") after a restart.
 *
 * The reference types mirror the Bot Framework schema's ConversationReference field for field
 * (so a botbuilder reference is one of these and back), without this layer depending on botbuilder.
 */

export interface ReferenceAccount {
  id: string;
  name: string;
  aadObjectId?: string;
  role?: string;
  properties?: unknown;
}

export interface ReferenceConversation {
  isGroup: boolean;
  conversationType: string;
  tenantId?: string;
  id: string;
  name: string;
  aadObjectId?: string;
  properties?: unknown;
}

/** The Bot Framework ConversationReference shape. */
export interface ConversationReferenceData {
  activityId?: string;
  user?: ReferenceAccount;
  locale?: string;
  bot: ReferenceAccount;
  conversation: ReferenceConversation;
  channelId: string;
  serviceUrl: string;
}

/** A conversation reference as stored: enough to message that conversation proactively. */
export interface StoredConversationReference {
  conversationId: string;
  /** Teams: 'personal' | 'groupChat' | 'channel'; undefined for channels that do not say. */
  conversationType: string | undefined;
  tenantId: string | undefined;
  reference: Partial<ConversationReferenceData>;
  updatedAt: string;
}

/** A reference that cannot be stored (no conversation id or service URL). Nothing is written. */
export class ConversationReferenceError extends Error {
  constructor(reason: string) {
    super(`Cannot store the conversation reference: ${reason}.`);
    this.name = 'ConversationReferenceError';
  }
}

/**
 * Keyed by conversation id. A personal (1:1) chat is also indexed by the user's Entra object id
 * (`user.aadObjectId` of the reference), so a feature can reach "the requester" without knowing
 * which chat they used. A chat counts as personal when `conversationType` is 'personal', or when
 * a channel that does not send a type (Emulator, Agents Playground) marks it as not a group.
 */
export interface ConversationReferenceRepository {
  /**
   * Saves (or refreshes) the reference. The incoming activity's id is dropped so a later
   * notification is a new message rather than a reply. Rejects with ConversationReferenceError
   * (writing nothing) when the reference has no conversation id or service URL.
   */
  upsert(reference: Partial<ConversationReferenceData>): Promise<StoredConversationReference>;
  /** null when the conversation is not known. */
  get(conversationId: string): Promise<StoredConversationReference | null>;
  /** The personal chat with the user (Entra object id); null if the user never talked to the bot 1:1. */
  getPersonal(userId: string): Promise<StoredConversationReference | null>;
  /** Forgets a conversation, including any personal index to it; false when it was not known. */
  delete(conversationId: string): Promise<boolean>;
}

/** Checks a reference and returns what is stored of it; shared by every adapter. */
export function durableReference(reference: Partial<ConversationReferenceData>): {
  conversationId: string;
  conversationType: string | undefined;
  tenantId: string | undefined;
  durable: Partial<ConversationReferenceData>;
  personalUserId: string | undefined;
} {
  const conversationId = reference.conversation?.id;
  if (!conversationId) throw new ConversationReferenceError('it has no conversation id');
  if (!reference.serviceUrl) throw new ConversationReferenceError('it has no service URL');
  const durable: Partial<ConversationReferenceData> = { ...reference };
  delete durable.activityId;
  const conversation = reference.conversation;
  return {
    conversationId,
    conversationType: conversation?.conversationType || undefined,
    tenantId: conversation?.tenantId || undefined,
    durable,
    personalUserId: isPersonal(reference) ? reference.user?.aadObjectId || undefined : undefined,
  };
}

function isPersonal(reference: Partial<ConversationReferenceData>): boolean {
  const conversation = reference.conversation;
  if (!conversation) return false;
  if (conversation.conversationType) return conversation.conversationType === 'personal';
  return conversation.isGroup !== true;
}
