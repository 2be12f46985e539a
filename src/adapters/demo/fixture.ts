/**
 * A typed, readable description of a tenant: what FakeDirectory is seeded from and what the
 * Graph-shaped test server serves. Plain data, so tests can copy it and change one thing.
 */
import type { ExternalUserState, TenantPolicies, UserIdentity, UserKind } from '../../domain/tenant';
import type { SignInActivity } from '../../usecases/ports/Directory';

export interface FixtureUser {
  id: string;
  displayName: string;
  mail: string | null;
  userPrincipalName: string;
  otherMails: string[];
  /** Exchange form: "SMTP:primary@x" (upper-case prefix = primary) and "smtp:alias@x". */
  proxyAddresses: string[];
  kind: UserKind;
  externalUserState: ExternalUserState;
  externalUserStateChangeDateTime: string | null;
  identities: UserIdentity[];
  /** Graph `accountEnabled`; absent means true (sign-in allowed). */
  accountEnabled?: boolean;
  /** Graph `createdDateTime` (ISO 8601); absent means unknown (null). */
  createdDateTime?: string | null;
  /** Ids of the users or groups sponsoring this user (Graph `sponsors`); absent means none. */
  sponsors?: string[];
  /** Graph `signInActivity`; absent or null means Entra has recorded no sign-in (Graph answers null). */
  signInActivity?: SignInActivity | null;
}

export interface FixtureGroup {
  id: string;
  displayName: string;
  mail: string | null;
  /** The SharePoint site behind the Microsoft 365 group; null for groups without one. */
  siteUrl: string | null;
  owners: string[];
  members: string[];
}

export interface FixtureExternalDomain {
  domain: string;
  managedTenant: { tenantId: string; displayName: string } | null;
}

/** The tenant's settings as a fixture holds them: the policy snapshot without the tenant's own name and domains. */
export type FixturePolicies = Omit<TenantPolicies, 'tenantId' | 'tenantDisplayName' | 'verifiedDomains' | 'unreadable'>;

export interface TenantFixture {
  tenantId: string;
  displayName: string;
  /** Lower-case verified domains. */
  verifiedDomains: string[];
  /** The `<name>.onmicrosoft.com` domain: guests' userPrincipalNames end in it. */
  initialDomain: string;
  policies: FixturePolicies;
  users: FixtureUser[];
  groups: FixtureGroup[];
  /** Domains a lookup knows about; any other domain has no Entra tenant. */
  externalDomains: FixtureExternalDomain[];
  /**
   * The tenant has Microsoft Entra ID P1 or P2 (absent means true): without it Graph refuses
   * `signInActivity` with 403 Authentication_RequestFromNonPremiumTenantOrB2CTenant.
   */
  entraIdPremium?: boolean;
}

/** A deep copy, so a test can change a fixture without touching the shared one. */
export function cloneFixture(fixture: TenantFixture): TenantFixture {
  return structuredClone(fixture);
}
