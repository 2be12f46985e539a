/**
 * What every part of the approvals use case shares: its dependencies (ports and settings), the
 * clock, and this process's in-flight work (follow-ups, approvals being carried out, redeliveries).
 */
import type { Actor } from '../../domain/actor';
import type { ApprovalPolicyName } from '../../domain/approvalPolicy';
import { systemClock, type Clock } from '../../domain/clock';
import type { LifecycleSettings } from '../../domain/lifecycle';
import type { Directory } from '../ports/Directory';
import type { InvitationRequest, InvitationStatusView, InviteOutcome } from '../invite/model';
import type { ApprovalRequest } from './model';
import type { ApprovalChats, ApprovalNotifier } from './notifications';
import type { ApprovalAuditEvent, ApprovalRequestRepository } from './ports';
import { closeResetLedger, type ResetLedger } from './resetApprovals';
import { describe } from './texts';

/** The approvals' settings (built from the configuration by the composition root). */
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

/** Carries out an approved invitation: InviteGuestService satisfies it (same code as the direct flow). */
export interface InvitationExecutor {
  execute(request: InvitationRequest): Promise<InviteOutcome>;
  /** The invitations an actor may see for an address (InviteGuestService): the approved one's link and state. */
  statusOf?(actor: Actor, email: string): Promise<InvitationStatusView[]>;
  /** SEND_INVITATION_EMAIL. */
  readonly emailsInvitations?: boolean;
}

export interface RosterEntry {
  id: string;
  displayName: string;
}

/**
 * Who may be asked. The Directory port answers "is X a member/owner" (used for every click)
 * but cannot list a group yet; the composition root supplies a roster (see directoryRoster).
 */
export interface ApproverRoster {
  listGroupMembers(groupId: string): Promise<RosterEntry[]>;
  listGroupOwners(groupId: string): Promise<RosterEntry[]>;
}

/** The audit log (its append may be synchronous or return a promise). */
export interface ApprovalAudit {
  append(event: ApprovalAuditEvent): unknown;
}

/** The owned leases approvals take besides the one written with a decision (see the LeaseStore port). */
export interface ApprovalLeases {
  acquire(key: string, holderId: string, ttlMs: number): boolean | Promise<boolean>;
  release(key: string, holderId: string): unknown;
}

export interface ApprovalLogger {
  info(details: Record<string, unknown>, message: string): void;
  warn(details: Record<string, unknown>, message: string): void;
  error(details: Record<string, unknown>, message: string): void;
}

const silentLogger: ApprovalLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

export interface ApprovalServiceDependencies {
  requests: ApprovalRequestRepository;
  directory: Directory;
  roster: ApproverRoster;
  /** The chats the bot can post into. */
  chats: ApprovalChats;
  notifier: ApprovalNotifier;
  invitations: InvitationExecutor;
  audit: ApprovalAudit;
  settings: ApprovalServiceSettings;
  clock?: Clock;
  logger?: ApprovalLogger;
  /**
   * How long a click waits for the approved invitation before answering with "carrying out…"
   * (the copies are updated when it finishes). Teams allows an invoke only a few seconds.
   */
  inlineBudgetMs?: number;
  /** The guest-help feature's record of reset requests, closed when their approval ends. */
  resetLedger?: ResetLedger;
  /**
   * Owned leases (carrying out an approval, re-delivering a card): the same lease store the
   * repository takes a decision's carrying-out lease in. `holderId` is this process.
   */
  leases: ApprovalLeases;
  holderId: string;
  /**
   * GUEST_ACCESS_DAYS and the per-site periods: the cards say when an approved guest's access
   * ends. Null or absent: no guest lifecycle, nothing said.
   */
  access?: LifecycleSettings | null;
}

/**
 * What taking in requests needs: no executor, leases or ledger. The invitation flow is built with
 * an intake (ApprovalIntake) before the approval service that carries requests out is built with it.
 */
export type IntakeDependencies = Omit<ApprovalServiceDependencies, 'invitations' | 'resetLedger' | 'leases' | 'holderId' | 'inlineBudgetMs'>;

type AuditDetails = { [key: string]: string | number | boolean | null | string[] };

/** The dependencies plus this process's shared state and small helpers every part uses. */
export class ApprovalRuntime<D extends IntakeDependencies = ApprovalServiceDependencies> {
  readonly clock: Clock;
  readonly logger: ApprovalLogger;
  readonly inFlight = new Set<Promise<void>>();
  /** Approved requests this process is carrying out now (a resumption leaves them alone). */
  readonly carryingOut = new Set<string>();
  /** Users (personal chats) and conversations whose missed cards and notices are being sent now. */
  readonly redelivering = new Map<string, Promise<void>>();

  constructor(readonly deps: D) {
    this.clock = deps.clock ?? systemClock;
    this.logger = deps.logger ?? silentLogger;
  }

  get settings(): ApprovalServiceSettings {
    return this.deps.settings;
  }

  get requests(): ApprovalRequestRepository {
    return this.deps.requests;
  }

  now(): Date {
    return this.clock.now();
  }

  auditEvent(actor: Actor, action: string, requestId: string, details: AuditDetails): ApprovalAuditEvent {
    return { actorId: actor.userId, actorName: actor.name, action, subjectType: 'approval', subjectId: requestId, details };
  }

  /** An audit row about the request as it now stands (its version and state). */
  async audit(actor: Actor, action: string, request: ApprovalRequest, details: AuditDetails): Promise<void> {
    await this.deps.audit.append(this.auditEvent(actor, action, request.id, { ...details, version: request.version, state: request.state }));
  }

  async safely(requestId: string, what: string, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (error) {
      this.logger.error({ requestId, err: describe(error) }, `approvals: ${what} failed`);
    }
  }
}

/** The runtime of the intake: everything but carrying out. */
export type IntakeRuntime = ApprovalRuntime<IntakeDependencies>;

/** Closes the guest-help feature's record of a reset request once its approval ends. */
export async function closeLedger(rt: ApprovalRuntime, request: ApprovalRequest): Promise<void> {
  if (!rt.deps.resetLedger || request.kind !== 'redemptionReset') return;
  try {
    await closeResetLedger(rt.deps.resetLedger, request);
  } catch (error) {
    rt.logger.warn({ requestId: request.id, err: describe(error) }, 'approvals: could not close the recorded reset request');
  }
}
