import { systemClock, type Clock } from '../../domain/clock';
import { checkPair, ConfirmedPairs, type ChannelAccount, type ChannelIdentityRepository, type PairCheck, type PairTable } from '../../usecases/ports/channelIdentities';
import type { ConversationReferenceRepository } from '../../usecases/ports/conversationReferences';
import type { Migration, SqliteDatabase } from './database';

/** Channel account / Entra user pairs in SQLite (the rules are in src/usecases/ports/channelIdentities.ts). */
export const channelIdentityMigrations: readonly Migration[] = [
  {
    id: 'identity/001-channel-accounts',
    up: `
      CREATE TABLE channel_accounts (
        channel_id      TEXT NOT NULL,
        tenant_id       TEXT NOT NULL,
        channel_user_id TEXT NOT NULL,
        aad_object_id   TEXT NOT NULL,
        first_seen      TEXT NOT NULL,
        PRIMARY KEY (channel_id, tenant_id, channel_user_id)
      );
      CREATE UNIQUE INDEX channel_accounts_by_object_id ON channel_accounts (channel_id, tenant_id, aad_object_id);
    `,
  },
];

interface Row {
  channel_user_id: string;
  aad_object_id: string;
}

export class SqliteChannelIdentityRepository implements ChannelIdentityRepository {
  private readonly byChannelUser;
  private readonly byObjectId;
  private readonly insert;

  constructor(
    db: SqliteDatabase,
    private readonly references: Pick<ConversationReferenceRepository, 'getPersonal'> | null = null,
    private readonly clock: Clock = systemClock,
    /** Pairs already found stored (see ConfirmedPairs): a known person costs no read. */
    private readonly confirmed = new ConfirmedPairs(),
  ) {
    this.byChannelUser = db.prepare<[string, string, string], Row>(
      'SELECT channel_user_id, aad_object_id FROM channel_accounts WHERE channel_id = ? AND tenant_id = ? AND channel_user_id = ?',
    );
    this.byObjectId = db.prepare<[string, string, string], Row>(
      'SELECT channel_user_id, aad_object_id FROM channel_accounts WHERE channel_id = ? AND tenant_id = ? AND aad_object_id = ?',
    );
    this.insert = db.prepare<[string, string, string, string, string]>(
      `INSERT OR IGNORE INTO channel_accounts (channel_id, tenant_id, channel_user_id, aad_object_id, first_seen)
       VALUES (?, ?, ?, ?, ?)`,
    );
  }

  async checkAndRemember(account: ChannelAccount): Promise<PairCheck> {
    return checkPair(account, this.table, this.references, () => this.clock.now(), this.confirmed);
  }

  private readonly table: PairTable = {
    objectIdOf: (channel, tenant, user) => this.byChannelUser.get(channel, tenant, user)?.aad_object_id,
    channelUserOf: (channel, tenant, object) => this.byObjectId.get(channel, tenant, object)?.channel_user_id,
    insertIfAbsent: (channel, tenant, user, object, firstSeen) => {
      this.insert.run(channel, tenant, user, object, firstSeen);
    },
  };
}
