import type { ApprovalSettings } from '../../domain/approvalPolicy';
import type { Clock } from '../../domain/clock';
import { accessStatus, type LifecycleSettings } from '../../domain/lifecycle';
import type { Logger } from '../../shared/logger';
import type { AuditLog } from '../ports/auditLog';
import type { ScheduledWorkRepository } from '../ports/scheduler';
import type {
  AdminInstructions,
  GuestAccessRecord,
  GuestAccessRepository,
  GuestAccessSummary,
  GuestAccounts,
  LifecycleNotifier,
  RenewalApprovals,
} from './ports';

export type { AdminAction, AdminInstructions } from './ports';

/** Everything the lifecycle use cases need, handed in by the composition root. */
export interface LifecycleDeps {
  access: GuestAccessRepository;
  work: ScheduledWorkRepository;
  accounts: GuestAccounts;
  notifier: LifecycleNotifier;
  audit: AuditLog;
  clock: Clock;
  settings: LifecycleSettings;
  /** Renewals go through approval when this policy says so (null: never). */
  approvals: { settings: ApprovalSettings; gate: RenewalApprovals } | null;
  logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
}


/** Why an action was refused; `message` is safe to show in chat. */
export type RefusalReason = 'notFound' | 'notAllowed' | 'notActive' | 'noEnd' | 'invalidInput' | 'sponsorNotFound';

export interface Refusal {
  kind: 'refused';
  reason: RefusalReason;
  message: string;
}

/** The outcome of an action on a card: done, already done (a replay), refused, or for an admin. */
export type ActionOutcome<Done> =
  | ({ kind: 'done'; access: GuestAccessSummary } & Done)
  /** A replay (double click, second instance) or someone was first: nothing changed now. */
  | ({ kind: 'already'; access: GuestAccessSummary; message: string } & Partial<Done>)
  | Refusal
  | { kind: 'needsAdmin'; access: GuestAccessSummary; instructions: AdminInstructions[]; message: string };

export function refused(reason: RefusalReason, message: string): Refusal {
  return { kind: 'refused', reason, message };
}

export function summarise(deps: Pick<LifecycleDeps, 'settings' | 'clock'>, r: GuestAccessRecord): GuestAccessSummary {
  return {
    accessId: r.id,
    guestName: r.displayName,
    guestEmail: r.email,
    siteName: r.siteName,
    siteUrl: r.siteUrl,
    sponsorName: r.sponsor.name,
    invitedAt: r.invitedAt,
    acceptedAt: r.acceptedAt,
    endsAt: r.endsAt,
    status: accessStatus(deps.settings, r, deps.clock.now()),
  };
}

/** The audit subject of a guest's access. */
export const AUDIT_SUBJECT = 'guestAccess';

/** The domain of a guest's address, lower-cased ('' when it has none), for the approval policy. */
export function guestDomainOf(email: string): string {
  const at = email.lastIndexOf('@');
  return at < 0 ? '' : email.slice(at + 1).trim().toLowerCase();
}
