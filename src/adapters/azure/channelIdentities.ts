/**
 * Channel account / Entra user pairs in Azure Table storage (the rules are the port's, in
 * src/usecases/ports/channelIdentities.ts; the answers are checkPair's, step for step).
 *
 * Table `<prefix>ChannelAccounts`, two entities per pair in one partition per channel and tenant:
 *   PartitionKey tableKey(channel + '|' + tenant) (both lower-cased);
 *   RowKey 'u~' + tableKey(channelUserId) → aadObjectId, and 'o~' + tableKey(aadObjectId) →
 *   channelUserId. Both are inserted by one entity group transaction (atomic within a partition:
 *   https://learn.microsoft.com/rest/api/storageservices/performing-entity-group-transactions),
 *   which fails as a whole when either side is already paired: the two unique indexes of the
 *   SQLite table, across instances.
 *
 * A pair once stored never changes, so pairs this process has confirmed are kept in memory: the
 * identity guard asks on every activity, and a known person costs no transaction after the first
 * (1 point read then). A first sighting costs up to 4 (two reads, the personal-chat read, the
 * transaction).
 */
import type { TableClient, TransactionAction } from '@azure/data-tables';
import { systemClock, type Clock } from '../../domain/clock';
import type { ChannelAccount, ChannelIdentityRepository, PairCheck } from '../../usecases/ports/channelIdentities';
import type { ConversationReferenceRepository } from '../../usecases/ports/conversationReferences';
import type { AzureStorageAccount } from './account';
import { getOrNull, statusOf, tableKey } from './tables';

interface UserEntity {
  aadObjectId: string;
  firstSeen: string;
}
interface ObjectEntity {
  channelUserId: string;
  firstSeen: string;
}

/** Confirmed pairs remembered per process (bounded; the oldest are forgotten first). */
const MAX_REMEMBERED = 50_000;

export class AzureChannelIdentityRepository implements ChannelIdentityRepository {
  private readonly confirmed = new Map<string, string>();

  constructor(
    private readonly account: AzureStorageAccount,
    private readonly references: Pick<ConversationReferenceRepository, 'getPersonal'> | null = null,
    private readonly clock: Clock = systemClock,
  ) {}

  private table(): Promise<TableClient> {
    return this.account.table('ChannelAccounts');
  }

  async checkAndRemember(account: ChannelAccount): Promise<PairCheck> {
    const channel = account.channelId.toLowerCase();
    const tenant = account.tenantId.toLowerCase();
    const user = account.channelUserId;
    const object = account.aadObjectId.toLowerCase();
    const memoKey = `${channel}|${tenant}|${user}`;
    const remembered = this.confirmed.get(memoKey);
    if (remembered !== undefined) return this.verdict(remembered, object);

    const table = await this.table();
    const partitionKey = tableKey(`${channel}|${tenant}`);
    const userRow = `u~${tableKey(user)}`;
    const objectRow = `o~${tableKey(object)}`;
    const known = await getOrNull<UserEntity>(table, partitionKey, userRow);
    if (known) return this.remember(memoKey, known.aadObjectId, object);
    const other = await getOrNull<ObjectEntity>(table, partitionKey, objectRow);
    if (other && other.channelUserId !== user) return { ok: false, reason: 'objectIdBelongsToAnother' };
    // References stored before pairs were kept: the personal chat names the user's channel account.
    const personal = this.references ? (await this.references.getPersonal(account.aadObjectId))?.reference : undefined;
    const personalUserId = personal?.user?.id;
    if (personal && personal.channelId?.toLowerCase() === channel && personalUserId && personalUserId !== user) {
      return { ok: false, reason: 'objectIdBelongsToAnother' };
    }
    const firstSeen = this.clock.now().toISOString();
    const actions: TransactionAction[] = [
      ['create', { partitionKey, rowKey: userRow, aadObjectId: object, firstSeen }],
      ['create', { partitionKey, rowKey: objectRow, channelUserId: user, firstSeen }],
    ];
    try {
      await table.submitTransaction(actions);
      return this.remember(memoKey, object, object);
    } catch (error) {
      // 409: one side was paired meanwhile (two first sightings at once); whichever pair was kept decides.
      if (statusOf(error) !== 409) throw error;
    }
    const kept = await getOrNull<UserEntity>(table, partitionKey, userRow);
    if (kept) return this.remember(memoKey, kept.aadObjectId, object);
    return { ok: false, reason: 'channelAccountBelongsToAnother' };
  }

  private remember(memoKey: string, storedObject: string, object: string): PairCheck {
    if (this.confirmed.size >= MAX_REMEMBERED) {
      const oldest = this.confirmed.keys().next();
      if (!oldest.done) this.confirmed.delete(oldest.value);
    }
    this.confirmed.set(memoKey, storedObject);
    return this.verdict(storedObject, object);
  }

  private verdict(storedObject: string, object: string): PairCheck {
    return storedObject === object ? { ok: true } : { ok: false, reason: 'channelAccountBelongsToAnother' };
  }
}
