/**
 * The approvals' intake: what the invitation flow (and a bulk file) hands requests to. It records
 * and sends requests but never carries them out, so it is built before the invitation service,
 * which the ApprovalService that carries requests out is then built with: the invitation flow and
 * the approvals depend on each other only through this construction order, with no setter.
 */
import type { ApprovalContext, ApprovalGateway, ApprovalSubmission } from '../invite/ports';
import type { ConversationAddress } from './model';
import { ApprovalRuntime, type IntakeDependencies } from './runtime';
import { needsApproval, requesterCardPosted, submit, submitReset, type RedemptionResetSubmission, type SubmitResult } from './submission';

export class ApprovalIntake implements ApprovalGateway {
  private readonly rt: ApprovalRuntime<IntakeDependencies>;

  constructor(deps: IntakeDependencies) {
    this.rt = new ApprovalRuntime<IntakeDependencies>(deps);
  }

  needsApproval(ctx: ApprovalContext): Promise<{ required: boolean; reason: string }> {
    return needsApproval(this.rt, ctx);
  }

  /** Records an invitation request and sends it to the approvers. A second identical request is not created. */
  submit(submission: ApprovalSubmission): Promise<SubmitResult> {
    return submit(this.rt, submission);
  }

  /** Records a guest's redemption-reset request and sends it to the approvers (never to site owners). */
  submitReset(submission: RedemptionResetSubmission): Promise<SubmitResult> {
    return submitReset(this.rt, submission);
  }

  /** The requester's receipt card was posted: it is kept as a copy and updated with every other one. */
  async requesterCardPosted(requestId: string, conversation: ConversationAddress, activityId: string): Promise<void> {
    try {
      await requesterCardPosted(this.rt, requestId, conversation, activityId);
    } catch (error) {
      this.rt.logger.warn({ requestId, err: error instanceof Error ? error.message : String(error) }, 'approvals: could not record the requester card');
    }
  }
}
