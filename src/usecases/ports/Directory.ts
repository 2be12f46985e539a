/**
 * The Directory port: the only road to Microsoft Graph.
 *
 * Everything outside src/adapters (graph, demo, directory) depends on this interface, never on the Graph SDK.
 * GraphDirectory implements it over HTTP; FakeDirectory implements it in memory (the
 * embedded demo tenant and tests) with the same observable behaviour.
 */

import type {
  DirectoryUser,
  ExternalDomainInfo,
  ExternalUserState,
  GroupInfo,
  TenantPolicies,
  UserKind,
  UserSummary,
} from '../../domain/tenant';

export interface InvitationInput {
  email: string;
  displayName: string;
  /** Where the guest lands after redeeming: the site URL. */
  redirectUrl: string;
  /** Graph `sendInvitationMessage`. The bot delivers the redeem link itself, so usually false. */
  sendInvitationMessage: boolean;
  /** Graph drops a customised body for app-only callers; kept for delegated use. */
  message?: string;
  /**
   * Users (or groups) who become the guest's sponsors: the invitation's `invitedUserSponsors`
   * (https://learn.microsoft.com/graph/api/resources/invitation). A sponsor the directory refuses
   * (unknown id, permission) never costs the invitation: it is sent without sponsors and the
   * result says `sponsorsSet: false`, so the caller can add them with addSponsor.
   */
  sponsorIds?: readonly string[];
  /**
   * Asked right before each attempt of the POST goes out, after any wait for the pacer: false
   * means the caller no longer holds the invitation (its lock may have been taken over), and the
   * directory sends nothing and throws InvitationNotSent.
   */
  maySend?: () => boolean;
}

export interface InvitationResult {
  invitationId: string;
  /** Only ever returned by POST /invitations: callers must store it. */
  redeemUrl: string;
  userId: string;
  /** Graph `status`: nearly always "PendingAcceptance". */
  status: string;
  /**
   * True when POST /invitations' answer was lost (connection reset, 504) and the result was rebuilt
   * from the directory: the guest exists, but redeemUrl is then the tenant-context My Apps link
   * (through which a guest can also redeem), not the personal link Graph returned, and
   * invitationId is empty.
   */
  recovered?: boolean;
  /**
   * Only when `sponsorIds` were given: true when the invitation carried them, false when it had
   * to go without (then call addSponsor, whose refusal says why).
   */
  sponsorsSet?: boolean;
}

export interface AddMembersResult {
  added: string[];
  /** Already members before the call: success, reported as such. */
  alreadyMembers: string[];
  failed: Array<{ userId: string; error: DirectoryError }>;
}

/** Someone responsible for a guest (Graph `sponsors`: users or groups). */
export interface Sponsor {
  id: string;
  displayName: string;
  kind: 'user' | 'group';
  /** Users: false once their sign-in is blocked. Null for groups (and for a user Graph gave no value for). */
  accountEnabled: boolean | null;
}

/** "Has this sponsor left?": gone from the directory, or still there with sign-in blocked. */
export type AccountStatus = 'active' | 'disabled' | 'notFound';

/** What the guest lifecycle needs to know about a guest, read in one go. */
export interface GuestLifecycleFacts {
  userId: string;
  kind: UserKind;
  /** Graph `externalUserState`: PendingAcceptance (never redeemed), Accepted, or null. */
  externalUserState: ExternalUserState;
  /** When externalUserState last changed (the invitation, or the redemption); ISO 8601 or null. */
  externalUserStateChangeDateTime: string | null;
  /** False once sign-in is blocked. */
  accountEnabled: boolean;
  /** When the account was created (the first invitation); ISO 8601 or null. */
  createdDateTime: string | null;
  /**
   * The groups (Microsoft 365 and security) the guest is a direct member of, every page, each
   * with `siteUrl: null`: "has no other memberships" is `memberOf.every((g) => g.id === siteGroupId)`.
   */
  memberOf: GroupInfo[];
}

/**
 * A user's last sign-ins, from Graph `signInActivity` (ISO 8601, UTC; null when Entra has none):
 * https://learn.microsoft.com/graph/api/resources/signinactivity
 * Interactive sign-ins are `lastSignInDateTime`; token refreshes by a client (Teams, Outlook, a
 * synced SharePoint library) are `lastNonInteractiveSignInDateTime`, often the only trace of a
 * guest who works in Teams; `lastSuccessfulSignInDateTime` exists since December 2023 (not
 * backfilled). Interactive data goes back to April 2020, non-interactive to May 2020.
 */
export interface SignInActivity {
  lastSignInDateTime: string | null;
  lastNonInteractiveSignInDateTime: string | null;
  lastSuccessfulSignInDateTime: string | null;
}

/**
 * What the directory can say about a user's sign-ins. Reading `signInActivity` needs the
 * application permission AuditLog.Read.All (with User.Read.All) and a Microsoft Entra ID P1 or P2
 * licence in the tenant (https://learn.microsoft.com/graph/api/user-get, "signInActivity"):
 * without either, Graph answers 403 and the answer is 'unavailable', never "no sign-in".
 */
export type SignInActivityReading =
  | { kind: 'known'; activity: SignInActivity }
  | { kind: 'unavailable'; reason: 'permissionMissing' | 'licenceMissing' };

/** The lifecycle's directory writes: what a 'permissionMissing' refusal names in `action`. */
export type DirectoryWriteAction =
  | 'addSponsor'
  | 'removeSponsor'
  | 'blockSignIn'
  | 'unblockSignIn'
  | 'deleteGuest'
  | 'removeMember';

export interface Directory {
  /** Looks in mail, userPrincipalName, otherMails and proxyAddresses (case-insensitive). */
  findUserByEmail(email: string): Promise<DirectoryUser | null>;
  /** Bulk form of findUserByEmail (batched where Graph allows). Keys are lower-cased emails; misses are absent. */
  findUsersByEmail(emails: readonly string[]): Promise<Map<string, DirectoryUser>>;
  getUser(userId: string): Promise<DirectoryUser | null>;

  /** POST /invitations. Refuses internal addresses (DirectoryError 'invalidInput'). */
  invite(input: InvitationInput): Promise<InvitationResult>;
  /** POST /invitations with resetRedemption: the guest redeems again with whatever method applies now. */
  resetRedemption(userId: string, email: string, redirectUrl: string): Promise<InvitationResult>;

  /** Adds each user; "already a member" is success. Per-user failures are reported, not thrown. */
  addMembers(groupId: string, userIds: readonly string[]): Promise<AddMembersResult>;
  listOwnedGroups(userId: string): Promise<GroupInfo[]>;
  getGroup(groupId: string): Promise<GroupInfo | null>;
  isOwner(groupId: string, userId: string): Promise<boolean>;
  isMember(groupId: string, userId: string): Promise<boolean>;
  /**
   * The group's direct members that are users (members and guests), every page of them; nested
   * groups, contacts and devices are left out. Unknown group → DirectoryError 'notFound'.
   * Order is not meaningful.
   */
  listGroupMembers(groupId: string): Promise<UserSummary[]>;
  /** The group's owners that are users, every page. Unknown group → DirectoryError 'notFound'. */
  listGroupOwners(groupId: string): Promise<UserSummary[]>;
  /**
   * The groups (Microsoft 365 groups/teams and security groups) the user, e.g. a guest, is a
   * direct member of, every page; directory roles and administrative units are left out.
   * `siteUrl` is always null here (finding it costs one request per group): use getGroup for
   * a group's site. Unknown user → DirectoryError 'notFound'.
   */
  listMemberGroups(userId: string): Promise<GroupInfo[]>;

  readPolicies(): Promise<TenantPolicies>;
  lookupExternalDomain(domain: string): Promise<ExternalDomainInfo>;

  /**
   * GET /users/{id}?$select=id,signInActivity. Null when the user does not exist. A missing
   * AuditLog.Read.All or a tenant without Entra ID P1/P2 is `{ kind: 'unavailable' }`, not an error.
   */
  getSignInActivity(userId: string): Promise<SignInActivityReading | null>;

  // ---- guest lifecycle (sponsors, sign-in, end of access) ----
  // Each write is idempotent: repeating it after it took effect answers "already so", never an
  // error, so a replayed click or a second instance does no harm. A missing Graph permission is a
  // DirectoryError 'permissionMissing' with `permission` and `action` set (see permissionRefusal):
  // the caller offers the step as instructions for an administrator instead.

  /** POST /users/{id}/sponsors/$ref. Unknown guest or sponsor → DirectoryError 'notFound'. */
  addSponsor(userId: string, sponsorId: string): Promise<'added' | 'alreadySponsor'>;
  /** DELETE /users/{id}/sponsors/{sponsorId}/$ref. Unknown guest → 'notFound'. */
  removeSponsor(userId: string, sponsorId: string): Promise<'removed' | 'notSponsor'>;
  /**
   * Hands sponsorship over: `to` is added first, then `from` removed, so the guest is never left
   * without a sponsor. When `from` is null, `to` is only added.
   */
  replaceSponsor(userId: string, from: string | null, to: string): Promise<void>;
  /** GET /users/{id}/sponsors, every page. Unknown guest → 'notFound'. Order is not meaningful. */
  listSponsors(userId: string): Promise<Sponsor[]>;
  /** Whether someone (a recorded sponsor) is still here: 'notFound' when deleted, 'disabled' when sign-in is blocked. */
  accountStatus(userId: string): Promise<AccountStatus>;
  /** The guest's state, dates, sign-in and memberships; null when the user does not exist. */
  getGuestLifecycle(userId: string): Promise<GuestLifecycleFacts | null>;
  /**
   * Sets `accountEnabled` of a guest (false = sign-in blocked). Refuses members ('invalidInput'):
   * the bot only ever blocks guests. Unknown user → 'notFound'. Setting the current value is success.
   */
  setGuestSignIn(userId: string, enabled: boolean): Promise<void>;
  /**
   * DELETE /users/{id} of a guest (soft-deleted: restorable for 30 days). Refuses members
   * ('invalidInput'). A user already gone answers 'alreadyGone'.
   */
  deleteGuest(userId: string): Promise<'deleted' | 'alreadyGone'>;
  /**
   * DELETE /groups/{id}/members/{userId}/$ref. Someone not in the group (or a group or user that
   * no longer exists: Graph answers both with 404) answers 'notMember'.
   */
  removeMember(groupId: string, userId: string): Promise<'removed' | 'notMember'>;
}

export type DirectoryErrorCode =
  | 'notFound'
  | 'alreadyExists'
  | 'forbiddenByPolicy'
  | 'throttled'
  | 'transient'
  | 'permissionMissing'
  | 'invalidInput';

/** A Graph failure the use cases can act on. `userMessage` is safe to show in chat. */
export class DirectoryError extends Error {
  readonly code: DirectoryErrorCode;
  readonly userMessage: string;
  /** For 'throttled': how long Graph asked us to wait. */
  readonly retryAfterMs: number | undefined;
  /** For 'permissionMissing': the Graph permission the app needs. */
  readonly permission: string | undefined;
  /** Graph's own error code and message, when there was one. */
  readonly graphCode: string | undefined;
  /** For 'permissionMissing' on a lifecycle write: which one, so the caller can offer it as instructions. */
  readonly action: DirectoryWriteAction | undefined;

  constructor(
    code: DirectoryErrorCode,
    userMessage: string,
    options: {
      cause?: unknown;
      retryAfterMs?: number;
      permission?: string;
      graphCode?: string;
      detail?: string;
      action?: DirectoryWriteAction;
    } = {},
  ) {
    super(options.detail ? `${userMessage} (${options.detail})` : userMessage, { cause: options.cause });
    this.name = 'DirectoryError';
    this.code = code;
    this.userMessage = userMessage;
    this.retryAfterMs = options.retryAfterMs;
    this.permission = options.permission;
    this.graphCode = options.graphCode;
    this.action = options.action;
  }

  /** Worth retrying later: throttling and transient faults. */
  get retryable(): boolean {
    return this.code === 'throttled' || this.code === 'transient';
  }
}

export function isDirectoryError(e: unknown): e is DirectoryError {
  return e instanceof DirectoryError;
}

/** The invitation's `maySend` said no: nothing was sent, and the directory does not try again. */
export class InvitationNotSent extends DirectoryError {
  constructor() {
    super('transient', 'Nothing was sent: this attempt no longer held the invitation. It is looked at again.');
    this.name = 'InvitationNotSent';
  }
}

/**
 * The typed refusal for "the bot may not do this": a lifecycle write Graph refused for a missing
 * application permission (or an admin-role target app-only calls cannot change). Null for any
 * other failure, including credentials Graph did not accept (no permission named).
 */
export function permissionRefusal(e: unknown): { action: DirectoryWriteAction; permission: string } | null {
  if (!isDirectoryError(e) || e.code !== 'permissionMissing') return null;
  if (e.action === undefined || e.permission === undefined) return null;
  return { action: e.action, permission: e.permission };
}
