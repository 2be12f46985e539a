import type { BotServices } from './services';
import type { AppConfig } from './config';
import { ApprovalConfigError, approvalSettingsFromConfig } from './approvalSettings';
import type { InvitationRepository } from '../usecases/ports/invitations';
import { downloadTeamsFile } from '../adapters/files/teamsFileDownload';
import { SignInAdvisor, type SignInAdvisorPort } from '../usecases/signIn/signInAdvisor';
import type { BulkSettings } from '../usecases/bulk/ports';
import type { BulkApprovalGateway } from '../usecases/bulk/runnerOptions';
import { storedResultsLinkSigner } from '../usecases/bulk/resultsLink';
import type { AccessRecording } from '../usecases/invite/accessRecording';
import { Notifier } from '../teams/bot/proactive';
import { TeamsBulkNotifier, type ProactiveMessenger } from '../teams/bulk/bulkNotifier';
import { createBulkFeature, type BulkFeature } from '../teams/bulk/bulkFeature';

/**
 * The bulk feature's settings from the configuration. Who approves, and when, exactly as the
 * approvals feature sees it: in local mode the demo tenant's approver group stands in for
 * APPROVER_GROUP_ID, so the demo admin can manage any job.
 */
export function bulkSettingsFromConfig(config: AppConfig): BulkSettings {
  const env = config.env;
  let approvals: Pick<BulkSettings, 'approvals' | 'approverGroupId'>;
  try {
    const settings = approvalSettingsFromConfig(config);
    approvals = { approvals: { policy: settings.policy, partnerDomains: settings.partnerDomains }, approverGroupId: settings.approverGroupId };
  } catch (e) {
    // Graph mode without APPROVER_GROUP_ID: the approvals feature refuses to start; bulk alone works without approvers.
    if (!(e instanceof ApprovalConfigError)) throw e;
    approvals = { approvals: { policy: env.APPROVAL_POLICY, partnerDomains: env.PARTNER_DOMAINS }, approverGroupId: env.APPROVER_GROUP_ID ?? null };
  }
  return {
    ...approvals,
    limits: { maxBytes: env.BULK_MAX_BYTES, maxRows: env.BULK_MAX_ROWS },
    invitesPer5s: env.INVITES_PER_5S,
    sendInvitationEmail: env.SEND_INVITATION_EMAIL,
    publicBaseUrl: env.PUBLIC_BASE_URL ?? `http://localhost:${config.port}`,
    resultsLinkTtlMs: env.RESULTS_LINK_TTL_MINUTES * 60_000,
  };
}

/**
 * The bulk feature wired from the bot's services: the store's jobs and results-link secret (kept
 * in the store: links survive a restart and work on every instance sharing it), Teams notices over
 * the proactive notifier, downloads limited to FILE_DOWNLOAD_HOSTS. The shared advisor,
 * invitation repository, messenger and approvals intake are passed in by the composition root.
 */
export function buildBulkFeature(
  services: BotServices,
  shared: {
    advisor?: SignInAdvisorPort;
    invitations?: InvitationRepository;
    messenger?: ProactiveMessenger;
    approvalGateway?: BulkApprovalGateway | null;
    /** The guest lifecycle's recording of each added guest (sponsor: who started the job; the end date). */
    access?: AccessRecording | null;
  } = {},
): BulkFeature {
  const { config, repositories } = services;
  const settings = bulkSettingsFromConfig(config);
  const clock = services.clock;
  const messenger = shared.messenger ?? new Notifier(services.adapter, services.botAppId, services.logger);
  return createBulkFeature({
    jobs: repositories.bulkJobs,
    queue: repositories.workQueue,
    invitations: shared.invitations ?? repositories.invitations,
    directory: services.directory,
    advisor: shared.advisor ?? new SignInAdvisor(services.directory, { policyTtlMs: 0 }),
    notifier: new TeamsBulkNotifier(messenger, settings),
    settings,
    signer: storedResultsLinkSigner(repositories.resultsLinkSecret, clock),
    download: (url, maxBytes) => downloadTeamsFile(url, maxBytes, { allowedHosts: config.env.FILE_DOWNLOAD_HOSTS }),
    approvalGateway: shared.approvalGateway ?? null,
    access: shared.access ?? null,
    audit: repositories.audit,
    pacer: services.invitationPacer,
    holders: repositories.holders,
    clock,
    logger: services.logger,
    runner: { maxDequeues: config.env.BULK_MAX_DEQUEUES },
  });
}
