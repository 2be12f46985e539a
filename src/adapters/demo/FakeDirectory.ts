/**
 * An in-memory Directory with Graph's observable behaviour: local mode's demo tenant and the
 * directory every test uses. The Graph-shaped test server serves the same state over HTTP
 * (through `state`), so GraphDirectory and FakeDirectory are held to one contract suite.
 */
import { systemClock, type Clock } from '../../domain/clock';
import {
  type AccountStatus,
  type AddMembersResult,
  type Directory,
  type DirectoryWriteAction,
  type GuestLifecycleFacts,
  type InvitationInput,
  type SignInActivity,
  type SignInActivityReading,
  type InvitationResult,
  type Sponsor,
  DirectoryError,
  InvitationNotSent,
} from '../../usecases/ports/Directory';
import type { DirectoryUser, ExternalDomainInfo, GroupInfo, TenantPolicies, UserSummary } from '../../domain/tenant';
import type { SignInMethod } from '../../domain/signInAdvice';
import { GRAPH_ERRORS, USER_MESSAGES, graphErrorBody } from '../graph/errors';
import type { FixtureGroup, FixturePolicies, FixtureUser, TenantFixture } from './fixture';
import { FakeTenantState, type RecordedInvitation, notFound } from './FakeTenantState';
import { lower, toDirectoryUser, toGroupInfo, toUserSummary } from './userIndex';

export type DirectoryMethod = {
  [K in keyof Directory]: Directory[K] extends (...args: never[]) => unknown ? K : never;
}[keyof Directory];

export interface FakeDirectoryOptions {
  /** Injectable clock: timestamps on invitations and redemptions. */
  clock?: Clock;
  /** First value of the id counter (ids of created users and invitations are derived from it). */
  idSeed?: number;
}

export interface FakeDirectorySnapshot {
  users: FixtureUser[];
  groups: FixtureGroup[];
  invitations: RecordedInvitation[];
  calls: Record<string, number>;
}

export class FakeDirectory implements Directory {
  readonly state: FakeTenantState;
  private readonly calls = new Map<DirectoryMethod, number>();
  private readonly failures = new Map<DirectoryMethod, Array<DirectoryError | Error>>();
  private throttling: { retryAfterMs: number; remaining: number; methods: ReadonlySet<DirectoryMethod> | null } | null =
    null;

  constructor(fixture: TenantFixture, options: FakeDirectoryOptions = {}) {
    this.state = new FakeTenantState(fixture, options.clock ?? systemClock, options.idSeed ?? 1);
  }

  // ---- test hooks (not part of Directory) ----

  /** The next `count` calls of `method` throw `error` (after being counted). */
  failNext(method: DirectoryMethod, error: DirectoryError | Error, count = 1): void {
    const queue = this.failures.get(method) ?? [];
    for (let i = 0; i < count; i++) queue.push(error);
    this.failures.set(method, queue);
  }

  /** The next `times` calls (of `methods`, default all) throw DirectoryError 'throttled' with retryAfterMs. */
  throttle(options: { retryAfterMs: number; times: number; methods?: DirectoryMethod[] }): void {
    this.throttling = {
      retryAfterMs: options.retryAfterMs,
      remaining: options.times,
      methods: options.methods ? new Set(options.methods) : null,
    };
  }

  /** Simulates the guest redeeming their invitation with `method`. */
  redeem(userId: string, method: SignInMethod): DirectoryUser {
    return toDirectoryUser(this.state.redeem(userId, method));
  }

  /** Adds a user to the tenant (a deep copy). */
  addUser(user: FixtureUser): void {
    this.state.addUser(structuredClone(user));
  }

  /** Adds a group to the tenant (a deep copy). */
  addGroup(group: FixtureGroup): void {
    this.state.fixture.groups.push(structuredClone(group));
  }

  /** Changes tenant policies, e.g. `setPolicies({ allowInvitesFrom: 'none' })`. */
  setPolicies(patch: Partial<FixturePolicies>): void {
    Object.assign(this.state.fixture.policies, structuredClone(patch));
  }

  /**
   * Takes a Graph application permission away (e.g. 'User.EnableDisableAccount.All'): the
   * lifecycle calls needing it fail with 'permissionMissing', here and over the test server.
   */
  denyPermission(permission: string): void {
    this.state.deniedPermissions.add(permission);
  }

  /** Sets what Entra recorded of a user's sign-ins (null: none), as a test or the demo needs. */
  setSignInActivity(userId: string, activity: SignInActivity | null): void {
    const user = this.state.user(userId);
    if (!user) throw new Error(`no user ${userId} in the fake tenant`);
    user.signInActivity = activity === null ? null : { ...activity };
  }

  /** Takes the tenant's Entra ID P1/P2 away (or gives it back): signInActivity is then refused, as Graph does. */
  setEntraIdPremium(premium: boolean): void {
    this.state.fixture.entraIdPremium = premium;
  }

  /** Makes a demo user's sign-in blocked or allowed without the bot (an admin did it), e.g. a sponsor who left. */
  setAccountEnabled(userId: string, enabled: boolean): void {
    this.state.setAccountEnabled(userId, enabled);
  }

  /** Deletes a user behind the bot's back (e.g. a sponsor who left the organisation). */
  removeUser(userId: string): void {
    this.state.deleteUser(userId);
  }

  /** How many times `method` was called (failed calls included). */
  callCount(method: DirectoryMethod): number {
    return this.calls.get(method) ?? 0;
  }

  resetCallCounts(): void {
    this.calls.clear();
  }

  /** A deep copy of the tenant for assertions. */
  snapshot(): FakeDirectorySnapshot {
    return structuredClone({
      users: this.state.fixture.users,
      groups: this.state.fixture.groups,
      invitations: this.state.invitations,
      calls: Object.fromEntries(this.calls),
    });
  }

  // ---- Directory ----

  async findUserByEmail(email: string): Promise<DirectoryUser | null> {
    this.enter('findUserByEmail');
    const found = this.state.usersByAddress(email)[0];
    return found ? toDirectoryUser(found) : null;
  }

  async findUsersByEmail(emails: readonly string[]): Promise<Map<string, DirectoryUser>> {
    this.enter('findUsersByEmail');
    const result = new Map<string, DirectoryUser>();
    for (const email of emails) {
      const found = this.state.usersByAddress(email)[0];
      if (found) result.set(lower(email), toDirectoryUser(found));
    }
    return result;
  }

  async getUser(userId: string): Promise<DirectoryUser | null> {
    this.enter('getUser');
    const user = this.state.user(userId);
    return user ? toDirectoryUser(user) : null;
  }

  async invite(input: InvitationInput): Promise<InvitationResult> {
    this.enter('invite');
    // As GraphDirectory: asked right before the invitation would go out.
    if (input.maySend && !input.maySend()) throw new InvitationNotSent();
    if (input.sponsorIds === undefined) return this.state.invite(input);
    try {
      return { ...this.state.invite(input), sponsorsSet: true };
    } catch (e) {
      // As GraphDirectory: a refused sponsor never costs the invitation.
      if (!(e instanceof DirectoryError) || e.code !== 'notFound') throw e;
      return { ...this.state.invite({ ...input, sponsorIds: undefined }), sponsorsSet: false };
    }
  }

  async resetRedemption(userId: string, email: string, redirectUrl: string): Promise<InvitationResult> {
    this.enter('resetRedemption');
    return this.state.resetRedemption(userId, email, redirectUrl);
  }

  async addMembers(groupId: string, userIds: readonly string[]): Promise<AddMembersResult> {
    this.enter('addMembers');
    const result: AddMembersResult = { added: [], alreadyMembers: [], failed: [] };
    for (const userId of new Set(userIds)) {
      try {
        this.state.addMember(groupId, userId);
        result.added.push(userId);
      } catch (e) {
        if (e instanceof DirectoryError && e.code === 'alreadyExists') result.alreadyMembers.push(userId);
        else if (e instanceof DirectoryError) result.failed.push({ userId, error: e });
        else throw e;
      }
    }
    return result;
  }

  async listOwnedGroups(userId: string): Promise<GroupInfo[]> {
    this.enter('listOwnedGroups');
    if (!this.state.user(userId)) throw notFound(`user ${userId}`);
    return this.state.ownedGroups(userId).map(toGroupInfo);
  }

  async listGroupMembers(groupId: string): Promise<UserSummary[]> {
    this.enter('listGroupMembers');
    const group = this.state.group(groupId);
    if (!group) throw notFound(`group ${groupId}`);
    return this.state.usersAmong(group.members).map(toUserSummary);
  }

  async listGroupOwners(groupId: string): Promise<UserSummary[]> {
    this.enter('listGroupOwners');
    const group = this.state.group(groupId);
    if (!group) throw notFound(`group ${groupId}`);
    return this.state.usersAmong(group.owners).map(toUserSummary);
  }

  async listMemberGroups(userId: string): Promise<GroupInfo[]> {
    this.enter('listMemberGroups');
    if (!this.state.user(userId)) throw notFound(`user ${userId}`);
    // Same as GraphDirectory, which does not look up a site per group.
    return this.state.memberGroups(userId).map((g) => ({ ...toGroupInfo(g), siteUrl: null }));
  }

  async getGroup(groupId: string): Promise<GroupInfo | null> {
    this.enter('getGroup');
    const group = this.state.group(groupId);
    return group ? toGroupInfo(group) : null;
  }

  async isOwner(groupId: string, userId: string): Promise<boolean> {
    this.enter('isOwner');
    return this.state.group(groupId)?.owners.includes(userId) ?? false;
  }

  async isMember(groupId: string, userId: string): Promise<boolean> {
    this.enter('isMember');
    return this.state.group(groupId)?.members.includes(userId) ?? false;
  }

  // ---- guest lifecycle (the same order of checks as GraphDirectory: read, then the write's permission) ----

  async addSponsor(userId: string, sponsorId: string): Promise<'added' | 'alreadySponsor'> {
    this.enter('addSponsor');
    this.requirePermission('User.ReadWrite.All', 'addSponsor');
    try {
      this.state.addSponsor(userId, sponsorId);
      return 'added';
    } catch (e) {
      if (e instanceof DirectoryError && e.code === 'alreadyExists') return 'alreadySponsor';
      throw e;
    }
  }

  async removeSponsor(userId: string, sponsorId: string): Promise<'removed' | 'notSponsor'> {
    this.enter('removeSponsor');
    this.requirePermission('User.ReadWrite.All', 'removeSponsor');
    if (!this.state.user(userId)) throw notFound(`user ${userId}`);
    if (!(this.state.user(userId)?.sponsors ?? []).includes(sponsorId)) return 'notSponsor';
    this.state.removeSponsor(userId, sponsorId);
    return 'removed';
  }

  async replaceSponsor(userId: string, from: string | null, to: string): Promise<void> {
    this.enter('replaceSponsor');
    this.requirePermission('User.ReadWrite.All', 'addSponsor');
    try {
      this.state.addSponsor(userId, to);
    } catch (e) {
      if (!(e instanceof DirectoryError) || e.code !== 'alreadyExists') throw e;
    }
    if (from !== null && from !== to && (this.state.user(userId)?.sponsors ?? []).includes(from)) {
      this.state.removeSponsor(userId, from);
    }
  }

  async listSponsors(userId: string): Promise<Sponsor[]> {
    this.enter('listSponsors');
    this.requirePermission('User.Read.All');
    return this.state.sponsorsOf(userId).map((s): Sponsor =>
      s.kind === 'user'
        ? { id: s.user.id, displayName: s.user.displayName, kind: 'user', accountEnabled: s.user.accountEnabled !== false }
        : { id: s.group.id, displayName: s.group.displayName, kind: 'group', accountEnabled: null },
    );
  }

  async accountStatus(userId: string): Promise<AccountStatus> {
    this.enter('accountStatus');
    this.requirePermission('User.Read.All');
    const user = this.state.user(userId);
    if (!user) return 'notFound';
    return user.accountEnabled === false ? 'disabled' : 'active';
  }

  async getGuestLifecycle(userId: string): Promise<GuestLifecycleFacts | null> {
    this.enter('getGuestLifecycle');
    this.requirePermission('User.Read.All');
    const user = this.state.user(userId);
    if (!user) return null;
    return {
      userId: user.id,
      kind: user.kind,
      externalUserState: user.externalUserState,
      externalUserStateChangeDateTime: user.externalUserStateChangeDateTime,
      accountEnabled: user.accountEnabled !== false,
      createdDateTime: user.createdDateTime ?? null,
      memberOf: this.state.memberGroups(userId).map((g) => ({ ...toGroupInfo(g), siteUrl: null })),
    };
  }

  async setGuestSignIn(userId: string, enabled: boolean): Promise<void> {
    this.enter('setGuestSignIn');
    const user = this.state.user(userId);
    if (!user) throw notFound(`user ${userId}`);
    assertGuest(user.kind);
    if ((user.accountEnabled !== false) === enabled) return;
    this.requirePermission('User.EnableDisableAccount.All', enabled ? 'unblockSignIn' : 'blockSignIn');
    this.state.setAccountEnabled(userId, enabled);
  }

  async deleteGuest(userId: string): Promise<'deleted' | 'alreadyGone'> {
    this.enter('deleteGuest');
    const user = this.state.user(userId);
    if (!user) return 'alreadyGone';
    assertGuest(user.kind);
    this.requirePermission('User.ReadWrite.All', 'deleteGuest');
    this.state.deleteUser(userId);
    return 'deleted';
  }

  async removeMember(groupId: string, userId: string): Promise<'removed' | 'notMember'> {
    this.enter('removeMember');
    this.requirePermission('GroupMember.ReadWrite.All', 'removeMember');
    if (!(this.state.group(groupId)?.members.includes(userId) ?? false)) return 'notMember';
    this.state.removeMember(groupId, userId);
    return 'removed';
  }

  async getSignInActivity(userId: string): Promise<SignInActivityReading | null> {
    this.enter('getSignInActivity');
    this.requirePermission('User.Read.All');
    // Graph checks the permission and the licence before looking the user up.
    if (this.state.deniedPermissions.has('AuditLog.Read.All')) return { kind: 'unavailable', reason: 'permissionMissing' };
    if (this.state.fixture.entraIdPremium === false) return { kind: 'unavailable', reason: 'licenceMissing' };
    const user = this.state.user(userId);
    if (!user) return null;
    const a = user.signInActivity;
    return {
      kind: 'known',
      activity: {
        lastSignInDateTime: a?.lastSignInDateTime ?? null,
        lastNonInteractiveSignInDateTime: a?.lastNonInteractiveSignInDateTime ?? null,
        lastSuccessfulSignInDateTime: a?.lastSuccessfulSignInDateTime ?? null,
      },
    };
  }

  /** Graph's 403 for an application permission not granted (see denyPermission). */
  private requirePermission(permission: string, action?: DirectoryWriteAction): void {
    if (!this.state.deniedPermissions.has(permission)) return;
    throw new DirectoryError('permissionMissing', USER_MESSAGES.permissionMissing(permission), {
      permission,
      action,
      graphCode: GRAPH_ERRORS.insufficientPrivileges.code,
      detail: `${permission} not granted (test hook)`,
    });
  }

  async readPolicies(): Promise<TenantPolicies> {
    this.enter('readPolicies');
    return this.state.policies();
  }

  async lookupExternalDomain(domain: string): Promise<ExternalDomainInfo> {
    this.enter('lookupExternalDomain');
    return this.state.externalDomain(domain);
  }

  /** Counts the call, then applies injected throttling and failures. */
  private enter(method: DirectoryMethod): void {
    this.calls.set(method, this.callCount(method) + 1);
    const t = this.throttling;
    if (t && t.remaining > 0 && (t.methods === null || t.methods.has(method))) {
      t.remaining--;
      throw new DirectoryError('throttled', USER_MESSAGES.throttled, {
        retryAfterMs: t.retryAfterMs,
        graphCode: GRAPH_ERRORS.throttled.code,
        detail: `${method} throttled (test hook)`,
      });
    }
    const queued = this.failures.get(method)?.shift();
    if (queued) throw queued;
  }
}

/** Graph's body for a DirectoryError the fake raised: what the test server answers. */
export function graphAnswerFor(error: DirectoryError): { status: number; body: ReturnType<typeof graphErrorBody> } {
  switch (error.code) {
    case 'alreadyExists':
      return error.userMessage === USER_MESSAGES.alreadySponsor
        ? { status: 400, body: graphErrorBody(GRAPH_ERRORS.alreadySponsor.code, GRAPH_ERRORS.alreadySponsor.message) }
        : { status: 400, body: graphErrorBody(GRAPH_ERRORS.alreadyMember.code, GRAPH_ERRORS.alreadyMember.message) };
    case 'notFound':
      return { status: 404, body: graphErrorBody(GRAPH_ERRORS.notFound.code, error.message) };
    case 'forbiddenByPolicy':
      return error.graphCode === GRAPH_ERRORS.invitesNotAllowed.code &&
        error.userMessage === USER_MESSAGES.invitesNotAllowed
        ? { status: 403, body: graphErrorBody(GRAPH_ERRORS.invitesNotAllowed.code, GRAPH_ERRORS.invitesNotAllowed.message) }
        : { status: 403, body: graphErrorBody(GRAPH_ERRORS.domainBlocked.code, GRAPH_ERRORS.domainBlocked.message) };
    case 'permissionMissing':
      return {
        status: 403,
        body: graphErrorBody(GRAPH_ERRORS.insufficientPrivileges.code, GRAPH_ERRORS.insufficientPrivileges.message),
      };
    case 'throttled':
      return { status: 429, body: graphErrorBody(GRAPH_ERRORS.throttled.code, GRAPH_ERRORS.throttled.message) };
    case 'transient':
      return { status: 503, body: graphErrorBody(GRAPH_ERRORS.unavailable.code, GRAPH_ERRORS.unavailable.message) };
    case 'invalidInput':
      return error.graphCode === GRAPH_ERRORS.internalAddress.code && error.userMessage === USER_MESSAGES.internalAddress
        ? { status: 400, body: graphErrorBody(GRAPH_ERRORS.internalAddress.code, GRAPH_ERRORS.internalAddress.message) }
        : { status: 400, body: graphErrorBody('BadRequest', error.message) };
  }
}

/** The bot never blocks or deletes a member of the organisation, whatever it is asked (as GraphDirectory). */
function assertGuest(kind: 'member' | 'guest'): void {
  if (kind !== 'guest') {
    throw new DirectoryError('invalidInput', USER_MESSAGES.memberNotGuest, { detail: 'refused before calling Graph: not a guest' });
  }
}
