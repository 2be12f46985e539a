/** The renewal request an approver gets (cards/lifecycleRenewalRequest.json): Approve / Reject while pending. */
import { expandCard, type AdaptiveCard } from '../../cards';
import { endsText, formatDate, type Fact, type Tone } from './common';
import type { RenewalRequestRecord } from '../renewalRequests';

/** The data of cards/lifecycleRenewalRequest.json. */
export interface RenewalRequestCardData {
  requestId: string;
  tone: Tone;
  headline: string;
  statusLabel: string;
  details: string[];
  facts: Fact[];
  isPending: boolean;
  hasOutcome: boolean;
  outcome: string;
}

export function renewalRequestCard(request: RenewalRequestRecord, outcome: string | null = null): AdaptiveCard {
  const a = request.access;
  const state =
    request.state === 'pending'
      ? { label: 'Waiting for a decision', tone: 'accent' as Tone }
      : request.state === 'approved'
        ? { label: `Approved by ${request.decidedBy?.name ?? 'an approver'} on ${formatDate(request.decidedAt)}`, tone: 'good' as Tone }
        : { label: `Rejected by ${request.decidedBy?.name ?? 'an approver'} on ${formatDate(request.decidedAt)}`, tone: 'attention' as Tone };
  const facts: Fact[] = [
    { title: 'Asked by', value: request.requestedBy.name },
    { title: 'Guest', value: `${a.guestName} (${a.guestEmail})` },
    { title: 'Site', value: a.siteName },
    { title: 'Sponsor', value: a.sponsorName },
    { title: 'Access ends now', value: formatDate(request.forEndsAt) },
    { title: 'Renewed, it would end', value: request.newEndsAt ? formatDate(request.newEndsAt) : endsText({ endsAt: null }) },
  ];
  if (request.reasons.length > 0) facts.push({ title: 'Why approval', value: request.reasons.join(' ') });
  const data: RenewalRequestCardData = {
    requestId: request.id,
    tone: state.tone,
    headline: `Renew ${a.guestName}'s access to ${a.siteName}?`,
    statusLabel: state.label,
    details: [`${request.requestedBy.name} asks to keep ${a.guestName} in ${a.siteName} for another period.`],
    facts,
    isPending: request.state === 'pending',
    hasOutcome: Boolean(outcome),
    outcome: outcome ?? '',
  };
  return expandCard('lifecycleRenewalRequest', data);
}
