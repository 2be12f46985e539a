import type { Directory } from '../../usecases/ports/Directory';
import type { Actor } from '../../domain/actor';

/**
 * Who is reading the help card. A person can be more than one (an approver who owns a site).
 * owner: owns at least one site (Microsoft 365 group); member: in the organisation, owns none;
 * approver: in the approver group; guest: a B2B guest here; unknown: not found, or another tenant.
 */
export type HelpAudience = 'owner' | 'member' | 'approver' | 'guest' | 'unknown';

export type HelpReaderLookup = (actor: Actor | null) => Promise<HelpAudience[]>;

/** Reads the audience from the directory; any failure gives 'unknown' (help must always answer). */
export function helpReaderLookup(directory: Directory, approverGroupId: string | null): HelpReaderLookup {
  return async (actor) => {
    if (!actor) return ['unknown'];
    try {
      const policies = await directory.readPolicies();
      if (actor.tenantId !== policies.tenantId) return ['unknown'];
      const user = await directory.getUser(actor.userId);
      if (!user) return ['unknown'];
      if (user.kind === 'guest') return ['guest'];
      const [owned, approver] = await Promise.all([
        directory.listOwnedGroups(actor.userId),
        approverGroupId ? directory.isMember(approverGroupId, actor.userId) : Promise.resolve(false),
      ]);
      const audiences: HelpAudience[] = [owned.length > 0 ? 'owner' : 'member'];
      if (approver) audiences.push('approver');
      return audiences;
    } catch {
      return ['unknown'];
    }
  };
}
