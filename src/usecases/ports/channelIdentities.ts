/**
 * Which channel account (`from.id`, e.g. Teams' `29:…`) belongs to which Entra user
 * (`from.aadObjectId`), per channel and tenant. Learned the first time a pair is seen (and from
 * the personal-chat references stored before pairs were kept); afterwards an activity that pairs
 * one person's channel account with another person's object id is refused. Teams gives a user one
 * stable id per bot, so a genuine user never changes pair.
 */

export interface ChannelAccount {
  channelId: string;
  tenantId: string;
  channelUserId: string;
  aadObjectId: string;
}

export type PairCheck = { ok: true } | { ok: false; reason: 'channelAccountBelongsToAnother' | 'objectIdBelongsToAnother' };

export interface ChannelIdentityRepository {
  /**
   * Whether the pair belongs to one person as far as the bot knows; a pair never seen before is
   * remembered (and then holds). Ids other than the channel user id compare case-insensitively.
   * Two first sightings at once: exactly one pair is kept, the other gets a refusal.
   */
  checkAndRemember(account: ChannelAccount): Promise<PairCheck>;
}

/** Where an adapter keeps the pairs, by normalised ids (channel, tenant and object id lower-cased). */
export interface PairTable {
  /** The object id paired with this channel account, if any. */
  objectIdOf(channel: string, tenant: string, channelUserId: string): string | undefined;
  /** The channel account paired with this object id, if any. */
  channelUserOf(channel: string, tenant: string, aadObjectId: string): string | undefined;
  /** Remembers the pair unless either side is already paired (the first pair stays). */
  insertIfAbsent(channel: string, tenant: string, channelUserId: string, aadObjectId: string, firstSeen: string): void;
}

/**
 * The check every adapter runs over its own PairTable (the SQLite one inside a statement-level
 * unique index, the memory one in one synchronous step after the personal-chat lookup).
 */
export async function checkPair(
  account: ChannelAccount,
  table: PairTable,
  references: { getPersonal(userId: string): Promise<{ reference: { channelId?: string; user?: { id?: string } } } | null> } | null,
  now: () => Date,
): Promise<PairCheck> {
  const channel = account.channelId.toLowerCase();
  const tenant = account.tenantId.toLowerCase();
  const user = account.channelUserId;
  const object = account.aadObjectId.toLowerCase();
  // References stored before pairs were kept: the personal chat names the user's channel account.
  const personal = references ? (await references.getPersonal(account.aadObjectId))?.reference : undefined;
  const known = table.objectIdOf(channel, tenant, user);
  if (known !== undefined) return known === object ? { ok: true } : { ok: false, reason: 'channelAccountBelongsToAnother' };
  const other = table.channelUserOf(channel, tenant, object);
  if (other !== undefined && other !== user) return { ok: false, reason: 'objectIdBelongsToAnother' };
  const personalUserId = personal?.user?.id;
  if (personal && personal.channelId?.toLowerCase() === channel && personalUserId && personalUserId !== user) {
    return { ok: false, reason: 'objectIdBelongsToAnother' };
  }
  table.insertIfAbsent(channel, tenant, user, object, now().toISOString());
  // Two first sightings at once: whichever pair was kept decides.
  return table.objectIdOf(channel, tenant, user) === object ? { ok: true } : { ok: false, reason: 'channelAccountBelongsToAnother' };
}
