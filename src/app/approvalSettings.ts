import type { AppConfig } from './config';
import type { ApprovalServiceSettings } from '../usecases/approvals/runtime';

/** The demo tenant's "Guest Approvers" group: the approver group in local mode when APPROVER_GROUP_ID is unset. */
export const DEMO_APPROVER_GROUP_ID = '7a2e9d41-0004-4b6c-9d8e-1f2a3b4c5d04';

export class ApprovalConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ApprovalConfigError';
  }
}

/** Settings from the validated configuration. The demo approver group stands in only with the demo directory. */
export function approvalSettingsFromConfig(config: AppConfig): ApprovalServiceSettings {
  const env = config.env;
  const approverGroupId = env.APPROVER_GROUP_ID ?? (config.directory === 'demo' ? DEMO_APPROVER_GROUP_ID : undefined);
  if (!approverGroupId) {
    throw new ApprovalConfigError('APPROVER_GROUP_ID: required when DIRECTORY=graph (the group whose members approve invitations)');
  }
  return {
    policy: env.APPROVAL_POLICY,
    partnerDomains: env.PARTNER_DOMAINS,
    approverGroupId,
    ownersMayApprove: env.OWNERS_MAY_APPROVE,
    approvalsChannelId: env.APPROVALS_CHANNEL_ID ?? null,
    expiryDays: env.APPROVAL_EXPIRY_DAYS,
    allowRedemptionReset: env.ALLOW_REDEMPTION_RESET,
  };
}
