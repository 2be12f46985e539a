import { systemClock, type Clock } from '../../domain/clock';
import { checkPair, ConfirmedPairs, type ChannelAccount, type ChannelIdentityRepository, type PairCheck, type PairTable } from '../../usecases/ports/channelIdentities';
import type { ConversationReferenceRepository } from '../../usecases/ports/conversationReferences';

/** Channel account / Entra user pairs in memory (the rules are in src/usecases/ports/channelIdentities.ts). */
export class MemoryChannelIdentityRepository implements ChannelIdentityRepository {
  /** "channel|tenant|channelUserId" -> aadObjectId */
  private readonly objectIds = new Map<string, string>();
  /** "channel|tenant|aadObjectId" -> channelUserId */
  private readonly channelUsers = new Map<string, string>();

  constructor(
    private readonly references: Pick<ConversationReferenceRepository, 'getPersonal'> | null = null,
    private readonly clock: Clock = systemClock,
    /** Pairs already found stored (see ConfirmedPairs): a known person costs no read. */
    private readonly confirmed = new ConfirmedPairs(),
  ) {}

  async checkAndRemember(account: ChannelAccount): Promise<PairCheck> {
    return checkPair(account, this.table, this.references, () => this.clock.now(), this.confirmed);
  }

  private readonly table: PairTable = {
    objectIdOf: (channel, tenant, user) => this.objectIds.get(key(channel, tenant, user)),
    channelUserOf: (channel, tenant, object) => this.channelUsers.get(key(channel, tenant, object)),
    insertIfAbsent: (channel, tenant, user, object) => {
      // Both sides are unique, as the SQLite table's primary key and unique index make them.
      if (this.objectIds.has(key(channel, tenant, user)) || this.channelUsers.has(key(channel, tenant, object))) return;
      this.objectIds.set(key(channel, tenant, user), object);
      this.channelUsers.set(key(channel, tenant, object), user);
    },
  };
}

function key(channel: string, tenant: string, id: string): string {
  return JSON.stringify([channel, tenant, id]);
}
