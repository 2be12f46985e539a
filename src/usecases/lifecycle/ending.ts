import { isActive, mayDeleteOnWithdraw, removalPlan, type AccountAction } from '../../domain/lifecycle';
import { adminInstructions, needsAdmin } from './adminInstructions';
import { AUDIT_SUBJECT, summarise, type LifecycleDeps } from './model';
import type { AdminInstructions, EndReason, GuestAccessRecord, GuestAccountFacts, Sponsor } from './ports';
import { reminderRecipients } from './rights';
import { COMPLETION_SAFETY_MS, LIFECYCLE_WORK, syncSchedule, type LifecycleWorkKind } from './schedule';

/**
 * Ending a guest's access happens in two steps, so that a crash in between never removes twice
 * nor leaves the end half done:
 *
 * 1. `beginEnd`: one compare-and-set moves the record to its final state (ended, withdrawn,
 *    removed) with `endNoticesDone` false. Of two instances, clicks or a click and the scheduled
 *    end, exactly one wins; the others see the access no longer running. A renewal that lost to
 *    it finds the access ended; an end that lost to a renewal finds a new end date.
 * 2. `completeEnd`: the directory steps (each idempotent: "not a member" and "already deleted"
 *    are success), the audit event (written once: looked up first), the notices, and then
 *    `endNoticesDone`. If the process dies half-way, the end-of-access work item (the scheduled
 *    end itself, or the safety net a person's action schedules first) runs it again.
 */

export interface BeginEnd {
  record: GuestAccessRecord;
  /** True when this call ended it; false when it was no longer running (someone else won). */
  won: boolean;
}

export async function beginEnd(
  deps: LifecycleDeps,
  accessId: string,
  end: { reason: EndReason; by: Sponsor | null; safetyNet: boolean },
): Promise<BeginEnd | null> {
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const current = await deps.access.get(accessId);
    if (!current) return null;
    if (!isActive(current.state)) return { record: current, won: false };
    if (end.safetyNet) {
      // The safety net first: should this process die after the state change, the end completes anyway.
      const dueAt = new Date(deps.clock.now().getTime() + COMPLETION_SAFETY_MS).toISOString();
      await deps.work.schedule({ kind: LIFECYCLE_WORK.endOfAccess, subject: accessId, dueAt }, { replace: true });
    }
    const state = end.reason === 'expired' ? 'ended' : end.reason === 'removed' ? 'removed' : 'withdrawn';
    const updated = await deps.access.update(current.id, current.version, {
      state,
      endedAt: deps.clock.now().toISOString(),
      endReason: end.reason,
      endedBy: end.by,
      endNoticesDone: false,
      accountAction: null,
    });
    if (updated) return { record: updated, won: true };
  }
  throw new Error('guest access kept changing while ending it');
}

export interface CompletedEnd {
  record: GuestAccessRecord;
  accountAction: AccountAction;
  instructions: AdminInstructions[];
}

function everRedeemed(access: GuestAccessRecord, facts: GuestAccountFacts): boolean {
  return access.acceptedAt !== null || facts.externalUserState === 'Accepted';
}

/** The account step after the membership is gone: by the removal mode, or the withdraw rule. */
async function accountStep(deps: LifecycleDeps, access: GuestAccessRecord, instructions: AdminInstructions[]): Promise<AccountAction> {
  const facts = await deps.accounts.lifecycleFacts(access.userId);
  if (!facts) return 'deleted';
  const otherMemberships = facts.memberOf.filter((g) => g !== access.groupId).length;
  const withdrawing = access.endReason === 'withdrawn' || access.endReason === 'autoWithdrawn';
  if (withdrawing) {
    if (!mayDeleteOnWithdraw(deps.settings, { everRedeemed: everRedeemed(access, facts), otherMemberships })) {
      return otherMemberships > 0 ? 'keptOtherMemberships' : 'none';
    }
    try {
      await deps.accounts.deleteUser(access.userId);
      return 'deleted';
    } catch (error) {
      if (!needsAdmin(error)) throw error;
      instructions.push(adminInstructions('deleteUser', access, error));
      return 'needsAdmin';
    }
  }
  const plan = removalPlan(deps.settings, { otherMemberships }, new Date(access.endedAt ?? deps.clock.now()));
  if (plan.keptBecause) return 'keptOtherMemberships';
  if (!plan.blockSignIn) return 'none';
  try {
    if (facts.accountEnabled) await deps.accounts.disableSignIn(access.userId);
  } catch (error) {
    if (!needsAdmin(error)) throw error;
    instructions.push(adminInstructions('blockSignIn', access, error));
    return 'needsAdmin';
  }
  if (plan.deleteAt) await deps.work.schedule({ kind: LIFECYCLE_WORK.deleteAccount, subject: access.id, dueAt: plan.deleteAt });
  return 'signInBlocked';
}

const ENDED_ACTION = 'guestAccess.ended';

/** Appends the end's audit event unless this end (by its time) is already recorded. */
async function auditEnd(deps: LifecycleDeps, access: GuestAccessRecord, accountAction: AccountAction): Promise<void> {
  const earlier = await deps.audit.list({ subjectType: AUDIT_SUBJECT, subjectId: access.id, action: ENDED_ACTION, limit: 1000 });
  if (earlier.some((e) => e.details.endedAt === access.endedAt)) return;
  await deps.audit.append({
    actorId: access.endedBy?.id ?? 'lifecycle',
    actorName: access.endedBy?.name ?? 'Guest lifecycle',
    action: ENDED_ACTION,
    subjectType: AUDIT_SUBJECT,
    subjectId: access.id,
    details: {
      reason: access.endReason ?? 'expired',
      endedAt: access.endedAt,
      groupId: access.groupId,
      userId: access.userId,
      accountAction,
    },
  });
}

async function tell(deps: LifecycleDeps, access: GuestAccessRecord, accountAction: AccountAction, instructions: AdminInstructions[]): Promise<void> {
  const reason = access.endReason ?? 'expired';
  const notice = {
    access: summarise(deps, access),
    reason,
    endedBy: access.endedBy?.name ?? null,
    accountAction,
    adminInstructions: instructions,
  };
  // The person who ended it sees the outcome on their card; everyone else is told.
  const recipients = (await reminderRecipients(deps, access)).filter((r) => r.userId !== access.endedBy?.id);
  for (const to of recipients) {
    try {
      if (reason === 'autoWithdrawn') await deps.notifier.autoWithdrawn(to, notice);
      else await deps.notifier.accessEnded(to, notice);
    } catch (error) {
      deps.logger?.warn({ accessId: access.id, err: error instanceof Error ? error.name : 'error' }, 'lifecycle: could not tell of an ended access');
    }
  }
  // A guest who never redeemed has no chat with the bot; one who did is told where they can be reached.
  if ((reason === 'expired' || reason === 'removed') && access.acceptedAt !== null) {
    try {
      await deps.notifier.guestAccessEnded({ userId: access.userId, name: access.displayName }, { siteName: access.siteName, endedAt: access.endedAt ?? '', reason });
    } catch (error) {
      deps.logger?.warn({ accessId: access.id, err: error instanceof Error ? error.name : 'error' }, 'lifecycle: could not tell the guest');
    }
  }
}

/**
 * Finishes an end begun by beginEnd: membership, account, audit, notices. Idempotent: a record
 * whose end is complete is returned as it is. Throws (for the runner to retry) on a directory
 * fault other than a missing permission; a missing permission becomes instructions for an admin.
 */
export async function completeEnd(deps: LifecycleDeps, access: GuestAccessRecord, options: { runningAs?: LifecycleWorkKind } = {}): Promise<CompletedEnd> {
  if (isActive(access.state)) throw new Error('completeEnd on running access');
  if (access.endNoticesDone) return { record: access, accountAction: access.accountAction ?? 'none', instructions: [] };
  const instructions: AdminInstructions[] = [];
  try {
    await deps.accounts.removeFromGroup(access.groupId, access.userId);
  } catch (error) {
    if (!needsAdmin(error)) throw error;
    instructions.push(adminInstructions('removeFromGroup', access, error));
  }
  const accountAction = instructions.length ? 'needsAdmin' : await accountStep(deps, access, instructions);
  // A run that stalled (a claim taken over meanwhile) must not tell everyone a second time.
  const fresh = await deps.access.get(access.id);
  if (!fresh || fresh.endNoticesDone) return { record: fresh ?? access, accountAction: fresh?.accountAction ?? accountAction, instructions };
  await syncSchedule(deps, access, { except: [LIFECYCLE_WORK.endOfAccess, options.runningAs] });
  await auditEnd(deps, access, accountAction);
  await tell(deps, access, accountAction, instructions);
  let record = access;
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const updated = await deps.access.update(record.id, record.version, { endNoticesDone: true, accountAction });
    if (updated) {
      // Complete: the safety net (if any) is no longer needed; the work running this settles itself.
      await syncSchedule(deps, updated, { except: options.runningAs });
      return { record: updated, accountAction, instructions };
    }
    const current = await deps.access.get(record.id);
    if (!current || current.endNoticesDone) return { record: current ?? record, accountAction, instructions };
    record = current;
  }
  return { record, accountAction, instructions };
}
