/** Groups over Graph: membership adds (batched, "already a member" is success), owners, members and sites. */
import { isDirectoryError, type AddMembersResult } from '../../usecases/ports/Directory';
import type { GroupInfo, UserSummary } from '../../domain/tenant';
import { GRAPH_BATCH_LIMIT, GraphTransport } from './graphTransport';
import { GROUP_SELECT, type GraphGroup, type GraphUserSummary, asDirectoryError, assertObjectId, chunks, query } from './graphWire';

export class GraphGroups {
  constructor(private readonly t: GraphTransport) {}

  async addMembers(groupId: string, userIds: readonly string[]): Promise<AddMembersResult> {
    const gid = assertObjectId(groupId, 'group');
    const ids = [...new Set(userIds.map((u) => assertObjectId(u, 'user')))];
    const result: AddMembersResult = { added: [], alreadyMembers: [], failed: [] };
    if (ids.length === 1) {
      await this.addOneMember(gid, ids[0] as string, result);
      return result;
    }
    for (const chunk of chunks(ids, GRAPH_BATCH_LIMIT)) {
      try {
        await this.t.call({
          method: 'PATCH',
          path: `/groups/${gid}`,
          body: { 'members@odata.bind': chunk.map((id) => this.directoryObjectRef(id)) },
          idempotent: true,
        });
        result.added.push(...chunk);
      } catch (e) {
        const error = asDirectoryError(e);
        // The PATCH is all-or-nothing: one existing (or unknown) member fails the chunk. Add that
        // chunk one by one so already-members are reported as such and only real failures fail.
        if (error.code === 'alreadyExists' || error.code === 'notFound' || error.code === 'invalidInput') {
          for (const id of chunk) await this.addOneMember(gid, id, result);
        } else {
          for (const id of chunk) result.failed.push({ userId: id, error });
        }
      }
    }
    return result;
  }

  private async addOneMember(groupId: string, userId: string, result: AddMembersResult): Promise<void> {
    try {
      await this.t.call({
        method: 'POST',
        path: `/groups/${groupId}/members/$ref`,
        body: { '@odata.id': this.directoryObjectRef(userId) },
        idempotent: true,
      });
      result.added.push(userId);
    } catch (e) {
      const error = asDirectoryError(e);
      if (error.code === 'alreadyExists') result.alreadyMembers.push(userId);
      else result.failed.push({ userId, error });
    }
  }

  private directoryObjectRef(id: string): string {
    return `${this.t.baseUrl}/v1.0/directoryObjects/${id}`;
  }

  async listOwnedGroups(userId: string): Promise<GroupInfo[]> {
    const id = assertObjectId(userId, 'user');
    // The cast keeps only groups (a user can also own applications, devices, service principals).
    const owned = await this.t.listAll<GraphGroup>(`/users/${id}/ownedObjects/microsoft.graph.group${query({ $select: GROUP_SELECT })}`);
    const groups = owned.filter((o) => o['@odata.type'] === undefined || o['@odata.type'] === '#microsoft.graph.group');
    return Promise.all(groups.map((g) => this.toGroupInfo(g)));
  }

  async getGroup(groupId: string): Promise<GroupInfo | null> {
    const id = assertObjectId(groupId, 'group');
    try {
      const group = await this.t.call<GraphGroup>({ method: 'GET', path: `/groups/${id}${query({ $select: GROUP_SELECT })}` });
      return await this.toGroupInfo(group);
    } catch (e) {
      if (isDirectoryError(e) && e.code === 'notFound') return null;
      throw e;
    }
  }

  /**
   * Owners lists are short (at most 100), so reading them is cheap and, unlike a `$filter` on the
   * owners link (an advanced, eventually consistent query), reflects a change at once: this
   * answers rights checks.
   */
  async isOwner(groupId: string, userId: string): Promise<boolean> {
    const gid = assertObjectId(groupId, 'group');
    const uid = assertObjectId(userId, 'user');
    try {
      const owners = await this.t.listAll<{ id: string }>(`/groups/${gid}/owners${query({ $select: 'id' })}`);
      return owners.some((o) => o.id.toLowerCase() === uid);
    } catch (e) {
      if (isDirectoryError(e) && e.code === 'notFound') return false;
      throw e;
    }
  }

  /** Member lists can be huge: ask the directory about this one user (a read, though sent as POST). */
  async isMember(groupId: string, userId: string): Promise<boolean> {
    const gid = assertObjectId(groupId, 'group');
    const uid = assertObjectId(userId, 'user');
    try {
      const answer = await this.t.call<{ value?: string[] }>({
        method: 'POST',
        path: `/users/${uid}/checkMemberGroups`,
        body: { groupIds: [gid] },
        idempotent: true,
      });
      return (answer.value ?? []).some((id) => id.toLowerCase() === gid);
    } catch (e) {
      if (isDirectoryError(e) && e.code === 'notFound') return false;
      throw e;
    }
  }

  /**
   * The cast to microsoft.graph.user keeps only users (and pages over users only). Direct
   * members/owners with a cast are a default query, not an advanced one: no ConsistencyLevel,
   * so a member added a moment ago is listed.
   */
  async listGroupMembers(groupId: string): Promise<UserSummary[]> {
    const id = assertObjectId(groupId, 'group');
    return this.listUsersOf(`/groups/${id}/members/microsoft.graph.user`);
  }

  async listGroupOwners(groupId: string): Promise<UserSummary[]> {
    const id = assertObjectId(groupId, 'group');
    return this.listUsersOf(`/groups/${id}/owners/microsoft.graph.user`);
  }

  private async listUsersOf(path: string): Promise<UserSummary[]> {
    const users = await this.t.listAll<GraphUserSummary>(`${path}${query({ $select: 'id,displayName' })}`);
    const summaries = users
      .filter((u) => u['@odata.type'] === undefined || u['@odata.type'] === '#microsoft.graph.user')
      .map((u): UserSummary => ({ id: u.id, displayName: u.displayName ?? '' }));
    // Graph answers with ids only (other properties null) for objects the app may not read.
    if (users.some((u) => u.displayName == null)) {
      this.t.log?.warn({ permission: 'User.Read.All' }, 'Graph returned users without names: the app cannot read users');
    }
    return summaries;
  }

  /** Direct memberships, cast to groups (roles and administrative units left out); no site lookups. */
  async listMemberGroups(userId: string): Promise<GroupInfo[]> {
    const id = assertObjectId(userId, 'user');
    const groups = await this.t.listAll<GraphGroup>(`/users/${id}/memberOf/microsoft.graph.group${query({ $select: 'id,displayName,mail' })}`);
    if (groups.some((g) => g.displayName == null)) {
      this.t.log?.warn({ permission: 'GroupMember.Read.All' }, 'Graph returned groups without names: the app cannot read groups');
    }
    return groups
      .filter((g) => g['@odata.type'] === undefined || g['@odata.type'] === '#microsoft.graph.group')
      .map((g): GroupInfo => ({ id: g.id, displayName: g.displayName ?? '', mail: g.mail ?? null, siteUrl: null }));
  }

  private async toGroupInfo(group: GraphGroup): Promise<GroupInfo> {
    return {
      id: group.id,
      displayName: group.displayName ?? '',
      mail: group.mail ?? null,
      siteUrl: (group.groupTypes ?? []).includes('Unified') ? await this.groupSiteUrl(group.id) : null,
    };
  }

  /** The team site of a Microsoft 365 group; null when it has none yet or Sites.Read.All is not granted. */
  private async groupSiteUrl(groupId: string): Promise<string | null> {
    try {
      const site = await this.t.call<{ webUrl?: string }>({ method: 'GET', path: `/groups/${groupId}/sites/root${query({ $select: 'webUrl' })}` });
      return site.webUrl ?? null;
    } catch (e) {
      if (isDirectoryError(e) && (e.code === 'notFound' || e.code === 'permissionMissing')) {
        if (e.code === 'permissionMissing') this.t.log?.warn({ permission: e.permission }, 'cannot read group sites; site URLs unknown');
        return null;
      }
      throw e;
    }
  }

}
