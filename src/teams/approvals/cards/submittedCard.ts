/** Data and builder for cards/approvalSubmitted.json: the request as its requester sees it. */
import { expandCard, type AdaptiveCard } from '../../cards';
import { guestWillSee, invitationLinkTexts, syncSummary } from '../../invite/inviteWording';
import type { ApprovalRequest } from '../../../usecases/approvals/model';
import type { AccessTerms, ApprovedInvitation, RequesterView } from '../../../usecases/approvals/notifications';
import { answerInputId, joinNames, requestFacts, STATE_LABELS, statusDetail, statusFields, SUBMITTED_CARD, type Fact, type RequestStatusFields, type Tone } from './common';
import { formatInstant } from '../../../usecases/approvals/texts';

/**
 * The approved invitation as the requester sees it, the same as after a direct invitation: the
 * invitation link (while the guest has not accepted) with how to hand it over, what the guest will
 * see, and whether they can sync.
 */
export interface ApprovedInvitationView {
  redeemUrl: string | null;
  /** The invitation record, for "Send the invitation email". */
  recordId: string | null;
  linkHeading: string;
  emailStatus: string;
  dontOpen: string;
  canSendEmail: boolean;
  guestWillSee: string[];
  syncNote: string;
}

export interface SubmittedCardData extends RequestStatusFields {
  requestId: string;
  heading: string;
  facts: Fact[];
  approversText: string;
  hasApprovers: boolean;
  unreachableText: string;
  hasUnreachable: boolean;
  nextSteps: string[];
  hasNextSteps: boolean;
  infoQuestion: string;
  hasInfoQuestion: boolean;
  answerInputId: string;
  redeemUrl: string;
  hasRedeemUrl: boolean;
  linkHeading: string;
  emailStatus: string;
  dontOpen: string;
  canSendEmail: boolean;
  recordId: string;
  guestWillSee: string[];
  hasGuestWillSee: boolean;
  syncNote: string;
  hasSyncNote: boolean;
  showCancel: boolean;
}

export interface SubmittedCardOptions {
  now: Date;
  /** Who got the card. */
  approvers?: readonly string[];
  /** Who could not be reached. */
  unreachable?: readonly string[];
  notice?: { text: string; tone?: Tone } | null;
  /** Shown to the requester once an approved invitation or reset produced one. */
  redeemUrl?: string | null;
  /** An approved invitation as a direct invitation's result shows it (link, what the guest sees, sync). */
  invitation?: ApprovedInvitationView | null;
  /** When the guest's access ends (would end, while waiting), and who becomes the sponsor. */
  access?: AccessTerms | null;
}

export function submittedCardData(request: ApprovalRequest, options: SubmittedCardOptions): SubmittedCardData {
  const state = STATE_LABELS[request.state];
  const approvers = options.approvers ?? [];
  const unreachable = options.unreachable ?? [];
  const pending = request.state === 'pending';
  const nextSteps = pending
    ? [
        approvers.length > 0
          ? 'An approver reviews the request in Teams; you get a message here when they decide.'
          : 'The request is kept and waits for an approver: it reaches them as soon as one opens a chat with the bot or says "pending". If it is urgent, let an approver know. You get a message here when they decide.',
        request.subject.kind === 'invitation'
          ? 'If it is approved, the bot invites the guest and gives you the invitation link to pass on.'
          : 'If it is approved, your sign-in is reset and you get a new invitation link here.',
        `Without a decision the request expires on ${formatInstant(request.expiresAt)}.`,
        'You can cancel the request below while it is waiting.',
      ]
    : [];
  const question = pending && request.infoRequest ? `${request.infoRequest.byName} asks: ${request.infoRequest.question}` : '';
  return {
    requestId: request.id,
    heading: pending ? (approvers.length > 0 ? 'Sent for approval' : 'Recorded, waiting for an approver') : `Your request: ${state.label.toLowerCase()}`,
    ...statusFields(request, statusDetail(request, options.now), options.notice),
    facts: requestFacts(request, 'requester', options.access ?? null),
    approversText: approvers.length > 0 ? `Sent for approval to ${joinNames(approvers)}.` : '',
    hasApprovers: approvers.length > 0,
    unreachableText:
      unreachable.length > 0
        ? `Could not reach ${joinNames(unreachable)} in Teams (they have not chatted with the bot yet); they get the request as soon as they open a chat with it, and can always see it with "pending".`
        : approvers.length === 0 && pending
          ? 'No approver could be reached in Teams yet. The request is recorded: approvers see it when they say "pending" to the bot.'
          : '',
    hasUnreachable: unreachable.length > 0 || (approvers.length === 0 && pending),
    nextSteps,
    hasNextSteps: nextSteps.length > 0,
    infoQuestion: question,
    hasInfoQuestion: question !== '',
    answerInputId: answerInputId(request.id),
    ...invitationFields(request, options),
    showCancel: pending,
  };
}

function invitationFields(request: ApprovalRequest, options: SubmittedCardOptions) {
  const view = options.invitation ?? null;
  const redeemUrl = view?.redeemUrl ?? options.redeemUrl ?? null;
  const guestName = request.subject.guestName;
  const guestEmail = request.subject.guestEmail;
  return {
    redeemUrl: redeemUrl ?? '',
    hasRedeemUrl: Boolean(redeemUrl),
    linkHeading: view?.linkHeading ?? `Invitation link for ${guestName}`,
    emailStatus: view?.emailStatus ?? `Send ${guestName} this link (a Teams chat or an email): they open it once to accept.`,
    dontOpen: view?.dontOpen ?? `Don't open this link yourself: it is for ${guestName} (${guestEmail}), who accepts it with their own account.`,
    canSendEmail: Boolean(redeemUrl) && (view?.canSendEmail ?? false),
    recordId: view?.recordId ?? '',
    guestWillSee: view?.guestWillSee ?? [],
    hasGuestWillSee: (view?.guestWillSee.length ?? 0) > 0,
    syncNote: view?.syncNote ?? '',
    hasSyncNote: Boolean(view?.syncNote),
  };
}

/** The one builder of the approvalSubmitted template. */
export function approvalSubmittedCard(data: SubmittedCardData): AdaptiveCard {
  return expandCard(SUBMITTED_CARD, { ...data });
}

/** The requester's view of a request as a card. */
export function requesterCard(view: RequesterView): AdaptiveCard {
  return approvalSubmittedCard(
    submittedCardData(view.request, {
      now: view.now,
      approvers: view.approvers,
      unreachable: view.unreachable,
      notice: view.notice,
      redeemUrl: view.redeemUrl,
      invitation: view.invitation ? approvedInvitationView(view.invitation) : null,
      access: view.access ?? null,
    }),
  );
}

/** The texts of an approved invitation, as a direct invitation's result shows them. */
function approvedInvitationView(i: ApprovedInvitation): ApprovedInvitationView {
  return {
    redeemUrl: i.redeemUrl,
    recordId: i.recordId,
    ...invitationLinkTexts(i.guestName, i.guestEmail, i.emailsInvitations ? 'created' : 'no'),
    canSendEmail: i.canSendEmail,
    guestWillSee: i.redeemUrl ? guestWillSee(i.method, null, i.tenantDisplayName, i.siteName) : [],
    syncNote: i.succeeded ? syncSummary(i.guestName, i.method, i.method === 'workOrSchoolAccount', i.siteName) : '',
  };
}
