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
