/**
 * Admin approvals: requests go to the approvers' personal chats (and an optional channel), an
 * approver decides once (compare-and-set in the repository), the approved request is carried out
 * by the same code as the direct flow, every copy of the card is updated and the requester is
 * told. Rights are re-checked against the directory on every click. The use case returns data
 * (outcomes and views); the Teams layer renders them and posts through the ApprovalNotifier port.
 *
 * This class is the one entry point; each responsibility lives in its own module: submission.ts,
 * deciding.ts, carryOut.ts, outbox.ts (copies and requester notices), expiry.ts, recovery.ts.
 */
import type { Actor } from '../../domain/actor';
import type { ApprovalContext, ApprovalGateway, ApprovalSubmission } from '../invite/ports';
import type { ApprovalRequest, ConversationAddress } from './model';
import type { ApproverView, Notice, RequesterView, SeenConversation } from './notifications';
import { isApprover } from './audience';
import { cancel, decide, provideInfo, requestMoreInfo, view, type ActionOutcome } from './deciding';
import { expireDue } from './expiry';
import { retryNotices } from './outbox';
import { onConversationSeen, resumeApproved } from './recovery';
import { ApprovalRuntime, type ApprovalServiceDependencies, type ApprovalServiceSettings } from './runtime';
import type { RedemptionResetSubmission, SubmitResult } from './submission';
import { ApprovalIntake } from './approvalIntake';
import { approverView, requesterView } from './views';

/** The user-facing approvals use case. Implements the invitation flow's ApprovalGateway. */
export class ApprovalService implements ApprovalGateway {
  private readonly rt: ApprovalRuntime;
  /** Taking in requests (the same code the invitation flow is given before this service exists). */
  readonly intake: ApprovalIntake;

  constructor(deps: ApprovalServiceDependencies) {
    this.rt = new ApprovalRuntime(deps);
    this.intake = new ApprovalIntake(deps);
  }

  get settings(): ApprovalServiceSettings {
    return this.rt.settings;
  }

  /** The service's clock (views are drawn at this time). */
  now(): Date {
    return this.rt.now();
  }

  // ---------------------------------------------------------------- submission (as ApprovalIntake)

  needsApproval(ctx: ApprovalContext): Promise<{ required: boolean; reason: string }> {
    return this.intake.needsApproval(ctx);
  }

  submit(submission: ApprovalSubmission): Promise<SubmitResult> {
    return this.intake.submit(submission);
  }

  submitReset(submission: RedemptionResetSubmission): Promise<SubmitResult> {
    return this.intake.submitReset(submission);
  }

  requesterCardPosted(requestId: string, conversation: ConversationAddress, activityId: string): Promise<void> {
    return this.intake.requesterCardPosted(requestId, conversation, activityId);
  }

  // ---------------------------------------------------------------- deciding

  /** Approver rights without a particular request: for "pending". */
  isApprover(actor: Actor | null): Promise<boolean> {
    return isApprover(this.rt, actor);
  }

  /** An approver approves or rejects (see deciding.ts). */
  decide(actor: Actor | null, requestId: string, verdict: 'approve' | 'reject', note: string | null, cardVersion?: number): Promise<ActionOutcome> {
    return decide(this.rt, actor, requestId, verdict, note, cardVersion);
  }

  /** An approver asks the requester a question; the request stays pending. */
  requestMoreInfo(actor: Actor | null, requestId: string, question: string | null, cardVersion?: number): Promise<ActionOutcome> {
    return requestMoreInfo(this.rt, actor, requestId, question, cardVersion);
  }

  /** The requester answers an approver's question: the answer is appended to the justification. */
  provideInfo(actor: Actor | null, requestId: string, answer: string | null): Promise<ActionOutcome> {
    return provideInfo(this.rt, actor, requestId, answer);
  }

  /** The requester withdraws their own pending request. */
  cancel(actor: Actor | null, requestId: string): Promise<ActionOutcome> {
    return cancel(this.rt, actor, requestId);
  }

  /** What a viewer may see of a request now (Action.Execute refresh). */
  view(actor: Actor | null, requestId: string): Promise<ActionOutcome> {
    return view(this.rt, actor, requestId);
  }

  /** Open requests for an approver, oldest first; null when the actor is not an approver. */
  async listPending(actor: Actor | null): Promise<ApprovalRequest[] | null> {
    if (!actor || !(await this.isApprover(actor))) return null;
    const now = this.rt.now().getTime();
    return (await this.rt.requests.listPending(actor.tenantId)).filter((r) => r.requester.userId !== actor.userId && Date.parse(r.expiresAt) > now);
  }

  /** The request as someone who acts on it sees it (an invoke response): with buttons when they may decide. */
  approverView(request: ApprovalRequest, options: { mayDecide: boolean; notice?: Notice | null }): Promise<ApproverView> {
    return approverView(this.rt, request, { showActions: options.mayDecide, notice: options.notice ?? null });
  }

  /** The requester's view of the request (after they cancel or answer, or as a notice). */
  requesterView(request: ApprovalRequest, notice: Notice | null, redeemUrl: string | null = null): Promise<RequesterView> {
    return requesterView(this.rt, request, notice, redeemUrl);
  }

  // ---------------------------------------------------------------- sweeps and recovery

  /** Carries out approved requests left without an outcome by a stop (see recovery.ts). */
  resumeApproved(options: { minAgeMs?: number } = {}): Promise<number> {
    return resumeApproved(this.rt, options);
  }

  /** Expires every pending request past its expiry time; returns how many this call expired. */
  expireDue(now?: Date): Promise<number> {
    return expireDue(this.rt, now);
  }

  /** Sends again the requester notices that did not arrive (see outbox.ts); returns how many arrived. */
  retryNotices(options: { minAgeMs?: number; maxAttempts?: number } = {}): Promise<number> {
    return retryNotices(this.rt, options);
  }

  /** A conversation was just seen: send what could not reach its people before (see recovery.ts). */
  onConversationSeen(seen: SeenConversation): Promise<void> {
    return onConversationSeen(this.rt, seen);
  }

  /** Resolves when every follow-up started so far (carrying out, card updates, notices) has finished. */
  async whenIdle(): Promise<void> {
    while (this.rt.inFlight.size > 0) await Promise.allSettled([...this.rt.inFlight]);
  }
}
