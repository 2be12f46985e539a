import type { Actor } from '../../domain/actor';
import type { LifecycleRole } from '../../domain/lifecycle';
import type { LifecycleDeps } from './model';
import type { GuestAccessRecord, NoticeRecipient } from './ports';

/**
 * The roles `actor` holds over one guest's access, asked at the click (never taken from the
 * card): sponsor (the record's sponsor), owner (an owner of the site's group now), approver
 * (only asked when `withApprover`). Another tenant holds none.
 */
export async function rolesOver(
  deps: Pick<LifecycleDeps, 'accounts' | 'approvals'>,
  actor: Actor,
  access: GuestAccessRecord,
  options: { withApprover?: boolean } = {},
): Promise<Set<LifecycleRole>> {
  const roles = new Set<LifecycleRole>();
  if (actor.tenantId !== access.tenantId) return roles;
  if (actor.userId === access.sponsor.id) roles.add('sponsor');
  if (await deps.accounts.isOwner(access.groupId, actor.userId)) roles.add('owner');
  if (options.withApprover && deps.approvals && (await deps.approvals.gate.isApprover(actor.userId))) roles.add('approver');
  return roles;
}

/** Sponsor or owner: who may act on a guest (Resend, Withdraw, Renew, Remove…). */
export async function maySteward(deps: Pick<LifecycleDeps, 'accounts' | 'approvals'>, actor: Actor, access: GuestAccessRecord): Promise<boolean> {
  const roles = await rolesOver(deps, actor, access);
  return roles.has('sponsor') || roles.has('owner');
}

/**
 * Who gets a guest's reminders: the sponsor while they can still sign in; when the sponsor has
 * left (not found, or disabled), the site's owners instead (the guest excluded, should they be one).
 */
export async function reminderRecipients(deps: Pick<LifecycleDeps, 'accounts'>, access: GuestAccessRecord): Promise<NoticeRecipient[]> {
  if (await deps.accounts.userExistsAndEnabled(access.sponsor.id)) {
    return [{ userId: access.sponsor.id, name: access.sponsor.name, as: 'sponsor' }];
  }
  const owners = await deps.accounts.listGroupOwners(access.groupId);
  return owners.filter((o) => o.id !== access.userId).map((o) => ({ userId: o.id, name: o.displayName, as: 'owner' as const }));
}
