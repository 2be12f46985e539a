/** Expiry: a pending request past its time is closed, its copies updated and its requester told. */
import type { ApprovalRequest } from './model';
import { notifyRequester, updateCopies } from './outbox';
import { closeLedger, type ApprovalRuntime } from './runtime';

/**
 * Expires every pending request past its expiry time. Run at start-up and on an interval.
 * Returns how many requests this call expired.
 */
export async function expireDue(rt: ApprovalRuntime, now: Date = rt.now()): Promise<number> {
  let expired = 0;
  for (const request of await rt.requests.listDueForExpiry(now.toISOString())) {
    if (await expire(rt, request, now)) expired += 1;
  }
  return expired;
}

/** Expires one request (if still pending at the version read); false when someone else changed it first. */
export async function expire(rt: ApprovalRuntime, request: ApprovalRequest, now: Date): Promise<boolean> {
  const cas = await rt.requests.decide(
    request.id,
    request.version,
    { state: 'expired', by: null, note: `No decision within ${rt.settings.expiryDays} days.`, at: now.toISOString() },
    {
      audit: {
        actorId: 'system',
        actorName: 'Guest onboarding bot',
        action: 'approval.expired',
        subjectType: 'approval',
        subjectId: request.id,
        details: { kind: request.kind },
      },
    },
  );
  if (!cas.won) return false;
  await closeLedger(rt, cas.request);
  await rt.safely(request.id, 'expiry follow-up', async () => {
    await updateCopies(rt, cas.request);
    await notifyRequester(rt, cas.request, null, {
      text: 'No approver decided in time, so the request expired. Ask again if it is still needed.',
      tone: 'warning',
    });
  });
  return true;
}
