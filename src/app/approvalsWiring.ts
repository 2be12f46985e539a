import type { BotFeature } from '../teams/bot/feature';
import type { Clock } from '../domain/clock';
import type { LifecycleSettings } from '../domain/lifecycle';
import type { Directory } from '../usecases/ports/Directory';
import { createApprovalFeature } from '../teams/approvals/approvalFeature';
import { TeamsApprovalNotifier, teamsApprovalChats, type ConversationLookup, type ProactiveSender } from '../teams/approvals/approvalNotifier';
import { ApprovalIntake } from '../usecases/approvals/approvalIntake';
import { ApprovalService } from '../usecases/approvals/approvalService';
import type { ApprovalAudit, ApprovalLeases, ApprovalLogger, ApprovalServiceSettings, ApproverRoster, InvitationExecutor, IntakeDependencies } from '../usecases/approvals/runtime';
import type { ApprovalRequestRepository, ResetRequestRepository } from '../usecases/approvals/ports';
import { approvalResetSink, type ResetApprovalSink } from '../usecases/approvals/resetApprovals';
import { RecoveryLoop } from '../usecases/approvals/recoveryLoop';

/** How often overdue requests are expired (and their requesters told), and failed notices retried, while the bot runs. */
export const EXPIRY_SWEEP_INTERVAL_MS = 15 * 60_000;

/**
 * Requester notices that failed (throttled, network, chat gone) are sent again by the sweep once
 * they are this old; the requester opening a chat with the bot gets them at once anyway.
 */
export const NOTICE_RETRY_MIN_AGE_MS = 5 * 60_000;

/**
 * The sweep runs once per period across every instance sharing the store: the instance that takes
 * this lease sweeps, and keeps the lease for most of the period (not released after a sweep that
 * worked), so the others' ticks in that period find it held and skip. A failed sweep releases it
 * (the next tick anywhere tries again); a sweeper that dies frees it with its holder; an instance
 * starting after downtime finds it expired and catches up at once.
 */
export const SWEEP_LEASE_KEY = 'sweep:approvals';
export const SWEEP_LEASE_MS = Math.round(EXPIRY_SWEEP_INTERVAL_MS * 0.9);

/** The ports the approvals feature is built from (the composition root supplies them). */
export interface ApprovalsPorts {
  requests: ApprovalRequestRepository;
  resetRequests: ResetRequestRepository;
  directory: Directory;
  roster: ApproverRoster;
  /** The stored conversation references. */
  conversations: ConversationLookup;
  /** Proactive messaging (the bot's Notifier). */
  sender: ProactiveSender;
  audit: ApprovalAudit;
  leases: ApprovalLeases;
  /** This process as a lease holder. */
  holderId: string;
  clock: Clock;
  logger: ApprovalLogger;
}

export interface ApprovalsSettings {
  /** From approvalSettingsFromConfig. */
  approvals: ApprovalServiceSettings;
  /** RECOVERY_INTERVAL_MS: how often approvals left unfinished (here or by a dead process) are looked for. */
  recoveryIntervalMs: number;
  /** GUEST_ACCESS_DAYS (and per site): the cards say when an approved guest's access ends. Absent: nothing said. */
  access?: LifecycleSettings | null;
}

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

function intakeDependencies(ports: ApprovalsPorts, settings: ApprovalsSettings, notifier: TeamsApprovalNotifier): IntakeDependencies {
  return {
    requests: ports.requests,
    directory: ports.directory,
    roster: ports.roster,
    chats: teamsApprovalChats(ports.conversations),
    notifier,
    audit: ports.audit,
    settings: settings.approvals,
    clock: ports.clock,
    logger: ports.logger,
    access: settings.access ?? null,
  };
}

/**
 * Where the invitation flow sends requests that need an approver. Built first: the invitation
 * service is built with it, and the approvals that carry requests out are then built with the
 * invitation service (buildApprovals), so neither needs the other set afterwards.
 */
export function buildApprovalIntake(ports: ApprovalsPorts, settings: ApprovalsSettings): ApprovalIntake {
  return new ApprovalIntake(intakeDependencies(ports, settings, new TeamsApprovalNotifier(ports.sender, ports.conversations)));
}

/** Builds the approval service and its feature from ports and settings (composition only). */
export function buildApprovals(ports: ApprovalsPorts, settings: ApprovalsSettings, invitations: InvitationExecutor): ApprovalsWiring {
  const { logger } = ports;
  const notifier = new TeamsApprovalNotifier(ports.sender, ports.conversations);
  const base = intakeDependencies(ports, settings, notifier);
  const service = new ApprovalService({
    ...base,
    invitations,
    resetLedger: ports.resetRequests,
    leases: ports.leases,
    holderId: ports.holderId,
  });
  const resetSink = approvalResetSink(ports.resetRequests, service, (error) =>
    logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'reset request recorded but not sent for approval'),
  );

  let sweepTimer: NodeJS.Timeout | undefined;
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
  /** True when the sweep's step worked (nothing to do counts). */
  const expire = async (): Promise<boolean> => {
    try {
      const expired = await service.expireDue();
      if (expired) logger.info({ expired }, 'expired overdue approval requests');
      return true;
    } catch (error) {
      logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'approval expiry sweep failed');
      return false;
    }
  };

  const retryNotices = async (): Promise<boolean> => {
    try {
      const delivered = await service.retryNotices({ minAgeMs: NOTICE_RETRY_MIN_AGE_MS });
      if (delivered) logger.info({ delivered }, 'sent requester notices that had failed');
      return true;
    } catch (error) {
      logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'retrying requester notices failed');
      return false;
    }
  };

  /** Expiry and failed notices, on the one instance holding this period's sweep lease. */
  const sweep = async (): Promise<void> => {
    let taken = false;
    try {
      taken = await ports.leases.acquire(SWEEP_LEASE_KEY, ports.holderId, SWEEP_LEASE_MS);
    } catch (error) {
      logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'approval sweep lease unavailable');
    }
    if (!taken) return;
    logger.info({}, 'approval sweep');
    const worked = (await expire()) && (await retryNotices());
    if (!worked) await Promise.resolve(ports.leases.release(SWEEP_LEASE_KEY, ports.holderId)).catch(() => undefined);
  };

  const recovery = new RecoveryLoop(settings.recoveryIntervalMs);
  const feature: BotFeature = {
    ...createApprovalFeature({ approvals: service, render: (view) => notifier.render(view), conversations: ports.conversations, logger }),
    start: async () => {
      // Nothing here is awaited: the bot answers turns at once while recovery runs beside it.
      // Approvals recorded before a stop but never carried out come first (they were decided in
      // time, whatever the expiry sweep then finds), then every RECOVERY_INTERVAL_MS.
      recovery.start(async () => {
        await resume();
      });
      startup = (async () => {
        await recovery.idle();
        await sweep();
      })();
      sweepTimer = setInterval(() => void sweep(), EXPIRY_SWEEP_INTERVAL_MS);
      sweepTimer.unref();
    },
    stop: async () => {
      if (sweepTimer) clearInterval(sweepTimer);
      await recovery.stop();
      // The start-up sweep (expiry, failed notices) finishes before the store may close.
      await startup;
      await service.whenIdle();
    },
  };
  return { service, feature, resetSink };
}
