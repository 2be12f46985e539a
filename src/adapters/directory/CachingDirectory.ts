/**
 * A Directory in front of Microsoft Graph that keeps what turns read again and again, so a turn
 * costs Graph only what is new in it (the README's "Graph budget" table).
 *
 * - Tenant policies: one immutable (deep-frozen) snapshot, fresh for `policyTtlMs`
 *   (POLICY_CACHE_SECONDS). Once older, readers still get it at once while one background read
 *   replaces it; only a snapshot older than twice the TTL makes a reader wait for Graph (and see
 *   Graph's failure, which the sign-in advisor turns into advice flagged as based on old
 *   settings). A Graph answer that contradicts the snapshot (an invitation refused by policy)
 *   drops it, so the next reader gets the tenant's settings as they are now.
 * - Reads about people and sites, briefly (`READ_TTL_MS`): a user by id or by address, the groups
 *   a user owns or belongs to, a group with its site, a group's owners and ownership checks.
 *   Writes through this directory forget what they make stale (an invitation forgets that
 *   address, a membership change forgets those users' groups, a deleted guest is forgotten
 *   everywhere they appear); a change made elsewhere is seen when the entry expires.
 * - A user's last sign-ins (signInActivity, which Entra itself updates with a delay), briefly.
 * - Never kept: the guest lifecycle's reads (sponsors, account status, a guest's lifecycle
 *   facts). They decide reminders and removals, run a few times a day per guest, and must see
 *   the directory as it is (a sponsor who left this morning).
 * - Identical reads in flight at once share one Graph request.
 *
 * Nothing is cached across tenants: one instance serves one directory (one tenant).
 */
import { systemClock, type Clock } from '../../domain/clock';
import {
  isDirectoryError,
  type AccountStatus,
  type AddMembersResult,
  type Directory,
  type GuestLifecycleFacts,
  type InvitationInput,
  type InvitationResult,
  type SignInActivityReading,
  type Sponsor,
} from '../../usecases/ports/Directory';
import type { DirectoryUser, ExternalDomainInfo, GroupInfo, TenantPolicies, UserSummary } from '../../domain/tenant';

/** How long each kind of read is kept, in ms. Stated in the README's Performance section. */
export const READ_TTL_MS = {
  /** A user by id (the asker's record) or by address (the look-up before an invitation). */
  user: 30_000,
  /** Groups a user owns or is a member of (the sites they can invite to). */
  userGroups: 60_000,
  /** A group's name, mail and SharePoint site URL. */
  group: 5 * 60_000,
  /** Owners of a group and "is this person an owner" (rights are re-read at least this often). */
  owners: 30_000,
  /** A user's signInActivity (a review card shows it for every guest, after every click). */
  signIns: 5 * 60_000,
} as const;

export const DEFAULT_POLICY_TTL_MS = 5 * 60_000;
/** After a failed background refresh, readers keep the snapshot and the next refresh waits this long. */
const REFRESH_RETRY_MS = 15_000;
/** Entries per read cache; the oldest go first beyond it. */
const MAX_ENTRIES = 10_000;

export interface CachingDirectoryOptions {
  /** POLICY_CACHE_SECONDS × 1000; 0 reads the policies for every caller (still one read at a time). */
  policyTtlMs?: number;
  /** Injected in tests. */
  clock?: Clock;
  /** Warnings (a failed background refresh); no personal data is logged. */
  logger?: { warn(details: Record<string, unknown>, message: string): void };
}

interface Entry<V> {
  value: V;
  expiresAt: number;
}

/** A TTL cache whose concurrent misses for one key share one load. */
class ReadCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private readonly loading = new Map<string, Promise<V>>();
  /** Bumped by forget(): a load that started before it must not store its (older) answer. */
  private generation = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  get(key: string, load: () => Promise<V>): Promise<V> {
    const hit = this.entries.get(key);
    if (hit && hit.expiresAt > this.now()) return Promise.resolve(hit.value);
    const running = this.loading.get(key);
    if (running) return running;
    const generation = this.generation;
    const promise = load()
      .then((value) => {
        if (generation === this.generation) this.store(key, value);
        return value;
      })
      .finally(() => this.loading.delete(key));
    this.loading.set(key, promise);
    return promise;
  }

  forget(key: string): void {
    this.entries.delete(key);
    this.loading.delete(key);
    this.generation++;
  }

  forgetWhere(test: (key: string, value: V | undefined) => boolean): void {
    for (const [key, entry] of [...this.entries]) if (test(key, entry.value)) this.entries.delete(key);
    for (const key of [...this.loading.keys()]) if (test(key, undefined)) this.loading.delete(key);
    this.generation++;
  }

  private store(key: string, value: V): void {
    this.entries.delete(key);
    // Frozen: every caller gets the same object, so none may change it for the others.
    this.entries.set(key, { value: deepFreeze(value), expiresAt: this.now() + this.ttlMs });
    if (this.entries.size > MAX_ENTRIES) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

export class CachingDirectory implements Directory {
  private readonly now: () => number;
  private readonly policyTtlMs: number;
  private snapshot: { policies: TenantPolicies; readAt: number } | null = null;
  private policyRead: Promise<TenantPolicies> | null = null;
  private nextRefreshAt = 0;
  private readonly users: ReadCache<DirectoryUser | null>;
  private readonly usersByAddress: ReadCache<DirectoryUser | null>;
  private readonly ownedGroups: ReadCache<GroupInfo[]>;
  private readonly memberGroups: ReadCache<GroupInfo[]>;
  private readonly groups: ReadCache<GroupInfo | null>;
  private readonly owners: ReadCache<UserSummary[]>;
  private readonly ownership: ReadCache<boolean>;
  private readonly signIns: ReadCache<SignInActivityReading | null>;

  constructor(
    private readonly inner: Directory,
    private readonly options: CachingDirectoryOptions = {},
  ) {
    const clock = options.clock ?? systemClock;
    this.now = () => clock.now().getTime();
    this.policyTtlMs = Math.max(0, options.policyTtlMs ?? DEFAULT_POLICY_TTL_MS);
    this.users = new ReadCache(READ_TTL_MS.user, this.now);
    this.usersByAddress = new ReadCache(READ_TTL_MS.user, this.now);
    this.ownedGroups = new ReadCache(READ_TTL_MS.userGroups, this.now);
    this.memberGroups = new ReadCache(READ_TTL_MS.userGroups, this.now);
    this.groups = new ReadCache(READ_TTL_MS.group, this.now);
    this.owners = new ReadCache(READ_TTL_MS.owners, this.now);
    this.ownership = new ReadCache(READ_TTL_MS.owners, this.now);
    this.signIns = new ReadCache(READ_TTL_MS.signIns, this.now);
  }

  // ---- policies

  readPolicies(): Promise<TenantPolicies> {
    const snapshot = this.snapshot;
    if (!snapshot) return this.readPoliciesOnce();
    const age = this.now() - snapshot.readAt;
    if (age < this.policyTtlMs) return Promise.resolve(snapshot.policies);
    if (age < 2 * this.policyTtlMs) {
      if (!this.policyRead && this.now() >= this.nextRefreshAt) {
        this.readPoliciesOnce().catch((e: unknown) => {
          this.nextRefreshAt = this.now() + REFRESH_RETRY_MS;
          this.options.logger?.warn(
            { code: isDirectoryError(e) ? e.code : 'unexpected' },
            'background refresh of the tenant policies failed; the previous snapshot stays in use',
          );
        });
      }
      return Promise.resolve(snapshot.policies);
    }
    return this.readPoliciesOnce();
  }

  /** Forgets the snapshot: the next reader waits for the tenant's current settings. */
  invalidatePolicies(): void {
    this.snapshot = null;
    this.policyRead = null;
  }

  private readPoliciesOnce(): Promise<TenantPolicies> {
    if (this.policyRead) return this.policyRead;
    const read = this.inner
      .readPolicies()
      .then((policies) => {
        const frozen = deepFreeze(structuredClone(policies));
        if (this.policyRead === read) this.snapshot = { policies: frozen, readAt: this.now() };
        return frozen;
      })
      .finally(() => {
        if (this.policyRead === read) this.policyRead = null;
      });
    this.policyRead = read;
    return read;
  }

  // ---- users

  findUserByEmail(email: string): Promise<DirectoryUser | null> {
    return this.usersByAddress.get(addressKey(email), () => this.inner.findUserByEmail(email));
  }

  findUsersByEmail(emails: readonly string[]): Promise<Map<string, DirectoryUser>> {
    // Bulk look-ups are batched already and read once per row: nothing to gain from keeping them.
    return this.inner.findUsersByEmail(emails);
  }

  getUser(userId: string): Promise<DirectoryUser | null> {
    return this.users.get(userId.toLowerCase(), () => this.inner.getUser(userId));
  }

  // ---- writes

  async invite(input: InvitationInput): Promise<InvitationResult> {
    this.usersByAddress.forget(addressKey(input.email));
    try {
      const result = await this.inner.invite(input);
      this.users.forget(result.userId.toLowerCase());
      return result;
    } catch (e) {
      this.onWriteRefused(e);
      throw e;
    } finally {
      this.usersByAddress.forget(addressKey(input.email));
    }
  }

  async resetRedemption(userId: string, email: string, redirectUrl: string): Promise<InvitationResult> {
    try {
      return await this.inner.resetRedemption(userId, email, redirectUrl);
    } catch (e) {
      this.onWriteRefused(e);
      throw e;
    } finally {
      this.users.forget(userId.toLowerCase());
      this.usersByAddress.forget(addressKey(email));
    }
  }

  async addMembers(groupId: string, userIds: readonly string[]): Promise<AddMembersResult> {
    try {
      return await this.inner.addMembers(groupId, userIds);
    } finally {
      const changed = new Set(userIds.map((id) => id.toLowerCase()));
      this.memberGroups.forgetWhere((key) => changed.has(key));
    }
  }

  /** Graph refused a write for a tenant setting: the snapshot may predate that setting. */
  private onWriteRefused(e: unknown): void {
    if (isDirectoryError(e) && e.code === 'forbiddenByPolicy') this.invalidatePolicies();
  }

  // ---- groups

  listOwnedGroups(userId: string): Promise<GroupInfo[]> {
    return this.ownedGroups.get(userId.toLowerCase(), () => this.inner.listOwnedGroups(userId));
  }

  getGroup(groupId: string): Promise<GroupInfo | null> {
    return this.groups.get(groupId.toLowerCase(), () => this.inner.getGroup(groupId));
  }

  isOwner(groupId: string, userId: string): Promise<boolean> {
    return this.ownership.get(`${groupId.toLowerCase()}|${userId.toLowerCase()}`, () => this.inner.isOwner(groupId, userId));
  }

  /** Not kept: it answers approver rights and "is the guest still in the group", which must be current. */
  isMember(groupId: string, userId: string): Promise<boolean> {
    return this.inner.isMember(groupId, userId);
  }

  /** Not kept: member lists can be long, and the approver roster must be current. */
  listGroupMembers(groupId: string): Promise<UserSummary[]> {
    return this.inner.listGroupMembers(groupId);
  }

  listGroupOwners(groupId: string): Promise<UserSummary[]> {
    return this.owners.get(groupId.toLowerCase(), () => this.inner.listGroupOwners(groupId));
  }

  listMemberGroups(userId: string): Promise<GroupInfo[]> {
    return this.memberGroups.get(userId.toLowerCase(), () => this.inner.listMemberGroups(userId));
  }

  // ---- guest lifecycle: reads pass through; writes forget what they change

  addSponsor(userId: string, sponsorId: string): Promise<'added' | 'alreadySponsor'> {
    return this.inner.addSponsor(userId, sponsorId);
  }

  removeSponsor(userId: string, sponsorId: string): Promise<'removed' | 'notSponsor'> {
    return this.inner.removeSponsor(userId, sponsorId);
  }

  replaceSponsor(userId: string, from: string | null, to: string): Promise<void> {
    return this.inner.replaceSponsor(userId, from, to);
  }

  listSponsors(userId: string): Promise<Sponsor[]> {
    return this.inner.listSponsors(userId);
  }

  accountStatus(userId: string): Promise<AccountStatus> {
    return this.inner.accountStatus(userId);
  }

  getGuestLifecycle(userId: string): Promise<GuestLifecycleFacts | null> {
    return this.inner.getGuestLifecycle(userId);
  }

  /**
   * A review card reads every guest's sign-ins each time it is shown (after each click): kept
   * READ_TTL_MS.signIns. Entra itself refreshes signInActivity with a delay, so this hides nothing.
   */
  getSignInActivity(userId: string): Promise<SignInActivityReading | null> {
    return this.signIns.get(userId.toLowerCase(), () => this.inner.getSignInActivity(userId));
  }

  async setGuestSignIn(userId: string, enabled: boolean): Promise<void> {
    try {
      await this.inner.setGuestSignIn(userId, enabled);
    } finally {
      this.forgetUser(userId);
    }
  }

  async deleteGuest(userId: string): Promise<'deleted' | 'alreadyGone'> {
    try {
      return await this.inner.deleteGuest(userId);
    } finally {
      this.forgetUser(userId);
    }
  }

  async removeMember(groupId: string, userId: string): Promise<'removed' | 'notMember'> {
    try {
      return await this.inner.removeMember(groupId, userId);
    } finally {
      const id = userId.toLowerCase();
      this.memberGroups.forget(id);
      this.ownership.forgetWhere((key) => key.startsWith(`${groupId.toLowerCase()}|`));
      this.owners.forget(groupId.toLowerCase());
    }
  }

  /** Forgets a user wherever a read may hold them: by id, by any address, their groups, owner lists. */
  private forgetUser(userId: string): void {
    const id = userId.toLowerCase();
    this.users.forget(id);
    this.usersByAddress.forgetWhere((_key, user) => user === undefined || user?.id.toLowerCase() === id);
    this.ownedGroups.forget(id);
    this.memberGroups.forget(id);
    this.signIns.forget(id);
    this.ownership.forgetWhere((key) => key.endsWith(`|${id}`));
    this.owners.forgetWhere((_key, owners) => owners === undefined || owners.some((o) => o.id.toLowerCase() === id));
  }

  /** The sign-in advisor keeps domain answers for an hour itself. */
  lookupExternalDomain(domain: string): Promise<ExternalDomainInfo> {
    return this.inner.lookupExternalDomain(domain);
  }
}

function addressKey(email: string): string {
  return email.trim().toLowerCase();
}
