/**
 * Who may see and decide a request: approver rights re-checked against the directory on every
 * click, the people a new request goes to, and what approvers are warned about.
 */
import type { Actor } from '../../domain/actor';
import { parseEmail } from '../../domain/email';
import { lookAlikeWarning } from '../../domain/lookAlike';
import { isDirectoryError } from '../ports/Directory';
import type { ApprovalRequest } from './model';
import type { Recipient } from './notifications';
import type { IntakeRuntime } from './runtime';
import { describe } from './texts';

/** Why approver rights were refused: the `reason` of an approval.refused event (null: not a refusal, a fault). */
export type RightsRefusal = 'unknownUser' | 'otherTenant' | 'ownRequest' | 'notApprover';

export type Rights =
  | { ok: true }
  | { ok: false; status: 'forbidden'; reason: RightsRefusal; message: string }
  | { ok: false; status: 'unavailable'; reason: null; message: string };

export async function approverRights(rt: IntakeRuntime, actor: Actor | null, request: ApprovalRequest): Promise<Rights> {
  if (!actor) {
    return {
      ok: false,
      status: 'forbidden',
      reason: 'unknownUser',
      message: 'I could not tell who you are (Teams did not say which Microsoft Entra user clicked), so nothing was changed.',
    };
  }
  if (actor.tenantId !== request.tenantId) {
    return { ok: false, status: 'forbidden', reason: 'otherTenant', message: 'This request belongs to another organisation. Nothing was changed.' };
  }
  if (actor.userId === request.requester.userId) {
    return {
      ok: false,
      status: 'forbidden',
      reason: 'ownRequest',
      message: 'You made this request, so another approver has to decide it. You can cancel it instead. Nothing was changed.',
    };
  }
  const { directory, settings } = rt.deps;
  try {
    if (await directory.isMember(settings.approverGroupId, actor.userId)) return { ok: true };
    if (settings.ownersMayApprove && request.subject.kind === 'invitation' && (await directory.isOwner(request.subject.groupId, actor.userId))) {
      return { ok: true };
    }
  } catch (error) {
    rt.logger.warn({ requestId: request.id, actorId: actor.userId, err: describe(error) }, 'approvals: rights check failed');
    return {
      ok: false,
      status: 'unavailable',
      reason: null,
      message: `I could not check your approver rights just now${isDirectoryError(error) ? ` (${error.userMessage})` : ''}. Nothing was changed; try again in a minute.`,
    };
  }
  return {
    ok: false,
    status: 'forbidden',
    reason: 'notApprover',
    message: 'Only members of the guest approver group can decide on this request. Nothing was changed.',
  };
}

/** Approver rights without a particular request: for "pending". */
export async function isApprover(rt: IntakeRuntime, actor: Actor | null): Promise<boolean> {
  if (!actor) return false;
  try {
    return await rt.deps.directory.isMember(rt.settings.approverGroupId, actor.userId);
  } catch {
    return false;
  }
}

/** Approvers (and, if allowed, the site's owners) except the requester. */
export async function recipientsFor(rt: IntakeRuntime, request: ApprovalRequest): Promise<Recipient[]> {
  const out: Recipient[] = [];
  const seen = new Set<string>([request.requester.userId]);
  try {
    for (const m of await rt.deps.roster.listGroupMembers(rt.settings.approverGroupId)) {
      if (!seen.has(m.id)) out.push({ ...m, audience: 'approver' });
      seen.add(m.id);
    }
  } catch (error) {
    rt.logger.error({ requestId: request.id, err: describe(error) }, 'approvals: could not list the approver group');
  }
  if (rt.settings.ownersMayApprove && request.subject.kind === 'invitation') {
    try {
      for (const o of await rt.deps.roster.listGroupOwners(request.subject.groupId)) {
        if (!seen.has(o.id)) out.push({ ...o, audience: 'owner' });
        seen.add(o.id);
      }
    } catch (error) {
      rt.logger.warn({ requestId: request.id, err: describe(error) }, 'approvals: could not list the site owners');
    }
  }
  return out;
}

export function approverWarnings(rt: IntakeRuntime, request: ApprovalRequest): string[] {
  if (request.subject.kind === 'invitation') {
    // The approver sees what the requester was warned about: the address's real (ASCII) form.
    const parsed = parseEmail(request.subject.guestEmail);
    const lookAlike = parsed.ok ? lookAlikeWarning(parsed.email) : null;
    return lookAlike ? [`Check the address: ${lookAlike.display} is really ${lookAlike.ascii}. ${lookAlike.message}`] : [];
  }
  if (rt.settings.allowRedemptionReset) return [];
  return [
    'Redemption resets are disabled in this deployment (ALLOW_REDEMPTION_RESET=false): approving records the decision, and an admin then resets the redemption by hand in the Microsoft Entra admin center.',
  ];
}

/** The name recorded as the decider: the directory's, not the activity's from.name. */
export async function directoryName(rt: IntakeRuntime, actor: Actor): Promise<string> {
  try {
    const user = await rt.deps.directory.getUser(actor.userId);
    if (user?.displayName) return user.displayName;
  } catch (error) {
    rt.logger.warn({ actorId: actor.userId, err: describe(error) }, "approvals: could not read the approver's name");
  }
  return actor.name || 'An approver';
}
