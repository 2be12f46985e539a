import { TurnContext, type Activity, type Attachment, type ConversationReference, type InvokeResponse } from 'botbuilder';
import type { DialogContext } from 'botbuilder-dialogs';
import type { Server } from 'restify';
import { cardAttachment, expandCard, isSafeCardUrl, type AdaptiveCard } from '../cards';
import type { ActionData, ActionHandler, BotFeature } from '../bot/feature';
import type { Actor } from '../../domain/actor';
import { cardInvokeResponse } from '../bot/invokeResponse';
import { cutMessageLength, MAX_MESSAGE_CHARS } from '../bot/messageLimits';
import type { NotifyResult } from '../bot/proactive';
import { Notifier } from '../bot/proactive';
import type { BotServices } from '../../app/services';
import type { Directory } from '../../usecases/ports/Directory';
import { DEFAULT_FILE_DOWNLOAD_HOSTS } from '../../app/config';
import { methodLabel } from '../../domain/signInRules';
import { quoteForChat, trimEndChars } from '../../domain/text';
import type { SignInMethod } from '../../domain/signInAdvice';
import type { ApprovalSettings } from '../../domain/approvalPolicy';
import { ApprovalConfigError, approvalSettingsFromConfig } from '../../app/approvalSettings';
import type { InvitationRepository } from '../../adapters/sqlite/invitations';
import { SignInAdvisor, type SignInAdvisorPort } from '../../usecases/signIn/signInAdvisor';
import { BulkJobStore, type BulkJob, type BulkSite, type BulkValidationSummary, type InvitationEmails } from '../../adapters/sqlite/bulkJobs';
import { BulkRunner, type BulkApprovalGateway, type BulkProgress, type BulkRunnerLogger, type BulkRunnerOptions } from '../../usecases/bulk/bulkRunner';
import { BulkRefusedError, matchSite, requesterSites, stageBulkFile } from '../../usecases/bulk/bulkValidation';
import { BulkCsvError, type CsvFormat } from '../../usecases/bulk/csvFormats';
import { SlidingWindowPacer, type InvitationPacer } from '../../usecases/ports/pacer';
import type { BulkHolders as HolderRegistry } from '../../usecases/bulk/bulkRunner';
import type { CsvLimits, CsvSource } from '../../usecases/bulk/parseInvitationCsv';
import { downloadTeamsFile, type FileDownloadOptions } from '../../adapters/files/teamsFileDownload';
import { ResultsLinkSigner, resultsUrl } from '../../usecases/bulk/resultsLink';
import { registerBulkRoutes } from './resultsRoute';

/**
 * Bulk invitations in chat: an attached or pasted CSV is validated into a draft job and shown
 * on a summary card (Confirm / Cancel); Confirm starts the background job and turns the card
 * into a progress card updated in place; the end result is a summary with a results link handed
 * only to the requester (or an approver), in a personal chat; the link itself is a short-lived
 * bearer link (secretLinkNotice). Every card action re-checks who clicked.
 */

export const TEAMS_FILE_DOWNLOAD = 'application/vnd.microsoft.teams.file.download.info';

export interface BulkNotifier {
  send(reference: Partial<ConversationReference>, activityOrText: string | Partial<Activity>): Promise<NotifyResult>;
  update(reference: Partial<ConversationReference>, activityId: string, card: AdaptiveCard | Attachment): Promise<NotifyResult>;
}

export interface BulkModuleDeps {
  jobs: BulkJobStore;
  invitations: InvitationRepository;
  directory: Directory;
  advisor: SignInAdvisorPort;
  notifier: BulkNotifier;
  approvals: ApprovalSettings;
  approverGroupId: string | null;
  /**
   * The approvals feature (ApprovalService): rows that need an approver are sent to it when the
   * job runs. Without it those rows are listed as not sent.
   */
  approvalService?: BulkApprovalGateway | null;
  limits: CsvLimits;
  /** INVITES_PER_5S. */
  invitesPer5s: number;
  /**
   * The process's shared invitation pacer; null when the directory paces every invitation itself
   * (then the runner must not take a second slot). Default: a pacer of its own (tests).
   */
  pacer?: InvitationPacer | null;
  /** Lock and lease holders' liveness (a dead runner's job is taken over at once). */
  holders?: HolderRegistry;
  sendInvitationEmail: boolean;
  /** Where the results route is reachable (PUBLIC_BASE_URL, or the local address). */
  publicBaseUrl: string;
  resultsLinkTtlMs: number;
  signer: ResultsLinkSigner;
  /** Where attached files may come from, and the download's limits (FILE_DOWNLOAD_HOSTS). */
  fileDownload?: FileDownloadOptions;
  /** Fetches a Teams file attachment; replaced in tests. Defaults to downloadTeamsFile with `fileDownload`. */
  download?: (downloadUrl: string, maxBytes: number) => Promise<CsvSource>;
  logger?: BulkRunnerLogger;
  /** Runner settings (tests: clock, backoff; benchmarks: pacer window). */
  runner?: Partial<BulkRunnerOptions>;
}

export type BulkFeature = BotFeature & {
  runner: BulkRunner;
  /** Resolves when the invitation emails asked for from a job's card have gone out (tests). */
  whenEmailed(jobId: string): Promise<void>;
  jobs: BulkJobStore;
  /** Adds GET /bulk/results?t=<token> to the bot's server. */
  registerRoutes(server: Server): void;
};

const FORMAT_LABELS: Record<CsvFormat, string> = {
  script: 'Name,Email',
  scriptResults: 'results of an earlier run: rows marked success are skipped',
  entraTemplate: 'Entra bulk-invite template',
};

// Anchored, and the site named after "to" is tidied in code: `(.+?)(?:\s+site)?[.!]*$` was quadratic.
const BULK_COMMAND = /^(?:please\s+)?(?:bulk[\s-]+invite|invite\s+(?:in\s+bulk|many|several|multiple|(?:people\s+)?from\s+(?:a\s+)?(?:csv|file|spreadsheet)|(?:a\s+)?csv|bulk))(?:\s(?:to|into)\s(.+))?$/i;

/** "bulk invite to the Marketing site." → { siteHint: 'Marketing' }; null when it is not the command. */
export function parseBulkCommand(text: string): { siteHint: string | null } | null {
  const m = BULK_COMMAND.exec(trimEndChars(text.trim(), '.!').trim());
  if (!m) return null;
  const words = (m[1] ?? '').trim().split(/\s+/).filter(Boolean);
  if (words.length > 1 && /^the$/i.test(words[0] ?? '')) words.shift();
  if (words.length > 1 && /^site$/i.test(words[words.length - 1] ?? '')) words.pop();
  return { siteHint: words.length > 0 ? words.join(' ') : null };
}
export const PASTE_TOO_LONG = `That pasted CSV is longer than ${MAX_MESSAGE_CHARS.toLocaleString('en-US')} characters, so I did not read any of it. Attach it as a .csv file instead.`;

const BULK_RESULTS = /^(?:show\s+|get\s+)?(?:my\s+)?bulk\s+(?:results|status|progress|job)[?.!]*$/i;

// ---------------------------------------------------------------------------------------------
// Cards (pure: job + numbers in, card out)

function methodText(key: string): string {
  if (key === 'unknown') return 'could not be predicted';
  const [method, otherwise] = key.split('>') as [SignInMethod, SignInMethod | undefined];
  return otherwise ? `${methodLabel(method)} if they have one, otherwise ${methodLabel(otherwise)}` : methodLabel(method);
}

/** The first line of the approval box: what happens to those rows. */
function approvalPlan(count: number, approvalsOn: boolean): string {
  const rows = count === 1 ? '1 row' : `${count} rows`;
  return approvalsOn
    ? `When you confirm, ${rows} ${count === 1 ? 'goes' : 'go'} to the approvers instead: each guest is invited once an approver agrees. Why:`
    : `${rows} will not be sent: an approver has to invite ${count === 1 ? 'this guest' : 'these guests'}. Why:`;
}

export function summaryCard(job: BulkJob, siteChoices: readonly BulkSite[], notice: string | null = null, approvalsOn = false): AdaptiveCard {
  const s: BulkValidationSummary = job.summary;
  const methods = Object.entries(s.methods).map(([method, count]) => ({ label: methodText(method), count: count ?? 0 }));
  const shownInvalid = s.invalidRows.length;
  const notSent = s.invalid + s.blocked;
  return expandCard('bulkSummary', {
    jobId: job.id,
    sourceName: s.sourceName,
    formatLabel: FORMAT_LABELS[s.format as CsvFormat] ?? s.format,
    rows: s.rows,
    toSend: s.toSend,
    invalid: s.invalid,
    duplicates: s.duplicates,
    blocked: s.blocked,
    internal: s.internal,
    alreadyDone: s.alreadyDone,
    needsApproval: s.needsApproval,
    hasMethods: methods.length > 0,
    methods,
    hasSites: s.sites.length > 0,
    sites: s.sites,
    hasInvalidRows: shownInvalid > 0,
    invalidRows: s.invalidRows,
    moreInvalid: Math.max(0, notSent - shownInvalid),
    hasApproval: s.needsApproval > 0,
    approvalReasons: s.needsApproval > 0 ? [approvalPlan(s.needsApproval, approvalsOn), ...s.approvalReasons] : [],
    chooseSite: job.state === 'draft' && siteChoices.length > 0,
    siteChoices: siteChoices.map((c) => ({ title: c.siteName, value: c.groupId })),
    // One site: it is the choice. Several: a placeholder asks for one (never a silent default).
    defaultSiteChoice: siteChoices.length === 1 ? (siteChoices[0]?.groupId ?? '') : '',
    canConfirm: job.state === 'draft' && s.toSend > 0,
    hasLookAlikes: (s.lookAlikes ?? 0) > 0,
    lookAlikeHeading: lookAlikeHeading(s.lookAlikes ?? 0),
    lookAlikeRows: s.lookAlikeRows ?? [],
    moreLookAlikes: Math.max(0, (s.lookAlikes ?? 0) - (s.lookAlikeRows?.length ?? 0)),
    hasNotice: notice !== null,
    notice: notice ?? '',
  });
}

function lookAlikeHeading(count: number): string {
  return count === 1
    ? '1 address has an internationalised domain that may imitate another one: check its ASCII form'
    : `${count} addresses have internationalised domains that may imitate others: check their ASCII forms`;
}

function timeLeftText(seconds: number | null): string {
  if (seconds === null) return 'working it out';
  if (seconds <= 0) return 'finishing';
  if (seconds < 90) return `about ${seconds} seconds`;
  return `about ${Math.round(seconds / 60)} minutes`;
}

/**
 * The pace as measured, never extrapolated from a burst: a few rows finished in a few
 * milliseconds are not "7,059 per minute". Under a minute it says how many in how long; from a
 * minute on, rows per minute over the whole run so far.
 */
export function paceText(progress: Pick<BulkProgress, 'finishedThisRun' | 'elapsedMs'>): string {
  const n = progress.finishedThisRun;
  if (n === 0) return 'none finished yet';
  const seconds = Math.max(1, Math.round(progress.elapsedMs / 1000));
  if (progress.elapsedMs < 60_000) return `${n.toLocaleString('en-US')} in ${seconds === 1 ? '1 second' : `${seconds} seconds`}`;
  return `${Math.round((n * 60_000) / progress.elapsedMs).toLocaleString('en-US')} per minute`;
}

export function progressCard(job: BulkJob, progress: BulkProgress, invitesPer5s: number, notice: string | null = null): AdaptiveCard {
  const finished = progress.done + progress.failed + progress.cancelled;
  const stateText =
    job.state === 'cancelling'
      ? 'Cancelling: invitations already on their way finish first.'
      : job.state === 'queued'
        ? 'Starting…'
        : `Sending up to ${invitesPer5s} invitations every 5 seconds (the tenant's limit is 150) and adding guests 20 at a time.`;
  return expandCard('bulkProgress', {
    jobId: job.id,
    sourceName: job.summary.sourceName,
    requestedBy: job.requestedBy.name,
    done: progress.done,
    total: progress.total,
    percent: progress.total > 0 ? Math.floor((finished * 100) / progress.total) : 100,
    failed: progress.failed,
    pace: paceText(progress),
    timeLeft: timeLeftText(progress.secondsLeft),
    stateText,
    canCancel: job.state === 'queued' || job.state === 'running',
    hasNotice: notice !== null,
    notice: notice ?? '',
  });
}

const NO_EMAILS: InvitationEmails = { invited: 0, emailed: 0, notEmailed: 0 };

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

export function doneCard(
  job: BulkJob,
  progress: BulkProgress,
  link: string | null,
  ttlMinutes: number,
  notice: string | null = null,
  emails: InvitationEmails = NO_EMAILS,
): AdaptiveCard {
  const stateText = job.state === 'completed' ? 'Completed' : job.state === 'cancelled' ? 'Cancelled' : `Stopped: ${job.error ?? 'unexpected error'}`;
  const email = invitationEmailText(emails);
  return expandCard('bulkDone', {
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
  });
}

/**
 * The results link is a bearer link: the route cannot tell who opens it (a browser carries no
 * Teams identity), so whoever holds it can download the file until it expires. Said plainly.
 */
export function secretLinkNotice(ttlMinutes: number): string {
  return `Keep this link to yourself: anyone who has it can download the results file until it expires in ${ttlMinutes} minutes. The file holds each guest's invitation link, so do not forward it or post it in a shared chat.`;
}

function messageCard(title: string, message: string): AdaptiveCard {
  return expandCard('error', { title, message });
}

// ---------------------------------------------------------------------------------------------
// Input

interface TeamsFile {
  name: string;
  downloadUrl: string;
  fileType: string;
}

function teamsFile(activity: Partial<Activity>): TeamsFile | null {
  for (const a of activity.attachments ?? []) {
    if (a.contentType !== TEAMS_FILE_DOWNLOAD) continue;
    const content = (a.content ?? {}) as { downloadUrl?: unknown; fileType?: unknown };
    return {
      name: typeof a.name === 'string' && a.name ? a.name : 'attachment',
      downloadUrl: typeof content.downloadUrl === 'string' ? content.downloadUrl : '',
      fileType: typeof content.fileType === 'string' ? content.fileType.toLowerCase() : '',
    };
  }
  return null;
}

function decodeEntities(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&apos;/g, "'")
    .replace(/&nbsp;/g, ' ')
    .replace(/&amp;/g, '&');
}

/** CSV pasted into a message (optionally after a "bulk invite to <site>" line), or null. */
export function pastedCsv(text: string): { csv: string; siteHint: string | null } | null {
  const normalised = decodeEntities(text.replace(/<br\s*\/?>/gi, '\n').replace(/<\/?(?:p|div|span)\b[^<>]*>/gi, '\n')).replace(/\r\n?/g, '\n');
  const lines = normalised.split('\n');
  let siteHint: string | null = null;
  const first = lines[0]?.trim() ?? '';
  const command = parseBulkCommand(first);
  if (command) {
    siteHint = command.siteHint;
    lines.shift();
  }
  while (lines.length > 0 && (lines[0] ?? '').trim() === '') lines.shift();
  if (lines.length < 2) return null;
  const header = (lines[0] ?? '').trim().toLowerCase();
  const looksLikeHeader =
    /^version\s*:\s*v\d/.test(header) || header.includes('[inviteeemail]') || (/(^|[,;\t"\s])e-?mail/.test(header) && /[,;\t]/.test(header));
  if (!looksLikeHeader) return null;
  return { csv: `${lines.join('\n')}\n`, siteHint };
}

// ---------------------------------------------------------------------------------------------
// The module

export function createBulkModule(deps: BulkModuleDeps): BulkFeature {
  const { jobs } = deps;
  const ttlMinutes = Math.round(deps.resultsLinkTtlMs / 60_000);
  const download =
    deps.download ??
    ((url: string, maxBytes: number): Promise<CsvSource> =>
      downloadTeamsFile(url, maxBytes, deps.fileDownload ?? { allowedHosts: DEFAULT_FILE_DOWNLOAD_HOSTS }));
  const log = deps.logger;
  const approvalsOn = !!deps.approvalService;
  const summary = (job: BulkJob, siteChoices: readonly BulkSite[], notice: string | null = null): AdaptiveCard =>
    summaryCard(job, siteChoices, notice, approvalsOn);
  // Files shown but never confirmed are kept a week (the card can still be confirmed), then removed.
  jobs.discardDraftsOlderThan(Date.now() - DRAFT_KEEP_MS);

  // One pacer for the job's invitations and for re-sent invitation emails: both are POST /invitations.
  // Null when the directory paces every invitation itself (then no second slot is taken here).
  const pacer = deps.pacer === undefined ? new SlidingWindowPacer({ limit: deps.invitesPer5s, windowMs: 5000 }) : deps.pacer;
  const emailsOf = (job: BulkJob): InvitationEmails => jobs.invitationEmails(job.id, deps.sendInvitationEmail);
  const done = (job: BulkJob, progress: BulkProgress, url: string | null, notice: string | null = null): AdaptiveCard =>
    doneCard(job, progress, url, ttlMinutes, notice, emailsOf(job));
  const emailing = new Map<string, Promise<void>>();

  const runner = new BulkRunner({
    jobs,
    invitations: deps.invitations,
    directory: deps.directory,
    pacer,
    holders: deps.holders,
    sendInvitationEmail: deps.sendInvitationEmail,
    approvals: deps.approvalService ? { gateway: deps.approvalService, advisor: deps.advisor } : null,
    logger: deps.logger,
    onProgress: (job, progress) => publish(job, progressCard(job, progress, deps.invitesPer5s)),
    onFinished: async (job, progress) => {
      await publish(job, done(job, progress, null));
      if (job.conversationRef) {
        const emails = emailsOf(job);
        await deps.notifier.send(
          job.conversationRef as Partial<ConversationReference>,
          `Your bulk invitation (${quoteForChat(job.summary.sourceName)}) has finished: ${progress.done} invited and added, ${progress.failed} failed${
            progress.counts.sentForApproval > 0 ? `, ${progress.counts.sentForApproval} sent for approval (you hear from the approvers)` : ''
          }.${
            emails.notEmailed > 0
              ? ` Microsoft did not email ${emails.notEmailed === 1 ? 'the new guest' : `${emails.notEmailed} new guests`}: their invitation links are in the results file, or use "Send Microsoft's invitation email to these guests" on the card.`
              : ''
          } Use "Get the results file" on the card.`,
        );
      }
    },
    ...deps.runner,
  });

  /** Updates the job's card in place; posts one (and remembers it) when there is none yet. */
  async function publish(job: BulkJob, card: AdaptiveCard): Promise<void> {
    const reference = job.conversationRef as Partial<ConversationReference> | null;
    if (!reference) return;
    if (job.progressActivityId) {
      await deps.notifier.update(reference, job.progressActivityId, card);
      return;
    }
    const sent = await deps.notifier.send(reference, { attachments: [cardAttachment(card)] });
    if (sent.ok && sent.activityId) jobs.transition(job.id, [job.state], { progressActivityId: sent.activityId });
  }

  async function isApprover(userId: string): Promise<boolean> {
    return deps.approverGroupId ? deps.directory.isMember(deps.approverGroupId, userId) : false;
  }

  /** The requester, or an approver/admin, may see progress, cancel and get results. */
  async function mayManage(job: BulkJob, actor: Actor | null): Promise<boolean> {
    if (!actor || actor.tenantId !== job.tenantId) return false;
    return actor.userId === job.requestedBy.id || (await isApprover(actor.userId));
  }

  async function stage(dc: DialogContext, actor: Actor | null, source: () => Promise<CsvSource>, sourceName: string, siteHint: string | null): Promise<void> {
    const context = dc.context;
    if (!actor) {
      await context.sendActivity("I couldn't tell who you are in this chat, so I can't invite anyone for you.");
      return;
    }
    try {
      const staged = await stageBulkFile(
        { jobs, directory: deps.directory, advisor: deps.advisor, approvals: deps.approvals, approverGroupId: deps.approverGroupId, limits: deps.limits },
        { actor, source: await source(), sourceName, conversationId: context.activity.conversation?.id ?? null, siteHint },
      );
      await context.sendActivity({ attachments: [cardAttachment(summary(staged.job, staged.siteChoices))] });
    } catch (e) {
      if (e instanceof BulkCsvError || e instanceof BulkRefusedError) {
        await context.sendActivity(e.userMessage);
        return;
      }
      throw e;
    }
  }

  const instructions = (limit: CsvLimits): string =>
    [
      'To invite many guests at once, attach a CSV file here in our personal chat, or paste the CSV into a message.',
      'Formats I read: a header row Name,Email (optional columns: Site, Message); the results file of an earlier run (rows marked success are skipped); or the Entra portal bulk-invite template.',
      `Up to ${limit.maxRows.toLocaleString('en-US')} rows. I show you a summary first; nothing is sent until you confirm.`,
    ].join('\n\n');

  async function onMessage(dc: DialogContext, text: string, actor: Actor | null): Promise<boolean> {
    const activity = dc.context.activity;
    const file = teamsFile(activity);
    if (file) {
      const isCsv = file.fileType === 'csv' || /\.csv$/i.test(file.name);
      if (!isCsv) {
        const kind = file.fileType ? `a .${file.fileType} file` : 'that file';
        await dc.context.sendActivity(
          `I can only read CSV files, and ${kind} is not one. In Excel choose File > Save As > "CSV UTF-8 (Comma delimited)" and send that.`,
        );
        return true;
      }
      const hint = parseBulkCommand(text)?.siteHint ?? null;
      await stage(dc, actor, () => download(file.downloadUrl, deps.limits.maxBytes), file.name, hint);
      return true;
    }
    // The shell collapses whitespace in `text`; a pasted CSV needs its line breaks.
    const raw = typeof activity.text === 'string' ? activity.text.replace(/<at>[^<]*<\/at>/g, ' ').trim() : '';
    const pasted = raw ? pastedCsv(raw) : null;
    if (pasted && cutMessageLength(dc.context) !== null) {
      // Half a file would stage half the people without saying so.
      await dc.context.sendActivity(PASTE_TOO_LONG);
      return true;
    }
    if (pasted) {
      await stage(dc, actor, () => Promise.resolve(pasted.csv), 'pasted text', pasted.siteHint);
      return true;
    }
    if (BULK_RESULTS.test(text)) {
      await showLatest(dc, actor);
      return true;
    }
    if (parseBulkCommand(text)) {
      await dc.context.sendActivity(instructions(deps.limits));
      return true;
    }
    return false;
  }

  async function showLatest(dc: DialogContext, actor: Actor | null): Promise<void> {
    const job = actor ? jobs.listByRequester(actor.tenantId, actor.userId, 5).find((j) => j.state !== 'draft' && j.state !== 'discarded') : undefined;
    if (!actor || !job) {
      await dc.context.sendActivity('You have no bulk invitations yet. Say "bulk invite" to start one.');
      return;
    }
    const progress = runner.progress(job.id);
    if (!progress) return;
    const personal = dc.context.activity.conversation?.conversationType === 'personal' || dc.context.activity.conversation?.conversationType === undefined;
    const card = isFinished(job)
      ? personal
        ? resultsCard(job, progress, link(job, actor, false), null)
        : done(job, progress, null, PRIVATE_ONLY)
      : progressCard(job, progress, deps.invitesPer5s);
    await dc.context.sendActivity({ attachments: [cardAttachment(card)] });
  }

  function link(job: BulkJob, actor: Actor, approver: boolean): string {
    const token = deps.signer.sign({ jobId: job.id, userId: actor.userId, tenantId: actor.tenantId, approver }, deps.resultsLinkTtlMs);
    return resultsUrl(deps.publicBaseUrl, token);
  }

  /**
   * The done card with the download link. Cards only carry https links; in local mode the bot
   * is on http://localhost, so the link is given as text to open in the browser instead.
   */
  function resultsCard(job: BulkJob, progress: BulkProgress, url: string, notice: string | null): AdaptiveCard {
    if (isSafeCardUrl(url)) return done(job, progress, url, notice);
    // The link comes first: the notice is cut at the card's text limit, and a cut link is useless.
    return done(
      job,
      progress,
      null,
      `Open this link in your browser to download the results file: ${url} Anyone who has this link can download the file, with the guests' invitation links, until it expires in ${ttlMinutes} minutes: keep it to yourself.`,
    );
  }

  const loadJob = (data: ActionData): BulkJob | null => (typeof data.jobId === 'string' ? jobs.get(data.jobId) : null);
  const stale = (): InvokeResponse => cardInvokeResponse(messageCard('This card is out of date', 'That bulk invitation no longer exists. Send the file again to start over.'));
  const currentCard = (job: BulkJob, notice: string | null): AdaptiveCard => {
    if (job.state === 'draft' || job.state === 'discarded') return summary(job, [], notice);
    const progress = runner.progress(job.id);
    if (!progress) return messageCard('Bulk invitation', notice ?? '');
    return isFinished(job) ? done(job, progress, null, notice) : progressCard(job, progress, deps.invitesPer5s, notice);
  };

  /** Someone else's card: nothing of the job (file, rows, counts), only who may act. */
  const notYours = (whoMayAct: string): InvokeResponse =>
    cardInvokeResponse(messageCard('This bulk invitation is not yours', `${whoMayAct} Nothing was changed.`));

  const confirm: ActionHandler = async (context, actor, data) => {
    const job = loadJob(data);
    if (!job || (actor && actor.tenantId !== job.tenantId)) return stale();
    if (!actor || actor.userId !== job.requestedBy.id) {
      return notYours(`Only ${job.requestedBy.name} can confirm this bulk invitation.`);
    }
    if (job.state !== 'draft') {
      // A second click, or a click on an old copy of the card: show where the job is.
      return cardInvokeResponse(currentCard(job, job.state === 'discarded' ? 'This bulk invitation was cancelled; nothing was sent.' : null));
    }
    // Rights are re-checked now, not trusted from when the file was read.
    const { sites, isApprover: approver } = await requesterSites(deps.directory, actor, deps.approverGroupId);
    let site = job.defaultSite;
    if (!site) {
      const chosen = typeof data.siteId === 'string' ? matchSite(sites, data.siteId) : null;
      if (!chosen) return cardInvokeResponse(summary(job, sites, 'Choose one of your sites first.'));
      site = chosen;
    }
    if ((job.summary.lookAlikes ?? 0) > 0 && data.lookAlikeConfirmed !== 'true' && data.lookAlikeConfirmed !== true) {
      return cardInvokeResponse(
        summary(job, job.defaultSite ? [] : sites, 'Some addresses may imitate other domains: check their ASCII forms, tick "I checked these addresses", then Confirm again. Nothing was sent.'),
      );
    }
    const stillOwner = approver || (await deps.directory.isOwner(site.groupId, actor.userId));
    if (!stillOwner) {
      return cardInvokeResponse(summary(job, [], `You are no longer an owner of ${site.siteName}, so this bulk invitation cannot be sent.`));
    }
    const reference = TurnContext.getConversationReference(context.activity) as unknown as Record<string, unknown>;
    jobs.assignDefaultSite(job.id, site);
    const queued = jobs.update(job.id, job.version, {
      state: 'queued',
      defaultSite: site,
      conversationRef: reference,
      progressActivityId: context.activity.replyToId ?? null,
    });
    if (!queued) {
      const now = jobs.get(job.id);
      return now ? cardInvokeResponse(currentCard(now, null)) : stale();
    }
    log?.info({ jobId: job.id, rows: job.summary.toSend }, 'bulk job confirmed');
    runner.start(job.id);
    const progress = runner.progress(job.id);
    const current = jobs.get(job.id) ?? queued;
    return cardInvokeResponse(progress ? progressCard(current, progress, deps.invitesPer5s) : currentCard(current, null));
  };

  const cancel: ActionHandler = async (_context, actor, data) => {
    const job = loadJob(data);
    if (!job || (actor && actor.tenantId !== job.tenantId)) return stale();
    if (!(await mayManage(job, actor))) {
      return notYours(`Only ${job.requestedBy.name} or an approver can cancel this bulk invitation.`);
    }
    if (job.state === 'draft') {
      const discarded = jobs.transition(job.id, ['draft'], { state: 'discarded' });
      return cardInvokeResponse(currentCard(discarded ?? job, 'Cancelled. Nothing was sent.'));
    }
    if (job.state === 'queued' || job.state === 'running') {
      const cancelling = runner.requestCancel(job.id) ?? jobs.get(job.id) ?? job;
      return cardInvokeResponse(currentCard(cancelling, null));
    }
    return cardInvokeResponse(currentCard(job, null));
  };

  const results: ActionHandler = async (context, actor, data) => {
    const job = loadJob(data);
    if (!job || (actor && actor.tenantId !== job.tenantId)) return stale();
    if (!actor || !(await mayManage(job, actor))) {
      return notYours(`Only ${job.requestedBy.name} or an approver can get these results.`);
    }
    const progress = runner.progress(job.id);
    if (!progress || !isFinished(job)) return cardInvokeResponse(currentCard(job, 'The results file is ready when the job has finished.'));
    // In a group chat the answer card is seen by everyone: the link goes out only in a personal chat.
    const conversationType = context.activity.conversation?.conversationType;
    if (conversationType !== undefined && conversationType !== 'personal') {
      return cardInvokeResponse(done(job, progress, null, PRIVATE_ONLY));
    }
    const approver = actor.userId !== job.requestedBy.id;
    log?.info({ jobId: job.id, approver }, 'bulk results link issued');
    return cardInvokeResponse(resultsCard(job, progress, link(job, actor, approver), 'Here is your results file.'));
  };

  /**
   * Has Microsoft email the invitation to every new guest of the job it did not email: POST
   * /invitations again for each with sendInvitationMessage true (an existing guest is invited
   * again, not created twice; Graph answers with a fresh link, kept in the results file).
   * Paced with the job's invitations; runs in the background and updates the card when done.
   * https://learn.microsoft.com/en-us/graph/api/invitation-post
   */
  async function emailGuests(job: BulkJob): Promise<{ sent: number; failed: number }> {
    let sent = 0;
    let failed = 0;
    let after = 0;
    for (;;) {
      const rows = jobs.rowsNotEmailed(job.id, deps.sendInvitationEmail, after, 100);
      if (rows.length === 0) break;
      for (const row of rows) {
        after = row.rowNumber;
        await pacer?.acquire();
        try {
          const result = await deps.directory.invite({
            email: row.email,
            displayName: row.name,
            redirectUrl: row.redirectUrl ?? row.siteUrl ?? '',
            sendInvitationMessage: true,
          });
          jobs.updateRow(job.id, row.rowNumber, { sendEmail: true, redeemUrl: result.redeemUrl, inviteId: result.invitationId });
          sent++;
        } catch (e) {
          failed++;
          log?.warn({ jobId: job.id, row: row.rowNumber, err: e instanceof Error ? e.name : 'unknown' }, 'bulk invitation email not sent');
        }
      }
    }
    return { sent, failed };
  }

  const sendEmails: ActionHandler = async (_context, actor, data) => {
    const job = loadJob(data);
    if (!job || (actor && actor.tenantId !== job.tenantId)) return stale();
    if (!actor || !(await mayManage(job, actor))) {
      return notYours(`Only ${job.requestedBy.name} or an approver can have Microsoft email these guests.`);
    }
    if (!isFinished(job)) return cardInvokeResponse(currentCard(job, 'Microsoft can email the guests once the job has finished.'));
    const waiting = emailsOf(job).notEmailed;
    if (emailing.has(job.id) || waiting === 0) {
      return cardInvokeResponse(currentCard(job, emailing.has(job.id) ? 'Already asking Microsoft to email these guests.' : 'Every new guest of this job has been emailed.'));
    }
    log?.info({ jobId: job.id, guests: waiting }, 'bulk invitation emails requested');
    const work = emailGuests(job)
      .then(async ({ sent, failed }) => {
        const now = jobs.get(job.id) ?? job;
        const progress = runner.progress(job.id);
        if (!progress) return;
        const notice = `Microsoft emailed the invitation to ${sent === 1 ? '1 guest' : `${sent} guests`}${failed > 0 ? `; ${failed} could not be emailed (their links are in the results file)` : ''}.`;
        await publish(now, done(now, progress, null, notice));
      })
      .catch((e: unknown) => log?.error({ jobId: job.id, err: e instanceof Error ? e.name : 'unknown' }, 'bulk invitation emails stopped'))
      .finally(() => emailing.delete(job.id));
    emailing.set(job.id, work);
    return cardInvokeResponse(currentCard(job, `Asking Microsoft to email the invitation to ${waiting === 1 ? '1 guest' : `${waiting} guests`}; this card is updated when it is done.`));
  };

  return {
    name: 'bulk',
    onMessage,
    actions: { 'bulk.confirm': confirm, 'bulk.cancel': cancel, 'bulk.results': results, 'bulk.sendEmails': sendEmails },
    whenEmailed: async (jobId: string) => {
      await emailing.get(jobId);
    },
    help: [
      { title: 'Invite many guests from a CSV', example: 'bulk invite (then attach or paste a Name,Email CSV)', audience: 'owners' },
      { title: 'See your last bulk invitation', example: 'bulk results', audience: 'owners' },
    ],
    runner,
    jobs,
    registerRoutes: (server: Server) => registerBulkRoutes(server, { jobs, signer: deps.signer, isApprover, logger: deps.logger }),
  };
}

const DRAFT_KEEP_MS = 7 * 24 * 60 * 60 * 1000;

const PRIVATE_ONLY = 'For privacy the results file is only handed out in a personal chat: open a chat with me and say "bulk results".';

function isFinished(job: BulkJob): boolean {
  return job.state === 'completed' || job.state === 'cancelled' || job.state === 'failed';
}

/**
 * The bulk feature wired from the bot's services (the composition root calls this once, then
 * `feature.runner.resumeAll()` after start-up and adds `feature.registerRoutes` to the server).
 */
export function createBulkFeature(services: BotServices, overrides: Partial<BulkModuleDeps> = {}): BulkFeature {
  const env = services.config.env;
  const publicBaseUrl = env.PUBLIC_BASE_URL ?? `http://localhost:${services.config.port}`;
  const approvals = bulkApprovalSettings(services);
  return createBulkModule({
    jobs: services.repositories.bulkJobs,
    invitations: services.repositories.invitations,
    directory: services.directory,
    advisor: new SignInAdvisor(services.directory, { policyTtlMs: 0 }),
    notifier: new Notifier(services.adapter, services.botAppId, services.logger),
    approvals: { policy: approvals.policy, partnerDomains: approvals.partnerDomains },
    approverGroupId: approvals.approverGroupId,
    limits: { maxBytes: env.BULK_MAX_BYTES, maxRows: env.BULK_MAX_ROWS },
    fileDownload: { allowedHosts: env.FILE_DOWNLOAD_HOSTS },
    invitesPer5s: env.INVITES_PER_5S,
    pacer: services.invitationPacer,
    holders: services.repositories.holders,
    sendInvitationEmail: env.SEND_INVITATION_EMAIL,
    publicBaseUrl,
    resultsLinkTtlMs: env.RESULTS_LINK_TTL_MINUTES * 60_000,
    // Kept in the store: links survive a restart and work on every instance sharing it.
    signer: new ResultsLinkSigner(services.repositories.resultsLinkSecret()),
    logger: services.logger,
    ...overrides,
  });
}

/**
 * Who approves, and when, exactly as the approvals feature sees it: in local mode the demo
 * tenant's approver group stands in for APPROVER_GROUP_ID, so the demo admin can manage any job.
 */
function bulkApprovalSettings(services: BotServices): ApprovalSettings & { approverGroupId: string | null } {
  const env = services.config.env;
  try {
    const settings = approvalSettingsFromConfig(services.config);
    return { policy: settings.policy, partnerDomains: settings.partnerDomains, approverGroupId: settings.approverGroupId };
  } catch (e) {
    // Graph mode without APPROVER_GROUP_ID: the approvals feature refuses to start; bulk alone works without approvers.
    if (!(e instanceof ApprovalConfigError)) throw e;
    return { policy: env.APPROVAL_POLICY, partnerDomains: env.PARTNER_DOMAINS, approverGroupId: env.APPROVER_GROUP_ID ?? null };
  }
}
