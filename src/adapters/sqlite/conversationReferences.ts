import type { ConversationReference } from 'botbuilder';
import type { Clock } from './audit';
import type { SqliteDatabase } from './database';

/** A conversation reference as stored: enough to message that conversation proactively. */
export interface StoredConversationReference {
  conversationId: string;
  /** Teams: 'personal' | 'groupChat' | 'channel'; undefined for channels that do not say. */
  conversationType: string | undefined;
  tenantId: string | undefined;
  reference: Partial<ConversationReference>;
  updatedAt: string;
}

/** A reference that cannot be stored (no conversation id or service URL). Nothing is written. */
export class ConversationReferenceError extends Error {
  constructor(reason: string) {
    super(`Cannot store the conversation reference: ${reason}.`);
    this.name = 'ConversationReferenceError';
  }
}

interface ReferenceRow {
  conversation_id: string;
  conversation_type: string | null;
  tenant_id: string | null;
  reference: string;
  updated_at: string;
}

/**
 * Conversation references, kept in SQLite (migration core/002) so proactive messages (approval
 * requests, bulk-job progress, "your guest was invited") still reach people after a restart.
 *
 * Keyed by conversation id. A personal (1:1) chat is also indexed by the user's Entra object id
 * (`user.aadObjectId` of the reference), so a feature can reach "the requester" without knowing
 * which chat they used. A chat counts as personal when `conversationType` is 'personal', or when
 * a channel that does not send a type (Emulator, Agents Playground) marks it as not a group.
 */
export class ConversationReferenceStore {
  private readonly selectByConversation;
  private readonly selectPersonal;
  private readonly upsertReference;
  private readonly upsertPersonal;
  private readonly deleteReference;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly clock: Clock = () => new Date(),
  ) {
    this.selectByConversation = db.prepare<[string], ReferenceRow>(
      'SELECT * FROM conversation_references WHERE conversation_id = ?',
    );
    this.selectPersonal = db.prepare<[string], ReferenceRow>(
      `SELECT r.* FROM personal_conversations p
       JOIN conversation_references r ON r.conversation_id = p.conversation_id
       WHERE p.user_id = ?`,
    );
    this.upsertReference = db.prepare<[string, string | null, string | null, string, string]>(
      `INSERT INTO conversation_references (conversation_id, conversation_type, tenant_id, reference, updated_at)
       VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (conversation_id) DO UPDATE SET conversation_type = excluded.conversation_type,
         tenant_id = excluded.tenant_id, reference = excluded.reference, updated_at = excluded.updated_at`,
    );
    this.upsertPersonal = db.prepare<[string, string, string]>(
      `INSERT INTO personal_conversations (user_id, conversation_id, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (user_id) DO UPDATE SET conversation_id = excluded.conversation_id, updated_at = excluded.updated_at`,
    );
    this.deleteReference = db.prepare<[string]>('DELETE FROM conversation_references WHERE conversation_id = ?');
  }

  /**
   * Saves (or refreshes) the reference, e.g. from `TurnContext.getConversationReference(activity)`
   * on every incoming activity and on installation. The incoming activity's id is dropped so a
   * later notification is a new message rather than a reply to whatever was said last.
   */
  upsert(reference: Partial<ConversationReference>): StoredConversationReference {
    const conversationId = reference.conversation?.id;
    if (!conversationId) throw new ConversationReferenceError('it has no conversation id');
    if (!reference.serviceUrl) throw new ConversationReferenceError('it has no service URL');
    const durable: Partial<ConversationReference> = { ...reference };
    delete durable.activityId;
    const conversation = reference.conversation;
    const conversationType = conversation?.conversationType || undefined;
    const tenantId = conversation?.tenantId || undefined;
    const updatedAt = this.clock().toISOString();
    const personalUserId = isPersonal(reference) ? reference.user?.aadObjectId : undefined;

    this.db.transaction(() => {
      this.upsertReference.run(conversationId, conversationType ?? null, tenantId ?? null, JSON.stringify(durable), updatedAt);
      if (personalUserId) this.upsertPersonal.run(personalUserId, conversationId, updatedAt);
    }).immediate(); // take the write lock up front: another process may be writing too
    return { conversationId, conversationType, tenantId, reference: durable, updatedAt };
  }

  get(conversationId: string): StoredConversationReference | undefined {
    const row = this.selectByConversation.get(conversationId);
    return row ? fromRow(row) : undefined;
  }

  /** The personal chat with the user (Entra object id), if the user has ever talked to the bot 1:1. */
  getPersonal(userId: string): StoredConversationReference | undefined {
    const row = this.selectPersonal.get(userId);
    return row ? fromRow(row) : undefined;
  }

  /** Forgets a conversation (e.g. the bot was removed from it), including any personal index to it. */
  delete(conversationId: string): boolean {
    return this.deleteReference.run(conversationId).changes > 0;
  }
}

function isPersonal(reference: Partial<ConversationReference>): boolean {
  const conversation = reference.conversation;
  if (!conversation) return false;
  if (conversation.conversationType) return conversation.conversationType === 'personal';
  return conversation.isGroup !== true;
}

function fromRow(row: ReferenceRow): StoredConversationReference {
  return {
    conversationId: row.conversation_id,
    conversationType: row.conversation_type ?? undefined,
    tenantId: row.tenant_id ?? undefined,
    reference: JSON.parse(row.reference) as Partial<ConversationReference>,
    updatedAt: row.updated_at,
  };
}
