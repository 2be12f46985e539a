import { buildApprovalIntake, buildApprovals, type ApprovalsPorts, type ApprovalsSettings } from './approvalsWiring';
import { approvalSettingsFromConfig } from './approvalSettings';
import { directoryRoster } from '../usecases/approvals/approverRoster';
import { buildBulkFeature } from './bulkWiring';
import { observeBulkQueue } from '../shared/bulkTelemetry';
import { InviteGuestService } from '../usecases/invite/inviteGuest';
import { SignInAdvisor } from '../usecases/signIn/signInAdvisor';
import type { BotFeature } from '../teams/bot/feature';
import { createGuestHelpFeature } from '../teams/guestHelp/guestHelpFeature';
import { createInviteFeature } from '../teams/invite/inviteFeature';
import { Notifier } from '../teams/bot/proactive';
import type { BotServices } from './services';
import { buildLifecycle, seedDemoGuestAccess } from './lifecycleWiring';
import { buildScheduler } from './schedulerWiring';
import { DEMO } from '../adapters/demo/demoTenant';
import { AccessRecording } from '../usecases/invite/accessRecording';
import { lifecycleSettingsFrom } from './lifecycleSettings';
import { buildReportsFeature } from './reportsWiring';
import { buildAccessReviews } from './reviewsWiring';
import { TeamsReviewNotifier } from '../teams/reviews/reviewNotifier';
import { createReviewFeature } from '../teams/reviews/reviewFeature';

/** How the features are built beyond the services. */
export interface FeatureOptions {
  /** Local mode (`npm start`): the demo guests' access is recorded, so their reminders are due at once. */
  seedDemoGuests?: boolean;
}

/**
 * Every feature the bot offers, in the order their onMessage is tried. One advisor (and so one
 * domain-lookup cache), one invitation repository and one notifier are shared by all of them,
 * so a single invite, an approval and a bulk row all go through the same idempotent records.
 */
export function buildFeatures(services: BotServices, options: FeatureOptions = {}): BotFeature[] {
  const { directory, repositories: store, logger, config } = services;

  // Policies are kept once, by the directory (POLICY_CACHE_SECONDS), not a second time here.
  const advisor = new SignInAdvisor(directory, { clock: services.clock, policyTtlMs: 0 });
  const invitations = store.invitations;
  const notifier = new Notifier(services.adapter, services.botAppId, logger);
  // The guest lifecycle: every invitation path records the guest's access through it.
  // The approval settings, read once: the lifecycle (renewals), the reviews (escalation) and the approvals share them.
  const approvalConfig = approvalSettingsFromConfig(config);
  const lifecycleWiring = buildLifecycle(services, { sender: notifier, approvals: approvalConfig });
  const lifecycle = lifecycleWiring.lifecycle;
  // Each invitation path (chat, an approved request, a bulk row) records the guest's access
  // through this, with its sponsor and end date; a recording that failed is due work
  // (accessRecording.handlers()) for the scheduler.
  const accessSettings = lifecycleSettingsFrom(config.env);
  const accessRecording = new AccessRecording({
    recorder: lifecycle,
    work: store.scheduledWork,
    invitations,
    accessRecords: store.guestAccess,
    settings: accessSettings,
    clock: services.clock,
    logger,
  });
  // Access reviews: owners keep or remove their sites' guests; Remove goes through the lifecycle.
  const reviews = buildAccessReviews(services, {
    lifecycle,
    notifier: new TeamsReviewNotifier(notifier, store.conversationReferences, services.clock),
    approverGroupId: approvalConfig.approverGroupId,
  });
  const reviewFeature: BotFeature = {
    ...createReviewFeature({ reviews, clock: services.clock, logger }),
    // The periodic cycle, scheduled once across instances (kind + subject), or cancelled when ACCESS_REVIEWS is off.
    start: () => reviews.schedulePeriodic(),
  };
  const approvalPorts: ApprovalsPorts = {
    requests: store.approvalRequests,
    resetRequests: store.resetRequests,
    directory,
    roster: directoryRoster(directory),
    conversations: store.conversationReferences,
    sender: notifier,
    audit: store.audit,
    leases: store.leases,
    holderId: store.holders.holderId,
    clock: services.clock,
    logger,
  };
  const approvalSettings: ApprovalsSettings = {
    approvals: approvalConfig,
    recoveryIntervalMs: config.env.RECOVERY_INTERVAL_MS,
    access: accessSettings,
  };
  // The invitation flow hands requests to the approvals' intake; the approvals then carry them
  // out through the invitation service: built in this order, no setter.
  const inviteService = new InviteGuestService({
    directory,
    advisor,
    invitations,
    audit: store.audit,
    sendInvitationEmail: config.env.SEND_INVITATION_EMAIL,
    clock: services.clock,
    holders: store.holders,
    approvals: buildApprovalIntake(approvalPorts, approvalSettings),
    access: accessRecording,
  });
  const approvals = buildApprovals(approvalPorts, approvalSettings, inviteService);

  const bulk = buildBulkFeature(services, { advisor, invitations, messenger: notifier, approvalGateway: approvals.service, access: accessRecording });
  let recovery: NodeJS.Timeout | undefined;
  let stopQueueGauges: (() => void) | undefined;
  const bulkFeature: BotFeature = {
    ...bulk,
    // Jobs interrupted by a restart carry on from the store once the bot is reachable again, and
    // every RECOVERY_INTERVAL_MS a job whose runner died (here or in another process) is taken over.
    start: async () => {
      stopQueueGauges = observeBulkQueue(() => bulk.runner.depth());
      await bulk.runner.resumeAll();
      recovery = setInterval(() => {
        bulk.runner.resumeAll().catch((error: unknown) => {
          logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'resuming bulk jobs failed');
        });
      }, config.env.RECOVERY_INTERVAL_MS);
      recovery.unref();
    },
    stop: async () => {
      if (recovery) clearInterval(recovery);
      stopQueueGauges?.();
      await bulk.runner.stop();
    },
  };

  const guestHelp = createGuestHelpFeature({ directory, advisor, invitations, resetRequests: approvals.resetSink, audit: store.audit, logger });

  // Reports and exports for approvers; its work handlers ('audit.…') belong in the one scheduler's map.
  const reports = buildReportsFeature(services, approvalSettings.approvals.approverGroupId);

  // The one scheduler of the process: every feature's due work in one handler map.
  const scheduler = buildScheduler(
    services,
    { ...lifecycle.handlers, ...accessRecording.handlers(), ...reviews.handlers, ...reports.workHandlers },
    {
      beforeFirstPass: async () => {
        if (!options.seedDemoGuests) return;
        const seeded = await seedDemoGuestAccess(lifecycle, DEMO.tenantId, services.clock.now());
        if (seeded > 0) logger.info({ seeded }, 'demo guests at each lifecycle stage recorded');
      },
    },
  );

  // The lifecycle first: "my guests" is its list (the invite feature also reads it as "my invitations").
  // Guest help goes last: it answers unrecognised questions with its menu.
  return [lifecycleWiring.feature, createInviteFeature({ service: inviteService, directory, advisor }), approvals.feature, bulkFeature, reviewFeature, reports, guestHelp, scheduler];
}
