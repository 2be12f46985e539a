import type { BotFeature } from '../teams/bot/feature';
import type { Notifier } from '../teams/bot/proactive';
import type { BotServices } from './services';
import type { ResetRequestStore } from '../adapters/sqlite/resetRequests';
import type { InviteGuestService } from '../usecases/invite/inviteGuest';
import { createApprovalFeature } from '../teams/approvals/approvalFeature';
import { ApprovalService } from '../usecases/approvals/approvalService';
import { approvalSettingsFromConfig } from './approvalSettings';
import { directoryRoster } from '../usecases/approvals/approverRoster';
import { approvalResetSink, type ResetApprovalSink } from '../usecases/approvals/resetApprovals';
import { RecoveryLoop } from '../usecases/approvals/recoveryLoop';

/** How often overdue requests are expired (and their requesters told), and failed notices retried, while the bot runs. */
export const EXPIRY_SWEEP_INTERVAL_MS = 15 * 60_000;


/**
 * Requester notices that failed (throttled, network, chat gone) are sent again by the sweep once
 * they are this old; the requester opening a chat with the bot gets them at once anyway.
 */
export const NOTICE_RETRY_MIN_AGE_MS = 5 * 60_000;

export interface ApprovalsWiring {
  service: ApprovalService;
  /**
   * The bot feature; its background work resumes unfinished approvals, expires overdue requests
   * and sends again requester notices that failed.
   */
  feature: BotFeature;
  /** Guests' reset requests: recorded, then sent for approval. */
  resetSink: ResetApprovalSink;
}

/** Builds the approval service and its feature from the bot's services (composition only). */
export function buildApprovals(deps: {
  services: BotServices;
  notifier: Notifier;
  inviteService: InviteGuestService;
  resetRequests: ResetRequestStore;
  clock: () => Date;
}): ApprovalsWiring {
  const { services, notifier, inviteService, resetRequests, clock } = deps;
  const { repositories: store, directory, logger } = services;
  const service = new ApprovalService({
    requests: store.approvalRequests,
    directory,
    roster: directoryRoster(directory),
    conversations: store.conversationReferences,
    notifier,
    invitations: inviteService,
    audit: store.audit,
    settings: approvalSettingsFromConfig(services.config),
    clock,
    logger,
    resetLedger: resetRequests,
    leases: store.leases,
    holders: store.holders,
  });
  const resetSink = approvalResetSink(resetRequests, service, (error) =>
    logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'reset request recorded but not sent for approval'),
  );

  let sweep: NodeJS.Timeout | undefined;
  let startup: Promise<void> = Promise.resolve();
  const resume = async (): Promise<void> => {
    try {
      // Every approved request without an outcome whose carrying-out lease is free: one another
      // live process is carrying out holds its lease and is left to it.
      const resumed = await service.resumeApproved();
      if (resumed) logger.info({ resumed }, 'carried out approved requests left unfinished');
    } catch (error) {
      logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'resuming approved requests failed');
    }
  };
  const expire = async (): Promise<void> => {
    try {
      const expired = await service.expireDue();
      if (expired) logger.info({ expired }, 'expired overdue approval requests');
    } catch (error) {
      logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'approval expiry sweep failed');
    }
  };

  const retryNotices = async (): Promise<void> => {
    try {
      const delivered = await service.retryNotices({ minAgeMs: NOTICE_RETRY_MIN_AGE_MS });
      if (delivered) logger.info({ delivered }, 'sent requester notices that had failed');
    } catch (error) {
      logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'retrying requester notices failed');
    }
  };

  const recovery = new RecoveryLoop(services.config.env.RECOVERY_INTERVAL_MS);
  const feature: BotFeature = {
    ...createApprovalFeature({ approvals: service, logger }),
    onConversationSeen: (reference) => service.onConversationSeen(reference),
    start: async () => {
      // Nothing here is awaited: the bot answers turns at once while recovery runs beside it.
      // Approvals recorded before a stop but never carried out come first (they were decided in
      // time, whatever the expiry sweep then finds), then every RECOVERY_INTERVAL_MS.
      recovery.start(async () => {
        await resume();
      });
      startup = (async () => {
        await recovery.idle();
        await expire();
        await retryNotices();
      })();
      sweep = setInterval(() => {
        void (async () => {
          await expire();
          await retryNotices();
        })();
      }, EXPIRY_SWEEP_INTERVAL_MS);
      sweep.unref();
    },
    stop: async () => {
      if (sweep) clearInterval(sweep);
      await recovery.stop();
      // The start-up sweep (expiry, failed notices) finishes before the store may close.
      await startup;
      await service.whenIdle();
    },
  };
  return { service, feature, resetSink };
}
