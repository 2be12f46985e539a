/**
 * The Directory port: the only road to Microsoft Graph.
 *
 * Everything outside src/directory depends on this interface, never on the Graph SDK.
 * GraphDirectory implements it over HTTP; FakeDirectory implements it in memory (the
 * embedded demo tenant and tests) with the same observable behaviour.
 */

export type UserKind = 'member' | 'guest';

/** Graph `externalUserState`; null for members and for guests Graph reports nothing for. */
export type ExternalUserState = 'PendingAcceptance' | 'Accepted' | null;

/** One entry of a user's Graph `identities` collection. */
export interface UserIdentity {
  /** e.g. "federated", "emailAddress", "userPrincipalName". */
  signInType: string;
  /**
   * Who vouches for the identity. For B2B guests Graph uses: "ExternalAzureAD" (work or school
   * account), "MicrosoftAccount", "google.com", "facebook.com", "mail" (email one-time passcode),
   * or the SAML/WS-Fed federation's issuer URI; the tenant's own domain for members.
   */
  issuer: string;
  issuerAssignedId: string | null;
}

export interface DirectoryUser {
  id: string;
  displayName: string;
  mail: string | null;
  userPrincipalName: string;
  otherMails: string[];
  kind: UserKind;
  externalUserState: ExternalUserState;
  /** ISO 8601 or null. */
  externalUserStateChangeDateTime: string | null;
  identities: UserIdentity[];
}

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

/** A user as a group's member or owner list names them. */
export interface UserSummary {
  id: string;
  displayName: string;
}

export interface AddMembersResult {
  added: string[];
  /** Already members before the call: success, reported as such. */
  alreadyMembers: string[];
  failed: Array<{ userId: string; error: DirectoryError }>;
}

export interface GroupInfo {
  id: string;
  displayName: string;
  /** The SharePoint site behind the Microsoft 365 group, when known. */
  siteUrl: string | null;
  mail: string | null;
}

export type AllowInvitesFrom =
  | 'none'
  | 'adminsAndGuestInviters'
  | 'adminsGuestInvitersAndAllMembers'
  | 'everyone';

/** Graph `allowExternalIdToUseEmailOtp`: "default" and "enabled" both mean on. */
export type EmailOtpSetting = 'default' | 'enabled' | 'disabled';

export type PrimaryIdentityProvider = 'azureActiveDirectory' | 'externalFederation' | 'socialIdentityProviders';
export type FallbackIdentityProvider = 'defaultConfiguredIdp' | 'emailOneTimePasscode' | 'microsoftAccount';

export interface RedemptionPrecedence {
  primaryIdentityProviderPrecedenceOrder: PrimaryIdentityProvider[];
  fallbackIdentityProvider: FallbackIdentityProvider;
}

export interface FederatedDomain {
  domain: string;
  /** The federation's issuer URI (what a guest's identities[].issuer will say). */
  issuerUri: string | null;
  displayName: string | null;
}

/** Entra B2B allow/deny list: a tenant has one or the other, or neither. */
export type B2bDomainPolicy =
  | { mode: 'none' }
  | { mode: 'allowList'; domains: string[] }
  | { mode: 'blockList'; domains: string[] };

export type SharingCapability =
  | 'disabled'
  | 'existingExternalUserSharingOnly'
  | 'externalUserSharingOnly'
  | 'externalUserAndGuestSharing';

export interface SharePointSharingSettings {
  sharingCapability: SharingCapability;
  sharingDomainRestrictionMode: 'none' | 'allowList' | 'blockList';
  sharingAllowedDomainList: string[];
  sharingBlockedDomainList: string[];
}

export interface TenantPolicies {
  tenantId: string;
  tenantDisplayName: string;
  /** Lower-case verified domains of this tenant: addresses there are internal users. */
  verifiedDomains: string[];
  allowInvitesFrom: AllowInvitesFrom;
  emailOtp: EmailOtpSetting;
  googleFederation: boolean;
  federatedDomains: FederatedDomain[];
  /** Null when the tenant keeps Microsoft's default order. */
  redemptionPrecedence: RedemptionPrecedence | null;
  b2bDomainPolicy: B2bDomainPolicy;
  sharePoint: SharePointSharingSettings;
  /**
   * Optional surfaces that could not be read (permission not granted, feature absent), e.g.
   * "sharePoint", "b2bDomainPolicy": their fields hold Microsoft's defaults, not the tenant's
   * real settings, so advice built on them is "likely", not "certain". Absent when all were read.
   */
  unreadable?: string[];
}

export interface ExternalDomainInfo {
  domain: string;
  /** A managed Entra tenant that owns the domain, or null when none does. */
  managedTenant: { tenantId: string; displayName: string } | null;
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
