/**
 * Deciding: approvers approve, reject or ask a question; the requester answers or cancels.
 * Rights are re-checked on every click; exactly one decision is ever recorded (compare-and-set),
 * and a losing click (or a replay) changes nothing and is told what happened.
 */
import type { Actor } from '../../domain/actor';
import type { ApprovalRequest } from './model';
import { approverRights, directoryName, isApprover } from './audience';
import { afterDecision, CARRY_LEASE_MS, carryKey, withinBudget } from './carryOut';
import { expire } from './expiry';
import { notifyRequester, updateCopies } from './outbox';
import { closeLedger, type ApprovalRuntime } from './runtime';
import { clip, closedMessage, formatInstant, NOT_AVAILABLE, notFound } from './texts';

/**
 * applied        the actor's action took effect;
 * alreadyDecided someone decided first (or the request is closed): nothing changed;
 * forbidden      the actor may not do this: nothing changed;
 * notFound       no such request;
 * invalid        input missing (e.g. a reject reason): nothing changed;
 * changed        the request changed since the actor's card was drawn: review again;
 * unavailable    rights could not be checked (directory fault): nothing changed.
 */
export type ActionStatus = 'applied' | 'alreadyDecided' | 'forbidden' | 'notFound' | 'invalid' | 'changed' | 'unavailable';

export interface ActionOutcome {
  status: ActionStatus;
  /** Null when the actor may not see the request (or it does not exist). */
  request: ApprovalRequest | null;
  /** Plain words for the actor. */
  message: string;
  /** The actor may decide this request (drives the buttons on the card returned). */
  mayDecide: boolean;
  /** Set when an approved invitation or reset produced a link (for the requester's card). */
  redeemUrl?: string | null;
}

export const MAX_NOTE = 1000;
export const MAX_JUSTIFICATION = 4000;

/**
 * An approver approves or rejects. Exactly one decision is ever recorded; a losing click (or a
 * replay) changes nothing and is told what happened. `cardVersion` (from the card, untrusted)
 * can only make the check stricter: a card drawn before the request changed must be reviewed again.
 */
export async function decide(
  rt: ApprovalRuntime,
  actor: Actor | null,
  requestId: string,
  verdict: 'approve' | 'reject',
  note: string | null,
  cardVersion?: number,
): Promise<ActionOutcome> {
  const gate = await gateApproverAction(rt, actor, requestId, cardVersion, verdict);
  if ('outcome' in gate) return gate.outcome;
  const { request, who } = gate;
  const reason = clip(note?.trim() ?? '', MAX_NOTE);
  if (verdict === 'reject' && reason === '') {
    return { status: 'invalid', request, mayDecide: true, message: 'Give a reason for rejecting, so the requester knows why. Nothing was changed.' };
  }
  const at = rt.now().toISOString();
  // The decision, its audit row and (for an approval) this process's lease on carrying it out
  // commit together: a crash leaves either nothing or all three.
  const state = verdict === 'approve' ? 'approved' : 'rejected';
  const cas = await rt.requests.decide(
    request.id,
    request.version,
    { state, by: who, note: verdict === 'reject' ? reason : null, at },
    {
      // The row as the decision leaves it: one version on, in its new state.
      audit: rt.auditEvent(gate.actor, `approval.${state}`, request.id, {
        kind: request.kind,
        ...(verdict === 'reject' ? { reason } : {}),
        version: request.version + 1,
        state,
      }),
      lease: verdict === 'approve' ? { key: carryKey(request.id), holderId: rt.deps.holderId, ttlMs: CARRY_LEASE_MS } : undefined,
    },
  );
  if (!cas.won) return lostRace(cas.current);
  const decided = cas.request;
  let redeemUrl: string | null = null;
  const followUp = afterDecision(rt, decided).then((url) => {
    redeemUrl = url;
  });
  const settled = await withinBudget(rt, followUp);
  const latest = await rt.requests.get(decided.id) ?? decided;
  const what = verdict === 'approve' ? 'approved' : 'rejected';
  const message =
    verdict === 'reject'
      ? `You rejected the request. ${latest.requester.name} has been told why.`
      : settled && latest.outcome
        ? `You approved the request. ${latest.outcome.message}`
        : `You approved the request. Carrying it out now; this card updates when it is done.`;
  return { status: 'applied', request: latest, mayDecide: false, message: message || `You ${what} the request.`, redeemUrl };
}

/** An approver asks the requester a question; the request stays pending. */
export async function requestMoreInfo(rt: ApprovalRuntime, actor: Actor | null, requestId: string, question: string | null, cardVersion?: number): Promise<ActionOutcome> {
  const gate = await gateApproverAction(rt, actor, requestId, cardVersion, 'askInfo');
  if ('outcome' in gate) return gate.outcome;
  const { request, who } = gate;
  const text = clip(question?.trim() ?? '', MAX_NOTE);
  if (text === '') {
    return { status: 'invalid', request, mayDecide: true, message: 'Write the question the requester should answer. Nothing was changed.' };
  }
  const cas = await rt.requests.requestInfo(request.id, request.version, who, text, rt.now().toISOString());
  if (!cas.won) return lostRace(cas.current);
  await rt.audit(gate.actor, 'approval.infoRequested', cas.request, {});
  const updated = cas.request;
  await updateCopies(rt, updated);
  const asked = await notifyRequester(rt, updated, null, {
    text: `${who.name} needs more information before deciding. Answer below; your answer is added to the request.`,
    tone: 'warning',
  });
  return {
    status: 'applied',
    request: updated,
    mayDecide: true,
    message: asked
      ? `Your question was sent to ${updated.requester.name}. Their answer will appear on this card.`
      : `Your question is recorded, but ${updated.requester.name} could not be messaged in Teams just now; it is sent again, and reaches them at the latest when they next open a chat with the bot.`,
  };
}

/** The requester answers an approver's question: the answer is appended to the justification. */
export async function provideInfo(rt: ApprovalRuntime, actor: Actor | null, requestId: string, answer: string | null): Promise<ActionOutcome> {
  const request = await rt.requests.get(requestId);
  if (!request) return notFound();
  if (!actor || actor.userId !== request.requester.userId || actor.tenantId !== request.tenantId) {
    if (actor) await auditRefusal(rt, actor, request, 'answer', actor.tenantId !== request.tenantId ? 'otherTenant' : 'notRequester');
    return { status: 'forbidden', request: null, mayDecide: false, message: 'Only the person who made this request can answer for it. Nothing was changed.' };
  }
  if (request.state !== 'pending') return { status: 'alreadyDecided', request, mayDecide: false, message: closedMessage(request) };
  const text = clip(answer?.trim() ?? '', MAX_NOTE);
  if (text === '') return { status: 'invalid', request, mayDecide: false, message: 'Write an answer first. Nothing was changed.' };
  const heading = request.infoRequest
    ? `Answer to ${request.infoRequest.byName} (${formatInstant(rt.now().toISOString())}): `
    : `Added (${formatInstant(rt.now().toISOString())}): `;
  const justification = clip(
    request.justification.trim() === '' ? `${heading}${text}` : `${request.justification}\n\n${heading}${text}`,
    MAX_JUSTIFICATION,
  );
  const cas = await rt.requests.appendJustification(request.id, request.version, justification);
  if (!cas.won) {
    const current = cas.current;
    return current && current.state === 'pending'
      ? { status: 'changed', request: current, mayDecide: false, message: 'The request changed while you were typing; send your answer again.' }
      : { status: 'alreadyDecided', request: current, mayDecide: false, message: current ? closedMessage(current) : 'The request no longer exists.' };
  }
  await rt.audit(actor, 'approval.infoProvided', cas.request, {});
  await updateCopies(rt, cas.request);
  return { status: 'applied', request: cas.request, mayDecide: false, message: 'Thanks: your answer was added to the request and the approvers see it now.' };
}

/** The requester withdraws their own pending request. */
export async function cancel(rt: ApprovalRuntime, actor: Actor | null, requestId: string): Promise<ActionOutcome> {
  const request = await rt.requests.get(requestId);
  if (!request) return notFound();
  if (!actor || actor.userId !== request.requester.userId || actor.tenantId !== request.tenantId) {
    if (actor) await auditRefusal(rt, actor, request, 'cancel', actor.tenantId !== request.tenantId ? 'otherTenant' : 'notRequester');
    return { status: 'forbidden', request: null, mayDecide: false, message: 'Only the person who made this request can cancel it. Nothing was changed.' };
  }
  if (request.state !== 'pending') return { status: 'alreadyDecided', request, mayDecide: false, message: closedMessage(request) };
  const cas = await rt.requests.decide(request.id, request.version, {
    state: 'cancelled',
    by: { userId: actor.userId, name: actor.name || request.requester.name },
    note: null,
    at: rt.now().toISOString(),
  });
  if (!cas.won) {
    const current = cas.current;
    if (current?.state === 'pending') return cancel(rt, actor, requestId); // only an info edit raced us
    return { status: 'alreadyDecided', request: current, mayDecide: false, message: current ? closedMessage(current) : 'The request no longer exists.' };
  }
  await rt.audit(actor, 'approval.cancelled', cas.request, {});
  await closeLedger(rt, cas.request);
  await updateCopies(rt, cas.request);
  return { status: 'applied', request: cas.request, mayDecide: false, message: 'Your request was cancelled; the approvers see that on their cards.' };
}

/** The card a viewer should see now (Action.Execute refresh). */
export async function view(rt: ApprovalRuntime, actor: Actor | null, requestId: string): Promise<ActionOutcome> {
  const request = await rt.requests.get(requestId);
  if (!request) return (await isApprover(rt, actor)) ? notFound() : { ...notFound(), message: NOT_AVAILABLE };
  if (actor && actor.userId === request.requester.userId && actor.tenantId === request.tenantId) {
    return { status: 'applied', request, mayDecide: false, message: '' };
  }
  const rights = await approverRights(rt, actor, request);
  if (!rights.ok) {
    // Neither an approver nor the requester: nothing of the request, not even that it exists.
    return { status: rights.status, request: null, mayDecide: false, message: rights.status === 'unavailable' ? rights.message : NOT_AVAILABLE };
  }
  return { status: 'applied', request, mayDecide: request.state === 'pending', message: '' };
}

/** What a person tried on an approval request (the `attempted` of an approval.refused event). */
export type ApprovalAttempt = 'approve' | 'reject' | 'askInfo' | 'answer' | 'cancel';

/**
 * A click by someone who may not do it: on the record (who, which request, what they tried, why
 * not). Nothing else changes, and the answer to the click does not wait on the audit log.
 */
async function auditRefusal(rt: ApprovalRuntime, actor: Actor, request: ApprovalRequest, attempted: ApprovalAttempt, reason: string): Promise<void> {
  try {
    await rt.audit(actor, 'approval.refused', request, { kind: request.kind, attempted, reason });
  } catch (error) {
    rt.logger.warn({ requestId: request.id, attempted, err: error instanceof Error ? error.name : 'error' }, 'approvals: refusal not audited');
  }
}

async function gateApproverAction(
  rt: ApprovalRuntime,
  actor: Actor | null,
  requestId: string,
  cardVersion: number | undefined,
  attempted: ApprovalAttempt,
): Promise<{ outcome: ActionOutcome } | { request: ApprovalRequest; actor: Actor; who: { userId: string; name: string } }> {
  const request = await rt.requests.get(requestId);
  if (!request) return { outcome: notFound() };
  const rights = await approverRights(rt, actor, request);
  if (!rights.ok || !actor) {
    // A refusal is on the record; a directory fault (unavailable) is not one, and a click Teams did not say the author of is recorded by the bot (reason unidentified).
    if (actor && !rights.ok && rights.status === 'forbidden') await auditRefusal(rt, actor, request, attempted, rights.reason);
    const message = rights.ok ? 'Nothing was changed.' : rights.message;
    const isRequester = actor?.userId === request.requester.userId && actor.tenantId === request.tenantId;
    return {
      outcome: { status: rights.ok ? 'forbidden' : rights.status, request: isRequester ? request : null, mayDecide: false, message },
    };
  }
  if (request.state !== 'pending') {
    return { outcome: { status: 'alreadyDecided', request, mayDecide: false, message: closedMessage(request) } };
  }
  const now = rt.now();
  if (Date.parse(request.expiresAt) <= now.getTime()) {
    await expire(rt, request, now);
    const current = await rt.requests.get(request.id) ?? request;
    return { outcome: { status: 'alreadyDecided', request: current, mayDecide: false, message: closedMessage(current) } };
  }
  if (cardVersion !== undefined && cardVersion !== request.version) {
    return {
      outcome: {
        status: 'changed',
        request,
        mayDecide: true,
        message: 'This request changed since your card was drawn (see the latest justification and questions below). Review it and decide again. Nothing was changed.',
      },
    };
  }
  // The name recorded as the decider is the directory's, not the activity's from.name.
  return { request, actor, who: { userId: actor.userId, name: await directoryName(rt, actor) } };
}

function lostRace(current: ApprovalRequest | null): ActionOutcome {
  if (!current) return notFound();
  if (current.state === 'pending') {
    return {
      status: 'changed',
      request: current,
      mayDecide: true,
      message: 'The request changed at the same moment (another approver or the requester updated it). Review it and decide again. Nothing was changed.',
    };
  }
  return { status: 'alreadyDecided', request: current, mayDecide: false, message: closedMessage(current) };
}
