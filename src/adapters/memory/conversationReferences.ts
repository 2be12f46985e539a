import { systemClock, type Clock } from '../../domain/clock';
import {
  durableReference,
  type ConversationReferenceData,
  type ConversationReferenceRepository,
  type StoredConversationReference,
} from '../../usecases/ports/conversationReferences';

/** Conversation references in memory, with the personal-chat index, as the SQLite repository keeps them. */
export class MemoryConversationReferenceRepository implements ConversationReferenceRepository {
  /** Stored as JSON, so a caller never holds (or changes) the stored object. */
  private readonly byConversation = new Map<string, string>();
  /** user id -> conversation id of their personal chat. */
  private readonly personal = new Map<string, string>();

  constructor(private readonly clock: Clock = systemClock) {}

  async upsert(reference: Partial<ConversationReferenceData>): Promise<StoredConversationReference> {
    const { conversationId, conversationType, tenantId, durable, personalUserId } = durableReference(reference);
    const stored: StoredConversationReference = { conversationId, conversationType, tenantId, reference: durable, updatedAt: this.clock.now().toISOString() };
    const json = JSON.stringify(stored);
    this.byConversation.set(conversationId, json);
    if (personalUserId) this.personal.set(personalUserId, conversationId);
    return JSON.parse(json) as StoredConversationReference;
  }

  async get(conversationId: string): Promise<StoredConversationReference | null> {
    return this.read(conversationId);
  }

  async getPersonal(userId: string): Promise<StoredConversationReference | null> {
    const conversationId = this.personal.get(userId);
    return conversationId === undefined ? null : this.read(conversationId);
  }

  async delete(conversationId: string): Promise<boolean> {
    if (!this.byConversation.delete(conversationId)) return false;
    for (const [userId, id] of this.personal) if (id === conversationId) this.personal.delete(userId);
    return true;
  }

  private read(conversationId: string): StoredConversationReference | null {
    const json = this.byConversation.get(conversationId);
    if (json === undefined) return null;
    const stored = JSON.parse(json) as StoredConversationReference;
    // JSON has no undefined: the SQLite repository reads these columns back as undefined too.
    return { ...stored, conversationType: stored.conversationType ?? undefined, tenantId: stored.tenantId ?? undefined };
  }
}
