/** What the invite use case depends on: the directory, the advisor, the records, the audit log and the approvals gateway. */
import type { Actor } from '../../domain/actor';
import type { Clock } from '../../domain/clock';
import type { SignInAdvice } from '../../domain/signInAdvice';
import type { AuditEventInput } from '../ports/auditLog';
import type { HolderRegistry } from '../ports/leases';
import type { InvitationRepository } from '../ports/invitations';
import type { Directory } from '../ports/Directory';
import type { ConversationAddress } from '../approvals/model';
import type { RequesterView } from '../approvals/notifications';
import type { SignInAdvisorPort } from '../signIn/signInAdvisor';
import type { InvitationRequest, InviteTarget } from './model';
import type { AccessRecording } from './accessRecording';

/** What an ApprovalGateway needs to decide whether a request must be approved. */
export interface ApprovalContext {
  actor: Actor;
  email: string;
  domain: string;
  target: InviteTarget;
  isOwner: boolean;
  advice: SignInAdvice;
}

/** A request sent for approval; the approvals feature later calls InviteGuestService.execute with `approval` set. */
export interface ApprovalSubmission {
  request: InvitationRequest;
  target: InviteTarget;
  advice: SignInAdvice;
  justification?: string;
}

/** What became of a request sent for approval. */
export interface ApprovalReceipt {
  requestId: string;
  /** Names the request reached (approvers, "the approvals channel"). */
  approvers: string[];
  /** Approvers the bot could not message (they see the request when they next talk to it). */
  unreachable: string[];
  /** An identical request was already waiting: nothing new was created. */
  duplicate: boolean;
  /** The requester's "sent for approval to …" view (the Teams layer renders it, with a Cancel button). */
  card: RequesterView;
}

/**
 * The approvals feature plugs in here. Without a gateway, a non-owner is refused with
 * "only the site's owners can invite guests to X".
 */
export interface ApprovalGateway {
  needsApproval(ctx: ApprovalContext): Promise<{ required: boolean; reason: string }>;
  submit(submission: ApprovalSubmission): Promise<ApprovalReceipt>;
  /** The requester's receipt card was posted (conversation reference, activity id): it is then updated with every decision. */
  requesterCardPosted?(requestId: string, conversation: ConversationAddress, activityId: string): Promise<void> | void;
}

/** The part of the store's AuditLog this use case writes to. */
export interface InvitationAuditLog {
  append(event: AuditEventInput): Promise<unknown>;
}

export interface InviteGuestDependencies {
  directory: Directory;
  advisor: SignInAdvisorPort;
  invitations: InvitationRepository;
  audit: InvitationAuditLog;
  /** Optional until the approvals feature provides one. */
  approvals?: ApprovalGateway | null;
  /**
   * The guest lifecycle's recording of each guest's access (end date, reminders, sponsor), once
   * the guest is in the site's group. Null: nothing is recorded and no end date is shown.
   */
  access?: AccessRecording | null;
  /** SEND_INVITATION_EMAIL. */
  sendInvitationEmail: boolean;
  clock?: Clock;
  /** Injected so tests do not really wait. */
  sleep?: (ms: number) => Promise<void>;
  /** Attempts for a throttled/transient Graph call before giving up (default 4). */
  maxAttempts?: number;
  /** Upper bound for one wait between attempts (default 30 s). */
  maxBackoffMs?: number;
  /**
   * How long an attempt owns a record before another may take over (default 2 min). The limit
   * for a holder that is alive but stuck: a lock whose holder died is free at once.
   */
  lockMs?: number;
  /** Who this process is, and whether another lock holder still runs (default: this process only, always alive). */
  holders?: HolderRegistry;
}
