/**
 * Recovery: approvals decided before a stop but never carried out are resumed, and whoever opens
 * a chat with the bot receives what could not reach them (approvers their pending cards,
 * requesters their notices).
 */
import type { Actor } from '../../domain/actor';
import type { ApprovalRequest, RequesterNotice } from './model';
import type { SeenConversation } from './notifications';
import { approverRights, recipientsFor } from './audience';
import { afterDecision, CARRY_LEASE_MS, carryKey } from './carryOut';
import { resendNotice, updateCopies } from './outbox';
import type { ApprovalRuntime } from './runtime';
import { sendCardTo } from './submission';

/** How long a card re-delivery is held: far longer than one send. */
const REDELIVERY_LEASE_MS = 60_000;
/** Approvals carried out at once by one recovery pass. */
const RESUME_PARALLELISM = 4;

/**
 * Carries out approved requests that have no outcome: the process stopped between recording
 * the decision and finishing the invitation (or reset). Safe to repeat: an invitation is
 * idempotent on tenant + email + group, and only the first outcome recorded is told to the
 * requester. Cards and the requester are updated as for a normal approval. Run at start-up
 * (before the expiry sweep) and on the sweep's interval with `minAgeMs` so that requests another
 * process has just approved are left to it. Returns how many of them now have an outcome.
 */
export async function resumeApproved(rt: ApprovalRuntime, options: { minAgeMs?: number } = {}): Promise<number> {
  const cutoff = new Date(rt.now().getTime() - Math.max(0, options.minAgeMs ?? 0)).toISOString();
  // Only requests nobody alive is carrying out: the lease is taken before anything is done, and
  // a process that died holding one frees it at once (see the lease store).
  const mine: ApprovalRequest[] = [];
  for (const request of await rt.requests.listApprovedWithoutOutcome(cutoff)) {
    if (rt.carryingOut.has(request.id)) continue;
    if (await rt.deps.leases.acquire(carryKey(request.id), rt.deps.holderId, CARRY_LEASE_MS)) mine.push(request);
  }
  let resumed = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < mine.length) {
      const request = mine[next++] as ApprovalRequest;
      rt.logger.info({ requestId: request.id, kind: request.kind }, 'approvals: resuming an approved request with no outcome');
      await afterDecision(rt, request, 'resumed');
      if ((await rt.requests.get(request.id))?.outcome) resumed += 1;
    }
  };
  await Promise.all(Array.from({ length: Math.min(RESUME_PARALLELISM, mine.length) }, worker));
  return resumed;
}

/**
 * Call on every activity (and on install) after the conversation reference was stored. An
 * approver who opens a chat with the bot receives the pending cards that could not reach
 * them before; a requester receives the notices that could not reach them (in their personal
 * chat, or in the chat they asked from when that one is seen).
 */
export async function onConversationSeen(rt: ApprovalRuntime, seen: SeenConversation): Promise<void> {
  const { conversationId, personal, userId } = seen;
  if (personal && !userId) return;
  // Opening a chat brings conversationUpdate and installationUpdate at once: both turns would
  // find the same undelivered request before either records it sent, and post the card twice.
  const key = personal && userId ? userId : `conversation:${conversationId}`;
  const running = rt.redelivering.get(key);
  if (running) return running;
  const work = (async () => {
    if (personal && userId) {
      await redeliverTo(rt, userId, seen);
      await resendNotices(rt, await rt.requests.listPendingNoticesFor(userId), conversationId);
    } else {
      await resendNotices(rt, await rt.requests.listPendingNoticesForConversation(conversationId), conversationId);
    }
  })().finally(() => rt.redelivering.delete(key));
  rt.redelivering.set(key, work);
  return work;
}

/** Sends kept requester notices into a conversation just seen (so known to reach them). */
async function resendNotices(rt: ApprovalRuntime, pending: readonly RequesterNotice[], conversationId: string): Promise<void> {
  for (const notice of pending) {
    await rt.safely(notice.requestId, 'resending a requester notice', async () => {
      await resendNotice(rt, notice, [conversationId]);
    });
  }
}

/** Sends an approver the pending cards that could not reach them before. */
async function redeliverTo(rt: ApprovalRuntime, userId: string, seen: SeenConversation): Promise<void> {
  for (const request of await rt.requests.listUndeliveredFor(userId)) {
    const who: Actor = { userId, name: seen.userName, tenantId: seen.tenantId ?? request.tenantId };
    const rights = await approverRights(rt, who, request);
    if (!rights.ok) continue;
    // Claimed in the store before sending: two turns (conversationUpdate and installationUpdate
    // arrive together) or two processes find the same undelivered card, and only one posts it.
    const key = `redeliver:${request.id}:${userId}`;
    if (!(await rt.deps.leases.acquire(key, rt.deps.holderId, REDELIVERY_LEASE_MS))) continue;
    try {
      // Re-read under the claim: the winner of an earlier claim may have delivered it already.
      if (!(await rt.requests.listUndeliveredFor(userId)).some((r) => r.id === request.id)) continue;
      const recipients = await recipientsFor(rt, request);
      const person = recipients.find((r) => r.id === userId) ?? { id: userId, displayName: who.name, audience: 'approver' as const };
      if (!(await sendCardTo(rt, request, person, recipients))) continue;
      // Decided while this copy was on its way (after the re-read above, before it was recorded):
      // the decision's card updates did not know this copy, so it is brought up to date here.
      const now = await rt.requests.get(request.id);
      if (now && now.version !== request.version) await rt.safely(request.id, 'card updates', () => updateCopies(rt, now));
    } finally {
      await rt.deps.leases.release(key, rt.deps.holderId);
    }
  }
}
