import { approvalFeatureMigrations, buildApprovals } from './approvalsWiring';
import { bulkMigrations } from '../adapters/sqlite/bulkJobs';
import { createBulkFeature } from '../teams/bulk/bulkFeature';
import { channelIdentityMigrations } from '../adapters/sqlite/channelIdentities';
import type { Migration } from '../adapters/sqlite/database';
import { invitationMigrations, SqliteInvitationRepository } from '../adapters/sqlite/invitations';
import { ResetRequestStore, resetRequestMigrations } from '../adapters/sqlite/resetRequests';
import { observeBulkQueue } from '../shared/telemetry';
import { InviteGuestService } from '../usecases/invite/inviteGuest';
import { SignInAdvisor } from '../usecases/signIn/signInAdvisor';
import type { BotFeature } from '../teams/bot/feature';
import { createGuestHelpFeature } from '../teams/guestHelp/guestHelpFeature';
import { createInviteFeature } from '../teams/invite/inviteFeature';
import { Notifier } from '../teams/bot/proactive';
import type { BotServices } from './services';

/** Every feature's tables: known before the store opens, so migrations run once at start-up. */
export const featureMigrations: readonly Migration[] = [
  ...channelIdentityMigrations,
  ...invitationMigrations,
  ...resetRequestMigrations,
  ...approvalFeatureMigrations,
  ...bulkMigrations,
];

/**
 * Every feature the bot offers, in the order their onMessage is tried. One advisor (and so one
 * domain-lookup cache), one invitation repository and one notifier are shared by all of them,
 * so a single invite, an approval and a bulk row all go through the same idempotent records.
 */
export function buildFeatures(services: BotServices): BotFeature[] {
  const { directory, store, logger, config } = services;
  const clock = (): Date => services.clock.now();

  // Policies are kept once, by the directory (POLICY_CACHE_SECONDS), not a second time here.
  const advisor = new SignInAdvisor(directory, { clock, policyTtlMs: 0 });
  const invitations = new SqliteInvitationRepository(store.db, { clock: services.clock });
  const notifier = new Notifier(services.adapter, services.botAppId, logger);
  const inviteService = new InviteGuestService({
    directory,
    advisor,
    invitations,
    audit: store.audit,
    sendInvitationEmail: config.env.SEND_INVITATION_EMAIL,
    clock,
    holders: store.holders,
  });
  const resetRequests = new ResetRequestStore(store.db, clock, store.audit);

  const approvals = buildApprovals({ services, notifier, inviteService, resetRequests, clock });
  inviteService.setApprovalGateway(approvals.service);

  const bulk = createBulkFeature(services, { advisor, invitations, notifier, approvalService: approvals.service });
  let recovery: NodeJS.Timeout | undefined;
  let stopQueueGauges: (() => void) | undefined;
  const bulkFeature: BotFeature = {
    ...bulk,
    // Jobs interrupted by a restart carry on from the store once the bot is reachable again, and
    // every RECOVERY_INTERVAL_MS a job whose runner died (here or in another process) is taken over.
    start: async () => {
      stopQueueGauges = observeBulkQueue(() => bulk.runner.depth());
      bulk.runner.resumeAll();
      recovery = setInterval(() => {
        try {
          bulk.runner.resumeAll();
        } catch (error) {
          logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'resuming bulk jobs failed');
        }
      }, config.env.RECOVERY_INTERVAL_MS);
      recovery.unref();
    },
    stop: async () => {
      if (recovery) clearInterval(recovery);
      stopQueueGauges?.();
      await bulk.runner.stop();
    },
  };

  const guestHelp = createGuestHelpFeature({ directory, advisor, invitations, resetRequests: approvals.resetSink, logger });

  // Guest help goes last: it answers unrecognised questions with its menu.
  return [createInviteFeature({ service: inviteService, directory, advisor }), approvals.feature, bulkFeature, guestHelp];
}
