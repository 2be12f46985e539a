/** Data and builder for cards/approvalRequest.json: one request as an approver sees it (or a notice about none). */
import { expandCard, type AdaptiveCard } from '../../cards';
import type { ApprovalRequest } from '../../../usecases/approvals/model';
import type { AccessTerms, ApproverView } from '../../../usecases/approvals/notifications';
import {
  paragraphs,
  questionInputId,
  reasonInputId,
  REQUEST_CARD,
  requestFacts,
  statusDetail,
  statusFields,
  type Fact,
  type RequestStatusFields,
  type Tone,
} from './common';

export interface ApprovalRequestCardData extends RequestStatusFields {
  requestId: string;
  version: number;
  heading: string;
  facts: Fact[];
  hasFacts: boolean;
  warnings: string[];
  hasWarnings: boolean;
  /** Paragraphs: the original justification, then each answer to an approver's question. */
  justification: string[];
  hasJustification: boolean;
  infoQuestion: string;
  hasInfoQuestion: boolean;
  showActions: boolean;
  reasonInputId: string;
  questionInputId: string;
  /** Teams user ids (MRIs, "29:…") whose client refreshes the card automatically; at most 60. */
  refreshUserIds: string[];
  /** False for cards about no particular request. */
  hasRefresh: boolean;
}

export interface RequestCardOptions {
  now: Date;
  /** Show Approve / Reject / Ask buttons (the viewer may decide and the request is pending). */
  showActions: boolean;
  notice?: { text: string; tone?: Tone } | null;
  refreshUserIds?: readonly string[];
  /** Extra warnings for approvers, e.g. "resets are disabled in this deployment". */
  approverWarnings?: readonly string[];
  /** When an approved guest's access ends, and who becomes the sponsor. */
  access?: AccessTerms | null;
}

export function requestCardData(request: ApprovalRequest, options: RequestCardOptions): ApprovalRequestCardData {
  const detail = statusDetail(request, options.now);
  const warnings = [
    ...(request.subject.kind === 'invitation' ? request.subject.warnings : []),
    ...(options.approverWarnings ?? []),
  ];
  const question = request.state === 'pending' && request.infoRequest
    ? `${request.infoRequest.byName} asked the requester: ${request.infoRequest.question}`
    : '';
  return {
    requestId: request.id,
    version: request.version,
    heading: request.subject.kind === 'invitation' ? 'Guest invitation request' : 'Redemption reset request',
    ...statusFields(request, detail, options.notice),
    facts: requestFacts(request, 'approver', options.access ?? null),
    hasFacts: true,
    warnings,
    // "Before you decide" is for a decision still to make.
    hasWarnings: warnings.length > 0 && request.state === 'pending',
    justification: paragraphs(request.justification),
    hasJustification: paragraphs(request.justification).length > 0,
    infoQuestion: question,
    hasInfoQuestion: question !== '',
    showActions: options.showActions && request.state === 'pending',
    reasonInputId: reasonInputId(request.id),
    questionInputId: questionInputId(request.id),
    refreshUserIds: [...(options.refreshUserIds ?? [])],
    hasRefresh: true,
  };
}

/** The one builder of the approvalRequest template: every card drawn from it goes through here. */
export function approvalRequestCard(data: ApprovalRequestCardData): AdaptiveCard {
  return expandCard(REQUEST_CARD, { ...data });
}

/** An approver's view of a request as a card; `refreshUserIds` are the Teams ids whose copies refresh by themselves. */
export function requestCard(view: ApproverView, refreshUserIds: readonly string[]): AdaptiveCard {
  return approvalRequestCard(
    requestCardData(view.request, {
      now: view.now,
      showActions: view.showActions,
      notice: view.notice,
      refreshUserIds,
      approverWarnings: view.approverWarnings,
      access: view.access ?? null,
    }),
  );
}

/** A request card that reveals nothing about the request: for people who may not see it, or ids that do not exist. */
export function noticeOnlyCardData(message: string, tone: Tone = 'attention'): ApprovalRequestCardData {
  return {
    requestId: '',
    version: 0,
    heading: 'Guest approvals',
    statusLabel: 'Nothing was changed',
    statusColor: 'default',
    statusDetail: '',
    hasStatusDetail: false,
    notice: message,
    noticeStyle: tone,
    hasNotice: true,
    facts: [],
    hasFacts: false,
    warnings: [],
    hasWarnings: false,
    justification: [],
    hasJustification: false,
    infoQuestion: '',
    hasInfoQuestion: false,
    outcome: '',
    outcomeStyle: 'default',
    hasOutcome: false,
    showActions: false,
    reasonInputId: 'reason-none',
    questionInputId: 'question-none',
    refreshUserIds: [],
    hasRefresh: false,
  };
}

export function noticeOnlyCard(message: string, tone: Tone = 'attention'): AdaptiveCard {
  const card = approvalRequestCard(noticeOnlyCardData(message, tone));
  // The template drops the refresh clause to null; a card about nothing has none at all.
  if (card.refresh === null) delete card.refresh;
  return card;
}

