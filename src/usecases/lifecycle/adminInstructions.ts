import { isDirectoryError } from '../ports/Directory';
import type { AdminAction, AdminInstructions } from './model';
import type { GuestAccessRecord } from './ports';

/**
 * What an admin does by hand when the app may not: the Entra admin center steps for each
 * directory action of the lifecycle. Blocking sign-in and deleting are on the user's page
 * (https://learn.microsoft.com/entra/fundamentals/how-to-manage-user-profile-info); sponsors on
 * the user's properties, the same field POST /users/{id}/sponsors/$ref writes
 * (https://learn.microsoft.com/graph/api/user-post-sponsors, User.ReadWrite.All).
 */
export function adminInstructions(action: AdminAction, access: GuestAccessRecord, error: unknown, extra: { sponsorName?: string } = {}): AdminInstructions {
  const permission = isDirectoryError(error) ? (error.permission ?? null) : null;
  const who = `${access.displayName} (${access.email})`;
  const open = `In the Microsoft Entra admin center, go to Users and open ${who}.`;
  const steps: Record<AdminAction, string[]> = {
    removeFromGroup: [`Open the group of ${access.siteName} (Groups > All groups > Members).`, `Remove ${who} from its members.`],
    blockSignIn: [open, 'Choose Edit properties > Settings, clear "Account enabled", and save.'],
    unblockSignIn: [open, 'Choose Edit properties > Settings, tick "Account enabled", and save.'],
    deleteUser: [open, 'Choose Delete. The account stays in Deleted users for 30 days and can be restored from there.'],
    addSponsor: [open, `Choose Edit properties > Job information > Sponsors, add ${extra.sponsorName ?? 'the new sponsor'}, and save.`],
    removeSponsor: [open, `Choose Edit properties > Job information > Sponsors, remove ${extra.sponsorName ?? 'the former sponsor'}, and save.`],
    reinvite: [open, 'Choose Resend invitation (in the B2B invitation section of the Overview).'],
  };
  return { action, permission, steps: steps[action] };
}

/** A refusal an admin can act on (the app lacks the permission, or policy forbids it). */
export function needsAdmin(error: unknown): boolean {
  return isDirectoryError(error) && (error.code === 'permissionMissing' || error.code === 'forbiddenByPolicy');
}
