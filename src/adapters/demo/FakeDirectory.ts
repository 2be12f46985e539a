/**
 * An in-memory Directory with Graph's observable behaviour: local mode's demo tenant and the
 * directory every test uses. The Graph-shaped test server serves the same state over HTTP
 * (through `state`), so GraphDirectory and FakeDirectory are held to one contract suite.
 */
import { systemClock, type Clock } from '../../domain/clock';
import { type AddMembersResult, type Directory, type InvitationInput, type InvitationResult, DirectoryError } from '../../usecases/ports/Directory';
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
    return this.state.invite(input);
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
      return { status: 400, body: graphErrorBody(GRAPH_ERRORS.alreadyMember.code, GRAPH_ERRORS.alreadyMember.message) };
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
