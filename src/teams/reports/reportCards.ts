import { expandCard, isSafeCardUrl, type AdaptiveCard } from '../cards';
import type { ExportLink } from '../../usecases/reports/reportsService';
import type { Breakdown, GuestReport, ReportState } from '../../usecases/reports/model';

/**
 * The report's cards. The chart: Teams renders the card's own chart elements (Chart.HorizontalBar
 * among them, https://learn.microsoft.com/microsoftteams/platform/task-modules-and-cards/cards/charts-in-adaptive-cards),
 * but not every client does (Teams on iOS shows none: microsoft/AdaptiveCards issue 9120; nor do
 * the Developer Portal preview and the Agents Playground). So the chart is a picture of figures
 * the card also gives as numbers: it carries `fallback: "drop"` and the same counts follow it as
 * tiles, and the other breakdowns (names of sites and people) are compact tables, which read
 * better than bars for long labels.
 */

const STATE_LABELS: Record<ReportState, string> = {
  invited: 'Invited',
  accepted: 'Accepted',
  endingSoon: 'Ending soon',
  ended: 'Ended',
  withdrawn: 'Withdrawn',
  removed: 'Removed',
};

const STATE_TONES: Record<ReportState, 'Default' | 'Good' | 'Warning' | 'Attention'> = {
  invited: 'Default',
  accepted: 'Good',
  endingSoon: 'Warning',
  ended: 'Default',
  withdrawn: 'Default',
  removed: 'Default',
};

interface TableData {
  title: string;
  rows: Array<{ label: string; count: number }>;
  empty: boolean;
  emptyText: string;
  hasOthers: boolean;
  othersText: string;
}

/** Data of the `reportGuests` template (cards/reportGuests.json). */
export interface GuestReportCardData {
  summary: string;
  chart: Array<{ x: string; y: number }>;
  states: Array<{ label: string; count: number; tone: string }>;
  pendingText: string;
  tables: TableData[];
  unredeemedTitle: string;
  unredeemed: Array<{ guestName: string; siteName: string; sponsorName: string; days: number }>;
  hasMoreUnredeemed: boolean;
  moreUnredeemedText: string;
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

/** "1 Dec 2026, 09:00 UTC". */
export function reportTime(iso: string): string {
  const d = new Date(iso);
  const month = d.toLocaleString('en-GB', { month: 'short', timeZone: 'UTC' });
  return `${d.getUTCDate()} ${month} ${d.getUTCFullYear()}, ${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')} UTC`;
}

function table(title: string, b: Breakdown, emptyText: string, unit: string): TableData {
  return {
    title,
    rows: b.rows,
    empty: b.rows.length === 0,
    emptyText,
    hasOthers: b.others.rows > 0,
    othersText: b.others.rows > 0 ? `and ${plural(b.others.rows, 'more')} with ${plural(b.others.count, unit)} between them` : '',
  };
}

export function guestReportCardData(r: GuestReport): GuestReportCardData {
  const p = r.pendingApprovals;
  const pendingText =
    p.total === 0
      ? 'Nothing is waiting for an approver.'
      : `${plural(p.total, 'request')} waiting (${plural(p.invitations, 'invitation')}, ${plural(p.resets, 'redemption reset')}); the oldest has waited ${plural(p.oldestDays ?? 0, 'day')}. Say "pending" to see them.`;
  const sites = r.bySite.rows.length + r.bySite.others.rows;
  return {
    summary: `${plural(r.activeGuests, 'guest')} with access to ${plural(sites, 'site')} (${plural(r.activeAccess, 'guest access', 'guest accesses')}) · ${reportTime(r.generatedAt)}`,
    chart: r.byState.map((s) => ({ x: STATE_LABELS[s.state], y: s.count })),
    states: r.byState.map((s) => ({ label: STATE_LABELS[s.state], count: s.count, tone: s.count > 0 ? STATE_TONES[s.state] : 'Default' })),
    pendingText,
    tables: [
      table('How they sign in (guests with access)', r.bySignInMethod, 'No guest has access right now.', 'guest'),
      table('By site', r.bySite, 'No guest has access right now.', 'guest'),
      table('By sponsor', r.bySponsor, 'No guest has access right now.', 'guest'),
      table(`Invitations per owner, last ${r.invitationsByOwner.days} days`, r.invitationsByOwner, `No invitations in the last ${r.invitationsByOwner.days} days.`, 'invitation'),
    ],
    unredeemedTitle:
      r.unredeemed.total === 0
        ? `No invitation has been waiting more than ${r.unredeemed.days} days.`
        : `Not redeemed after more than ${r.unredeemed.days} days: ${plural(r.unredeemed.total, 'guest')}`,
    unredeemed: r.unredeemed.oldest.map((u) => ({ guestName: u.guestName, siteName: u.siteName, sponsorName: u.sponsorName, days: u.daysWaiting })),
    hasMoreUnredeemed: r.unredeemed.total > r.unredeemed.oldest.length,
    moreUnredeemedText: `and ${plural(r.unredeemed.total - r.unredeemed.oldest.length, 'more')}: "export guests" lists them all.`,
  };
}

export function guestReportCard(report: GuestReport): AdaptiveCard {
  return expandCard('reportGuests', guestReportCardData(report));
}

/** Data of the `exportLink` template (cards/exportLink.json). */
export interface ExportLinkCardData {
  what: string;
  hasUrl: boolean;
  url: string;
  linkText: string;
  fileName: string;
  secretNotice: string;
}

export function exportLinkCardData(link: ExportLink): ExportLinkCardData {
  const what =
    link.request.kind === 'guests'
      ? 'Every guest access this bot knows of, one line per guest and site: sponsor, state, dates, sign-in method and who invited them. No invitation links.'
      : `The audit log from ${link.request.fromDay} to ${link.request.toDay} (whole days, UTC): when, who, action, subject, outcome and details.`;
  const https = isSafeCardUrl(link.url);
  return {
    what,
    hasUrl: https,
    url: https ? link.url : '',
    // Cards carry only https links; in local mode the bot is on http://localhost, so the link is text to open in the browser.
    linkText: https ? '' : `Open this link in your browser to download ${link.fileName}: ${link.url}`,
    fileName: link.fileName,
    secretNotice: `Keep this link to yourself: anyone who has it can download the file until it expires in ${plural(link.expiresInMinutes, 'minute')}. It is made when opened, so it shows the records as they are then.`,
  };
}

export function exportLinkCard(link: ExportLink): AdaptiveCard {
  return expandCard('exportLink', exportLinkCardData(link));
}
