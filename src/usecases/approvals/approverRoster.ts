/**
 * Who to send approval cards to. The Directory port checks single memberships (used for every
 * click) but has no "list members" yet; these rosters fill that gap until it does.
 */
import type { ApproverRoster, RosterEntry } from './runtime';

/** A tenant held in memory (FakeDirectory's `state`): groups list owner and member ids. */
export interface InMemoryTenant {
  group(groupId: string): { owners: string[]; members: string[] } | undefined;
  user(userId: string): { id: string; displayName: string } | undefined;
}

/** Reads the in-memory tenant live (local mode and tests), so membership changes show at once. */
export function inMemoryRoster(tenant: InMemoryTenant): ApproverRoster {
  const entries = (ids: readonly string[]): RosterEntry[] =>
    ids.flatMap((id) => {
      const user = tenant.user(id);
      return user ? [{ id: user.id, displayName: user.displayName }] : [];
    });
  return {
    listGroupMembers: async (groupId) => entries(tenant.group(groupId)?.members ?? []),
    listGroupOwners: async (groupId) => entries(tenant.group(groupId)?.owners ?? []),
  };
}

/** A directory that can list a group (GET /groups/{id}/members and /owners, `microsoft.graph.user` only). */
export interface GroupListing {
  listGroupMembers(groupId: string): Promise<Array<{ id: string; displayName: string }>>;
  listGroupOwners(groupId: string): Promise<Array<{ id: string; displayName: string }>>;
}

/** For the Graph directory once it offers group listing (requested as an additive Directory change). */
export function directoryRoster(directory: GroupListing): ApproverRoster {
  return {
    listGroupMembers: async (groupId) => (await directory.listGroupMembers(groupId)).map(({ id, displayName }) => ({ id, displayName })),
    listGroupOwners: async (groupId) => (await directory.listGroupOwners(groupId)).map(({ id, displayName }) => ({ id, displayName })),
  };
}
