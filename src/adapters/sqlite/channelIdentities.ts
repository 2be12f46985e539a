import type { Migration, SqliteDatabase } from './database';
import type { ConversationReferenceStore } from './conversationReferences';

/**
 * Which channel account (`from.id`, e.g. Teams' `29:…`) belongs to which Entra user
 * (`from.aadObjectId`), per channel and tenant. Learned the first time a pair is seen (and from
 * the personal-chat references stored before this table existed); afterwards an activity that
 * pairs one person's channel account with another person's object id is refused. Teams gives a
 * user one stable id per bot, so a genuine user never changes pair.
 */
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

export interface ChannelAccount {
  channelId: string;
  tenantId: string;
  channelUserId: string;
  aadObjectId: string;
}

export type PairCheck = { ok: true } | { ok: false; reason: 'channelAccountBelongsToAnother' | 'objectIdBelongsToAnother' };

interface Row {
  channel_user_id: string;
  aad_object_id: string;
}

export class ChannelIdentityStore {
  private readonly byChannelUser;
  private readonly byObjectId;
  private readonly insert;

  constructor(
    db: SqliteDatabase,
    private readonly references: Pick<ConversationReferenceStore, 'getPersonal'> | null = null,
    private readonly clock: () => Date = () => new Date(),
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

  /**
   * Whether the pair belongs to one person as far as the bot knows; a pair never seen before is
   * remembered (and then holds). Ids are compared case-insensitively.
   */
  checkAndRemember(account: ChannelAccount): PairCheck {
    const channel = account.channelId.toLowerCase();
    const tenant = account.tenantId.toLowerCase();
    const user = account.channelUserId;
    const object = account.aadObjectId.toLowerCase();
    const known = this.byChannelUser.get(channel, tenant, user);
    if (known) return known.aad_object_id === object ? { ok: true } : { ok: false, reason: 'channelAccountBelongsToAnother' };
    const other = this.byObjectId.get(channel, tenant, object);
    if (other && other.channel_user_id !== user) return { ok: false, reason: 'objectIdBelongsToAnother' };
    // References stored before this table existed: the personal chat names the user's channel account.
    const personal = this.references?.getPersonal(account.aadObjectId)?.reference;
    const personalUserId = personal?.user?.id;
    if (personal && personal.channelId?.toLowerCase() === channel && personalUserId && personalUserId !== user) {
      return { ok: false, reason: 'objectIdBelongsToAnother' };
    }
    this.insert.run(channel, tenant, user, object, this.clock().toISOString());
    // Two first sightings at once: whichever row won decides.
    const stored = this.byChannelUser.get(channel, tenant, user);
    return stored && stored.aad_object_id === object ? { ok: true } : { ok: false, reason: 'channelAccountBelongsToAnother' };
  }
}
