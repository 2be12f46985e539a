import type { SignInMethod } from '../../domain/signInAdvice';

/**
 * Invitation records: the audit trail and the idempotency anchor of every invitation,
 * whether it came from chat, an approval or a bulk CSV.
 *
 * One record per idempotency key (tenant + normalised email + target group): a double click,
 * a retry after a timeout, a re-run of a CSV or the same request from two owners all land on
 * the same record, so there is one invitation and one membership.
 */

/**
 * pending   claimed, nothing sent yet (or an attempt is in flight: see lockedUntil);
 * invited   the directory step is done (invitation sent / existing user found) but membership is not;
 * completed invited (or found) and added to the group;
 * partial   invited, but adding to the group failed (lastError says why): retry membership only;
 * failed    nothing was changed in the directory (lastError says why): a new attempt starts over.
 */
export type InvitationState = 'pending' | 'invited' | 'completed' | 'partial' | 'failed';

/** What the directory step turned out to be. */
export type InvitationOutcomeKind = 'newGuest' | 'existingGuest' | 'internalUser';

/** The idempotency key. emailNormalised: trimmed and fully lower-cased (addresses compare case-insensitively). */
export interface InvitationKey {
  tenantId: string;
  emailNormalised: string;
  groupId: string;
}

export interface InvitationRequester {
  id: string;
  name: string;
}

export interface InvitationRecord extends InvitationKey {
  id: string;
  /** The address as the requester typed it (local-part case kept). */
  emailDisplay: string;
  displayName: string;
  siteName: string;
  siteUrl: string;
  requestedBy: InvitationRequester;
  /** Key of the stored conversation reference to report back to (proactive messages), if any. */
  conversationRefKey: string | null;
  /** Where the request came from: 'chat', 'approval', 'bulk:<jobId>' … (free text for the audit trail). */
  source: string;
  predictedMethod: SignInMethod | null;
  /** How the guest actually redeemed (from `identities`), once known. */
  actualMethod: SignInMethod | null;
  state: InvitationState;
  outcomeKind: InvitationOutcomeKind | null;
  invitationId: string | null;
  /** Only ever returned by POST /invitations: kept so it can be shown again. */
  redeemUrl: string | null;
  userId: string | null;
  /** User-facing reason of the last failure (never a token or raw Graph body). */
  lastError: string | null;
  attempts: number;
  /** ISO time until which an attempt in flight owns the record; null when none. */
  lockedUntil: string | null;
  /**
   * The holder (process) whose attempt owns the lock. A lock whose holder is dead is free at once,
   * whatever lockedUntil says. Null for locks taken before holders were recorded.
   */
  lockedBy: string | null;
  /**
   * Set (ISO time) just before this record's POST /invitations is sent, cleared when Graph answers
   * with a definite refusal. While it is set, a later attempt looks the address up first and takes
   * the guest it finds as this record's own invitation instead of inviting a second time.
   */
  inviteAttemptedAt: string | null;
  createdAt: string;
  updatedAt: string;
  /** Bumped on every update: compare-and-set. */
  version: number;
}

/** What a caller supplies to claim a key; the rest starts empty. */
export interface InvitationDraft extends InvitationKey {
  emailDisplay: string;
  displayName: string;
  siteName: string;
  siteUrl: string;
  requestedBy: InvitationRequester;
  conversationRefKey?: string | null;
  source?: string;
  predictedMethod?: SignInMethod | null;
}

/** Fields update() may change. id, key, createdAt and version are managed by the repository. */
export type InvitationPatch = Partial<
  Pick<
    InvitationRecord,
    | 'displayName'
    | 'emailDisplay'
    | 'siteName'
    | 'siteUrl'
    | 'conversationRefKey'
    | 'predictedMethod'
    | 'actualMethod'
    | 'state'
    | 'outcomeKind'
    | 'invitationId'
    | 'redeemUrl'
    | 'userId'
    | 'lastError'
    | 'attempts'
    | 'lockedUntil'
    | 'lockedBy'
    | 'inviteAttemptedAt'
  >
>;

export interface ClaimResult {
  record: InvitationRecord;
  /** True when this call inserted the record; false when the key already had one. */
  created: boolean;
}

export interface InvitationListOptions {
  limit?: number;
  /** Only records created at or after this ISO time. */
  since?: string;
}

export interface InvitationRepository {
  /** Insert-or-get on the key, atomically: N concurrent claims of one key yield one record, one `created: true`. */
  claim(draft: InvitationDraft): Promise<ClaimResult>;
  /**
   * Compare-and-set: applies the patch only if the record is still at expectedVersion.
   * Returns the updated record, or null when someone else changed it first (re-read and decide).
   */
  update(id: string, expectedVersion: number, patch: InvitationPatch): Promise<InvitationRecord | null>;
  get(id: string): Promise<InvitationRecord | null>;
  findByKey(key: InvitationKey): Promise<InvitationRecord | null>;
  /** Newest first. */
  listByRequester(tenantId: string, requesterId: string, options?: InvitationListOptions): Promise<InvitationRecord[]>;
  /** Newest first. */
  listByState(state: InvitationState | readonly InvitationState[], options?: InvitationListOptions): Promise<InvitationRecord[]>;
  /** All records for one address in a tenant (any group), newest first. */
  listByEmail(tenantId: string, emailNormalised: string, options?: InvitationListOptions): Promise<InvitationRecord[]>;
}

/** The idempotency key's email form: trimmed, lower-cased. */
export function normaliseEmailForKey(email: string): string {
  return email.trim().toLowerCase();
}

/**
 * A claimed invitation as every store first keeps it: pending, never tried, unlocked, version 1.
 * `emailNormalised` is the draft's address already normalised for the key.
 */
export function newInvitationRecord(id: string, draft: InvitationDraft, emailNormalised: string, now: string): InvitationRecord {
  return {
    id,
    tenantId: draft.tenantId,
    emailNormalised,
    groupId: draft.groupId,
    emailDisplay: draft.emailDisplay,
    displayName: draft.displayName,
    siteName: draft.siteName,
    siteUrl: draft.siteUrl,
    requestedBy: { id: draft.requestedBy.id, name: draft.requestedBy.name },
    conversationRefKey: draft.conversationRefKey ?? null,
    source: draft.source ?? 'chat',
    predictedMethod: draft.predictedMethod ?? null,
    actualMethod: null,
    state: 'pending',
    outcomeKind: null,
    invitationId: null,
    redeemUrl: null,
    userId: null,
    lastError: null,
    attempts: 0,
    lockedUntil: null,
    lockedBy: null,
    inviteAttemptedAt: null,
    createdAt: now,
    updatedAt: now,
    version: 1,
  };
}
