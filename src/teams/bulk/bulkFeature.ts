import type { DialogContext } from 'botbuilder-dialogs';
import type { Server } from 'restify';
import { cardAttachment } from '../cards';
import type { BotFeature } from '../bot/feature';
import type { Actor } from '../../domain/actor';
import { cutMessageLength } from '../bot/messageLimits';
import { isFinishedJob } from '../../domain/bulkJob';
import { BulkJobService, type BulkServiceDeps } from '../../usecases/bulk/bulkJobService';
import type { BulkRunner } from '../../usecases/bulk/bulkRunner';
import { BulkRefusedError } from '../../usecases/bulk/bulkValidation';
import { BulkCsvError } from '../../usecases/bulk/csvFormats';
import type { CsvSource } from '../../usecases/bulk/parseInvitationCsv';
import type { BulkJobRepository, FileDownload } from '../../usecases/bulk/ports';
import { bulkActions, bulkRefusedClicks } from './bulkActions';
import { BulkCards, PRIVATE_ONLY } from './bulkCards';
import { BULK_RESULTS_COMMAND, bulkInstructions, parseBulkCommand, pastedCsv, PASTE_TOO_LONG, teamsFile } from './bulkInput';
import { registerBulkRoutes } from './resultsRoute';

/**
 * Bulk invitations in chat: an attached or pasted CSV is validated into a draft job and shown
 * on a summary card (Confirm / Cancel); Confirm starts the background job and turns the card
 * into a progress card updated in place; the end result is a summary with a results link handed
 * only to the requester (or an approver), in a personal chat; the link itself is a short-lived
 * bearer link (secretLinkNotice). Every card action re-checks who clicked.
 */

/**
 * What the bulk feature is built from: ports and settings (the composition root provides them):
 * jobs (BulkJobRepository), invitations, directory, advisor, notifier (TeamsBulkNotifier),
 * settings, signer, pacer, holders, clock, logger, the approvals intake, and the file download.
 */
export type BulkFeatureDeps = BulkServiceDeps & {
  /** Fetches a Teams file attachment (downloadTeamsFile with FILE_DOWNLOAD_HOSTS). */
  download: FileDownload;
};

export type BulkFeature = BotFeature & {
  runner: BulkRunner;
  /** Resolves when the invitation emails asked for from a job's card have gone out (tests). */
  whenEmailed(jobId: string): Promise<void>;
  jobs: BulkJobRepository;
  /** Adds GET /bulk/results?t=<token> to the bot's server. */
  registerRoutes(server: Server): void;
};

/**
 * The bulk feature (the composition root calls this once, then `feature.runner.resumeAll()`
 * after start-up and adds `feature.registerRoutes` to the server).
 */
export function createBulkFeature(deps: BulkFeatureDeps): BulkFeature {
  const { settings } = deps;
  const service = new BulkJobService(deps);
  const cards = new BulkCards({ invitesPer5s: settings.invitesPer5s, resultsLinkTtlMs: settings.resultsLinkTtlMs, approvalsOn: service.approvalsOn });

  async function stage(dc: DialogContext, actor: Actor | null, source: () => Promise<CsvSource>, sourceName: string, siteHint: string | null): Promise<void> {
    const context = dc.context;
    if (!actor) {
      await context.sendActivity("I couldn't tell who you are in this chat, so I can't invite anyone for you.");
      return;
    }
    try {
      const staged = await service.stage(actor, await source(), sourceName, context.activity.conversation?.id ?? null, siteHint);
      await context.sendActivity({ attachments: [cardAttachment(cards.summary(staged.job, staged.siteChoices))] });
    } catch (e) {
      if (e instanceof BulkCsvError || e instanceof BulkRefusedError) {
        await context.sendActivity(e.userMessage);
        return;
      }
      throw e;
    }
  }

  async function showLatest(dc: DialogContext, actor: Actor | null): Promise<void> {
    const view = actor ? await service.latest(actor) : null;
    if (!actor || !view) {
      await dc.context.sendActivity('You have no bulk invitations yet. Say "bulk invite" to start one.');
      return;
    }
    if (!view.progress) return;
    const personal = dc.context.activity.conversation?.conversationType === 'personal' || dc.context.activity.conversation?.conversationType === undefined;
    const card = isFinishedJob(view.job)
      ? personal
        ? cards.results(view, await service.link(view.job, actor, false), null)
        : cards.done(view, null, PRIVATE_ONLY)
      : cards.progress(view);
    await dc.context.sendActivity({ attachments: [cardAttachment(card)] });
  }

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
      await stage(dc, actor, () => deps.download(file.downloadUrl, settings.limits.maxBytes), file.name, hint);
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
    if (BULK_RESULTS_COMMAND.test(text)) {
      await showLatest(dc, actor);
      return true;
    }
    if (parseBulkCommand(text)) {
      await dc.context.sendActivity(bulkInstructions(settings.limits));
      return true;
    }
    return false;
  }

  return {
    name: 'bulk',
    onMessage,
    actions: bulkActions(service, cards),
    refusedClicks: bulkRefusedClicks(),
    whenEmailed: (jobId: string) => service.whenEmailed(jobId),
    help: [
      { title: 'Invite many guests from a CSV', example: 'bulk invite (then attach or paste a Name,Email CSV)', audience: 'owners' },
      { title: 'See your last bulk invitation', example: 'bulk results', audience: 'owners' },
    ],
    runner: service.runner,
    jobs: deps.jobs,
    registerRoutes: (server: Server) =>
      registerBulkRoutes(server, { jobs: deps.jobs, signer: deps.signer, openResults: (claims) => service.openResults(claims), logger: deps.logger }),
  };
}
