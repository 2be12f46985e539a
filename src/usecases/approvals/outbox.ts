/**
 * Everything the approvals send after a request exists: posting a view and logging the attempt,
 * updating every posted copy, and the requester's notices, which are kept when they do not
 * arrive and sent again (when the requester's chat is next seen, or by the sweep).
 */
import type { ApprovalRequest, NewDelivery, RequesterNotice } from './model';
import type { ApprovalView, Notice, PostResult } from './notifications';
import { recipientsFor } from './audience';
import type { ApprovalRuntime, IntakeRuntime } from './runtime';
import { copyView, requesterView } from './views';
import { describe } from './texts';

/** The sweep stops retrying a requester notice after this many sends (opening a chat still delivers it). */
export const REQUESTER_NOTICE_MAX_ATTEMPTS = 5;
/** How long one attempt holds a notice: far longer than a send, short enough to outlive a crash. */
export const NOTICE_LEASE_MS = 2 * 60_000;

/** Posts a view into one chat and records the attempt, sent or failed, against the request. */
export async function postAndRecord(
  rt: IntakeRuntime,
  conversationId: string,
  view: ApprovalView,
  delivery: Omit<NewDelivery, 'status' | 'conversation' | 'activityId' | 'error' | 'at'>,
): Promise<PostResult> {
  const result = await rt.deps.notifier.post(conversationId, view);
  await rt.requests.recordDelivery({
    ...delivery,
    status: result.ok ? 'sent' : 'failed',
    conversation: result.address,
    activityId: result.ok ? result.activityId : null,
    error: result.ok ? null : result.error,
    at: rt.now().toISOString(),
  });
  return result;
}

/** Updates every posted copy of the request's card; a copy that cannot be updated is recorded, not fatal. */
export async function updateCopies(rt: ApprovalRuntime, request: ApprovalRequest): Promise<void> {
  const copies = await rt.requests.listCardCopies(request.id);
  if (copies.length === 0) return;
  const recipients = request.state === 'pending' ? await recipientsFor(rt, request) : [];
  const forRequester = copies.some((c) => c.audience === 'requester') ? await requesterView(rt, request, null) : null;
  for (const copy of copies) {
    if (!copy.activityId || !copy.conversation) continue;
    const view = copy.audience === 'requester' && forRequester ? forRequester : copyView(rt, request, copy.audience, recipients);
    const result = await rt.deps.notifier.update(copy, view);
    if (!result.ok) {
      await rt.requests.recordDelivery({
        requestId: request.id,
        audience: copy.audience,
        recipientId: copy.recipientId,
        recipientName: copy.recipientName,
        purpose: 'update',
        status: 'failed',
        conversation: copy.conversation,
        activityId: copy.activityId,
        error: result.error,
        at: rt.now().toISOString(),
      });
    }
  }
}

/**
 * Tells the requester, in the chat they asked from (else, or if that fails, their personal chat).
 * Returns whether it arrived; one that did not is kept and sent again when the requester's chat is
 * next seen or by the sweep (see retryNotices).
 */
export async function notifyRequester(rt: ApprovalRuntime, request: ApprovalRequest, redeemUrl: string | null, notice: Notice | null): Promise<boolean> {
  // This notice shows the request as it is now: older undelivered ones would only repeat or contradict it.
  await rt.requests.supersedeNotices(request.id);
  const result = await sendNotice(rt, request, redeemUrl, notice, await requesterConversations(rt, request));
  if (!result.ok) {
    await rt.requests.recordPendingNotice({
      requestId: request.id,
      requesterId: request.requester.userId,
      requestVersion: request.version,
      notice: notice ? { text: notice.text, tone: notice.tone ?? 'accent' } : null,
      redeemUrl,
      error: result.error,
      at: rt.now().toISOString(),
    });
  }
  return result.ok;
}

/** Sends a notice kept (and held) before its first send; it stays pending for the sweep if it does not arrive. */
export async function sendKeptNotice(rt: ApprovalRuntime, kept: RequesterNotice, request: ApprovalRequest): Promise<void> {
  try {
    const result = await sendNotice(rt, request, kept.redeemUrl, kept.notice, await requesterConversations(rt, request));
    if (result.ok) await rt.requests.markNoticeDelivered(kept.id, rt.now().toISOString());
    else await rt.requests.releaseNotice(kept.id, result.error);
  } catch (error) {
    await rt.requests.releaseNotice(kept.id, describe(error).message);
    throw error;
  }
}

/** Where the requester can be told: the chat they asked from, then their personal chat. */
export async function requesterConversations(rt: ApprovalRuntime, request: ApprovalRequest): Promise<string[]> {
  const { chats } = rt.deps;
  const asked = request.requesterConversationId && (await chats.isKnown(request.requesterConversationId)) ? request.requesterConversationId : null;
  const personal = await chats.personalChat(request.requester.userId);
  const out: string[] = [];
  for (const id of [asked, personal]) if (id && !out.includes(id)) out.push(id);
  return out;
}

/** Sends the requester's view to the first of `targets` that takes it; every attempt is logged. */
async function sendNotice(
  rt: ApprovalRuntime,
  request: ApprovalRequest,
  redeemUrl: string | null,
  notice: Notice | null,
  targets: readonly string[],
): Promise<{ ok: true } | { ok: false; error: string }> {
  const base = {
    requestId: request.id,
    audience: 'requester' as const,
    recipientId: request.requester.userId,
    recipientName: request.requester.name,
    purpose: 'notice' as const,
  };
  if (targets.length === 0) {
    const error = 'No stored conversation with the requester.';
    await rt.requests.recordDelivery({ ...base, status: 'unreachable', conversation: null, activityId: null, error, at: rt.now().toISOString() });
    return { ok: false, error };
  }
  const view = await requesterView(rt, request, notice, redeemUrl);
  let error = '';
  for (const conversationId of targets) {
    const result = await postAndRecord(rt, conversationId, view, base);
    if (result.ok) return { ok: true };
    error = result.error;
  }
  return { ok: false, error };
}

/**
 * One more attempt at a kept notice, into `targets`. The claim makes it one attempt however
 * many turns or processes try at once; a notice whose request changed since is dropped.
 */
export async function resendNotice(rt: ApprovalRuntime, pending: RequesterNotice, targets: readonly string[]): Promise<boolean> {
  if (targets.length === 0) return false;
  const now = rt.now();
  if (!(await rt.requests.claimNotice(pending.id, now.toISOString(), new Date(now.getTime() + NOTICE_LEASE_MS).toISOString()))) return false;
  const request = await rt.requests.get(pending.requestId);
  if (!request || request.version !== pending.requestVersion) {
    await rt.requests.supersedeNotice(pending.id);
    return false;
  }
  try {
    const result = await sendNotice(rt, request, pending.redeemUrl, pending.notice, targets);
    if (result.ok) await rt.requests.markNoticeDelivered(pending.id, rt.now().toISOString());
    else await rt.requests.releaseNotice(pending.id, result.error);
    return result.ok;
  } catch (error) {
    await rt.requests.releaseNotice(pending.id, describe(error).message);
    throw error;
  }
}

/**
 * Sends again the requester notices that did not arrive (429, 404, network, no chat yet), once
 * they are `minAgeMs` old and have had fewer than `maxAttempts` sends. Run by the periodic sweep;
 * a requester who opens a chat gets theirs at once (onConversationSeen). Returns how many arrived.
 */
export async function retryNotices(rt: ApprovalRuntime, options: { minAgeMs?: number; maxAttempts?: number } = {}): Promise<number> {
  const cutoff = new Date(rt.now().getTime() - Math.max(0, options.minAgeMs ?? 0)).toISOString();
  let delivered = 0;
  for (const pending of await rt.requests.listNoticesDueForRetry(cutoff, options.maxAttempts ?? REQUESTER_NOTICE_MAX_ATTEMPTS)) {
    const request = await rt.requests.get(pending.requestId);
    // Nowhere to send it yet: not an attempt; it goes out when the requester first opens a chat.
    const targets = request ? await requesterConversations(rt, request) : [];
    try {
      if (await resendNotice(rt, pending, targets)) delivered += 1;
    } catch (error) {
      rt.logger.error({ requestId: pending.requestId, err: describe(error) }, 'approvals: sending a requester notice again failed');
    }
  }
  return delivered;
}
