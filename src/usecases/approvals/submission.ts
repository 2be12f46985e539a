/**
 * Submission: an invitation (from the invitation flow or a bulk file) or a guest's redemption
 * reset is recorded as a pending request and sent to the approvers' personal chats (and the
 * approvals channel). A second identical request finds the first instead.
 */
import type { Actor } from '../../domain/actor';
import { approvalVerdict } from '../../domain/approvalPolicy';
import type { SignInMethod } from '../../domain/signInAdvice';
import type { ApprovalContext, ApprovalSubmission } from '../invite/ports';
import type { ApprovalRequest, ConversationAddress, NewApprovalRequest } from './model';
import type { Recipient, RequesterView } from './notifications';
import { recipientsFor } from './audience';
import { MAX_JUSTIFICATION } from './deciding';
import { postAndRecord } from './outbox';
import type { IntakeRuntime } from './runtime';
import { adviceSummary, clip, formatInstant } from './texts';
import { accessTerms, copyView, deliverySummary } from './views';

/** A guest asking an admin to reset their redemption (from the guest-help feature). */
export interface RedemptionResetSubmission {
  /** The guest, as derived from the activity: their object id in this tenant. */
  guest: Actor;
  guestEmail: string;
  guestName: string;
  /** Where the guest lands after redeeming again (e.g. the tenant's My Apps link). */
  redirectUrl: string;
  currentMethod: SignInMethod | null;
  /** The guest's own words: why they need it. */
  reason: string;
  /** Stored conversation reference key (conversation id) to report back to. */
  conversationRefKey: string | null;
}

export interface SubmitResult {
  requestId: string;
  /** Names of the approvers (and "the approvals channel") the card reached. */
  approvers: string[];
  /** Names of approvers the bot could not message. */
  unreachable: string[];
  /** True when an identical request was already waiting: nothing new was created. */
  duplicate: boolean;
  /** The requester's "sent for approval to …" view (the Teams layer renders it as a card). */
  card: RequesterView;
}

export async function needsApproval(rt: IntakeRuntime, ctx: ApprovalContext): Promise<{ required: boolean; reason: string }> {
  const verdict = approvalVerdict(rt.settings, { requesterIsSiteOwner: ctx.isOwner, guestDomain: ctx.domain });
  return { required: verdict.required, reason: verdict.reasons.join(' ') };
}

/** Records an invitation request and sends it to the approvers. A second identical request is not created. */
export async function submit(rt: IntakeRuntime, submission: ApprovalSubmission): Promise<SubmitResult> {
  const { request: invite, target, advice } = submission;
  const actor = invite.requestedBy;
  const existing = await rt.requests.findPendingInvitation(actor.tenantId, invite.email, target.groupId);
  if (existing) return duplicateResult(rt, existing);

  const isOwner = await rt.deps.directory.isOwner(target.groupId, actor.userId).catch(() => false);
  const verdict = approvalVerdict(rt.settings, { requesterIsSiteOwner: isOwner, guestDomain: advice.domain });
  const request = await rt.requests.create(
    newRequest(rt, actor, invite.conversationRefKey ?? null, clip(submission.justification ?? '', MAX_JUSTIFICATION), verdict.reasons, {
      kind: 'invitation',
      guestName: invite.displayName,
      guestEmail: invite.email,
      groupId: target.groupId,
      siteName: target.siteName,
      siteUrl: target.siteUrl,
      signInMethod: advice.method,
      signInSummary: adviceSummary(advice),
      warnings: [...advice.warnings],
      ...(invite.accessEnd ? { accessEnd: invite.accessEnd } : {}),
    }),
  );
  await rt.audit(actor, 'approval.requested', request, { kind: 'invitation', groupId: target.groupId, guestDomain: advice.domain });
  return deliverNewRequest(rt, request);
}

/** Records a guest's redemption-reset request and sends it to the approvers (never to site owners). */
export async function submitReset(rt: IntakeRuntime, submission: RedemptionResetSubmission): Promise<SubmitResult> {
  const existing = await rt.requests.findPendingReset(submission.guest.tenantId, submission.guest.userId);
  if (existing) return duplicateResult(rt, existing);
  const request = await rt.requests.create(
    newRequest(rt, submission.guest, submission.conversationRefKey, clip(submission.reason, MAX_JUSTIFICATION), ['Only an admin can reset how a guest signs in.'], {
      kind: 'redemptionReset',
      guestUserId: submission.guest.userId,
      guestName: submission.guestName,
      guestEmail: submission.guestEmail,
      redirectUrl: submission.redirectUrl,
      currentMethod: submission.currentMethod,
    }),
  );
  await rt.audit(submission.guest, 'approval.requested', request, { kind: 'redemptionReset' });
  return deliverNewRequest(rt, request);
}

/**
 * The requester's own "Sent for approval" card, posted by the chat they asked from: kept as a
 * copy so it is updated with every other copy (decision, cancellation, expiry).
 */
export async function requesterCardPosted(rt: IntakeRuntime, requestId: string, conversation: ConversationAddress, activityId: string): Promise<void> {
  const request = await rt.requests.get(requestId);
  if (!request) return;
  await rt.requests.recordDelivery({
    requestId,
    audience: 'requester',
    recipientId: request.requester.userId,
    recipientName: request.requester.name,
    purpose: 'card',
    status: 'sent',
    conversation,
    activityId,
    error: null,
    at: rt.now().toISOString(),
  });
}

/** Posts the request card to one approver's personal chat; a person the bot has no chat with is recorded unreachable. */
export async function sendCardTo(rt: IntakeRuntime, request: ApprovalRequest, person: Recipient, recipients: readonly Recipient[]): Promise<boolean> {
  const base = { requestId: request.id, audience: person.audience, recipientId: person.id, recipientName: person.displayName, purpose: 'card' as const };
  const chat = await rt.deps.chats.personalChat(person.id);
  if (!chat) {
    await rt.requests.recordDelivery({
      ...base,
      status: 'unreachable',
      conversation: null,
      activityId: null,
      error: 'The bot has no personal chat with this person (they have never talked to it).',
      at: rt.now().toISOString(),
    });
    return false;
  }
  return (await postAndRecord(rt, chat, copyView(rt, request, person.audience, recipients), base)).ok;
}

function newRequest(
  rt: IntakeRuntime,
  actor: Actor,
  conversationRefKey: string | null,
  justification: string,
  reasons: string[],
  subject: NewApprovalRequest['subject'],
): NewApprovalRequest {
  const now = rt.now();
  return {
    tenantId: actor.tenantId,
    requester: { userId: actor.userId, name: actor.name || 'Someone', tenantId: actor.tenantId },
    requesterConversationId: conversationRefKey,
    subject,
    justification,
    reasons,
    createdAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + rt.settings.expiryDays * 86_400_000).toISOString(),
  };
}

async function duplicateResult(rt: IntakeRuntime, existing: ApprovalRequest): Promise<SubmitResult> {
  const { approvers, unreachable } = await deliverySummary(rt, existing.id);
  return {
    requestId: existing.id,
    approvers,
    unreachable,
    duplicate: true,
    card: {
      kind: 'requester',
      request: existing,
      now: rt.now(),
      approvers,
      unreachable,
      notice: {
        text: `${existing.requester.name} already asked for this on ${formatInstant(existing.createdAt)}; that request is still waiting, so no new one was made.`,
        tone: 'warning',
      },
      redeemUrl: null,
      invitation: null,
      access: accessTerms(rt, existing),
    },
  };
}

async function deliverNewRequest(rt: IntakeRuntime, request: ApprovalRequest): Promise<SubmitResult> {
  const recipients = await recipientsFor(rt, request);
  const approvers: string[] = [];
  const unreachable: string[] = [];
  for (const person of recipients) {
    const sent = await sendCardTo(rt, request, person, recipients);
    (sent ? approvers : unreachable).push(person.displayName);
  }
  if (rt.settings.approvalsChannelId && (await sendCardToChannel(rt, request, recipients))) approvers.push('the approvals channel');
  return {
    requestId: request.id,
    approvers,
    unreachable,
    duplicate: false,
    card: { kind: 'requester', request, now: rt.now(), approvers, unreachable, notice: null, redeemUrl: null, invitation: null, access: accessTerms(rt, request) },
  };
}

async function sendCardToChannel(rt: IntakeRuntime, request: ApprovalRequest, recipients: readonly Recipient[]): Promise<boolean> {
  const channelId = rt.settings.approvalsChannelId;
  if (!channelId) return false;
  const base = {
    requestId: request.id,
    audience: 'channel' as const,
    recipientId: channelId,
    recipientName: 'the approvals channel',
    purpose: 'card' as const,
  };
  if (!(await rt.deps.chats.isKnown(channelId))) {
    rt.logger.warn({ requestId: request.id }, 'approvals: APPROVALS_CHANNEL_ID has no stored conversation reference yet');
    await rt.requests.recordDelivery({
      ...base,
      status: 'unreachable',
      conversation: null,
      activityId: null,
      error: 'No conversation reference for the approvals channel: install the app in its team, or mention the bot in that channel once.',
      at: rt.now().toISOString(),
    });
    return false;
  }
  return (await postAndRecord(rt, channelId, copyView(rt, request, 'channel', recipients), base)).ok;
}
