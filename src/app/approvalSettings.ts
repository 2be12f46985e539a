import type { AppConfig } from './config';
import type { ApprovalPolicyName } from '../domain/approvalPolicy';

/** The demo tenant's "Guest Approvers" group: the approver group in local mode when APPROVER_GROUP_ID is unset. */
export const DEMO_APPROVER_GROUP_ID = '7a2e9d41-0004-4b6c-9d8e-1f2a3b4c5d04';

/** Most users Teams auto-refreshes a card for (refresh.userIds). */
export const MAX_REFRESH_USERS = 60;

export interface ApprovalServiceSettings {
  /** APPROVAL_POLICY. */
  policy: ApprovalPolicyName;
  /** PARTNER_DOMAINS (lower-case). */
  partnerDomains: readonly string[];
  /** APPROVER_GROUP_ID: members of this group approve. */
  approverGroupId: string;
  /** OWNERS_MAY_APPROVE: owners of the target site may also decide their own site's invitations. */
  ownersMayApprove: boolean;
  /** APPROVALS_CHANNEL_ID: a Teams channel that also gets a copy of every request card. */
  approvalsChannelId: string | null;
  /** APPROVAL_EXPIRY_DAYS. */
  expiryDays: number;
  /** ALLOW_REDEMPTION_RESET: approved reset requests are carried out by the bot (else an admin does it by hand). */
  allowRedemptionReset: boolean;
}

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
