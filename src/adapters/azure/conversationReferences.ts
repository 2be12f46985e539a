/**
 * Conversation references in Azure Table storage (the rules are the port's, in
 * src/usecases/ports/conversationReferences.ts), shared by every instance so a notification
 * reaches a chat whichever instance sends it.
 *
 * Table `<prefix>ConversationRefs`:
 *   - the reference: PartitionKey tableKey(conversationId), RowKey 'ref'; conversationType,
 *     tenantId, updatedAt, the reference as JSON (json0..);
 *   - the personal index: PartitionKey 'personal~' + tableKey(userId), RowKey 'personal'; the
 *     conversation id and a copy of the reference, so getPersonal (asked on every activity by the
 *     identity guard) is one point read.
 * Transactions: upsert = 1 (2 for a personal chat: the index too); get and getPersonal = 1;
 * delete = 2 (read, delete), +1 when it was someone's personal chat (a conditional delete of the
 * index, only if the index still points at this conversation).
 *
 * Upserts of one conversation from this process are applied in the order they were made (the
 * last one written is the last one asked for); across instances the later write wins.
 */
import type { TableClient } from '@azure/data-tables';
import { systemClock, type Clock } from '../../domain/clock';
import {
  durableReference,
  type ConversationReferenceData,
  type ConversationReferenceRepository,
  type StoredConversationReference,
} from '../../usecases/ports/conversationReferences';
import type { AzureStorageAccount } from './account';
import { deleteIfMatch, fromJsonProperties, getOrNull, isNotFound, jsonProperties, tableKey } from './tables';
import { KeyedQueue } from './keyedQueue';

interface ReferenceEntity {
  conversationId: string;
  conversationType?: string;
  tenantId?: string;
  personalUserId?: string;
  updatedAt: string;
}

const REF_ROW = 'ref';
const PERSONAL_ROW = 'personal';
const personalPartition = (userId: string): string => `personal~${tableKey(userId)}`;

export class AzureConversationReferenceRepository implements ConversationReferenceRepository {
  private readonly queue = new KeyedQueue();

  constructor(
    private readonly account: AzureStorageAccount,
    private readonly clock: Clock = systemClock,
  ) {}

  private table(): Promise<TableClient> {
    return this.account.table('ConversationRefs');
  }

  async upsert(reference: Partial<ConversationReferenceData>): Promise<StoredConversationReference> {
    const { conversationId, conversationType, tenantId, durable, personalUserId } = durableReference(reference);
    return this.queue.run(conversationId, async () => {
      const table = await this.table();
      const updatedAt = this.clock.now().toISOString();
      const entity = {
        conversationId,
        ...(conversationType ? { conversationType } : {}),
        ...(tenantId ? { tenantId } : {}),
        ...(personalUserId ? { personalUserId } : {}),
        updatedAt,
        ...jsonProperties(durable),
      };
      await table.upsertEntity({ partitionKey: tableKey(conversationId), rowKey: REF_ROW, ...entity }, 'Replace');
      if (personalUserId) await table.upsertEntity({ partitionKey: personalPartition(personalUserId), rowKey: PERSONAL_ROW, ...entity }, 'Replace');
      return { conversationId, conversationType, tenantId, reference: structuredClone(durable), updatedAt };
    });
  }

  async get(conversationId: string): Promise<StoredConversationReference | null> {
    const row = await getOrNull<Record<string, unknown>>(await this.table(), tableKey(conversationId), REF_ROW);
    return row ? fromEntity(row) : null;
  }

  async getPersonal(userId: string): Promise<StoredConversationReference | null> {
    const row = await getOrNull<Record<string, unknown>>(await this.table(), personalPartition(userId), PERSONAL_ROW);
    return row ? fromEntity(row) : null;
  }

  delete(conversationId: string): Promise<boolean> {
    return this.queue.run(conversationId, async () => {
      const table = await this.table();
      const row = await getOrNull<ReferenceEntity>(table, tableKey(conversationId), REF_ROW);
      if (!row) return false;
      try {
        await table.deleteEntity(tableKey(conversationId), REF_ROW);
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
      if (row.personalUserId) {
        const index = await getOrNull<ReferenceEntity>(table, personalPartition(row.personalUserId), PERSONAL_ROW);
        if (index?.conversationId === conversationId) await deleteIfMatch(table, personalPartition(row.personalUserId), PERSONAL_ROW, index.etag);
      }
      return true;
    });
  }
}

function fromEntity(row: Record<string, unknown>): StoredConversationReference {
  const e = row as unknown as ReferenceEntity;
  return {
    conversationId: e.conversationId,
    conversationType: e.conversationType || undefined,
    tenantId: e.tenantId || undefined,
    reference: fromJsonProperties<Partial<ConversationReferenceData>>(row),
    updatedAt: e.updatedAt,
  };
}
