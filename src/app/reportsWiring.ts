import { storedResultsLinkSigner } from '../usecases/bulk/resultsLink';
import { ReportsService } from '../usecases/reports/reportsService';
import { createAuditRetention } from '../usecases/reports/retention';
import { createReportsFeature, type ReportsFeature } from '../teams/reports/reportsFeature';
import { bulkSettingsFromConfig } from './bulkWiring';
import { lifecycleSettingsFrom } from './lifecycleSettings';
import type { BotServices } from './services';

/**
 * Reports and exports for approvers: rights asked of the directory on every request (membership
 * of the approver group the approvals feature uses), export links signed with the results-link
 * secret kept in the store (as bulk's: they survive a restart and work on every instance), and
 * the audit retention sweep (AUDIT_RETENTION_DAYS) as durable work for the one scheduler.
 */
export function buildReportsFeature(services: Pick<BotServices, 'config' | 'repositories' | 'directory' | 'clock' | 'logger'>, approverGroupId: string): ReportsFeature {
  const { config, repositories: store, clock, logger } = services;
  const bulk = bulkSettingsFromConfig(config);
  const signer = storedResultsLinkSigner(store.resultsLinkSecret, clock);
  const retentionDays = config.env.AUDIT_RETENTION_DAYS;
  const service = new ReportsService({
    access: store.guestAccess,
    invitations: store.invitations,
    approvals: store.approvalRequests,
    audit: store.audit,
    work: store.scheduledWork,
    rights: { isApprover: (userId) => services.directory.isMember(approverGroupId, userId) },
    signer,
    settings: { lifecycle: lifecycleSettingsFrom(config.env), publicBaseUrl: bulk.publicBaseUrl, linkTtlMs: bulk.resultsLinkTtlMs, auditRetentionDays: retentionDays },
    clock,
    logger,
  });
  const retention = createAuditRetention({ audit: store.audit, work: store.scheduledWork, clock, retentionDays, logger });
  return createReportsFeature({ service, retention, signer, clock, logger });
}
