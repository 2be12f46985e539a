/**
 * An in-memory Directory with Graph's observable behaviour: local mode's demo tenant and the
 * directory every test uses. The Graph-shaped test server serves the same state over HTTP
 * (through `state`), so GraphDirectory and FakeDirectory are held to one contract suite.
 */
import { systemClock, type Clock } from '../../domain/clock';
import type { AddMembersResult, Directory, InvitationInput, InvitationResult } from '../../usecases/ports/Directory';
import type {
  DirectoryUser,
  ExternalDomainInfo,
  GroupInfo,
  TenantPolicies,
  UserIdentity,
  UserSummary,
} from '../../domain/tenant';
import { DirectoryError } from '../../usecases/ports/Directory';
import type { SignInMethod } from '../../domain/signInAdvice';
import { GRAPH_ERRORS, USER_MESSAGES, graphErrorBody } from '../graph/errors';
import { cloneFixture, type FixtureGroup, type FixturePolicies, type FixtureUser, type TenantFixture } from './fixture';
import { guestUserPrincipalName } from './demoTenant';

export type DirectoryMethod = {
  [K in keyof Directory]: Directory[K] extends (...args: never[]) => unknown ? K : never;
}[keyof Directory];

export interface FakeDirectoryOptions {
  /** Injectable clock: timestamps on invitations and redemptions. */
  clock?: Clock;
  /** First value of the id counter (ids of created users and invitations are derived from it). */
  idSeed?: number;
}

/** One POST /invitations the fake accepted. */
export interface RecordedInvitation {
  invitationId: string;
  userId: string;
  email: string;
  displayName: string;
  redirectUrl: string;
  redeemUrl: string;
  sendInvitationMessage: boolean;
  resetRedemption: boolean;
  at: string;
}

export interface FakeDirectorySnapshot {
  users: FixtureUser[];
  groups: FixtureGroup[];
  invitations: RecordedInvitation[];
  calls: Record<string, number>;
}

/** Roughly an address: one '@', no spaces, a dot inside the domain (checked without a backtracking pattern). */
function hasEmailShape(s: string): boolean {
  if (/\s/.test(s)) return false;
  const at = s.indexOf('@');
  if (at < 1 || s.indexOf('@', at + 1) !== -1) return false;
  const dot = s.indexOf('.', at + 2);
  return dot !== -1 && dot < s.length - 1;
}

function lower(s: string): string {
  return s.trim().toLowerCase();
}

function domainOf(email: string): string {
  return lower(email.slice(email.lastIndexOf('@') + 1));
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0').slice(-width);
}

function toDirectoryUser(u: FixtureUser): DirectoryUser {
  return {
    id: u.id,
    displayName: u.displayName,
    mail: u.mail,
    userPrincipalName: u.userPrincipalName,
    otherMails: [...u.otherMails],
    kind: u.kind,
    externalUserState: u.externalUserState,
    externalUserStateChangeDateTime: u.externalUserStateChangeDateTime,
    identities: u.identities.map((i) => ({ ...i })),
  };
}

function toUserSummary(u: FixtureUser): UserSummary {
  return { id: u.id, displayName: u.displayName };
}

function toGroupInfo(g: FixtureGroup): GroupInfo {
  return { id: g.id, displayName: g.displayName, siteUrl: g.siteUrl, mail: g.mail };
}

/**
 * The tenant itself, without test hooks: what the Graph-shaped test server reads and writes.
 * Every refusal is the DirectoryError Graph's answer classifies to (see errors.ts).
 */
/**
 * Address and id look-ups for the tenant's users, so a look-up or an invitation costs the same
 * with 5 users or 50,000 (bulk runs and the benchmark create thousands of guests). Keys are
 * loose (trimmed, lower-cased, with and without an `smtp:` prefix); callers confirm each
 * candidate with Graph's exact rule, so the index only narrows, never decides.
 *
 * Maintained by FakeTenantState's own writes; a change to `fixture.users` made behind its back
 * (a push, a removal, a new array) is noticed by length/identity and the index is rebuilt.
 */
class UserIndex {
  private readonly byKey = new Map<string, FixtureUser[]>();
  private readonly byId = new Map<string, FixtureUser>();
  /** Position in `fixture.users`: results come back in the tenant's order, as a scan would give them. */
  private readonly position = new Map<FixtureUser, number>();
  /** Keys each user is filed under, so a changed address can be unfiled. */
  private readonly keysOf = new Map<FixtureUser, string[]>();
  private source: FixtureUser[] | null = null;
  private indexed = 0;

  /** Every key an address value may be looked up by. */
  static keys(value: string): string[] {
    const plain = lower(value);
    const keys = [plain, lower(value.replace(/^smtp:/i, '')), plain.replace(/^smtp:/, '')];
    return keys.filter((k, i) => keys.indexOf(k) === i);
  }

  private static addressesOf(u: FixtureUser): string[] {
    // The id too: GET /users/{id | userPrincipalName} and `id in (...)` filters find users through the same keys.
    const values = [u.id, u.userPrincipalName, ...u.otherMails, ...u.proxyAddresses];
    if (u.mail !== null) values.push(u.mail);
    return [...new Set(values.flatMap((v) => UserIndex.keys(v)))];
  }

  /** Brings the index up to date with `users` (appends are indexed incrementally). */
  sync(users: FixtureUser[]): void {
    if (this.source !== users || users.length < this.indexed) this.clear(users);
    while (this.indexed < users.length) {
      const u = users[this.indexed];
      if (u) this.file(u, this.indexed);
      this.indexed++;
    }
  }

  /** Re-files a user whose addresses changed. */
  refile(u: FixtureUser): void {
    const at = this.position.get(u);
    if (at === undefined) return;
    this.unfile(u);
    this.file(u, at);
  }

  /** Users filed under any key of `value`, in tenant order (a superset of the exact matches). */
  candidates(value: string): FixtureUser[] {
    const found = new Set<FixtureUser>();
    for (const key of UserIndex.keys(value)) for (const u of this.byKey.get(key) ?? []) found.add(u);
    return this.inOrder(found);
  }

  byUserId(id: string): FixtureUser | undefined {
    return this.byId.get(id);
  }

  inOrder(users: Iterable<FixtureUser>): FixtureUser[] {
    return [...users].sort((a, b) => (this.position.get(a) ?? 0) - (this.position.get(b) ?? 0));
  }

  private clear(users: FixtureUser[]): void {
    this.byKey.clear();
    this.byId.clear();
    this.position.clear();
    this.keysOf.clear();
    this.source = users;
    this.indexed = 0;
  }

  private file(u: FixtureUser, at: number): void {
    this.position.set(u, at);
    // A scan returns the first user with an id: keep the earliest.
    if (!this.byId.has(u.id)) this.byId.set(u.id, u);
    const keys = UserIndex.addressesOf(u);
    this.keysOf.set(u, keys);
    for (const key of keys) {
      const bucket = this.byKey.get(key);
      if (bucket) bucket.push(u);
      else this.byKey.set(key, [u]);
    }
  }

  private unfile(u: FixtureUser): void {
    for (const key of this.keysOf.get(u) ?? []) {
      const bucket = (this.byKey.get(key) ?? []).filter((x) => x !== u);
      if (bucket.length > 0) this.byKey.set(key, bucket);
      else this.byKey.delete(key);
    }
    this.keysOf.delete(u);
  }
}

/** Graph's address match: mail, userPrincipalName, otherMails, proxyAddresses (without the smtp: prefix), case-insensitive. */
function hasAddress(u: FixtureUser, wanted: string): boolean {
  return (
    (u.mail !== null && lower(u.mail) === wanted) ||
    lower(u.userPrincipalName) === wanted ||
    u.otherMails.some((m) => lower(m) === wanted) ||
    u.proxyAddresses.some((p) => lower(p.replace(/^smtp:/i, '')) === wanted)
  );
}

/**
 * The tenant itself, without test hooks: what the Graph-shaped test server reads and writes.
 * Every refusal is the DirectoryError Graph's answer classifies to (see errors.ts).
 */
export class FakeTenantState {
  readonly fixture: TenantFixture;
  readonly invitations: RecordedInvitation[] = [];
  private counter: number;
  private readonly index = new UserIndex();

  constructor(
    fixture: TenantFixture,
    private readonly clock: Clock,
    idSeed: number,
  ) {
    this.fixture = cloneFixture(fixture);
    this.counter = idSeed;
  }

  now(): string {
    return this.clock.now().toISOString();
  }

  /** Deterministic GUID-shaped ids: tests can predict them. */
  nextId(kind: 'user' | 'invitation'): string {
    const n = this.counter++;
    return `${kind === 'user' ? 'a0e1b2c3' : 'b0e1b2c3'}-${hex(n, 4)}-4000-8000-${hex(n, 12)}`;
  }

  /** Graph's matching: mail, userPrincipalName, otherMails, proxyAddresses (without the smtp: prefix), case-insensitive. */
  usersByAddress(address: string): FixtureUser[] {
    const wanted = lower(address);
    return this.indexed().candidates(address).filter((u) => hasAddress(u, wanted));
  }

  /**
   * Users that may carry `value` as id, mail, userPrincipalName, otherMails or proxyAddresses
   * (with or without the prefix), in tenant order: a superset for a server-side $filter to narrow.
   */
  userCandidates(value: string): FixtureUser[] {
    return this.indexed().candidates(value);
  }

  /** Puts users in tenant order (for answers assembled from several look-ups). */
  inTenantOrder(users: Iterable<FixtureUser>): FixtureUser[] {
    return this.indexed().inOrder(users);
  }

  /** Adds a user to the tenant (and its indexes). */
  addUser(user: FixtureUser): void {
    this.fixture.users.push(user);
    this.indexed();
  }

  user(userId: string): FixtureUser | undefined {
    return this.indexed().byUserId(userId);
  }

  private indexed(): UserIndex {
    this.index.sync(this.fixture.users);
    return this.index;
  }

  group(groupId: string): FixtureGroup | undefined {
    return this.fixture.groups.find((g) => g.id === groupId);
  }

  ownedGroups(userId: string): FixtureGroup[] {
    return this.fixture.groups.filter((g) => g.owners.includes(userId));
  }

  /** The groups the user is a direct member of. */
  memberGroups(userId: string): FixtureGroup[] {
    return this.fixture.groups.filter((g) => g.members.includes(userId));
  }

  /** The users among the ids of a members or owners list (ids of deleted users are skipped, as Graph does). */
  usersAmong(ids: readonly string[]): FixtureUser[] {
    return ids.map((id) => this.user(id)).filter((u): u is FixtureUser => u !== undefined);
  }

  isVerifiedDomain(domain: string): boolean {
    return this.fixture.verifiedDomains.some((d) => lower(d) === lower(domain));
  }

  /** A copy of the policies alone: cloning the whole tenant here made every read grow with its users. */
  policies(): TenantPolicies {
    const policies = structuredClone(this.fixture.policies);
    return {
      tenantId: this.fixture.tenantId,
      tenantDisplayName: this.fixture.displayName,
      verifiedDomains: this.fixture.verifiedDomains.map(lower),
      ...policies,
    };
  }

  externalDomain(domain: string): ExternalDomainInfo {
    const d = lower(domain);
    if (this.isVerifiedDomain(d)) {
      return { domain: d, managedTenant: { tenantId: this.fixture.tenantId, displayName: this.fixture.displayName } };
    }
    const known = this.fixture.externalDomains.find((e) => lower(e.domain) === d);
    return { domain: d, managedTenant: known?.managedTenant ? { ...known.managedTenant } : null };
  }

  /** The checks POST /invitations makes before touching any user. */
  private checkInvitable(email: string): void {
    if (!hasEmailShape(email.trim())) {
      throw new DirectoryError('invalidInput', `"${email}" is not a valid email address.`, {
        graphCode: 'BadRequest',
        detail: 'invitedUserEmailAddress is not a valid email address',
      });
    }
    const { allowInvitesFrom, b2bDomainPolicy } = this.fixture.policies;
    // The bot invites app-only: Graph refuses apps unless members (or everyone) may invite.
    if (allowInvitesFrom === 'none' || allowInvitesFrom === 'adminsAndGuestInviters') {
      throw new DirectoryError('forbiddenByPolicy', USER_MESSAGES.invitesNotAllowed, {
        graphCode: GRAPH_ERRORS.invitesNotAllowed.code,
        detail: `authorizationPolicy.allowInvitesFrom is ${allowInvitesFrom}`,
      });
    }
    const domain = domainOf(email);
    if (this.isVerifiedDomain(domain)) {
      throw new DirectoryError('invalidInput', USER_MESSAGES.internalAddress, {
        graphCode: GRAPH_ERRORS.internalAddress.code,
        detail: GRAPH_ERRORS.internalAddress.message,
      });
    }
    const listed = (domains: string[]): boolean => domains.some((d) => lower(d) === domain);
    if (
      (b2bDomainPolicy.mode === 'blockList' && listed(b2bDomainPolicy.domains)) ||
      (b2bDomainPolicy.mode === 'allowList' && !listed(b2bDomainPolicy.domains))
    ) {
      throw new DirectoryError('forbiddenByPolicy', USER_MESSAGES.domainBlocked(domain), {
        graphCode: GRAPH_ERRORS.domainBlocked.code,
        detail: `b2bManagementPolicy.${b2bDomainPolicy.mode} refuses ${domain}`,
      });
    }
  }

  private recordInvitation(
    user: FixtureUser,
    email: string,
    displayName: string,
    input: { redirectUrl: string; sendInvitationMessage: boolean },
    resetRedemption: boolean,
  ): InvitationResult {
    const invitationId = this.nextId('invitation');
    const ticket = hex(this.counter * 2654435761, 8) + hex(this.counter, 8);
    const inner = `https://invitations.microsoft.com/redeem/?tenant=${this.fixture.tenantId}&user=${invitationId}&ticket=${ticket}&ver=2.0`;
    const redeemUrl = `https://login.microsoftonline.com/redeem?rd=${encodeURIComponent(inner)}`;
    this.invitations.push({
      invitationId,
      userId: user.id,
      email,
      displayName,
      redirectUrl: input.redirectUrl,
      redeemUrl,
      sendInvitationMessage: input.sendInvitationMessage,
      resetRedemption,
      at: this.now(),
    });
    return { invitationId, redeemUrl, userId: user.id, status: 'PendingAcceptance' };
  }

  invite(input: InvitationInput): InvitationResult {
    const email = input.email.trim();
    this.checkInvitable(email);
    // Graph re-invites an existing user (fresh redeem URL) rather than creating a second one.
    const existing = this.usersByAddress(email)[0];
    if (existing) return this.recordInvitation(existing, email, existing.displayName, input, false);

    const displayName = input.displayName.trim() || email.slice(0, email.indexOf('@'));
    const user: FixtureUser = {
      id: this.nextId('user'),
      displayName,
      mail: email,
      userPrincipalName: guestUserPrincipalName(email, this.fixture.initialDomain),
      otherMails: [email],
      proxyAddresses: [`SMTP:${email}`],
      kind: 'guest',
      externalUserState: 'PendingAcceptance',
      externalUserStateChangeDateTime: this.now(),
      identities: [],
    };
    this.addUser(user);
    return this.recordInvitation(user, email, displayName, input, false);
  }

  resetRedemption(userId: string, email: string, redirectUrl: string): InvitationResult {
    const user = this.user(userId);
    if (!user) throw notFound(`user ${userId}`);
    this.checkInvitable(email);
    const trimmed = email.trim();
    // A reset may move the guest to a new address: Graph updates mail and otherMails.
    if (user.mail === null || lower(user.mail) !== lower(trimmed)) {
      user.mail = trimmed;
      user.otherMails = [trimmed];
      user.proxyAddresses = [`SMTP:${trimmed}`];
      this.indexed().refile(user);
    }
    user.externalUserState = 'PendingAcceptance';
    user.externalUserStateChangeDateTime = this.now();
    user.identities = [];
    return this.recordInvitation(user, trimmed, user.displayName, { redirectUrl, sendInvitationMessage: false }, true);
  }

  /** One POST /groups/{id}/members/$ref: throws what Graph's 404 / 400 classify to. */
  addMember(groupId: string, userId: string): void {
    const group = this.group(groupId);
    if (!group) throw notFound(`group ${groupId}`);
    if (!this.user(userId)) throw notFound(`user ${userId}`);
    if (group.members.includes(userId)) {
      throw new DirectoryError('alreadyExists', USER_MESSAGES.alreadyMember, {
        graphCode: GRAPH_ERRORS.alreadyMember.code,
        detail: GRAPH_ERRORS.alreadyMember.message,
      });
    }
    group.members.push(userId);
  }

  /** The guest redeems: Accepted, now, and the identity the method leaves in `identities`. */
  redeem(userId: string, method: SignInMethod): FixtureUser {
    const user = this.user(userId);
    if (!user) throw notFound(`user ${userId}`);
    const email = user.mail ?? user.otherMails[0] ?? user.userPrincipalName;
    user.externalUserState = 'Accepted';
    user.externalUserStateChangeDateTime = this.now();
    user.identities = [this.identityFor(method, email)];
    return user;
  }

  private identityFor(method: SignInMethod, email: string): UserIdentity {
    const federated = (issuer: string, issuerAssignedId: string | null): UserIdentity => ({
      signInType: 'federated',
      issuer,
      issuerAssignedId,
    });
    switch (method) {
      case 'workOrSchoolAccount':
        return federated('ExternalAzureAD', null);
      case 'microsoftAccount':
      case 'createMicrosoftAccount':
        return federated('MicrosoftAccount', null);
      case 'googleFederation':
        return federated('google.com', email);
      case 'emailOneTimePasscode':
        return federated('mail', email);
      case 'samlWsFedFederation': {
        const domain = domainOf(email);
        const federation = this.fixture.policies.federatedDomains.find((f) => lower(f.domain) === domain);
        if (!federation?.issuerUri) {
          throw new DirectoryError('invalidInput', `No SAML/WS-Fed federation is configured for ${domain}.`);
        }
        return federated(federation.issuerUri, email);
      }
    }
  }
}

function notFound(what: string): DirectoryError {
  return new DirectoryError('notFound', USER_MESSAGES.notFound, {
    graphCode: GRAPH_ERRORS.notFound.code,
    detail: `${what} does not exist`,
  });
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
