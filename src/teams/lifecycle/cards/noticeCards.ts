/**
 * The proactive lifecycle notices as cards: the unredeemed reminder (Resend / Withdraw / Keep
 * waiting), the renewal reminder (Renew / Let it end), access ended (to the sponsor or owners,
 * and to the guest), and sponsorship received. Templates: cards/lifecycle*.json.
 */
import type { EndReason, AccessEndedNotice, GuestAccessSummary, NoticeRecipient, RenewalReminderNotice, UnredeemedReminderNotice } from '../../../usecases/lifecycle/ports';
import { expandCard, type AdaptiveCard } from '../../cards';
import { accessFacts, accountActionText, adminStepsData, formatDate, plural, type AdminStepsData, type Fact, type Tone } from './common';

/** The header every lifecycle notice starts with. */
export interface NoticeHeaderData {
  tone: Tone;
  headline: string;
  details: string[];
  facts: Fact[];
}

/** The data of cards/lifecycleUnredeemedReminder.json. */
export interface UnredeemedReminderCardData extends NoticeHeaderData {
  accessId: string;
  reminderToken: string;
  withdrawWarning: string;
}

const asOwner = (to: NoticeRecipient, access: GuestAccessSummary): string =>
  to.as === 'owner' ? `You get this as an owner of ${access.siteName}: the guest's sponsor, ${access.sponsorName}, has left.` : '';

export function unredeemedReminderCard(to: NoticeRecipient, notice: UnredeemedReminderNotice): AdaptiveCard {
  const a = notice.access;
  const details = [
    `${a.guestName} was invited to ${a.siteName} ${plural(notice.daysWaiting, 'day')} ago and has not accepted yet.`,
    'Resend gives them a new invitation link (the old one stops mattering); Withdraw takes the invitation back; Keep waiting reminds you again later.',
  ];
  if (notice.autoWithdrawAt) details.push(`If it is still not accepted on ${formatDate(notice.autoWithdrawAt)}, the invitation is withdrawn automatically.`);
  const owner = asOwner(to, a);
  if (owner) details.push(owner);
  const data: UnredeemedReminderCardData = {
    tone: 'warning',
    headline: `${a.guestName} has not accepted the invitation to ${a.siteName}`,
    details,
    facts: accessFacts(a),
    accessId: a.accessId,
    reminderToken: notice.reminderToken,
    withdrawWarning: `${a.guestName} leaves ${a.siteName}'s group. Their guest account is deleted only if it was never used, is in no other site, and your organisation allows it.`,
  };
  return expandCard('lifecycleUnredeemedReminder', data);
}

/** The data of cards/lifecycleRenewalReminder.json. */
export interface RenewalReminderCardData extends NoticeHeaderData {
  accessId: string;
  forEndsAt: string;
  renewNeedsApproval: boolean;
  renewTitle: string;
}

export function renewalReminderCard(to: NoticeRecipient, notice: RenewalReminderNotice): AdaptiveCard {
  const a = notice.access;
  const details = [
    `${a.guestName}'s access to ${a.siteName} ends on ${formatDate(notice.forEndsAt)} (in ${plural(notice.daysLeft, 'day')}).`,
    'Renew keeps it for another period; Let it end removes them from the site on that date.',
  ];
  const owner = asOwner(to, a);
  if (owner) details.push(owner);
  const data: RenewalReminderCardData = {
    tone: 'warning',
    headline: `${a.guestName}'s access to ${a.siteName} ends soon`,
    details,
    facts: accessFacts(a),
    accessId: a.accessId,
    forEndsAt: notice.forEndsAt,
    renewNeedsApproval: notice.renewNeedsApproval,
    renewTitle: notice.renewNeedsApproval ? 'Ask to renew' : 'Renew',
  };
  return expandCard('lifecycleRenewalReminder', data);
}

/** The data of cards/lifecycleAccessEnded.json. */
export interface AccessEndedCardData extends NoticeHeaderData, AdminStepsData {}

const END_HEADLINES: Record<EndReason, (a: GuestAccessSummary) => string> = {
  expired: (a) => `${a.guestName}'s access to ${a.siteName} has ended`,
  withdrawn: (a) => `${a.guestName}'s invitation to ${a.siteName} was withdrawn`,
  autoWithdrawn: (a) => `${a.guestName}'s invitation to ${a.siteName} was withdrawn automatically`,
  removed: (a) => `${a.guestName} was removed from ${a.siteName}`,
};

function endDetail(notice: AccessEndedNotice): string {
  const a = notice.access;
  switch (notice.reason) {
    case 'expired':
      return `It reached its end date and nobody renewed it, so ${a.guestName} is no longer in the site's group.`;
    case 'autoWithdrawn':
      return `${a.guestName} never accepted it, so it was taken back as your organisation's settings say.`;
    case 'withdrawn':
      return `${notice.endedBy ?? 'Someone'} withdrew it before ${a.guestName} accepted.`;
    case 'removed':
      return `${notice.endedBy ?? 'Someone'} removed them from the site's group.`;
  }
}

export function accessEndedCard(to: NoticeRecipient, notice: AccessEndedNotice): AdaptiveCard {
  const a = notice.access;
  const details = [endDetail(notice)];
  const account = accountActionText(notice.accountAction);
  if (account) details.push(account);
  const owner = to.as === 'owner' ? `You get this as an owner of ${a.siteName}: the guest's sponsor, ${a.sponsorName}, has left.` : '';
  if (owner) details.push(owner);
  const data: AccessEndedCardData = {
    tone: notice.adminInstructions.length > 0 ? 'warning' : 'default',
    headline: END_HEADLINES[notice.reason](a),
    details,
    facts: accessFacts(a),
    ...adminStepsData(notice.adminInstructions),
  };
  return expandCard('lifecycleAccessEnded', data);
}

/** The data of cards/lifecycleGuestAccessEnded.json. */
export interface GuestAccessEndedCardData {
  tone: Tone;
  headline: string;
  details: string[];
}

export function guestAccessEndedCard(notice: { siteName: string; endedAt: string; reason: EndReason }): AdaptiveCard {
  const data: GuestAccessEndedCardData = {
    tone: 'default',
    headline: `Your access to ${notice.siteName} has ended`,
    details: [
      notice.reason === 'removed'
        ? `You were removed from ${notice.siteName} on ${formatDate(notice.endedAt)}.`
        : `Your guest access to ${notice.siteName} ended on ${formatDate(notice.endedAt)}, as planned when you were invited.`,
    ],
  };
  return expandCard('lifecycleGuestAccessEnded', data);
}

/** The data of cards/lifecycleSponsorship.json. */
export type SponsorshipCardData = NoticeHeaderData;

export function sponsorshipCard(notice: { access: GuestAccessSummary; from: string; by: string }): AdaptiveCard {
  const a = notice.access;
  const data: SponsorshipCardData = {
    tone: 'accent',
    headline: `You are now the sponsor of ${a.guestName}`,
    details: [
      notice.by === notice.from
        ? `${notice.by} handed the sponsorship of ${a.guestName} (${a.siteName}) over to you.`
        : `${notice.by} made you the sponsor of ${a.guestName} (${a.siteName}) in place of ${notice.from}.`,
    ],
    facts: accessFacts(a, { sponsor: false }),
  };
  return expandCard('lifecycleSponsorship', data);
}
