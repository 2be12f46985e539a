/** The views of a request (data for the Teams layer's cards): for approvers, and for the requester. */
import type { Actor } from '../../domain/actor';
import type { ApprovalRequest, DeliveryAudience } from './model';
import type { AccessTerms, ApprovedInvitation, ApproverView, Notice, Recipient, RequesterView } from './notifications';
import { accessEndFor } from '../../domain/lifecycle';
import { boundedAccessEnd, requestedAccessEndFrom, requestedEndAt } from '../../domain/accessEnd';
import { approverWarnings, recipientsFor } from './audience';
import type { ApprovalRuntime, IntakeRuntime } from './runtime';
import { describe } from './texts';

/** A request as approvers see it; `recipients` (when known) are whose copies refresh by themselves. */
export async function approverView(
  rt: IntakeRuntime,
  request: ApprovalRequest,
  options: { showActions: boolean; notice?: Notice | null; recipients?: readonly Recipient[] },
): Promise<ApproverView> {
  const recipients = options.recipients ?? (request.state === 'pending' ? await recipientsFor(rt, request) : []);
  return {
    kind: 'approver',
    request,
    now: rt.now(),
    showActions: options.showActions,
    notice: options.notice ?? null,
    approverWarnings: approverWarnings(rt, request),
    refreshFor: recipients.map((r) => r.id),
    access: accessTerms(rt, request),
  };
}

/**
 * The access an invitation request gives, from the settings (GUEST_ACCESS_DAYS, per site): the
 * end counted from the decision (from now while it waits), or the end the request asked for
 * (a bulk row's own) kept within the site's period, and the requester as the sponsor.
 * Once carried out, `recordedEnd` is the end the guest lifecycle recorded.
 */
export function accessTerms(rt: IntakeRuntime, request: ApprovalRequest, recordedEnd?: string | null): AccessTerms | null {
  const settings = rt.deps.access;
  if (!settings || request.subject.kind !== 'invitation') return null;
  const pending = request.state === 'pending';
  const from = !pending && request.decidedAt ? new Date(request.decidedAt) : rt.now();
  const asked = requestedAccessEndFrom(request.subject.accessEnd ?? null);
  const askedEnd = asked ? requestedEndAt(asked, from) : undefined;
  const endsAt =
    recordedEnd !== undefined
      ? recordedEnd
      : askedEnd !== undefined
        ? boundedAccessEnd(settings, request.subject.groupId, from, askedEnd)
        : accessEndFor(settings, request.subject.groupId, from);
  // A calendar day asked for (and within the site's period) is the same whenever it is approved.
  const fixedDay = asked?.kind === 'date' && endsAt === askedEnd;
  return {
    endsAt,
    ifApprovedNow: pending && !fixedDay,
    sponsorName: request.requester.name,
  };
}

/**
 * The card as a copy shows it to everyone in that conversation. A personal copy belongs to an
 * approver, so it carries the buttons; the channel copy shows status only, and refresh gives
 * approvers their buttons (the click is re-checked either way).
 */
export function copyView(rt: IntakeRuntime, request: ApprovalRequest, audience: DeliveryAudience, recipients: readonly Recipient[]): ApproverView {
  return {
    kind: 'approver',
    request,
    now: rt.now(),
    showActions: audience !== 'channel',
    notice: null,
    approverWarnings: approverWarnings(rt, request),
    refreshFor: recipients.map((r) => r.id),
    access: accessTerms(rt, request),
  };
}

/**
 * The requester's view of the request, e.g. after they cancel or answer. Once an invitation is
 * approved it carries what a direct invitation's result does: the link (while the guest has not
 * accepted), what the guest will see, and the sync note.
 */
export async function requesterView(
  rt: ApprovalRuntime,
  request: ApprovalRequest,
  notice: Notice | null,
  redeemUrl: string | null = null,
): Promise<RequesterView> {
  const { approvers, unreachable } = await deliverySummary(rt, request.id);
  const invitation = await approvedInvitation(rt, request, redeemUrl);
  const access = accessTerms(rt, request, invitation?.access ? invitation.access.endsAt : undefined);
  return { kind: 'requester', request, now: rt.now(), approvers, unreachable, notice, redeemUrl, invitation, access };
}

/** Names the card reached / did not reach, from the delivery log. */
export async function deliverySummary(rt: IntakeRuntime, requestId: string): Promise<{ approvers: string[]; unreachable: string[] }> {
  const deliveries = (await rt.requests.listDeliveries(requestId)).filter((d) => d.purpose === 'card' && d.audience !== 'requester');
  const reached = new Set<string>();
  const approvers: string[] = [];
  for (const d of deliveries) {
    if (d.status !== 'sent') continue;
    const name = d.audience === 'channel' ? 'the approvals channel' : (d.recipientName ?? 'an approver');
    reached.add(d.recipientId ?? name);
    if (!approvers.includes(name)) approvers.push(name);
  }
  const unreachable = deliveries
    .filter((d) => d.status !== 'sent' && d.audience !== 'channel' && !reached.has(d.recipientId ?? ''))
    .map((d) => d.recipientName ?? 'an approver')
    .filter((name, i, all) => all.indexOf(name) === i);
  return { approvers, unreachable };
}

/** An approved, carried-out invitation as the requester sees it; null for anything else. */
async function approvedInvitation(rt: ApprovalRuntime, request: ApprovalRequest, knownRedeemUrl: string | null): Promise<ApprovedInvitation | null> {
  const s = request.subject;
  if (s.kind !== 'invitation' || request.state !== 'approved' || !request.outcome) return null;
  const { invitations, directory } = rt.deps;
  try {
    const requester: Actor = { userId: request.requester.userId, name: request.requester.name, tenantId: request.tenantId };
    const views = invitations.statusOf ? await invitations.statusOf(requester, s.guestEmail) : [];
    const view = views.find((v) => v.record.groupId === s.groupId) ?? null;
    const accepted = view?.externalUserState === 'Accepted';
    const redeemUrl = accepted ? null : (knownRedeemUrl ?? view?.record.redeemUrl ?? null);
    const policies = await directory.readPolicies();
    const emailsInvitations = invitations.emailsInvitations ?? false;
    return {
      redeemUrl,
      recordId: view?.record.id ?? null,
      guestName: s.guestName,
      guestEmail: s.guestEmail,
      siteName: s.siteName,
      emailsInvitations,
      canSendEmail: redeemUrl !== null && !emailsInvitations && view !== null,
      method: view?.actualMethod ?? view?.record.predictedMethod ?? s.signInMethod,
      tenantDisplayName: policies.tenantDisplayName,
      succeeded: request.outcome.status === 'succeeded',
      access: view?.access ?? null,
    };
  } catch (error) {
    rt.logger.warn({ requestId: request.id, err: describe(error) }, 'approvals: could not read the approved invitation for the requester card');
    return null;
  }
}
