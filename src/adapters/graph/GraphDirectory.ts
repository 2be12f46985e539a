/**
 * The Directory port over Microsoft Graph (v1.0; beta only for b2bManagementPolicies).
 *
 * HTTP goes through @microsoft/microsoft-graph-client with a middleware chain of our own:
 *   telemetry (request span) → BaseUrlAuthenticationHandler → RetryHandler (SDK) → ConnectionResetHandler
 *   → RequestTimeoutHandler → telemetry (each attempt) → HTTPMessageHandler
 * - The SDK's AuthenticationHandler only attaches the token to the public Graph hosts, or to
 *   `customHosts` — and then only for https URLs. A configured GRAPH_BASE_URL (national cloud,
 *   the http test server) would silently get no Authorization header, so our handler attaches
 *   it to exactly the configured origin, and to nothing else (a nextLink elsewhere gets no token).
 * - RetryHandler retries 429/503/504 honouring Retry-After, with a bound (maxRetries) and a
 *   scalable clock for tests. It also retries POSTs: a 429 or 503 means Graph did not process the
 *   request, so repeating it is safe. A 504 does not mean that (the gateway gave up, the work may
 *   have been done), so an invitation POST is never repeated after a 504; see invite().
 * - ConnectionResetHandler retries a request that got no answer at all (connection reset,
 *   socket closed) only when it is idempotent: GETs, a $batch of GETs, and membership adds
 *   (adding an existing member is answered "already exist", which we count as success).
 *   Anything else surfaces as a NoResponse failure the caller decides about.
 * - RequestTimeoutHandler gives each attempt `requestTimeoutMs` to answer, body included (an
 *   AbortController on the fetch): a request that hangs, with neither answer nor reset, then
 *   counts as "no answer", so it is retried like a reset, and a lost invitation answer is
 *   recovered the same way (see invite()).
 *
 * Files: the client and its chain are built in graphTransport.ts (middleware in graphMiddleware.ts);
 * groups and policies are read by graphGroups.ts and graphPolicies.ts; wire shapes in graphWire.ts.
 */
import {
  DirectoryError,
  isDirectoryError,
  type AccountStatus,
  type AddMembersResult,
  type Directory,
  type GuestLifecycleFacts,
  type SignInActivityReading,
  type InvitationInput,
  type InvitationResult,
  type Sponsor,
} from '../../usecases/ports/Directory';
import type { DirectoryUser, ExternalDomainInfo, GroupInfo, TenantPolicies, UserSummary } from '../../domain/tenant';
import { USER_MESSAGES } from './errors';
import { assertInvitableEmail, lookupAddress } from './emailSafety';
import { normaliseDomain } from '../../domain/email';
import { GRAPH_BATCH_LIMIT, type GraphDirectoryOptions, GraphTransport } from './graphTransport';
import {
  assertObjectId,
  assertRedirectUrl,
  chunks,
  isOutcomeUnknown,
  odataString,
  query,
  toDirectoryUser,
  toInvitationResult,
  userByEmailPath,
  userHasAddress,
  GUID,
  USER_SELECT,
  type GraphCollection,
  type GraphInvitation,
  type GraphUser,
} from './graphWire';
import { GraphGroups } from './graphGroups';
import { GraphLifecycle } from './graphLifecycle';
import { GraphPolicyReader } from './graphPolicies';

export class GraphDirectory implements Directory {
  private readonly t: GraphTransport;
  private readonly groups: GraphGroups;
  private readonly policies: GraphPolicyReader;
  private readonly lifecycle: GraphLifecycle;
  private tenantId: string | undefined;

  constructor(options: GraphDirectoryOptions) {
    this.t = new GraphTransport(options);
    this.groups = new GraphGroups(this.t);
    this.policies = new GraphPolicyReader(this.t);
    this.lifecycle = new GraphLifecycle(this.t, this.groups);
    this.tenantId = options.tenantId;
  }

  // ------------------------------------------------------------------------------------------
  // Users.

  async findUserByEmail(email: string): Promise<DirectoryUser | null> {
    const key = lookupAddress(email);
    if (key === null) return null;
    const page = await this.t.call<GraphCollection<GraphUser>>({ method: 'GET', path: userByEmailPath(key) });
    return this.pickUser(page.value ?? [], key);
  }

  async findUsersByEmail(emails: readonly string[]): Promise<Map<string, DirectoryUser>> {
    const keys = [...new Set(emails.map(lookupAddress).filter((k): k is string => k !== null))];
    const found = new Map<string, DirectoryUser>();
    for (const group of chunks(keys, GRAPH_BATCH_LIMIT)) {
      const requests = group.map((key, i) => ({ id: String(i + 1), method: 'GET', url: userByEmailPath(key) }));
      const answers = await this.t.batch(requests);
      group.forEach((key, i) => {
        const body = answers.get(String(i + 1)) as GraphCollection<GraphUser> | undefined;
        const user = this.pickUser(body?.value ?? [], key);
        if (user) found.set(key, user);
      });
    }
    return found;
  }

  async getUser(userId: string): Promise<DirectoryUser | null> {
    const id = assertObjectId(userId, 'user');
    try {
      const user = await this.t.call<GraphUser>({ method: 'GET', path: `/users/${id}${query({ $select: USER_SELECT })}` });
      return toDirectoryUser(user);
    } catch (e) {
      if (isDirectoryError(e) && e.code === 'notFound') return null;
      throw e;
    }
  }

  private pickUser(users: GraphUser[], key: string): DirectoryUser | null {
    const match = users.find((u) => userHasAddress(u, key));
    return match ? toDirectoryUser(match) : null;
  }

  // ------------------------------------------------------------------------------------------
  // Invitations.

  async invite(input: InvitationInput): Promise<InvitationResult> {
    const email = assertInvitableEmail(input.email);
    const redirectUrl = assertRedirectUrl(input.redirectUrl);
    const displayName = input.displayName.trim();
    const body: Record<string, unknown> = {
      invitedUserEmailAddress: email.address,
      inviteRedirectUrl: redirectUrl,
      sendInvitationMessage: input.sendInvitationMessage,
    };
    if (displayName) body.invitedUserDisplayName = displayName;
    if (input.message !== undefined && input.message.trim() !== '') {
      body.invitedUserMessageInfo = { customizedMessageBody: input.message };
    }
    if (input.sponsorIds === undefined) return this.postInvitation(email.key, body, input.maySend);

    // invitedUserSponsors: [{ id }] (https://learn.microsoft.com/graph/api/resources/invitation).
    const sponsorIds = [...new Set(input.sponsorIds.map((id) => id.toLowerCase()))];
    if (sponsorIds.length === 0 || !sponsorIds.every((id) => GUID.test(id))) {
      return { ...(await this.postInvitation(email.key, body, input.maySend)), sponsorsSet: sponsorIds.length === 0 };
    }
    try {
      const result = await this.postInvitation(email.key, { ...body, invitedUserSponsors: sponsorIds.map((id) => ({ id })) }, input.maySend);
      // A recovered invitation's sponsors are unknown: the caller adds them (idempotently).
      return { ...result, sponsorsSet: result.recovered !== true };
    } catch (e) {
      if (!refusedForSponsors(e)) throw e;
      // Graph answered, so the invitation was not made: send it without the sponsors it refused.
      this.t.log?.warn({ code: e.code, graphCode: e.graphCode }, 'invitation refused with sponsors; sending it without them');
      return { ...(await this.postInvitation(email.key, body, input.maySend)), sponsorsSet: false };
    }
  }

  private async postInvitation(key: string, body: Record<string, unknown>, maySend?: () => boolean): Promise<InvitationResult> {
    try {
      return toInvitationResult(
        await this.t.call<GraphInvitation>({ method: 'POST', path: '/invitations', body, maySend }),
      );
    } catch (e) {
      if (!isDirectoryError(e) || !isOutcomeUnknown(e)) throw e;
      return this.recoverInvitation(key, body, e, maySend);
    }
  }

  /**
   * The invitation POST's answer was lost (connection reset) or was a 504, so we do not know
   * whether Graph created the guest. Never re-POST blindly:
   * 1. look the address up (a default, consistent query);
   * 2. found → the invitation went through (or the guest already existed, which POST would also
   *    have accepted): return a result built from the user, `recovered: true`. The personal
   *    redeem URL only ever came in the lost answer, so redeemUrl is the tenant-context My Apps
   *    link, through which a guest can also redeem (Microsoft documents direct-link redemption);
   * 3. not found and the POST got no answer at all → Graph did not create the user; one new POST
   *    is safe (and Graph keys invitations by address, so even a late-replicating first attempt
   *    would be answered with the same user, not a second one);
   * 4. not found after a 504 → that POST got an answer, so it is not repeated: the caller gets a
   *    transient error and its idempotency key makes a later retry safe.
   */
  private async recoverInvitation(key: string, body: Record<string, unknown>, failure: DirectoryError, maySend?: () => boolean): Promise<InvitationResult> {
    this.t.log?.warn({ domain: key.split('@')[1], graphCode: failure.graphCode }, 'invitation outcome unknown; checking the directory');
    const existing = await this.findUserByEmail(key);
    if (existing) {
      return {
        invitationId: '',
        redeemUrl: await this.tenantSignInUrl(),
        userId: existing.id,
        status: existing.externalUserState ?? 'PendingAcceptance',
        recovered: true,
      };
    }
    if (failure.graphCode !== 'NoResponse') throw failure;
    try {
      return toInvitationResult(
        await this.t.call<GraphInvitation>({ method: 'POST', path: '/invitations', body, maySend }),
      );
    } catch (e) {
      if (isDirectoryError(e) && isOutcomeUnknown(e)) {
        throw new DirectoryError(
          'transient',
          'Microsoft Graph did not confirm the invitation. Please try again in a moment: it will not be sent twice.',
          { cause: e, graphCode: e.graphCode, detail: 'second invitation attempt also unanswered' },
        );
      }
      throw e;
    }
  }

  async resetRedemption(userId: string, email: string, redirectUrl: string): Promise<InvitationResult> {
    const id = assertObjectId(userId, 'user');
    const address = assertInvitableEmail(email).address;
    const body = {
      invitedUserEmailAddress: address,
      inviteRedirectUrl: assertRedirectUrl(redirectUrl),
      sendInvitationMessage: false,
      resetRedemption: true,
      invitedUser: { id },
    };
    try {
      return toInvitationResult(
        await this.t.call<GraphInvitation>({ method: 'POST', path: '/invitations', body }),
      );
    } catch (e) {
      if (isDirectoryError(e) && e.code === 'permissionMissing' && e.permission) {
        // Resetting redemption needs more than inviting: name the permission an admin must add.
        throw new DirectoryError('permissionMissing', USER_MESSAGES.permissionMissing('User.ReadWrite.All'), {
          cause: e,
          permission: 'User.ReadWrite.All',
          graphCode: e.graphCode,
        });
      }
      if (isDirectoryError(e) && isOutcomeUnknown(e)) {
        throw new DirectoryError(
          'transient',
          'Microsoft Graph did not confirm the reset. Check the guest in a moment before trying again.',
          { cause: e, graphCode: e.graphCode },
        );
      }
      throw e;
    }
  }

  private async tenantSignInUrl(): Promise<string> {
    if (!this.tenantId) {
      const org = await this.t.call<GraphCollection<{ id: string }>>({ method: 'GET', path: `/organization${query({ $select: 'id' })}` });
      this.tenantId = org.value?.[0]?.id;
    }
    return this.tenantId ? `https://myapps.microsoft.com/?tenantid=${this.tenantId}` : 'https://myapps.microsoft.com/';
  }

  // ------------------------------------------------------------------------------------------
  // Groups (./graphGroups.ts).

  addMembers(groupId: string, userIds: readonly string[]): Promise<AddMembersResult> {
    return this.groups.addMembers(groupId, userIds);
  }

  listOwnedGroups(userId: string): Promise<GroupInfo[]> {
    return this.groups.listOwnedGroups(userId);
  }

  getGroup(groupId: string): Promise<GroupInfo | null> {
    return this.groups.getGroup(groupId);
  }

  isOwner(groupId: string, userId: string): Promise<boolean> {
    return this.groups.isOwner(groupId, userId);
  }

  isMember(groupId: string, userId: string): Promise<boolean> {
    return this.groups.isMember(groupId, userId);
  }

  listGroupMembers(groupId: string): Promise<UserSummary[]> {
    return this.groups.listGroupMembers(groupId);
  }

  listGroupOwners(groupId: string): Promise<UserSummary[]> {
    return this.groups.listGroupOwners(groupId);
  }

  listMemberGroups(userId: string): Promise<GroupInfo[]> {
    return this.groups.listMemberGroups(userId);
  }

  // ------------------------------------------------------------------------------------------
  // Guest lifecycle (./graphLifecycle.ts).

  addSponsor(userId: string, sponsorId: string): Promise<'added' | 'alreadySponsor'> {
    return this.lifecycle.addSponsor(userId, sponsorId);
  }

  removeSponsor(userId: string, sponsorId: string): Promise<'removed' | 'notSponsor'> {
    return this.lifecycle.removeSponsor(userId, sponsorId);
  }

  replaceSponsor(userId: string, from: string | null, to: string): Promise<void> {
    return this.lifecycle.replaceSponsor(userId, from, to);
  }

  listSponsors(userId: string): Promise<Sponsor[]> {
    return this.lifecycle.listSponsors(userId);
  }

  accountStatus(userId: string): Promise<AccountStatus> {
    return this.lifecycle.accountStatus(userId);
  }

  getGuestLifecycle(userId: string): Promise<GuestLifecycleFacts | null> {
    return this.lifecycle.getGuestLifecycle(userId);
  }

  getSignInActivity(userId: string): Promise<SignInActivityReading | null> {
    return this.lifecycle.getSignInActivity(userId);
  }

  setGuestSignIn(userId: string, enabled: boolean): Promise<void> {
    return this.lifecycle.setGuestSignIn(userId, enabled);
  }

  deleteGuest(userId: string): Promise<'deleted' | 'alreadyGone'> {
    return this.lifecycle.deleteGuest(userId);
  }

  removeMember(groupId: string, userId: string): Promise<'removed' | 'notMember'> {
    return this.lifecycle.removeMember(groupId, userId);
  }

  // ------------------------------------------------------------------------------------------
  // Policies (./graphPolicies.ts).

  async readPolicies(): Promise<TenantPolicies> {
    const policies = await this.policies.read();
    this.tenantId = policies.tenantId;
    return policies;
  }

  async lookupExternalDomain(domain: string): Promise<ExternalDomainInfo> {
    const name = normaliseDomain(domain).toLowerCase();
    if (!/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$/.test(name)) {
      throw new DirectoryError('invalidInput', `'${domain}' is not a valid domain name.`, { detail: 'refused before calling Graph' });
    }
    try {
      const info = await this.t.call<{ tenantId?: string; displayName?: string }>({
        method: 'GET',
        path: `/tenantRelationships/findTenantInformationByDomainName(domainName=${encodeURIComponent(odataString(name))})`,
      });
      return info.tenantId
        ? { domain: name, managedTenant: { tenantId: info.tenantId, displayName: info.displayName ?? '' } }
        : { domain: name, managedTenant: null };
    } catch (e) {
      // 404: no Entra tenant owns the domain.
      if (isDirectoryError(e) && e.code === 'notFound') return { domain: name, managedTenant: null };
      throw e;
    }
  }
}

/**
 * An invitation Graph refused because of its sponsors: an unknown sponsor (404, 400) or a
 * permission the sponsors need. Policy refusals and the internal-address refusal are about the
 * guest, not the sponsors, and would be refused again.
 */
function refusedForSponsors(e: unknown): e is DirectoryError {
  if (!isDirectoryError(e)) return false;
  if (e.code === 'notFound') return true;
  if (e.code === 'permissionMissing') return e.permission !== undefined;
  return e.code === 'invalidInput' && e.userMessage !== USER_MESSAGES.internalAddress && !/refused before calling Graph/.test(e.message);
}
