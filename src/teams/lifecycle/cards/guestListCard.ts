/**
 * "my guests" and "guests of <site>" (cards/lifecycleGuestList.json): each guest with their
 * state, sign-in method when known, dates, and the buttons that fit (Resend, Renew, Withdraw,
 * Remove). The buttons carry only which access and which token; rights are asked at the click.
 */
import type { GuestRow } from '../../../usecases/lifecycle/queries';
import { expandCard, type AdaptiveCard } from '../../cards';
import { endsText, formatDate, STATUS_LABELS, type Fact, type TextColor } from './common';

/** Most guests one card shows (a Teams message holds about 28 KB). */
export const MAX_LISTED_GUESTS = 15;

export interface GuestListRowData {
  accessId: string;
  guestName: string;
  guestEmail: string;
  statusLabel: string;
  statusColor: TextColor;
  statusDetail: string;
  facts: Fact[];
  hasActions: boolean;
  canResend: boolean;
  canWithdraw: boolean;
  canRenew: boolean;
  canRemove: boolean;
  resendToken: string;
  forEndsAt: string;
  /** The Resend's email toggle, one per row (input ids are unique on a card). */
  emailInputId: string;
  endWarning: string;
}

/** The data of cards/lifecycleGuestList.json. */
export interface GuestListCardData {
  title: string;
  details: string[];
  emptyNote: string;
  rows: GuestListRowData[];
  hasMore: boolean;
  moreNote: string;
}

export const emailInputIdFor = (accessId: string): string => `sendEmail-${accessId}`;

/** A row of the list; `signIn` is the sign-in method in words when known. */
export function guestListRow(row: GuestRow, signIn: string | null, now: Date): GuestListRowData {
  const a = row.access;
  const status = STATUS_LABELS[a.status];
  const facts: Fact[] = [];
  if (signIn) facts.push({ title: 'Signs in with', value: signIn });
  facts.push({ title: 'Invited', value: formatDate(a.invitedAt) });
  if (a.acceptedAt) facts.push({ title: 'Accepted', value: formatDate(a.acceptedAt) });
  facts.push({ title: 'Access ends', value: endsText(a) });
  facts.push({ title: 'Sponsor', value: a.sponsorName });
  const daysLeft = a.endsAt ? Math.ceil((Date.parse(a.endsAt) - now.getTime()) / 86_400_000) : null;
  const statusDetail =
    a.status === 'endingSoon' && daysLeft !== null ? ` — ends in ${daysLeft <= 1 ? 'a day or less' : `${daysLeft} days`}` : ` — ${a.siteName}`;
  const canResend = row.actions.includes('resend');
  const canWithdraw = row.actions.includes('withdraw');
  const canRenew = row.actions.includes('renew') && row.forEndsAt !== null;
  const canRemove = row.actions.includes('remove');
  return {
    accessId: a.accessId,
    guestName: a.guestName,
    guestEmail: a.guestEmail,
    statusLabel: status.label,
    statusColor: status.color,
    statusDetail,
    facts,
    hasActions: canResend || canWithdraw || canRenew || canRemove,
    canResend,
    canWithdraw,
    canRenew,
    canRemove,
    resendToken: row.resendToken,
    forEndsAt: row.forEndsAt ?? '',
    emailInputId: emailInputIdFor(a.accessId),
    endWarning: canWithdraw
      ? `${a.guestName} leaves ${a.siteName}'s group; the unused guest account may be deleted.`
      : `${a.guestName} loses access to ${a.siteName} now, before the end date.`,
  };
}

export function guestListCard(input: { title: string; details: string[]; emptyNote: string; rows: GuestListRowData[]; total: number }): AdaptiveCard {
  const rows = input.rows.slice(0, MAX_LISTED_GUESTS);
  const data: GuestListCardData = {
    title: input.title,
    details: input.details,
    emptyNote: input.emptyNote,
    rows,
    hasMore: input.total > rows.length,
    moreNote: input.total > rows.length ? `Showing ${rows.length} of ${input.total}, newest invitation first.` : '',
  };
  return expandCard('lifecycleGuestList', data);
}
