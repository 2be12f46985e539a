/** The demo tenant's state: users, groups, policies and invitations, with Graph's rules for each write. */
import type { Clock } from '../../domain/clock';
import type { InvitationInput, InvitationResult } from '../../usecases/ports/Directory';
import type { ExternalDomainInfo, TenantPolicies, UserIdentity } from '../../domain/tenant';
import { DirectoryError } from '../../usecases/ports/Directory';
import type { SignInMethod } from '../../domain/signInAdvice';
import { GRAPH_ERRORS, USER_MESSAGES } from '../graph/errors';
import { cloneFixture, type FixtureGroup, type FixtureUser, type TenantFixture } from './fixture';
import { guestUserPrincipalName } from './demoTenant';
import { UserIndex, domainOf, hasAddress, hasEmailShape, hex, lower } from './userIndex';

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

/**
 * The tenant itself, without test hooks: what the Graph-shaped test server reads and writes.
 * Every refusal is the DirectoryError Graph's answer classifies to (see errors.ts).
 */
export class FakeTenantState {
  readonly fixture: TenantFixture;
  readonly invitations: RecordedInvitation[] = [];
  /**
   * Graph application permissions this tenant has not granted the bot (test hook): FakeDirectory
   * refuses the calls needing them, and the Graph-shaped test server answers them 403
   * Authorization_RequestDenied, as Graph does.
   */
  readonly deniedPermissions = new Set<string>();
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
    const sponsorIds = [...new Set(input.sponsorIds ?? [])];
    // invitedUserSponsors must name existing users or groups: Graph refuses the whole invitation otherwise.
    const unknownSponsor = sponsorIds.find((id) => !this.user(id) && !this.group(id));
    if (unknownSponsor !== undefined) throw notFound(`sponsor ${unknownSponsor}`);
    // Graph re-invites an existing user (fresh redeem URL) rather than creating a second one.
    const existing = this.usersByAddress(email)[0];
    if (existing) {
      existing.sponsors = [...new Set([...(existing.sponsors ?? []), ...sponsorIds])];
      return this.recordInvitation(existing, email, existing.displayName, input, false);
    }

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
      accountEnabled: true,
      createdDateTime: this.now(),
      sponsors: sponsorIds,
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

  // ---- guest lifecycle: sponsors, sign-in, deletion, leaving a group ----

  /** The user's sponsors that still exist, users or groups, in the order they were added. */
  sponsorsOf(userId: string): Array<{ kind: 'user'; user: FixtureUser } | { kind: 'group'; group: FixtureGroup }> {
    const user = this.user(userId);
    if (!user) throw notFound(`user ${userId}`);
    const out: Array<{ kind: 'user'; user: FixtureUser } | { kind: 'group'; group: FixtureGroup }> = [];
    for (const id of user.sponsors ?? []) {
      const sponsorUser = this.user(id);
      if (sponsorUser) out.push({ kind: 'user', user: sponsorUser });
      else {
        const group = this.group(id);
        if (group) out.push({ kind: 'group', group });
      }
    }
    return out;
  }

  /** POST /users/{id}/sponsors/$ref: 404 for an unknown user or sponsor, 400 "already exist" for a sponsor already there. */
  addSponsor(userId: string, sponsorId: string): void {
    const user = this.user(userId);
    if (!user) throw notFound(`user ${userId}`);
    if (!this.user(sponsorId) && !this.group(sponsorId)) throw notFound(`sponsor ${sponsorId}`);
    const sponsors = user.sponsors ?? [];
    if (sponsors.includes(sponsorId)) {
      throw new DirectoryError('alreadyExists', USER_MESSAGES.alreadySponsor, {
        graphCode: GRAPH_ERRORS.alreadySponsor.code,
        detail: GRAPH_ERRORS.alreadySponsor.message,
      });
    }
    user.sponsors = [...sponsors, sponsorId];
  }

  /** DELETE /users/{id}/sponsors/{sponsorId}/$ref: 404 for an unknown user or a sponsor not on the list. */
  removeSponsor(userId: string, sponsorId: string): void {
    const user = this.user(userId);
    if (!user) throw notFound(`user ${userId}`);
    const sponsors = user.sponsors ?? [];
    if (!sponsors.includes(sponsorId)) throw notFound(`sponsor ${sponsorId} of user ${userId}`);
    user.sponsors = sponsors.filter((id) => id !== sponsorId);
  }

  /** PATCH /users/{id} { accountEnabled }. */
  setAccountEnabled(userId: string, enabled: boolean): void {
    const user = this.user(userId);
    if (!user) throw notFound(`user ${userId}`);
    user.accountEnabled = enabled;
  }

  /**
   * DELETE /users/{id}: the user leaves the tenant, their group memberships and ownerships and
   * the sponsor lists they were on (Graph keeps a soft-deleted user out of every relationship).
   */
  deleteUser(userId: string): void {
    if (!this.user(userId)) throw notFound(`user ${userId}`);
    // A new array: the address index notices and rebuilds (see UserIndex.sync).
    this.fixture.users = this.fixture.users.filter((u) => u.id !== userId);
    for (const g of this.fixture.groups) {
      g.members = g.members.filter((id) => id !== userId);
      g.owners = g.owners.filter((id) => id !== userId);
    }
    for (const u of this.fixture.users) {
      if (u.sponsors?.includes(userId)) u.sponsors = u.sponsors.filter((id) => id !== userId);
    }
  }

  /** DELETE /groups/{id}/members/{userId}/$ref: 404 for an unknown group or user, or someone not in the group. */
  removeMember(groupId: string, userId: string): void {
    const group = this.group(groupId);
    if (!group) throw notFound(`group ${groupId}`);
    if (!group.members.includes(userId)) throw notFound(`member ${userId} of group ${groupId}`);
    group.members = group.members.filter((id) => id !== userId);
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

export function notFound(what: string): DirectoryError {
  return new DirectoryError('notFound', USER_MESSAGES.notFound, {
    graphCode: GRAPH_ERRORS.notFound.code,
    detail: `${what} does not exist`,
  });
}
