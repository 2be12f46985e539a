/**
 * Routes guests' redemption-reset requests (recorded by the guest-help feature through a
 * ResetRequestSink) into the approval path, and closes the recorded request once decided.
 */
import type { NewResetRequest, ResetRequestReceipt, ResetRequestRepository, ResetRequestSink } from './ports';
import type { ApprovalRequest } from './model';
import type { SubmitResult } from './submission';

/** Where a guest lands after redeeming again: My Apps in this tenant's context (what OTP guests need). */
export function tenantRedirectUrl(tenantId: string): string {
  return `https://myapps.microsoft.com/?tenantid=${encodeURIComponent(tenantId)}`;
}

/** The part of ApprovalService this needs. */
export interface ResetApprovalSubmitter {
  submitReset(submission: {
    guest: { userId: string; name: string; tenantId: string };
    guestEmail: string;
    guestName: string;
    redirectUrl: string;
    currentMethod: NewResetRequest['redeemedWith'];
    reason: string;
    conversationRefKey: string | null;
  }): Promise<SubmitResult>;
}

export interface ResetApprovalReceipt extends ResetRequestReceipt {
  /** Who the approval card reached, and who it could not reach. */
  approval: Pick<SubmitResult, 'requestId' | 'approvers' | 'unreachable' | 'duplicate'> | null;
}

/** A ResetRequestSink whose receipts also say who the approval reached. */
export interface ResetApprovalSink extends ResetRequestSink {
  submit(request: NewResetRequest): Promise<ResetApprovalReceipt>;
}

/**
 * Wraps the recording sink: the request is recorded as before, then sent for approval. A second
 * click finds the pending approval instead of making another. If the approval cannot be sent
 * (e.g. the approver group cannot be read), the recorded request still stands.
 */
export function approvalResetSink(
  inner: ResetRequestSink,
  approvals: ResetApprovalSubmitter,
  onError: (error: unknown) => void = () => undefined,
): ResetApprovalSink {
  return {
    async submit(request: NewResetRequest): Promise<ResetApprovalReceipt> {
      const receipt = await inner.submit(request);
      try {
        const sent = await approvals.submitReset({
          guest: { userId: request.userId, name: request.userName, tenantId: request.tenantId },
          guestEmail: request.email,
          guestName: request.userName,
          redirectUrl: tenantRedirectUrl(request.tenantId),
          currentMethod: request.redeemedWith,
          reason: request.reason,
          conversationRefKey: null,
        });
        const { requestId, approvers, unreachable, duplicate } = sent;
        return { ...receipt, approval: { requestId, approvers, unreachable, duplicate } };
      } catch (error) {
        onError(error);
        return { ...receipt, approval: null };
      }
    },
  };
}

/** The recorded reset requests: the part of the repository closing them needs. */
export type ResetLedger = Pick<ResetRequestRepository, 'findOpen' | 'close'>;

/**
 * Closes the recorded request when its approval ends: done when the bot reset it, declined when
 * rejected, cancelled or expired. An approval that needs an admin to act by hand leaves it open.
 */
export async function closeResetLedger(ledger: ResetLedger, request: ApprovalRequest): Promise<void> {
  if (request.subject.kind !== 'redemptionReset') return;
  const open = await ledger.findOpen(request.tenantId, request.subject.guestUserId);
  if (!open) return;
  const by = request.decidedBy ?? { userId: 'system', name: 'Guest onboarding bot' };
  if (request.state === 'approved') {
    if (request.outcome?.status === 'succeeded') await ledger.close(open.id, 'done', by);
    return;
  }
  if (request.state !== 'pending') await ledger.close(open.id, 'declined', by);
}
