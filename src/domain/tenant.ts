/**
 * The tenant as the use cases see it: users, groups and the tenant's guest-access policies.
 * Plain data, filled by a Directory adapter (Graph or the demo tenant).
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

/** A user as a group's member or owner list names them. */
export interface UserSummary {
  id: string;
  displayName: string;
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
