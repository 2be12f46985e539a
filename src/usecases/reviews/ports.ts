/**
 * The access reviews' own ports: where review rounds and their decisions are kept, what they need
 * of the directory, of the lifecycle's removal and of the approver roster, and how they reach
 * people (implemented by the Teams layer, data in).
 */
import type { InactivityVerdict, SignInEvidence } from '../../domain/inactivity';
import type { GroupInfo, UserSummary } from '../../domain/tenant';
import type { SignInMethod } from '../../domain/signInAdvice';
import type { Actor } from '../../domain/actor';

/** Someone named on a review: a reviewer, who decided, who started it. */
export interface ReviewPerson {
  id: string;
  name: string;
}

/** One guest under review, as it was when the round started (the card shows them as they are now). */
export interface ReviewedGuest {
  userId: string;
  /** The lifecycle's access record when the bot knows this guest's access; null for a guest the bot did not invite. */
  accessId: string | null;
  displayName: string;
  email: string;
}

/**
 * kept: Keep; pending: Remove decided, the removal not finished yet (a replay finishes it);
 * removed / alreadyEnded: the lifecycle ended the access; needsAdmin: the bot lacks a Graph
 * permission and the steps went to an admin; failed: the removal refused (e.g. the record changed).
 */
export type DecisionOutcome = 'kept' | 'pending' | 'removed' | 'alreadyEnded' | 'needsAdmin' | 'failed';

export interface ReviewDecision {
  userId: string;
  decision: 'keep' | 'remove';
  by: ReviewPerson;
  /** 'owner' or 'approver': the right the decider held at the click. */
  as: 'owner' | 'approver';
  at: string;
  outcome: DecisionOutcome;
  /** The access record the removal went through (a guest the bot did not invite gets one then). */
  accessId: string | null;
  /** A short sentence for the card when the outcome needs one (needsAdmin, failed). */
  note: string | null;
}

/** A review card sent to someone (or claimed for sending: a card goes out at most once per person and round). */
export interface ReviewDelivery {
  userId: string;
  name: string;
  as: 'owner' | 'approver';
  at: string;
  outcome: 'claimed' | 'sent' | 'unreachable';
}

/** One review of one site: periodic (`schedule`) or asked for in chat (`request`). */
export interface ReviewRound {
  /** `<tenantId>.<groupId>.<yyyymmddThhmmssZ of period>`: the same period of a site is the same round. */
  id: string;
  tenantId: string;
  groupId: string;
  siteName: string;
  siteUrl: string | null;
  trigger: 'schedule' | 'request';
  /** ISO: the start of the period this round covers (schedule), or when it was asked for (request). */
  period: string;
  startedBy: ReviewPerson | null;
  startedAt: string;
  /** When undecided guests go to the approvers; null = never. */
  escalateAt: string | null;
  escalatedAt: string | null;
  guests: ReviewedGuest[];
  decisions: ReviewDecision[];
  deliveries: ReviewDelivery[];
  /** Set once every guest has a decision. */
  completedAt: string | null;
  createdAt: string;
  updatedAt: string;
  version: number;
}

export type ReviewRoundDraft = Pick<
  ReviewRound,
  'id' | 'tenantId' | 'groupId' | 'siteName' | 'siteUrl' | 'trigger' | 'period' | 'startedBy' | 'startedAt' | 'escalateAt' | 'guests'
>;

export type ReviewRoundPatch = Partial<Pick<ReviewRound, 'escalatedAt' | 'decisions' | 'deliveries' | 'completedAt'>>;

/**
 * Review rounds. Same contract as every repository: async, null for "not found", compare-and-set
 * on version (a lost race is null: re-read and decide), insert-or-get on the id.
 */
export interface ReviewRoundRepository {
  /** Insert-or-get on `id`: N concurrent creates of one round yield one record and one `created: true`. */
  create(draft: ReviewRoundDraft): Promise<{ round: ReviewRound; created: boolean }>;
  get(id: string): Promise<ReviewRound | null>;
  /** Applies the patch only at expectedVersion (version + 1); null when someone changed it first. */
  update(id: string, expectedVersion: number, patch: ReviewRoundPatch): Promise<ReviewRound | null>;
  /** A site's rounds, newest `period` first (then id), at most `limit` (default 20, at most 100). */
  listBySite(tenantId: string, groupId: string, options?: { limit?: number }): Promise<ReviewRound[]>;
}

export const DEFAULT_ROUND_LIST_LIMIT = 20;
export const MAX_ROUND_LIST_LIMIT = 100;

export function roundListLimit(limit: number | undefined): number {
  const n = Number.isFinite(limit) ? Math.trunc(limit as number) : DEFAULT_ROUND_LIST_LIMIT;
  return Math.min(Math.max(n, 1), MAX_ROUND_LIST_LIMIT);
}

/** Newest period first, then by id, in every adapter. */
export function compareRounds(a: ReviewRound, b: ReviewRound): number {
  if (a.period !== b.period) return a.period < b.period ? 1 : -1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** The round id of a site's period: stable, so every instance (and every restart) lands on the same round. */
export function reviewRoundId(tenantId: string, groupId: string, period: string): string {
  const stamp = new Date(period).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
  return `${tenantId.toLowerCase()}.${groupId.toLowerCase()}.${stamp}`;
}

/** A new round's fields from a draft, shared by the adapters so they build the same record. */
export function newReviewRound(draft: ReviewRoundDraft, now: string): ReviewRound {
  return {
    ...structuredClone(draft),
    escalatedAt: null,
    decisions: [],
    deliveries: [],
    completedAt: null,
    createdAt: now,
    updatedAt: now,
    version: 1,
  };
}

/** A round with a patch applied, shared by the adapters. */
export function patchedRound(round: ReviewRound, patch: ReviewRoundPatch, now: string): ReviewRound {
  return { ...round, ...structuredClone(patch), updatedAt: now, version: round.version + 1 };
}

// ---------- the directory, narrowly ----------

/** A guest of a site as the directory describes them (for guests the bot did not invite, and for every card). */
export interface GuestAccountView {
  userId: string;
  displayName: string;
  email: string;
  /** Entra externalUserState: PendingAcceptance until redeemed. */
  redeemed: boolean;
  /** When the account was created (the first invitation), ISO or null. */
  invitedAt: string | null;
  /** When the guest redeemed (externalUserStateChangeDateTime once Accepted), ISO or null. */
  acceptedAt: string | null;
  signInMethod: SignInMethod | null;
}

/**
 * What reviews need of the directory; the app layer adapts the Directory to it. Failures are
 * DirectoryErrors (usecases/ports/Directory.ts).
 */
export interface ReviewDirectory {
  getGroup(groupId: string): Promise<GroupInfo | null>;
  isOwner(groupId: string, userId: string): Promise<boolean>;
  listGroupOwners(groupId: string): Promise<UserSummary[]>;
  listOwnedGroups(userId: string): Promise<GroupInfo[]>;
  /** The groups the user is a member of (a refused "review <site>" is recorded when the site is one of them). */
  listMemberGroups(userId: string): Promise<GroupInfo[]>;
  /** The group's direct members whose userType is Guest, every page. */
  listGuestMembers(groupId: string): Promise<GuestAccountView[]>;
  /** One guest, or null when the account is gone. */
  guestAccount(userId: string): Promise<GuestAccountView | null>;
  /** The guest's sponsors in Entra (for a guest the bot did not invite). */
  sponsorsOf(userId: string): Promise<UserSummary[]>;
  /** signInActivity, or why it cannot be read (no AuditLog.Read.All, no Entra ID P1). Null: no such user. */
  signIns(userId: string): Promise<SignInEvidence | null>;
}

/** The guest approvers (APPROVER_GROUP_ID): who a review escalates to, and who may review any site. */
export interface ReviewApprovers {
  isApprover(userId: string): Promise<boolean>;
  list(): Promise<ReviewPerson[]>;
}

/** What the lifecycle's removal answered, narrowly. */
export type RemovalResult =
  | { kind: 'removed' }
  | { kind: 'alreadyEnded'; message: string }
  | { kind: 'needsAdmin'; message: string }
  | { kind: 'refused'; message: string };

/**
 * The lifecycle's removal, narrowly (the app wires it to the GuestLifecycle): the guest leaves the
 * site the way GUEST_REMOVAL says, the sponsor is told, it is audited there. The review has
 * already checked the reviewer's right to decide (an owner of the site, or an approver).
 */
export interface ReviewRemovals {
  remove(reviewer: Actor, accessId: string): Promise<RemovalResult>;
  /**
   * Records the access of a guest the bot did not invite (so the removal has a record to go
   * through), with `sponsor` as its sponsor; returns its id. Idempotent per site and guest.
   */
  adopt(input: {
    tenantId: string;
    group: { id: string; name: string; siteUrl: string | null };
    guest: GuestAccountView;
    sponsor: ReviewPerson;
  }): Promise<string>;
}

/** What a review card shows, as data (the Teams layer renders it). */
export interface ReviewGuestRow {
  userId: string;
  name: string;
  email: string;
  /** False for a guest the bot did not invite (a member of the group added another way). */
  tracked: boolean;
  sponsor: string | null;
  invitedAt: string | null;
  acceptedAt: string | null;
  endsAt: string | null;
  signInMethod: SignInMethod | null;
  /** The latest sign-in of any kind, or null (see `activity` for why). */
  lastSignInAt: string | null;
  activity: InactivityVerdict;
  inactive: boolean;
  decision: ReviewDecision | null;
}

export interface ReviewView {
  roundId: string;
  siteName: string;
  siteUrl: string | null;
  trigger: 'schedule' | 'request';
  startedAt: string;
  escalateAt: string | null;
  escalated: boolean;
  /** Who the card is for, and in which right. */
  viewer: { as: 'owner' | 'approver' };
  rows: ReviewGuestRow[];
  /** Guests not shown (a card holds at most MAX_REVIEW_ROWS; deciding some shows the next). */
  more: number;
  undecided: number;
  /** Why last sign-ins are unknown for everyone, when they are: the card says so once. */
  signInsUnavailable: 'permissionMissing' | 'licenceMissing' | null;
  inactiveDays: number;
  completedAt: string | null;
}

export type Delivery = 'sent' | 'unreachable';

/** How reviews reach people; the Teams layer implements it (a card in the person's personal chat). */
export interface ReviewNotifier {
  reviewRequested(to: ReviewPerson, view: ReviewView): Promise<Delivery>;
  /** The undecided part of a review, to an approver after REVIEW_ESCALATE_DAYS. */
  reviewEscalated(to: ReviewPerson, view: ReviewView, owners: ReviewPerson[]): Promise<Delivery>;
}
