/**
 * Reports and exports for approvers: what the use case returns (data; the Teams layer renders
 * it), what it is built from, and the few numbers that shape it.
 */
import type { Clock } from '../../domain/clock';
import type { LifecycleSettings } from '../../domain/lifecycle';
import type { Logger } from '../../shared/logger';
import type { ApprovalRequestRepository } from '../approvals/ports';
import type { ResultsLinkSigner } from '../bulk/resultsLink';
import type { GuestAccessRepository } from '../lifecycle/ports';
import type { AuditLog } from '../ports/auditLog';
import type { InvitationRepository } from '../ports/invitations';
import type { ScheduledWorkRepository } from '../ports/scheduler';

/** A report's state column: the lifecycle's states, with "ending soon" for running access near its end. */
export type ReportState = 'invited' | 'accepted' | 'endingSoon' | 'ended' | 'withdrawn' | 'removed';

export const REPORT_STATES: readonly ReportState[] = ['invited', 'accepted', 'endingSoon', 'ended', 'withdrawn', 'removed'];

/** "Invitations per owner": over this many days. */
export const INVITATIONS_WINDOW_DAYS = 30;
/** "Unredeemed": invited and not redeemed for more than this many days. */
export const UNREDEEMED_AFTER_DAYS = 7;
/** A breakdown shows this many rows; the rest are summed into one "others" line. */
export const REPORT_TOP_ROWS = 10;
/** An audit export covers at most this many days (one file a person can still open in Excel). */
export const MAX_AUDIT_EXPORT_DAYS = 366;

export interface CountRow {
  label: string;
  count: number;
}

/** The largest rows of a breakdown, and what the rest add up to. */
export interface Breakdown {
  rows: CountRow[];
  /** How many rows were left out, and their total. */
  others: { rows: number; count: number };
  total: number;
}

export interface UnredeemedGuest {
  guestName: string;
  guestEmail: string;
  siteName: string;
  sponsorName: string;
  invitedAt: string;
  daysWaiting: number;
}

export interface GuestReport {
  generatedAt: string;
  /** Guests (distinct accounts) with running access, and running access records (one per guest and site). */
  activeGuests: number;
  activeAccess: number;
  byState: Array<{ state: ReportState; count: number }>;
  /** Running access: how the guest signs in (recorded at redemption, else the advice at invitation; else "unknown"). */
  bySignInMethod: Breakdown;
  bySite: Breakdown;
  bySponsor: Breakdown;
  pendingApprovals: { total: number; invitations: number; resets: number; oldestDays: number | null };
  invitationsByOwner: Breakdown & { days: number };
  unredeemed: { days: number; total: number; oldest: UnredeemedGuest[] };
}

/** Why a person gets no report or export. `message` is safe to show in chat. */
export interface ReportRefusal {
  kind: 'refused';
  reason: 'unknownUser' | 'notApprover' | 'unavailable' | 'invalidInput';
  message: string;
}

/** What an export covers. Dates are whole UTC days, both ends included. */
export type ExportRequest = { kind: 'guests' } | { kind: 'audit'; fromDay: string; toDay: string };

/** Only approvers decide who sees the tenant's guests; the same group the approvals feature asks. */
export interface ReportRights {
  /** True when this user is in the approver group now; throws when the directory cannot say. */
  isApprover(userId: string): Promise<boolean>;
}

export interface ReportSettings {
  lifecycle: LifecycleSettings;
  /** PUBLIC_BASE_URL: where the export links point. */
  publicBaseUrl: string;
  /** RESULTS_LINK_TTL_MINUTES, as for bulk results. */
  linkTtlMs: number;
  /** AUDIT_RETENTION_DAYS. */
  auditRetentionDays: number;
}

export interface ReportsDeps {
  access: Pick<GuestAccessRepository, 'listByTenant'>;
  invitations: Pick<InvitationRepository, 'listByState'>;
  approvals: Pick<ApprovalRequestRepository, 'listPending'>;
  audit: AuditLog;
  work: Pick<ScheduledWorkRepository, 'schedule'>;
  rights: ReportRights;
  /** The results-link signer bulk uses (the secret kept in the store). */
  signer: () => Promise<ResultsLinkSigner>;
  settings: ReportSettings;
  clock: Clock;
  logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
}
