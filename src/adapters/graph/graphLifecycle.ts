/**
 * The guest lifecycle over Graph: sponsors, sign-in (accountEnabled), deleting a guest, leaving a
 * group. Every write is idempotent ("already so" is success), so it is marked safe to send again
 * after a lost answer, and a missing permission comes back as a refusal naming the action.
 *
 * Requests and least-privileged application permissions (Graph v1.0 reference):
 * - POST   /users/{id}/sponsors/$ref          User.ReadWrite.All   https://learn.microsoft.com/graph/api/user-post-sponsors
 * - DELETE /users/{id}/sponsors/{id}/$ref     User.ReadWrite.All   https://learn.microsoft.com/graph/api/user-delete-sponsors
 * - GET    /users/{id}/sponsors               User.Read.All        https://learn.microsoft.com/graph/api/user-list-sponsors
 * - PATCH  /users/{id} { accountEnabled }     User.EnableDisableAccount.All + User.Read.All
 *                                                                  https://learn.microsoft.com/graph/api/user-update
 * - DELETE /users/{id}                        User.ReadWrite.All   https://learn.microsoft.com/graph/api/user-delete
 *   (soft delete: restorable for 30 days, with the user's group memberships)
 * - DELETE /groups/{id}/members/{id}/$ref     GroupMember.ReadWrite.All
 *                                                                  https://learn.microsoft.com/graph/api/group-delete-members
 * - GET    /users/{id}?$select=signInActivity AuditLog.Read.All + User.Read.All, and a tenant with
 *                                            Microsoft Entra ID P1 or P2 (403 otherwise)
 *                                                                  https://learn.microsoft.com/graph/api/user-get
 *                                                                  https://learn.microsoft.com/graph/api/resources/signinactivity
 * The `$ref` on both DELETEs matters: without it, an app allowed to manage the object deletes the
 * object itself (the sponsor's or member's account), not the link (both reference pages warn).
 */
import {
  DirectoryError,
  isDirectoryError,
  type AccountStatus,
  type DirectoryWriteAction,
  type GuestLifecycleFacts,
  type SignInActivityReading,
  type Sponsor,
} from '../../usecases/ports/Directory';
import { GRAPH_ERRORS, USER_MESSAGES } from './errors';
import type { GraphGroups } from './graphGroups';
import type { GraphTransport } from './graphTransport';
import { LIFECYCLE_SELECT, assertObjectId, query, type GraphSponsor, type GraphUser } from './graphWire';

export class GraphLifecycle {
  constructor(
    private readonly t: GraphTransport,
    private readonly groups: GraphGroups,
  ) {}

  async addSponsor(userId: string, sponsorId: string): Promise<'added' | 'alreadySponsor'> {
    const uid = assertObjectId(userId, 'user');
    const sid = assertObjectId(sponsorId, 'sponsor');
    try {
      await this.t.call({
        method: 'POST',
        path: `/users/${uid}/sponsors/$ref`,
        body: { '@odata.id': `${this.t.baseUrl}/v1.0/directoryObjects/${sid}` },
        idempotent: true,
      });
      return 'added';
    } catch (e) {
      if (isDirectoryError(e) && e.code === 'alreadyExists') return 'alreadySponsor';
      throw refusal(e, 'addSponsor');
    }
  }

  async removeSponsor(userId: string, sponsorId: string): Promise<'removed' | 'notSponsor'> {
    const uid = assertObjectId(userId, 'user');
    const sid = assertObjectId(sponsorId, 'sponsor');
    try {
      await this.t.call({ method: 'DELETE', path: `/users/${uid}/sponsors/${sid}/$ref`, idempotent: true });
      return 'removed';
    } catch (e) {
      if (!isDirectoryError(e) || e.code !== 'notFound') throw refusal(e, 'removeSponsor');
      // Graph answers 404 both for an unknown guest and for someone not on the list: tell them apart.
      if ((await this.readUser(uid, 'id')) === null) throw e;
      return 'notSponsor';
    }
  }

  async replaceSponsor(userId: string, from: string | null, to: string): Promise<void> {
    // The new sponsor first: a failure between the two steps leaves two sponsors, never none.
    await this.addSponsor(userId, to);
    if (from !== null && from.toLowerCase() !== to.toLowerCase()) await this.removeSponsor(userId, from);
  }

  /** Sponsors are users or groups: `accountEnabled` is selected for the users (groups have none). */
  async listSponsors(userId: string): Promise<Sponsor[]> {
    const uid = assertObjectId(userId, 'user');
    const sponsors = await this.t.listAll<GraphSponsor>(`/users/${uid}/sponsors${query({ $select: 'id,displayName,accountEnabled' })}`);
    return sponsors.map((s): Sponsor => {
      const kind = s['@odata.type'] === '#microsoft.graph.group' ? 'group' : 'user';
      return {
        id: s.id,
        displayName: s.displayName ?? '',
        kind,
        accountEnabled: kind === 'user' && typeof s.accountEnabled === 'boolean' ? s.accountEnabled : null,
      };
    });
  }

  async accountStatus(userId: string): Promise<AccountStatus> {
    const user = await this.readUser(assertObjectId(userId, 'user'), 'id,accountEnabled');
    if (user === null) return 'notFound';
    return user.accountEnabled === false ? 'disabled' : 'active';
  }

  async getGuestLifecycle(userId: string): Promise<GuestLifecycleFacts | null> {
    const uid = assertObjectId(userId, 'user');
    const user = await this.readUser(uid, LIFECYCLE_SELECT);
    if (user === null) return null;
    let memberOf;
    try {
      memberOf = await this.groups.listMemberGroups(uid);
    } catch (e) {
      // Deleted between the two reads.
      if (isDirectoryError(e) && e.code === 'notFound') return null;
      throw e;
    }
    const state = user.externalUserState;
    return {
      userId: user.id,
      kind: (user.userType ?? '').toLowerCase() === 'guest' ? 'guest' : 'member',
      externalUserState: state === 'PendingAcceptance' || state === 'Accepted' ? state : null,
      externalUserStateChangeDateTime: user.externalUserStateChangeDateTime ?? null,
      accountEnabled: user.accountEnabled !== false,
      createdDateTime: user.createdDateTime ?? null,
      memberOf,
    };
  }

  /**
   * The user's last sign-ins. A 403 is the tenant's answer, not a fault: no AuditLog.Read.All
   * (Authorization_RequestDenied) or no Entra ID P1/P2 (Authentication_RequestFromNonPremiumTenantOrB2CTenant).
   */
  async getSignInActivity(userId: string): Promise<SignInActivityReading | null> {
    const uid = assertObjectId(userId, 'user');
    let user: GraphUser | null;
    try {
      user = await this.readUser(uid, 'id,signInActivity');
    } catch (e) {
      if (isDirectoryError(e) && e.code === 'permissionMissing' && e.permission !== undefined) {
        return { kind: 'unavailable', reason: e.graphCode === GRAPH_ERRORS.nonPremiumTenant.code ? 'licenceMissing' : 'permissionMissing' };
      }
      throw e;
    }
    if (user === null) return null;
    const a = user.signInActivity ?? {};
    return {
      kind: 'known',
      activity: {
        lastSignInDateTime: a.lastSignInDateTime ?? null,
        lastNonInteractiveSignInDateTime: a.lastNonInteractiveSignInDateTime ?? null,
        lastSuccessfulSignInDateTime: a.lastSuccessfulSignInDateTime ?? null,
      },
    };
  }

  /** Reads userType first: the bot never blocks a member, whatever it is asked. No write when already so. */
  async setGuestSignIn(userId: string, enabled: boolean): Promise<void> {
    const uid = assertObjectId(userId, 'user');
    const user = await this.readUser(uid, 'id,userType,accountEnabled');
    if (user === null) throw new DirectoryError('notFound', USER_MESSAGES.notFound, { detail: `user ${uid} does not exist` });
    assertGuest(user);
    if ((user.accountEnabled !== false) === enabled) return;
    try {
      await this.t.call({ method: 'PATCH', path: `/users/${uid}`, body: { accountEnabled: enabled }, idempotent: true });
    } catch (e) {
      throw refusal(e, enabled ? 'unblockSignIn' : 'blockSignIn');
    }
  }

  async deleteGuest(userId: string): Promise<'deleted' | 'alreadyGone'> {
    const uid = assertObjectId(userId, 'user');
    const user = await this.readUser(uid, 'id,userType');
    if (user === null) return 'alreadyGone';
    assertGuest(user);
    try {
      // Idempotent: sent again after a lost answer, a 404 then means the first one did it.
      await this.t.call({ method: 'DELETE', path: `/users/${uid}`, idempotent: true });
      return 'deleted';
    } catch (e) {
      if (isDirectoryError(e) && e.code === 'notFound') return 'alreadyGone';
      throw refusal(e, 'deleteGuest');
    }
  }

  async removeMember(groupId: string, userId: string): Promise<'removed' | 'notMember'> {
    const gid = assertObjectId(groupId, 'group');
    const uid = assertObjectId(userId, 'user');
    try {
      await this.t.call({ method: 'DELETE', path: `/groups/${gid}/members/${uid}/$ref`, idempotent: true });
      return 'removed';
    } catch (e) {
      if (isDirectoryError(e) && e.code === 'notFound') return 'notMember';
      throw refusal(e, 'removeMember');
    }
  }

  /** GET /users/{id} with the given $select; null when the user does not exist. */
  private async readUser(uid: string, select: string): Promise<GraphUser | null> {
    try {
      return await this.t.call<GraphUser>({ method: 'GET', path: `/users/${uid}${query({ $select: select })}` });
    } catch (e) {
      if (isDirectoryError(e) && e.code === 'notFound') return null;
      throw e;
    }
  }
}

function assertGuest(user: GraphUser): void {
  if ((user.userType ?? '').toLowerCase() !== 'guest') {
    throw new DirectoryError('invalidInput', USER_MESSAGES.memberNotGuest, { detail: 'refused before calling Graph: not a guest' });
  }
}

/** A missing permission on a lifecycle write, with the action named; anything else unchanged. */
export function refusal(e: unknown, action: DirectoryWriteAction): unknown {
  if (!isDirectoryError(e) || e.code !== 'permissionMissing' || e.permission === undefined) return e;
  return new DirectoryError('permissionMissing', e.userMessage, {
    cause: e.cause ?? e,
    permission: e.permission,
    graphCode: e.graphCode,
    action,
    detail: `${action} refused`,
  });
}
