/** Data and builder for cards/approvalPending.json: the open requests an approver can decide, in one card. */
import { expandCard, type AdaptiveCard } from '../../cards';
import type { ApprovalRequest } from '../../../usecases/approvals/model';
import { formatDuration, formatTimeLeft, paragraphs, PENDING_CARD, questionInputId, reasonInputId, requestFacts, type Fact, type Tone } from './common';
import { requestTitle } from '../../../usecases/approvals/texts';

export interface PendingListItem {
  requestId: string;
  version: number;
  heading: string;
  summary: string;
  facts: Fact[];
  warnings: string[];
  hasWarnings: boolean;
  /** Paragraphs: the original justification, then each answer to an approver's question. */
  justification: string[];
  hasJustification: boolean;
  infoQuestion: string;
  hasInfoQuestion: boolean;
  reasonInputId: string;
  questionInputId: string;
}

export interface PendingListCardData {
  heading: string;
  notice: string;
  noticeStyle: Tone;
  hasNotice: boolean;
  hasNone: boolean;
  requests: PendingListItem[];
}

export function pendingListCardData(
  requests: readonly ApprovalRequest[],
  now: Date,
  notice: { text: string; tone?: Tone } | null = null,
): PendingListCardData {
  return {
    heading: requests.length === 0 ? 'Pending approvals' : `Pending approvals (${requests.length})`,
    notice: notice?.text ?? '',
    noticeStyle: notice?.tone ?? 'accent',
    hasNotice: Boolean(notice?.text),
    hasNone: requests.length === 0,
    requests: requests.map((r) => {
      const question = r.infoRequest ? `${r.infoRequest.byName} asked the requester: ${r.infoRequest.question}` : '';
      const warnings = r.subject.kind === 'invitation' ? r.subject.warnings : [];
      return {
        requestId: r.id,
        version: r.version,
        heading: requestTitle(r),
        summary: `Asked by ${r.requester.name} ${formatDuration(now.getTime() - Date.parse(r.createdAt))} ago; expires in ${formatTimeLeft(Date.parse(r.expiresAt) - now.getTime())}.`,
        facts: requestFacts(r),
        warnings,
        hasWarnings: warnings.length > 0,
        justification: paragraphs(r.justification),
        hasJustification: paragraphs(r.justification).length > 0,
        infoQuestion: question,
        hasInfoQuestion: question !== '',
        reasonInputId: reasonInputId(r.id),
        questionInputId: questionInputId(r.id),
      };
    }),
  };
}

/** The one builder of the approvalPending template. */
export function approvalPendingCard(data: PendingListCardData): AdaptiveCard {
  return expandCard(PENDING_CARD, { ...data });
}

/** The pending list for an approver, optionally with a line about what just happened. */
export function pendingListCard(
  requests: readonly ApprovalRequest[],
  now: Date,
  notice: { text: string; tone?: Tone } | null = null,
): AdaptiveCard {
  return approvalPendingCard(pendingListCardData(requests, now, notice));
}

