/**
 * The guest lifecycle's own ports: where a guest's access is recorded, the few directory
 * operations it needs, and how it tells people (implemented by the Teams layer, data in).
 */
import type { AccountAction, GuestAccessState, GuestAccessStatus } from '../../domain/lifecycle';
import type { UserSummary } from '../../domain/tenant';

/** The person a guest's access answers to. */
export interface Sponsor {
  id: string;
  name: string;
}

/** Why access stopped. */
export type EndReason = 'expired' | 'withdrawn' | 'autoWithdrawn' | 'removed';

/** One guest's access to one site (one Microsoft 365 group): one record per tenant + group + user. */
export interface GuestAccessKey {
  tenantId: string;
  groupId: string;
  userId: string;
}

export interface GuestAccessRecord extends GuestAccessKey {
  id: string;
  siteName: string;
  siteUrl: string;
  /** The address as invited (display form) and its normalised form (trimmed, lower-cased). */
  email: string;
  emailNormalised: string;
  displayName: string;
  /** The InvitationRecord this access came from, when there is one. */
  invitationRecordId: string | null;
  sponsor: Sponsor;
  invitedAt: string;
  acceptedAt: string | null;
  /** The end of access; null = no end (only where configured). */
  endsAt: string | null;
  state: GuestAccessState;
  /** When the guest was last invited (the invitation, or the latest Resend): auto-withdraw counts from here. */
  lastInvitedAt: string;
  /** When the sponsor is next reminded that the guest has not redeemed; null = no reminder pending. */
  nextUnredeemedReminderAt: string | null;
  /** When the last unredeemed reminder went out (the reminder card's token); null before. */
  unredeemedRemindedAt: string | null;
  /** The reminder the sponsor answered "Keep waiting" to, by its time. */
  keptWaitingFor: string | null;
  /** The reminder a Resend answered (so a second click shows the same new link), and that link. */
  resentFor: string | null;
  redeemUrl: string | null;
  /** Renewal reminders sent for the current endsAt (days before). */
  renewalRemindersSent: number[];
  renewals: number;
  endedAt: string | null;
  endReason: EndReason | null;
  endedBy: Sponsor | null;
  /** True once the audit event and the notices of the end went out (a replay completes them). */
  endNoticesDone: boolean;
  /** What was done to the account after access ended, once known. */
  accountAction: AccountAction | null;
  createdAt: string;
  updatedAt: string;
  version: number;
}

export type GuestAccessDraft = Pick<
  GuestAccessRecord,
  | 'tenantId'
  | 'groupId'
  | 'userId'
  | 'siteName'
  | 'siteUrl'
  | 'email'
  | 'displayName'
  | 'invitationRecordId'
  | 'sponsor'
  | 'invitedAt'
  | 'acceptedAt'
  | 'endsAt'
  | 'state'
  | 'nextUnredeemedReminderAt'
>;

export type GuestAccessPatch = Partial<
  Omit<GuestAccessRecord, 'id' | 'tenantId' | 'groupId' | 'userId' | 'emailNormalised' | 'createdAt' | 'updatedAt' | 'version'>
>;

export interface GuestAccessListOptions {
  /** Only these states (default: all). */
  states?: readonly GuestAccessState[];
  /** At most this many (default 100, at most 1000). */
  limit?: number;
}

/**
 * Guest access records. Same contract as every repository: async, null for "not found",
 * compare-and-set on version, lists newest invitation first.
 */
export interface GuestAccessRepository {
  /** Insert-or-get on tenant + group + user: N concurrent claims yield one record, one `created: true`. */
  claim(draft: GuestAccessDraft): Promise<{ record: GuestAccessRecord; created: boolean }>;
  get(id: string): Promise<GuestAccessRecord | null>;
  findByKey(key: GuestAccessKey): Promise<GuestAccessRecord | null>;
  /** Applies the patch only at expectedVersion; null when someone changed it first (re-read and decide). */
  update(id: string, expectedVersion: number, patch: GuestAccessPatch): Promise<GuestAccessRecord | null>;
  listBySponsor(tenantId: string, sponsorId: string, options?: GuestAccessListOptions): Promise<GuestAccessRecord[]>;
  listByGroup(tenantId: string, groupId: string, options?: GuestAccessListOptions): Promise<GuestAccessRecord[]>;
  listByEmail(tenantId: string, emailNormalised: string, options?: GuestAccessListOptions): Promise<GuestAccessRecord[]>;
  /**
   * Every record of the tenant (reports, exports, reviews), same order; `limit` defaults to
   * MAX_TENANT_ACCESS_LIST and may not exceed it.
   */
  listByTenant(tenantId: string, options?: GuestAccessListOptions): Promise<GuestAccessRecord[]>;
}

export const DEFAULT_ACCESS_LIST_LIMIT = 100;
export const MAX_ACCESS_LIST_LIMIT = 1000;

/** A tenant-wide list (reports, exports) holds at most this many records. */
export const MAX_TENANT_ACCESS_LIST = 100_000;

export function accessListLimit(limit: number | undefined, max = MAX_ACCESS_LIST_LIMIT, fallback = DEFAULT_ACCESS_LIST_LIMIT): number {
  const n = Number.isFinite(limit) ? Math.trunc(limit as number) : fallback;
  return Math.min(Math.max(n, 1), max);
}

/** The limit of a tenant-wide list: everything (up to MAX_TENANT_ACCESS_LIST) unless asked for fewer. */
export function tenantListLimit(limit: number | undefined): number {
  return accessListLimit(limit, MAX_TENANT_ACCESS_LIST, MAX_TENANT_ACCESS_LIST);
}

/** Newest invitation first, then by id, in every adapter. */
export function compareAccess(a: GuestAccessRecord, b: GuestAccessRecord): number {
  if (a.invitedAt !== b.invitedAt) return a.invitedAt < b.invitedAt ? 1 : -1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** A new record's fields from a draft, shared by the adapters so they build the same record. */
export function newAccessRecord(id: string, draft: GuestAccessDraft, now: string): GuestAccessRecord {
  return {
    ...draft,
    id,
    sponsor: { ...draft.sponsor },
    emailNormalised: draft.email.trim().toLowerCase(),
    lastInvitedAt: draft.invitedAt,
    unredeemedRemindedAt: null,
    keptWaitingFor: null,
    resentFor: null,
    redeemUrl: null,
    renewalRemindersSent: [],
    renewals: 0,
    endedAt: null,
    endReason: null,
    endedBy: null,
    endNoticesDone: false,
    accountAction: null,
    createdAt: now,
    updatedAt: now,
    version: 1,
  };
}

/** What the lifecycle needs to know about a guest account. */
export interface GuestAccountFacts {
  userId: string;
  /** Graph `externalUserState`: 'PendingAcceptance' until redeemed, then 'Accepted'. */
  externalUserState: 'PendingAcceptance' | 'Accepted' | null;
  /** When that state last changed (ISO), when Graph says. */
  externalUserStateChangeDateTime: string | null;
  accountEnabled: boolean;
  /** The groups the user is a direct member of (ids). */
  memberOf: string[];
}

/**
 * The directory operations of the lifecycle, narrow on purpose: the app layer adapts the
 * Directory to it. Failures are DirectoryErrors (usecases/ports/Directory.ts); a
 * 'permissionMissing' one turns the action into instructions for an admin.
 */
export interface GuestAccounts {
  /** Null when the user does not exist (any more). */
  lifecycleFacts(userId: string): Promise<GuestAccountFacts | null>;
  /** True when the user exists and may sign in: a sponsor who left is not (null, or disabled). */
  userExistsAndEnabled(userId: string): Promise<boolean>;
  sponsorsOf(userId: string): Promise<UserSummary[]>;
  /** POST /users/{id}/sponsors/$ref; "already a sponsor" is success. */
  addSponsor(userId: string, sponsorId: string): Promise<void>;
  /** DELETE /users/{id}/sponsors/{sponsorId}/$ref; "not a sponsor" is success. */
  removeSponsor(userId: string, sponsorId: string): Promise<void>;
  /** 'notMember' when the user was not (or no longer) a member: success for an idempotent caller. */
  removeFromGroup(groupId: string, userId: string): Promise<'removed' | 'notMember'>;
  /** accountEnabled=false. */
  disableSignIn(userId: string): Promise<void>;
  /** accountEnabled=true (a guest whose access ended with sign-in blocked is invited again). */
  enableSignIn(userId: string): Promise<void>;
  /** DELETE /users/{id} (Entra keeps it 30 days in deleted items); 'notFound' when already gone. */
  deleteUser(userId: string): Promise<'deleted' | 'notFound'>;
  /** A fresh invitation to an existing guest: a new redeem link; the old one stops mattering. */
  reinvite(input: { userId: string; email: string; displayName: string; redirectUrl: string; sendEmail: boolean }): Promise<{ redeemUrl: string }>;
  isOwner(groupId: string, userId: string): Promise<boolean>;
  listGroupOwners(groupId: string): Promise<UserSummary[]>;
}

/** A directory step the bot may not do itself: offered as instructions for an admin instead. */
export type AdminAction = 'removeFromGroup' | 'blockSignIn' | 'unblockSignIn' | 'deleteUser' | 'addSponsor' | 'removeSponsor' | 'reinvite';

export interface AdminInstructions {
  action: AdminAction;
  /** The Graph permission the app lacks, when Graph said. */
  permission: string | null;
  /** Plain steps for an admin in the Microsoft Entra admin center. */
  steps: string[];
}

/** One person a notice goes to, with why they get it. */
export interface NoticeRecipient {
  userId: string;
  name: string;
  /** 'sponsor', or 'owner' when the sponsor has left and the site's owners stand in. */
  as: 'sponsor' | 'owner';
}

/** A guest's access as notices and views show it (no link, no token). */
export interface GuestAccessSummary {
  accessId: string;
  guestName: string;
  guestEmail: string;
  siteName: string;
  siteUrl: string;
  sponsorName: string;
  invitedAt: string;
  acceptedAt: string | null;
  endsAt: string | null;
  status: GuestAccessStatus;
}

export interface UnredeemedReminderNotice {
  access: GuestAccessSummary;
  daysWaiting: number;
  /** Carried by the card's actions (Resend / Withdraw / Keep waiting): which reminder is answered. */
  reminderToken: string;
  /** When the invitation will be withdrawn automatically, if it will. */
  autoWithdrawAt: string | null;
}

export interface RenewalReminderNotice {
  access: GuestAccessSummary;
  daysLeft: number;
  /** Carried by Renew / Let it end: the end date the card is about (a second click finds it moved). */
  forEndsAt: string;
  /** Renew asks an approver first (APPROVAL_POLICY). */
  renewNeedsApproval: boolean;
}

export interface AccessEndedNotice {
  access: GuestAccessSummary;
  reason: EndReason;
  /** Who ended it, when a person did. */
  endedBy: string | null;
  accountAction: AccountAction | null;
  /** Steps the bot could not take (no permission): for an admin, to pass on. */
  adminInstructions: AdminInstructions[];
}

export type Delivery = 'sent' | 'unreachable';

/**
 * How the lifecycle tells people; the Teams layer implements it (renders the card, sends it
 * proactively to the person's chat with the bot). Each call is one person.
 */
export interface LifecycleNotifier {
  unredeemedReminder(to: NoticeRecipient, notice: UnredeemedReminderNotice): Promise<Delivery>;
  /** An unredeemed invitation was withdrawn automatically (UNREDEEMED_WITHDRAW_DAYS). */
  autoWithdrawn(to: NoticeRecipient, notice: AccessEndedNotice): Promise<Delivery>;
  renewalReminder(to: NoticeRecipient, notice: RenewalReminderNotice): Promise<Delivery>;
  /** The sponsor (or owners) told that access ended (expired, withdrawn, removed). */
  accessEnded(to: NoticeRecipient, notice: AccessEndedNotice): Promise<Delivery>;
  /** The guest told in their chat with the bot, when the bot can reach them. */
  guestAccessEnded(guest: { userId: string; name: string }, notice: { siteName: string; endedAt: string; reason: EndReason }): Promise<Delivery>;
  /** The new sponsor told they now sponsor this guest. */
  sponsorshipReceived(to: NoticeRecipient, notice: { access: GuestAccessSummary; from: string; by: string }): Promise<Delivery>;
}

/** A renewal waiting for an approver (APPROVAL_POLICY), sent through the approvals feature. */
export interface RenewalApprovalRequest {
  accessId: string;
  /** The end date the renewal extends: one request per access and end date. */
  forEndsAt: string;
  requestedBy: Sponsor;
  access: GuestAccessSummary;
  newEndsAt: string | null;
  reasons: string[];
}

/** The approvals side of a renewal; the app wires it to the approvals feature. */
export interface RenewalApprovals {
  /** Sends the request to approvers; idempotent per accessId + forEndsAt. */
  submit(request: RenewalApprovalRequest): Promise<{ requestId: string; created: boolean }>;
  /** Whether this user may approve (re-checked at the click). */
  isApprover(userId: string): Promise<boolean>;
}
