import { expandCard, type AdaptiveCard } from '../../cards';
import type { BulkJob, InvitationEmails } from '../../../domain/bulkJob';
import type { BulkProgress } from '../../../usecases/bulk/progress';

/** Data of the `bulkDone` template (cards/bulkDone.json): a finished job, its results link and emails. */
export interface BulkDoneCardData {
  hasEmailLine: boolean;
  emailLine: string;
  emailStyle: 'good' | 'warning' | 'default';
  canSendEmails: boolean;
  notEmailed: number;
  jobId: string;
  sourceName: string;
  stateText: string;
  done: number;
  failed: number;
  /** Of the failed rows, those given up after repeated stopped attempts (the poison path), said in a line of its own. */
  hasGaveUp: boolean;
  gaveUpLine: string;
  cancelled: number;
  notSent: number;
  needsApproval: number;
  alreadyDone: number;
  hasResultsUrl: boolean;
  resultsUrl: string;
  ttlMinutes: number;
  secretLinkNotice: string;
  hasNotice: boolean;
  notice: string;
}

export const NO_EMAILS: InvitationEmails = { invited: 0, emailed: 0, notEmailed: 0 };

/**
 * Whether Microsoft emailed the new guests, and where their invitation links are when it did not.
 * With sendInvitationMessage false (the default) Microsoft sends nothing: the link in the results
 * file is then the guest's only way in, until someone hands it over or has Microsoft email it.
 * https://learn.microsoft.com/en-us/graph/api/invitation-post (sendInvitationMessage)
 */
export function invitationEmailText(emails: InvitationEmails): { line: string; tone: 'good' | 'warning' | 'default'; canSend: boolean } {
  const { invited, emailed, notEmailed } = emails;
  if (invited === 0) return { line: '', tone: 'default', canSend: false };
  const guests = (n: number): string => (n === 1 ? '1 new guest' : `${n.toLocaleString('en-US')} new guests`);
  if (notEmailed === 0) {
    return { line: `Microsoft emailed the invitation to ${invited === 1 ? 'the new guest' : `all ${guests(invited)}`} (from invites@microsoft.com): they accept from that email.`, tone: 'good', canSend: false };
  }
  const who = notEmailed === invited ? (invited === 1 ? 'the new guest' : `any of the ${guests(invited)}`) : `${guests(notEmailed)} of ${invited}`;
  return {
    line:
      `Microsoft did not email ${who}: they have not been told about their invitation yet. ` +
      `Each guest's own invitation link is in the results file (column inviteRedeemUrl). Send each guest their link, or have Microsoft email them with the button below.` +
      (emailed > 0 ? ` (${emailed.toLocaleString('en-US')} were emailed because the file asked for it.)` : ''),
    tone: 'warning',
    canSend: true,
  };
}

/**
 * The results link is a bearer link: the route cannot tell who opens it (a browser carries no
 * Teams identity), so whoever holds it can download the file until it expires. Said plainly.
 */
export function secretLinkNotice(ttlMinutes: number): string {
  return `Keep this link to yourself: anyone who has it can download the results file until it expires in ${ttlMinutes} minutes. The file holds each guest's invitation link, so do not forward it or post it in a shared chat.`;
}

/** The line for rows given up after every attempt at them stopped (BULK_MAX_DEQUEUES). */
export function gaveUpText(gaveUp: number): string {
  if (gaveUp === 0) return '';
  const rows = gaveUp === 1 ? '1 of the failed rows was' : `${gaveUp.toLocaleString('en-US')} of the failed rows were`;
  return `${rows} given up: every attempt at ${gaveUp === 1 ? 'it' : 'them'} stopped before the guest was invited and added (the bot restarted or hit an unexpected error each time). The results file says so in the error column; send it back to retry them.`;
}

export function bulkDoneCardData(
  job: BulkJob,
  progress: BulkProgress,
  link: string | null,
  ttlMinutes: number,
  notice: string | null = null,
  emails: InvitationEmails = NO_EMAILS,
): BulkDoneCardData {
  const stateText = job.state === 'completed' ? 'Completed' : job.state === 'cancelled' ? 'Cancelled' : `Stopped: ${job.error ?? 'unexpected error'}`;
  const email = invitationEmailText(emails);
  return {
    hasEmailLine: email.line !== '',
    emailLine: email.line,
    emailStyle: email.tone,
    canSendEmails: email.canSend,
    notEmailed: emails.notEmailed,
    jobId: job.id,
    sourceName: job.summary.sourceName,
    stateText,
    done: progress.done,
    failed: progress.failed,
    hasGaveUp: progress.gaveUp > 0,
    gaveUpLine: gaveUpText(progress.gaveUp),
    cancelled: progress.cancelled,
    notSent: progress.counts.invalid + progress.counts.duplicate,
    needsApproval: progress.counts.needsApproval + progress.counts.sentForApproval,
    alreadyDone: progress.counts.skipped,
    hasResultsUrl: link !== null,
    resultsUrl: link ?? '',
    ttlMinutes,
    secretLinkNotice: secretLinkNotice(ttlMinutes),
    hasNotice: notice !== null,
    notice: notice ?? '',
  };
}

export function bulkDoneCard(data: BulkDoneCardData): AdaptiveCard {
  return expandCard('bulkDone', { ...data });
}

export function doneCard(
  job: BulkJob,
  progress: BulkProgress,
  link: string | null,
  ttlMinutes: number,
  notice: string | null = null,
  emails: InvitationEmails = NO_EMAILS,
): AdaptiveCard {
  return bulkDoneCard(bulkDoneCardData(job, progress, link, ttlMinutes, notice, emails));
}
