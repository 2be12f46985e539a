/**
 * What guest help needs from the rest of the system, as narrow ports: it reads the directory and
 * the sign-in advisor (shared ports), the invitations that brought a guest in, and it files
 * sign-in (redemption) reset requests.
 */
import type { SignInMethod } from '../../domain/signInAdvice';
import type { Logger } from '../../shared/logger';
import type { AuditLog } from '../ports/auditLog';
import type { Directory } from '../ports/Directory';
import type { SignInAdvisorPort } from '../signIn/signInAdvisor';

/** The part of an invitation record the "I lost access" answer names. */
export interface GuestInvitation {
  groupId: string;
  /** The guest's directory id once the invitation reached the directory; null before. */
  userId: string | null;
  state: string;
  /** ISO 8601. */
  createdAt: string;
  siteName: string;
  requestedBy: { name: string };
}

/** Who invited an address, newest first ("not found" is an empty list). */
export interface InvitationHistory {
  listByEmail(tenantId: string, emailNormalised: string, options: { limit: number }): Promise<readonly GuestInvitation[]>;
}

export interface ResetRequestSubmission {
  tenantId: string;
  userId: string;
  userName: string;
  email: string;
  redeemedWith: SignInMethod | null;
  /** Why the guest wants it, in plain words (from the bot, not typed by the guest). */
  reason: string;
}

export interface ResetRequestReceipt {
  request: { id: string; requestedAt: string };
  /** True when an open request from this guest already existed (nothing new was written). */
  alreadyOpen: boolean;
}

/** Where a guest's reset request goes (the approvals feature routes it to admins). */
export interface ResetRequestSink {
  submit(request: ResetRequestSubmission): Promise<ResetRequestReceipt>;
}

export interface GuestHelpDependencies {
  directory: Directory;
  advisor: SignInAdvisorPort;
  resetRequests: ResetRequestSink;
  /** Who invited a guest, and to which site: named in the "I lost access" answer when present. */
  invitations?: InvitationHistory;
  /** Records a reset asked for by someone who may not ask (redemptionReset.refused); absent: not recorded. */
  audit?: Pick<AuditLog, 'append'>;
  /** Kinds and ids only, never names, addresses or text. */
  logger?: Pick<Logger, 'info' | 'warn'>;
}
