import type { DialogContext } from 'botbuilder-dialogs';
import type { Server } from 'restify';
import type { Actor } from '../../domain/actor';
import type { Clock } from '../../domain/clock';
import type { ResultsLinkSigner } from '../../usecases/bulk/resultsLink';
import { parseAuditPeriod } from '../../usecases/reports/exportPeriod';
import type { ExportRequest } from '../../usecases/reports/model';
import { EXPORT_ROUTE, type ReportsService } from '../../usecases/reports/reportsService';
import type { AuditRetention } from '../../usecases/reports/retention';
import type { WorkHandler } from '../../usecases/scheduling/workRunner';
import type { BotFeature } from '../bot/feature';
import { cardAttachment } from '../cards';
import { registerResultsFileRoute } from '../bulk/resultsRoute';
import { exportLinkCard, guestReportCard } from './reportCards';

/**
 * "guests report", "export guests" and "export audit from … to …" for approvers, in a personal
 * chat only (the report names guests and sponsors; an export link is a bearer secret). Rights are
 * the use case's: re-checked with the directory on every request and at download.
 */

export const REPORT_COMMAND = /^(?:show (?:me )?)?(?:the )?(?:guests?|guest access) report$|^report (?:on|of) guests$/i;
export const EXPORT_GUESTS_COMMAND = /^export (?:the )?(?:guests?|guest list|guest access)(?: (?:as )?csv)?$/i;
export const EXPORT_AUDIT_COMMAND = /^export (?:the )?audit(?: log)?(?: (\S.*))?$/i;

export const PERSONAL_ONLY =
  'Reports and exports name guests and sponsors, so I only give them in a personal chat: open a chat with me and ask there.';

export interface ReportsFeatureDeps {
  service: ReportsService;
  retention: AuditRetention;
  signer: () => Promise<ResultsLinkSigner>;
  clock: Clock;
  logger?: { warn(obj: Record<string, unknown>, msg: string): void };
}

export type ReportsFeature = BotFeature & {
  /** The audit retention sweep's handlers, for the one scheduler's map. */
  workHandlers: Record<string, WorkHandler>;
};

function isPersonal(dc: DialogContext): boolean {
  const type = dc.context.activity.conversation?.conversationType;
  return type === undefined || type === 'personal';
}

export function createReportsFeature(deps: ReportsFeatureDeps): ReportsFeature {
  const { service } = deps;

  async function sendExport(dc: DialogContext, actor: Actor | null, request: ExportRequest): Promise<void> {
    const link = await service.exportLink(actor, request);
    if (link.kind === 'refused') {
      await dc.context.sendActivity(link.message);
      return;
    }
    await dc.context.sendActivity({ attachments: [cardAttachment(exportLinkCard(link))] });
  }

  async function onMessage(dc: DialogContext, text: string, actor: Actor | null): Promise<boolean> {
    const words = text.trim().replace(/\s+/g, ' ');
    const audit = EXPORT_AUDIT_COMMAND.exec(words);
    const wantsReport = REPORT_COMMAND.test(words);
    const wantsGuests = EXPORT_GUESTS_COMMAND.test(words);
    if (!audit && !wantsReport && !wantsGuests) return false;
    if (!isPersonal(dc)) {
      await dc.context.sendActivity(PERSONAL_ONLY);
      return true;
    }
    if (wantsReport) {
      const answer = await service.guestReport(actor);
      if (answer.kind === 'refused') await dc.context.sendActivity(answer.message);
      else await dc.context.sendActivity({ attachments: [cardAttachment(guestReportCard(answer.report))] });
      return true;
    }
    if (wantsGuests) {
      await sendExport(dc, actor, { kind: 'guests' });
      return true;
    }
    const period = parseAuditPeriod(audit?.[1] ?? '', deps.clock.now());
    if (period.kind === 'refused') {
      await dc.context.sendActivity(period.message);
      return true;
    }
    await sendExport(dc, actor, period);
    return true;
  }

  return {
    name: 'reports',
    onMessage,
    help: [
      { title: 'See who has guest access (approvers)', example: 'guests report', audience: 'admins' },
      { title: 'Download every guest as a CSV (approvers)', example: 'export guests', audience: 'admins' },
      { title: 'Download the audit log (approvers)', example: 'export audit from 2026-11-01 to 2026-11-30', audience: 'admins' },
    ],
    workHandlers: deps.retention.handlers,
    start: async () => {
      // Every instance asks; the store keeps one sweep (kind + subject), run by whichever claims it.
      try {
        await deps.retention.schedule();
      } catch (error) {
        deps.logger?.warn({ err: error instanceof Error ? error.name : 'failed' }, 'audit retention sweep not scheduled');
      }
    },
    registerRoutes: (server: Server) =>
      registerResultsFileRoute(server, EXPORT_ROUTE, {
        signer: deps.signer,
        logger: deps.logger,
        refused: () => ({ context: {}, message: 'export link refused: not an approver (any more)' }),
        open: async (claims) => {
          const file = await service.openExport(claims);
          return file ? { fileName: file.fileName, stream: () => file.stream, logContext: { export: claims.jobId } } : null;
        },
      }),
  };
}
