import { approvalVerdict } from '../../domain/approvalPolicy';
import { guestDomainOf } from './model';
import { autoWithdrawAt, DAY_MS, daysBetween, isActive, renewalReminderStep } from '../../domain/lifecycle';
import type { ScheduledWork } from '../ports/scheduler';
import type { HandlerResult, WorkHandler } from '../scheduling/workRunner';
import { adminInstructions, needsAdmin } from './adminInstructions';
import { beginEnd, completeEnd } from './ending';
import { AUDIT_SUBJECT, summarise, type LifecycleDeps } from './model';
import type { GuestAccessRecord, NoticeRecipient } from './ports';
import { reminderRecipients } from './rights';
import { LIFECYCLE_WORK, markAccepted, type LifecycleWorkKind } from './schedule';

/**
 * The handlers of the lifecycle's due work, by kind, for the ScheduledWorkRunner. Each one
 * re-reads the guest's record and decides from it (never from the work's payload), so a replay,
 * a late run after a renewal, or a run after a crash does the right thing or nothing.
 */

const DONE: HandlerResult = { outcome: 'done' };

function later(dueAt: string): HandlerResult {
  return { outcome: 'reschedule', dueAt };
}

/** An end begun but not completed (a crash, or a fault): complete it now. */
async function finishIfEnding(deps: LifecycleDeps, access: GuestAccessRecord, runningAs: LifecycleWorkKind): Promise<boolean> {
  if (isActive(access.state)) return false;
  if (!access.endNoticesDone) await completeEnd(deps, access, { runningAs });
  return true;
}

async function sendEach(deps: LifecycleDeps, accessId: string, recipients: NoticeRecipient[], send: (to: NoticeRecipient) => Promise<unknown>): Promise<void> {
  if (recipients.length === 0) deps.logger?.warn({ accessId }, 'lifecycle: nobody to remind (sponsor gone, no owners)');
  for (const to of recipients) {
    try {
      await send(to);
    } catch (error) {
      deps.logger?.warn({ accessId, err: error instanceof Error ? error.name : 'error' }, 'lifecycle: a reminder could not be sent');
    }
  }
}

function unredeemedReminder(deps: LifecycleDeps): WorkHandler {
  return async (work: ScheduledWork) => {
    const access = await deps.access.get(work.subject);
    if (!access) return DONE;
    if (await finishIfEnding(deps, access, LIFECYCLE_WORK.unredeemedReminder)) return DONE;
    if (access.state !== 'invited' || access.nextUnredeemedReminderAt === null) return DONE;
    const now = deps.clock.now();
    if (Date.parse(access.nextUnredeemedReminderAt) > now.getTime()) return later(access.nextUnredeemedReminderAt);
    const facts = await deps.accounts.lifecycleFacts(access.userId);
    if (!facts) return DONE;
    if (facts.externalUserState === 'Accepted') {
      await markAccepted(deps, access, facts, LIFECYCLE_WORK.unredeemedReminder);
      return DONE;
    }
    const token = now.toISOString();
    const notice = {
      access: summarise(deps, access),
      daysWaiting: daysBetween(access.lastInvitedAt, now),
      reminderToken: token,
      autoWithdrawAt: autoWithdrawAt(deps.settings, access.lastInvitedAt),
    };
    await sendEach(deps, access.id, await reminderRecipients(deps, access), (to) => deps.notifier.unredeemedReminder(to, notice));
    // Recorded after sending: a crash in between sends the reminder again rather than never.
    let current: GuestAccessRecord | null = access;
    for (let attempt = 0; attempt < 5 && current; attempt += 1) {
      // Someone answered or moved the reminder meanwhile (Keep waiting, Resend): theirs stands.
      if (current.state !== 'invited' || current.nextUnredeemedReminderAt !== access.nextUnredeemedReminderAt) break;
      if (await deps.access.update(current.id, current.version, { unredeemedRemindedAt: token, nextUnredeemedReminderAt: null })) break;
      current = await deps.access.get(access.id);
    }
    return DONE;
  };
}

function autoWithdraw(deps: LifecycleDeps): WorkHandler {
  return async (work) => {
    const access = await deps.access.get(work.subject);
    if (!access) return DONE;
    if (await finishIfEnding(deps, access, LIFECYCLE_WORK.autoWithdraw)) return DONE;
    if (access.state !== 'invited') return DONE;
    const due = autoWithdrawAt(deps.settings, access.lastInvitedAt);
    if (due === null) return DONE;
    if (Date.parse(due) > deps.clock.now().getTime()) return later(due);
    const facts = await deps.accounts.lifecycleFacts(access.userId);
    if (facts?.externalUserState === 'Accepted') {
      await markAccepted(deps, access, facts, LIFECYCLE_WORK.autoWithdraw);
      return DONE;
    }
    // This work item is the safety net: until the end completes it stays claimed and is retried.
    const begun = await beginEnd(deps, access.id, { reason: 'autoWithdrawn', by: null, safetyNet: false });
    if (begun && !begun.record.endNoticesDone && !isActive(begun.record.state)) await completeEnd(deps, begun.record, { runningAs: LIFECYCLE_WORK.autoWithdraw });
    return DONE;
  };
}

function renewalReminder(deps: LifecycleDeps): WorkHandler {
  return async (work) => {
    let access = await deps.access.get(work.subject);
    if (!access) return DONE;
    if (await finishIfEnding(deps, access, LIFECYCLE_WORK.renewalReminder)) return DONE;
    if (access.endsAt === null) return DONE;
    const now = deps.clock.now();
    const step = renewalReminderStep(deps.settings, access.endsAt, access.renewalRemindersSent, now);
    if (!step.send) return step.nextAt ? later(step.nextAt) : DONE;
    const endsAt = access.endsAt;
    const daysLeft = Math.max(1, Math.ceil((Date.parse(endsAt) - now.getTime()) / DAY_MS));
    const summary = summarise(deps, access);
    const current = access;
    await sendEach(deps, access.id, await reminderRecipients(deps, access), async (to) => {
      const renewNeedsApproval = deps.approvals
        ? approvalVerdict(deps.approvals.settings, {
            requesterIsSiteOwner: await deps.accounts.isOwner(current.groupId, to.userId),
            guestDomain: guestDomainOf(current.email),
          }).required
        : false;
      return deps.notifier.renewalReminder(to, { access: summary, daysLeft, forEndsAt: endsAt, renewNeedsApproval });
    });
    // Every reminder due now counts as sent: after downtime the sponsor gets one card, not a pile.
    for (let attempt = 0; attempt < 5 && access; attempt += 1) {
      if (access.endsAt !== endsAt) break;
      const sent = [...new Set([...access.renewalRemindersSent, ...step.covers])].sort((a, b) => b - a);
      if (await deps.access.update(access.id, access.version, { renewalRemindersSent: sent })) break;
      access = await deps.access.get(work.subject);
    }
    return step.nextAt ? later(step.nextAt) : DONE;
  };
}

function endOfAccess(deps: LifecycleDeps): WorkHandler {
  return async (work) => {
    const access = await deps.access.get(work.subject);
    if (!access) return DONE;
    if (await finishIfEnding(deps, access, LIFECYCLE_WORK.endOfAccess)) return DONE;
    if (access.endsAt === null) return DONE;
    // Renewed since this was scheduled: wait for the new end.
    if (Date.parse(access.endsAt) > deps.clock.now().getTime()) return later(access.endsAt);
    const begun = await beginEnd(deps, access.id, { reason: 'expired', by: null, safetyNet: false });
    if (begun && !begun.record.endNoticesDone && !isActive(begun.record.state)) await completeEnd(deps, begun.record, { runningAs: LIFECYCLE_WORK.endOfAccess });
    return DONE;
  };
}

const ACCOUNT_DELETED = 'guestAccess.accountDeleted';

function deleteAccount(deps: LifecycleDeps): WorkHandler {
  return async (work) => {
    const access = await deps.access.get(work.subject);
    // Invited again since: the account is in use.
    if (!access || isActive(access.state)) return DONE;
    const facts = await deps.accounts.lifecycleFacts(access.userId);
    const record = async (accountAction: 'deleted' | 'keptOtherMemberships' | 'needsAdmin'): Promise<void> => {
      const current = await deps.access.get(access.id);
      if (current) await deps.access.update(current.id, current.version, { accountAction });
    };
    if (facts && (facts.accountEnabled || facts.memberOf.length > 0)) {
      // Re-enabled by an admin, or a member somewhere again: not ours to delete any more.
      await record('keptOtherMemberships');
      return DONE;
    }
    if (facts) {
      try {
        await deps.accounts.deleteUser(access.userId);
      } catch (error) {
        if (!needsAdmin(error)) throw error;
        deps.logger?.warn({ accessId: access.id, instructions: adminInstructions('deleteUser', access, error).action }, 'lifecycle: deleting needs an admin');
        await record('needsAdmin');
        return DONE;
      }
    }
    await record('deleted');
    const earlier = await deps.audit.list({ subjectType: AUDIT_SUBJECT, subjectId: access.id, action: ACCOUNT_DELETED, limit: 10 });
    if (earlier.length === 0) {
      await deps.audit.append({
        actorId: 'lifecycle',
        actorName: 'Guest lifecycle',
        action: ACCOUNT_DELETED,
        subjectType: AUDIT_SUBJECT,
        subjectId: access.id,
        details: { userId: access.userId, mode: deps.settings.removal },
      });
    }
    return DONE;
  };
}

/** The handlers to give the ScheduledWorkRunner (with any other feature's). */
export function lifecycleHandlers(deps: LifecycleDeps): Record<LifecycleWorkKind, WorkHandler> {
  return {
    [LIFECYCLE_WORK.unredeemedReminder]: unredeemedReminder(deps),
    [LIFECYCLE_WORK.autoWithdraw]: autoWithdraw(deps),
    [LIFECYCLE_WORK.renewalReminder]: renewalReminder(deps),
    [LIFECYCLE_WORK.endOfAccess]: endOfAccess(deps),
    [LIFECYCLE_WORK.deleteAccount]: deleteAccount(deps),
  };
}
