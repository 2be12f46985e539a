/** "status of …" and "my invitations": records with the guest's state read fresh from the directory. */
import type { DirectoryUser } from '../../domain/tenant';
import { methodFromIdentities } from '../../domain/tenantSettingRules';
import type { InvitationRecord } from '../ports/invitations';
import { isDirectoryError } from '../ports/Directory';
import type { InviteContext } from './inviteContext';
import type { InvitationStatusView, RecordedAccess } from './model';

/** The records with the guest's acceptance and sign-in method; a newly seen method is recorded (and audited). */
export async function withDirectoryState(ctx: InviteContext, records: InvitationRecord[]): Promise<InvitationStatusView[]> {
  if (records.length === 0) return [];
  const directory = ctx.deps.directory;
  const policies = await ctx.retrying(() => directory.readPolicies());
  const views: InvitationStatusView[] = [];
  for (const record of records) {
    let user: DirectoryUser | null = null;
    try {
      user = record.userId
        ? await ctx.retrying(() => directory.getUser(record.userId as string))
        : await ctx.retrying(() => directory.findUserByEmail(record.emailDisplay));
    } catch (e) {
      if (!isDirectoryError(e)) throw e;
    }
    let current = record;
    const actual = user && user.externalUserState === 'Accepted' ? methodFromIdentities(user.identities, policies) : null;
    if (actual && actual !== record.actualMethod) {
      // Best effort: a concurrent writer wins and the next status read refreshes again.
      current = (await ctx.deps.invitations.update(record.id, record.version, { actualMethod: actual })) ?? record;
      ctx.audit({ userId: 'system', name: 'Guest onboarding bot', tenantId: record.tenantId }, 'invitation.redeemed', record.id, {
        actualMethod: actual,
        predictedMethod: record.predictedMethod,
      });
    }
    views.push({
      record: current,
      externalUserState: user ? user.externalUserState : null,
      externalUserStateChangedAt: user ? user.externalUserStateChangeDateTime : null,
      actualMethod: actual ?? current.actualMethod,
      access: await recordedAccess(ctx, current),
    });
  }
  return views;
}

/** The guest's recorded access (end date, sponsor) for a record, when the guest lifecycle runs. */
export async function recordedAccess(ctx: InviteContext, record: InvitationRecord): Promise<RecordedAccess | null> {
  const found = ctx.deps.access ? await ctx.deps.access.accessOf(record) : null;
  return found ? { endsAt: found.endsAt, state: found.state, sponsorName: found.sponsor.name } : null;
}
