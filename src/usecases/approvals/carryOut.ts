/**
 * Carrying out an approval (the winner of the decision, or a resumption after a restart): the
 * invitation through the same code as the direct flow, or the redemption reset; its outcome is
 * recorded once, with its audit row and the requester's notice kept in the same write; then every
 * copy is updated and the requester is told.
 */
import type { InviteOutcome } from '../invite/model';
import { formatAccessDay, requestedAccessEndFrom, requestedEndAt } from '../../domain/accessEnd';
import type { ApprovalOutcomeStatus, ApprovalRequest } from './model';
import { notifyRequester, NOTICE_LEASE_MS, sendKeptNotice, updateCopies } from './outbox';
import { closeLedger, type ApprovalRuntime } from './runtime';
import { describe, userMessageOf } from './texts';

/** How long one process may hold an approval it carries out before another may (its death frees it at once). */
export const CARRY_LEASE_MS = 10 * 60_000;

/** The lease on carrying out one approved request. */
export function carryKey(requestId: string): string {
  return `approval:${requestId}`;
}

/**
 * Follows up a decision: for an approval, carries it out and records its outcome once (when two
 * processes finish the same request, only the one that records the outcome notifies); then updates
 * every copy and tells the requester. Resolves with the invitation link, if any.
 */
export function afterDecision(rt: ApprovalRuntime, request: ApprovalRequest, mode: 'decided' | 'resumed' = 'decided'): Promise<string | null> {
  const carrying = request.state === 'approved';
  if (carrying) rt.carryingOut.add(request.id);
  const work = (async (): Promise<string | null> => {
    if (!carrying) {
      await closeLedger(rt, request);
      await rt.safely(request.id, 'card updates', () => updateCopies(rt, request));
      await rt.safely(request.id, 'requester notice', async () => {
        await notifyRequester(rt, request, null, null);
      });
      return null;
    }
    const result = await carryOut(rt, request, mode);
    // Another attempt (e.g. a process still running) holds this invitation: it is not over,
    // so nothing is recorded and a later sweep looks again.
    if (result.stillRunning && mode === 'resumed') return null;
    // The outcome, its audit row and the requester's notice (kept before it is sent, so that
    // a crash in between leaves it for the sweep) are one write.
    const at = rt.now();
    const recorded = await rt.requests.recordFirstOutcome(
      request.id,
      { status: result.status, message: result.message, at: at.toISOString() },
      {
        notice: {
          notice: null,
          redeemUrl: result.redeemUrl,
          error: 'not sent yet',
          at: at.toISOString(),
          claimedUntil: new Date(at.getTime() + NOTICE_LEASE_MS).toISOString(),
        },
        audit: {
          actorId: request.decidedBy?.userId ?? 'system',
          actorName: request.decidedBy?.name ?? 'Guest onboarding bot',
          action: 'approval.carriedOut',
          subjectType: 'approval',
          subjectId: request.id,
          details: {
            kind: request.kind,
            outcome: result.status,
            resumed: mode === 'resumed',
            ...(result.invitationRecordId ? { invitationRecordId: result.invitationRecordId } : {}),
          },
        },
      },
    );
    if (!recorded.won) return null;
    const current = recorded.request;
    await closeLedger(rt, current);
    await rt.safely(request.id, 'card updates', () => updateCopies(rt, current));
    await rt.safely(request.id, 'requester notice', () => sendKeptNotice(rt, recorded.notice, current));
    return result.redeemUrl;
  })();
  const tracked = work
    .then(
      () => undefined,
      (error: unknown) => {
        rt.logger.error({ requestId: request.id, err: describe(error) }, 'approvals: follow-up failed');
      },
    )
    .then(async () => {
      if (!carrying) return;
      rt.carryingOut.delete(request.id);
      // Done (or left for the next pass when another attempt still runs): either way not ours now.
      await rt.deps.leases.release(carryKey(request.id), rt.deps.holderId);
    })
    .catch((error: unknown) => {
      rt.logger.warn({ requestId: request.id, err: describe(error) }, 'approvals: could not release the carrying-out lease');
    });
  rt.inFlight.add(tracked);
  void tracked.finally(() => rt.inFlight.delete(tracked));
  return work.catch(() => null);
}

/** Whether `work` finished within the inline budget of a click. */
export async function withinBudget(rt: ApprovalRuntime, work: Promise<unknown>): Promise<boolean> {
  const budget = rt.deps.inlineBudgetMs ?? 4000;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), budget);
    timer.unref();
  });
  try {
    return await Promise.race([work.then(() => true), timeout]);
  } finally {
    if (timer) clearTimeout(timer);
  }
}

export async function carryOut(
  rt: ApprovalRuntime,
  request: ApprovalRequest,
  mode: 'decided' | 'resumed',
): Promise<{
  status: ApprovalOutcomeStatus;
  message: string;
  redeemUrl: string | null;
  invitationRecordId?: string;
  /** The invitation is being carried out by another attempt right now. */
  stillRunning?: boolean;
}> {
  const s = request.subject;
  const approver = { id: request.decidedBy?.userId ?? '', name: request.decidedBy?.name ?? 'an approver' };
  if (s.kind === 'invitation') {
    const asked = requestedAccessEndFrom(s.accessEnd ?? null);
    const now = rt.now();
    const askedDayEnd = asked?.kind === 'date' ? requestedEndAt(asked, now) : null;
    if (askedDayEnd !== null && Date.parse(askedDayEnd) <= now.getTime()) {
      // The request waited past the end it asked for: an invitation now would end at once.
      return {
        status: 'failed',
        message: `The access end date asked for, ${formatAccessDay(askedDayEnd)}, had passed when this was approved, so nothing was sent. The requester can ask again with a later date.`,
        redeemUrl: null,
      };
    }
    let outcome: InviteOutcome;
    try {
      outcome = await rt.deps.invitations.execute({
        email: s.guestEmail,
        displayName: s.guestName,
        groupId: s.groupId,
        requestedBy: { userId: request.requester.userId, name: request.requester.name, tenantId: request.tenantId },
        conversationRefKey: request.requesterConversationId,
        source: 'approval',
        approval: { requestId: request.id, approvedBy: approver },
        ...(s.accessEnd ? { accessEnd: s.accessEnd } : {}),
      });
    } catch (error) {
      rt.logger.error({ requestId: request.id, err: describe(error) }, 'approvals: carrying out the invitation failed');
      return {
        status: 'failed',
        message: `The invitation could not be sent: ${userMessageOf(error)} The approval stands; the requester can ask again once this is fixed.`,
        redeemUrl: null,
      };
    }
    const recordId = outcome.record?.id;
    const extra = recordId ? { invitationRecordId: recordId } : {};
    switch (outcome.status) {
      case 'completed': {
        // Resumed after a restart, "already done" is usually this approval's own work from before
        // the stop: the guest got access after the decision, so say so.
        const doneForThisApproval =
          mode === 'resumed' && outcome.alreadyDone && !!outcome.record && !!request.decidedAt && outcome.record.updatedAt >= request.decidedAt;
        return {
          status: 'succeeded',
          message: outcome.membershipRestored
            ? `${s.guestName} (${s.guestEmail}) had been removed from ${s.siteName} since an earlier invitation and was added back; no new invitation was needed.`
            : outcome.alreadyDone && !doneForThisApproval
              ? `${s.guestName} already had access to ${s.siteName}; nothing more was needed.`
              : `${s.guestName} (${s.guestEmail}) was invited and added to ${s.siteName}.`,
          redeemUrl: outcome.redeemUrl,
          ...extra,
        };
      }
      case 'partial':
        return {
          status: 'failed',
          message: `${s.guestName} was invited, but adding them to ${s.siteName} failed: ${outcome.refusal?.message ?? 'unknown error.'} The requester can retry adding them.`,
          redeemUrl: outcome.redeemUrl,
          ...extra,
        };
      case 'inProgress':
        return {
          status: 'succeeded',
          message: `An invitation for ${s.guestName} to ${s.siteName} was already being sent; its result goes to whoever started it.`,
          redeemUrl: null,
          stillRunning: true,
          ...extra,
        };
      case 'failed':
        return {
          status: 'failed',
          message: `The invitation was not sent: ${outcome.refusal?.message ?? 'unknown error.'}`,
          redeemUrl: null,
          ...extra,
        };
    }
  }
  if (!rt.deps.settings.allowRedemptionReset) {
    return {
      status: 'manualActionRequired',
      message: `Approved, but this deployment does not reset redemptions itself (ALLOW_REDEMPTION_RESET=false). An admin (Helpdesk or User Administrator) must do it: Microsoft Entra admin center > Identity > Users > All users > ${s.guestName} (${s.guestEmail}) > Overview > B2B collaboration > Reset redemption status.`,
      redeemUrl: null,
    };
  }
  try {
    const result = await rt.deps.directory.resetRedemption(s.guestUserId, s.guestEmail, s.redirectUrl);
    return {
      status: 'succeeded',
      message: `The redemption of ${s.guestName} was reset. They accept the new invitation and sign in with whatever method applies to them now.`,
      redeemUrl: result.redeemUrl,
    };
  } catch (error) {
    rt.logger.error({ requestId: request.id, err: describe(error) }, 'approvals: resetting the redemption failed');
    return { status: 'failed', message: `The redemption could not be reset: ${userMessageOf(error)}`, redeemUrl: null };
  }
}
