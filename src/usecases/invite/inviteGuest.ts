import type { Actor } from '../../domain/actor';
import { parseEmail } from '../../domain/email';
import type { SignInAdvice } from '../../domain/signInAdvice';
import { normaliseEmailForKey, type InvitationRecord } from '../ports/invitations';
import type { ConversationAddress } from '../approvals/model';
import type { SignInAdvisorPort } from '../signIn/signInAdvisor';
import { InvitationRunner } from './invitationRunner';
import { recordedAccess, withDirectoryState } from './invitationStatus';
import { InviteContext } from './inviteContext';
import type {
  InvitationRequest,
  InvitationStatusView,
  InviteDraft,
  InviteOutcome,
  InviteTarget,
  PolicyDecision,
  Refusal,
} from './model';
import { evaluateInvitation } from './policy';
import type { ApprovalReceipt, InviteGuestDependencies } from './ports';
import { failedOutcome, InviteRefusedError, notOwnerRefusal, refusalFromError } from './refusals';

/**
 * Inviting one guest: policy first, then an idempotent, concurrency-safe invitation through
 * the Directory, recorded in the invitation repository and the audit log.
 */
export class InviteGuestService {
  private readonly ctx: InviteContext;
  private readonly runner: InvitationRunner;
  /** Identical requests in this process join the attempt already running. */
  private readonly inFlight = new Map<string, Promise<InviteOutcome>>();

  constructor(private readonly deps: InviteGuestDependencies) {
    this.ctx = new InviteContext(deps);
    this.runner = new InvitationRunner(this.ctx);
  }

  /** The advisor this service checks addresses with (the dialog's prompts reuse it and its caches). */
  get advisor(): SignInAdvisorPort {
    return this.deps.advisor;
  }

  /** Policy before anything is sent: ownership (or approval), tenant invitation settings, blocked domains, sharing. */
  async check(actor: Actor, draft: InviteDraft): Promise<PolicyDecision> {
    return (await evaluateInvitation(this.ctx, actor, draft, false)).decision;
  }

  /** True when an approvals feature is plugged in: non-owners can then ask for an approver's decision. */
  get acceptsApprovalRequests(): boolean {
    return !!this.deps.approvals;
  }

  /**
   * Sends a request that needs approval to the approvals feature. Policy is checked again first
   * (for whoever asks now); `request.conversationRefKey` is where the requester hears the decision.
   */
  async submitForApproval(request: InvitationRequest, justification?: string): Promise<ApprovalReceipt | Refusal> {
    const gateway = this.deps.approvals;
    const { decision } = await evaluateInvitation(this.ctx, request.requestedBy, request, false);
    if (decision.kind === 'refused') return decision.refusal;
    if (!gateway) return notOwnerRefusal(decision.target.siteName);
    const submitted = await gateway.submit({ request, target: decision.target, advice: decision.advice, justification });
    this.ctx.audit(request.requestedBy, 'invitation.submittedForApproval', normaliseEmailForKey(request.email), {
      groupId: request.groupId,
      approvalId: submitted.requestId,
      approvers: submitted.approvers,
      unreachable: submitted.unreachable,
      duplicate: submitted.duplicate,
    });
    return submitted;
  }

  /** Tells the approvals feature where the requester's receipt card is, so it is kept current. */
  requesterCardPosted(requestId: string, conversation: ConversationAddress, activityId: string): void {
    void this.deps.approvals?.requesterCardPosted?.(requestId, conversation, activityId);
  }

  /** Idempotent on tenant + email + group; N identical concurrent calls → one invitation, one membership. */
  execute(request: InvitationRequest): Promise<InviteOutcome> {
    const parsed = parseEmail(request.email);
    const flightKey = parsed.ok
      ? `${request.requestedBy.tenantId}|${parsed.email.key}|${request.groupId}`
      : `invalid|${request.email}|${request.groupId}|${request.requestedBy.userId}`;
    const running = this.inFlight.get(flightKey);
    if (running) return running.then((o) => ({ ...o, alreadyDone: o.status === 'completed' || o.alreadyDone }));
    const attempt = this.runner.executeOnce(request).finally(() => this.inFlight.delete(flightKey));
    this.inFlight.set(flightKey, attempt);
    return attempt;
  }

  /** Re-tries adding the guest of a 'partial' record to its group; the actor must still be allowed. */
  async retryMembership(recordId: string, actor: Actor): Promise<InviteOutcome> {
    const record = await this.deps.invitations.get(recordId);
    if (!record || record.tenantId !== actor.tenantId) {
      return failedOutcome({
        code: 'unknownSite',
        message: 'I could not find that invitation any more. Start a new one with "invite a guest".',
        setting: null,
        whoCanChange: null,
      });
    }
    const target: InviteTarget = { groupId: record.groupId, siteName: record.siteName, siteUrl: record.siteUrl };
    try {
      const owner = await this.ctx.retrying(() => this.deps.directory.isOwner(record.groupId, actor.userId));
      const approvedRequester = record.source === 'approval' && record.requestedBy.id === actor.userId;
      if (!owner && !approvedRequester) {
        this.ctx.audit(actor, 'invitation.refused', record.id, { attempted: 'retry', reason: 'notOwner' });
        // Someone else's card: nothing of the invitation (guest, site) goes back, only who may act.
        return failedOutcome({
          code: 'notOwner',
          message: 'Only the person who asked for this invitation or an owner of its site can retry it. Nothing was changed.',
          setting: 'site ownership',
          whoCanChange: 'an owner of the site',
        });
      }
    } catch (e) {
      return { ...failedOutcome(refusalFromError(e, this.ctx.maxAttempts)), record, target };
    }
    let advice: SignInAdvice | null = null;
    if (record.state === 'failed' || record.state === 'pending' || !record.userId) {
      // This retry may send an invitation: the tenant's settings may have changed since the first
      // attempt, so they are checked again (rights were checked just above).
      const { decision } = await evaluateInvitation(
        this.ctx,
        actor,
        { email: record.emailDisplay, displayName: record.displayName, groupId: record.groupId },
        true,
      );
      if (decision.kind === 'refused') {
        this.ctx.audit(actor, 'invitation.refused', record.id, { attempted: 'retry', reason: decision.refusal.code, setting: decision.refusal.setting });
        return { ...failedOutcome(decision.refusal), record, target, advice: decision.advice };
      }
      advice = decision.advice;
    }
    this.ctx.audit(actor, 'invitation.retryRequested', record.id, { state: record.state });
    const flightKey = `${record.tenantId}|${record.emailNormalised}|${record.groupId}`;
    const running = this.inFlight.get(flightKey);
    if (running) return running;
    const attempt = this.runner.advance(record, actor, advice, target).finally(() => this.inFlight.delete(flightKey));
    this.inFlight.set(flightKey, attempt);
    return attempt;
  }

  /**
   * The end an invitation to this site made now gets (GUEST_ACCESS_DAYS or the site's own
   * period; endsAt null = no end), or null when no guest lifecycle records access.
   */
  expectedAccessEnd(groupId: string): { endsAt: string | null } | null {
    return this.deps.access ? { endsAt: this.deps.access.expectedEnd(groupId) } : null;
  }

  /** SEND_INVITATION_EMAIL: whether Microsoft already emails each new invitation. */
  get emailsInvitations(): boolean {
    return this.deps.sendInvitationEmail;
  }

  /**
   * Has Microsoft email the invitation to a guest who has not accepted yet: POST /invitations
   * again with sendInvitationMessage true. Graph invites the existing guest again (no second
   * user) and the email carries a fresh invitation link, stored on the record. Only the site's
   * owners, or whoever asked for the invitation, may do it; a guest who already accepted is not
   * emailed. https://learn.microsoft.com/en-us/graph/api/invitation-post
   */
  async sendInvitationEmail(recordId: string, actor: Actor): Promise<InviteOutcome & { emailed: boolean }> {
    const record = await this.deps.invitations.get(recordId);
    const none = { ...failedOutcome({ code: 'unknownSite', message: 'I could not find that invitation any more.', setting: null, whoCanChange: null }), emailed: false };
    if (!record || record.tenantId !== actor.tenantId) return none;
    const target: InviteTarget = { groupId: record.groupId, siteName: record.siteName, siteUrl: record.siteUrl };
    const base = { status: record.state === 'completed' ? ('completed' as const) : ('partial' as const), kind: record.outcomeKind, record, redeemUrl: record.redeemUrl, alreadyDone: false, refusal: null, advice: null, target };
    try {
      const owner = await this.ctx.retrying(() => this.deps.directory.isOwner(record.groupId, actor.userId));
      if (!owner && record.requestedBy.id !== actor.userId) {
        this.ctx.audit(actor, 'invitation.refused', record.id, { attempted: 'email', reason: 'notOwner' });
        return { ...failedOutcome(notOwnerRefusal(record.siteName)), record, target, emailed: false };
      }
      if (!record.userId || !record.redeemUrl || (record.state !== 'completed' && record.state !== 'partial')) {
        return { ...failedOutcome({ code: 'unknownSite', message: 'This invitation has no link to email yet.', setting: null, whoCanChange: null }), record, target, emailed: false };
      }
      const user = await this.ctx.retrying(() => this.deps.directory.getUser(record.userId as string));
      if (user?.externalUserState === 'Accepted') {
        return { ...base, redeemUrl: null, emailed: false, refusal: { code: 'unknownSite', message: `${record.displayName} has already accepted: no email is needed.`, setting: null, whoCanChange: null } };
      }
      const invitation = await this.ctx.retrying(() =>
        this.deps.directory.invite({ email: record.emailDisplay, displayName: record.displayName, redirectUrl: record.siteUrl, sendInvitationMessage: true }),
      );
      const updated = (await this.deps.invitations.update(record.id, record.version, { redeemUrl: invitation.redeemUrl, invitationId: invitation.invitationId })) ?? record;
      this.ctx.audit(actor, 'invitation.emailed', record.id, { userId: invitation.userId, invitationId: invitation.invitationId, sendInvitationMessage: true });
      const access = await recordedAccess(this.ctx, updated);
      return { ...base, record: updated, redeemUrl: invitation.redeemUrl, emailed: true, ...(access ? { access: { endsAt: access.endsAt, recorded: true, existing: true } } : {}) };
    } catch (e) {
      return { ...failedOutcome(refusalFromError(e, this.ctx.maxAttempts)), record, target, emailed: false };
    }
  }

  /** Records for one address the actor may see (their own requests, or sites they own), state read from the directory. */
  async statusOf(actor: Actor, email: string): Promise<InvitationStatusView[]> {
    const parsed = parseEmail(email);
    if (!parsed.ok) throw new InviteRefusedError({ code: 'invalidEmail', message: parsed.reason, setting: null, whoCanChange: null });
    const records = await this.deps.invitations.listByEmail(actor.tenantId, parsed.email.key, { limit: 20 });
    const visible: InvitationRecord[] = [];
    for (const r of records) {
      if (r.requestedBy.id === actor.userId || (await this.ctx.retrying(() => this.deps.directory.isOwner(r.groupId, actor.userId)))) {
        visible.push(r);
      }
    }
    return withDirectoryState(this.ctx, visible);
  }

  /** The actor's own invitations, newest first, with the state read from the directory. */
  async myInvitations(actor: Actor, limit = 10): Promise<InvitationStatusView[]> {
    const records = await this.deps.invitations.listByRequester(actor.tenantId, actor.userId, { limit });
    return withDirectoryState(this.ctx, records);
  }

  // ---- internals ----
}
