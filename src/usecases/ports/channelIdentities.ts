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
 * Pairs this process has found stored, by channel account: a stored pair never changes (nothing
 * deletes or rewrites one), so the identity guard, which asks on every activity, answers a known
 * person from here instead of the personal-chat read and the pair look-up. Bounded: the least
 * recently asked are forgotten first (a forgotten pair is only looked up again).
 */
export class ConfirmedPairs {
  private readonly pairs = new Map<string, string>();

  constructor(private readonly max = 1_000) {}

  /** The object id stored for this channel account, if this process has seen it. */
  objectIdOf(channel: string, tenant: string, channelUserId: string): string | undefined {
    const key = pairKey(channel, tenant, channelUserId);
    const object = this.pairs.get(key);
    if (object !== undefined) {
      this.pairs.delete(key);
      this.pairs.set(key, object);
    }
    return object;
  }

  remember(channel: string, tenant: string, channelUserId: string, storedObjectId: string): void {
    const key = pairKey(channel, tenant, channelUserId);
    this.pairs.delete(key);
    if (this.pairs.size >= this.max) {
      const oldest = this.pairs.keys().next();
      if (!oldest.done) this.pairs.delete(oldest.value);
    }
    this.pairs.set(key, storedObjectId);
  }

  get size(): number {
    return this.pairs.size;
  }
}

function pairKey(channel: string, tenant: string, channelUserId: string): string {
  return `${channel.length}:${channel}|${tenant.length}:${tenant}|${channelUserId}`;
}

/**
 * The check every adapter runs over its own PairTable (the SQLite one inside a statement-level
 * unique index, the memory one in one synchronous step after the personal-chat lookup). With
 * `confirmed`, a pair already found stored is answered without reading anything.
 */
export async function checkPair(
  account: ChannelAccount,
  table: PairTable,
  references: { getPersonal(userId: string): Promise<{ reference: { channelId?: string; user?: { id?: string } } } | null> } | null,
  now: () => Date,
  confirmed?: ConfirmedPairs,
): Promise<PairCheck> {
  const channel = account.channelId.toLowerCase();
  const tenant = account.tenantId.toLowerCase();
  const user = account.channelUserId;
  const object = account.aadObjectId.toLowerCase();
  const remembered = confirmed?.objectIdOf(channel, tenant, user);
  if (remembered !== undefined) return pairVerdict(remembered, object);
  // References stored before pairs were kept: the personal chat names the user's channel account.
  const personal = references ? (await references.getPersonal(account.aadObjectId))?.reference : undefined;
  const known = table.objectIdOf(channel, tenant, user);
  if (known !== undefined) {
    confirmed?.remember(channel, tenant, user, known);
    return pairVerdict(known, object);
  }
  const other = table.channelUserOf(channel, tenant, object);
  if (other !== undefined && other !== user) return { ok: false, reason: 'objectIdBelongsToAnother' };
  const personalUserId = personal?.user?.id;
  if (personal && personal.channelId?.toLowerCase() === channel && personalUserId && personalUserId !== user) {
    return { ok: false, reason: 'objectIdBelongsToAnother' };
  }
  table.insertIfAbsent(channel, tenant, user, object, now().toISOString());
  // Two first sightings at once: whichever pair was kept decides.
  const kept = table.objectIdOf(channel, tenant, user);
  if (kept === undefined) return { ok: false, reason: 'channelAccountBelongsToAnother' };
  confirmed?.remember(channel, tenant, user, kept);
  return pairVerdict(kept, object);
}

function pairVerdict(storedObjectId: string, object: string): PairCheck {
  return storedObjectId === object ? { ok: true } : { ok: false, reason: 'channelAccountBelongsToAnother' };
}
