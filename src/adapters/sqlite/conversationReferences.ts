import { systemClock, type Clock } from '../../domain/clock';
import {
  durableReference,
  type ConversationReferenceData,
  type ConversationReferenceRepository,
  type StoredConversationReference,
} from '../../usecases/ports/conversationReferences';
import type { SqliteDatabase } from './database';

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
 * The rules (keys, the personal index) are the port's, in src/usecases/ports/conversationReferences.ts.
 */
export class SqliteConversationReferenceRepository implements ConversationReferenceRepository {
  private readonly selectByConversation;
  private readonly selectPersonal;
  private readonly upsertReference;
  private readonly upsertPersonal;
  private readonly deleteReference;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly clock: Clock = systemClock,
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

  async upsert(reference: Partial<ConversationReferenceData>): Promise<StoredConversationReference> {
    const { conversationId, conversationType, tenantId, durable, personalUserId } = durableReference(reference);
    const updatedAt = this.clock.now().toISOString();
    this.db.transaction(() => {
      this.upsertReference.run(conversationId, conversationType ?? null, tenantId ?? null, JSON.stringify(durable), updatedAt);
      if (personalUserId) this.upsertPersonal.run(personalUserId, conversationId, updatedAt);
    }).immediate(); // take the write lock up front: another process may be writing too
    return { conversationId, conversationType, tenantId, reference: durable, updatedAt };
  }

  async get(conversationId: string): Promise<StoredConversationReference | null> {
    const row = this.selectByConversation.get(conversationId);
    return row ? fromRow(row) : null;
  }

  async getPersonal(userId: string): Promise<StoredConversationReference | null> {
    const row = this.selectPersonal.get(userId);
    return row ? fromRow(row) : null;
  }

  async delete(conversationId: string): Promise<boolean> {
    return this.deleteReference.run(conversationId).changes > 0;
  }
}

function fromRow(row: ReferenceRow): StoredConversationReference {
  return {
    conversationId: row.conversation_id,
    conversationType: row.conversation_type ?? undefined,
    tenantId: row.tenant_id ?? undefined,
    reference: JSON.parse(row.reference) as Partial<ConversationReferenceData>,
    updatedAt: row.updated_at,
  };
}
