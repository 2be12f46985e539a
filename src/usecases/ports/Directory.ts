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
  GroupInfo,
  TenantPolicies,
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
}

export interface AddMembersResult {
  added: string[];
  /** Already members before the call: success, reported as such. */
  alreadyMembers: string[];
  failed: Array<{ userId: string; error: DirectoryError }>;
}

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

  constructor(
    code: DirectoryErrorCode,
    userMessage: string,
    options: {
      cause?: unknown;
      retryAfterMs?: number;
      permission?: string;
      graphCode?: string;
      detail?: string;
    } = {},
  ) {
    super(options.detail ? `${userMessage} (${options.detail})` : userMessage, { cause: options.cause });
    this.name = 'DirectoryError';
    this.code = code;
    this.userMessage = userMessage;
    this.retryAfterMs = options.retryAfterMs;
    this.permission = options.permission;
    this.graphCode = options.graphCode;
  }

  /** Worth retrying later: throttling and transient faults. */
  get retryable(): boolean {
    return this.code === 'throttled' || this.code === 'transient';
  }
}

export function isDirectoryError(e: unknown): e is DirectoryError {
  return e instanceof DirectoryError;
}
