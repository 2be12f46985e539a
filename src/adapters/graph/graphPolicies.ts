/** The tenant's guest-access policies, read from their Graph surfaces (optional ones fall back to Microsoft's defaults). */
import { DirectoryError, isDirectoryError } from '../../usecases/ports/Directory';
import type {
  AllowInvitesFrom,
  B2bDomainPolicy,
  EmailOtpSetting,
  FallbackIdentityProvider,
  FederatedDomain,
  PrimaryIdentityProvider,
  RedemptionPrecedence,
  SharePointSharingSettings,
  SharingCapability,
  TenantPolicies,
} from '../../domain/tenant';
import { USER_MESSAGES } from './errors';
import { type GraphCollection, query } from './graphWire';
import { GraphTransport } from './graphTransport';

/** Microsoft's default redemption order: a tenant "keeps the default" when it says exactly this. */
const DEFAULT_PRECEDENCE: RedemptionPrecedence = {
  primaryIdentityProviderPrecedenceOrder: ['azureActiveDirectory', 'externalFederation', 'socialIdentityProviders'],
  fallbackIdentityProvider: 'defaultConfiguredIdp',
};


const SHARING_CAPABILITIES: readonly SharingCapability[] = [
  'disabled',
  'existingExternalUserSharingOnly',
  'externalUserSharingOnly',
  'externalUserAndGuestSharing',
];

/** SharePoint's out-of-the-box tenant setting, assumed when the settings cannot be read. */
const SHAREPOINT_DEFAULT: SharePointSharingSettings = {
  sharingCapability: 'externalUserAndGuestSharing',
  sharingDomainRestrictionMode: 'none',
  sharingAllowedDomainList: [],
  sharingBlockedDomainList: [],
};

export class GraphPolicyReader {
  constructor(private readonly t: GraphTransport) {}


  /**
   * Required surfaces (organization, authorizationPolicy) throw: without the tenant's domains
   * and who may invite, no advice is honest. Every other surface is optional: a 403 (permission
   * not granted) or 404 (feature absent) degrades to Microsoft's default for that setting, is
   * logged as a warning, and is named in `unreadable`, so advice can say "probably".
   * Throttling and transient faults are never hidden as a default: they throw.
   */
  async read(): Promise<TenantPolicies> {
    const unreadable: string[] = [];
    const optional = async <T>(surface: string, fallback: T, read: () => Promise<T>): Promise<T> => {
      try {
        return await read();
      } catch (e) {
        if (isDirectoryError(e) && (e.code === 'permissionMissing' || e.code === 'notFound')) {
          this.t.log?.warn({ surface, code: e.code, permission: e.permission }, 'policy surface unreadable; assuming the default');
          unreadable.push(surface);
          return fallback;
        }
        throw e;
      }
    };

    const [organization, allowInvitesFrom, emailOtp, googleFederation, federatedDomains, redemptionPrecedence, b2bDomainPolicy, sharePoint] =
      await Promise.all([
        this.readOrganization(),
        this.readAllowInvitesFrom(),
        optional<EmailOtpSetting>('emailOtp', 'default', () => this.readEmailOtp()),
        optional('googleFederation', false, () => this.readGoogleFederation()),
        optional<FederatedDomain[]>('federatedDomains', [], () => this.readFederatedDomains()),
        optional<RedemptionPrecedence | null>('redemptionPrecedence', null, () => this.readRedemptionPrecedence()),
        optional<B2bDomainPolicy>('b2bDomainPolicy', { mode: 'none' }, () => this.readB2bDomainPolicy()),
        optional<SharePointSharingSettings>('sharePoint', SHAREPOINT_DEFAULT, () => this.readSharePoint()),
      ]);
    const policies: TenantPolicies = {
      tenantId: organization.tenantId,
      tenantDisplayName: organization.displayName,
      verifiedDomains: organization.verifiedDomains,
      allowInvitesFrom,
      emailOtp,
      googleFederation,
      federatedDomains,
      redemptionPrecedence,
      b2bDomainPolicy,
      sharePoint,
    };
    if (unreadable.length) policies.unreadable = unreadable.sort();
    return policies;
  }

  private async readOrganization(): Promise<{ tenantId: string; displayName: string; verifiedDomains: string[] }> {
    const page = await this.t.call<GraphCollection<{ id: string; displayName?: string; verifiedDomains?: Array<{ name?: string }> }>>({
      method: 'GET',
      path: `/organization${query({ $select: 'id,displayName,verifiedDomains' })}`,
    });
    const org = page.value?.[0];
    if (!org) throw new DirectoryError('notFound', USER_MESSAGES.notFound, { detail: 'GET /organization returned no tenant' });
    return {
      tenantId: org.id,
      displayName: org.displayName ?? '',
      verifiedDomains: (org.verifiedDomains ?? []).map((d) => (d.name ?? '').toLowerCase()).filter(Boolean),
    };
  }

  private async readAllowInvitesFrom(): Promise<AllowInvitesFrom> {
    const policy = await this.t.call<{ allowInvitesFrom?: string }>({
      method: 'GET',
      path: `/policies/authorizationPolicy${query({ $select: 'allowInvitesFrom' })}`,
    });
    const value = policy.allowInvitesFrom;
    return value === 'none' || value === 'adminsAndGuestInviters' || value === 'adminsGuestInvitersAndAllMembers' || value === 'everyone'
      ? value
      : 'none'; // an unknown future value: assume the most restrictive
  }

  private async readEmailOtp(): Promise<EmailOtpSetting> {
    const config = await this.t.call<{ state?: string; allowExternalIdToUseEmailOtp?: string }>({
      method: 'GET',
      path: '/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/email',
    });
    const value = config.allowExternalIdToUseEmailOtp;
    return value === 'enabled' || value === 'disabled' ? value : 'default';
  }

  private async readGoogleFederation(): Promise<boolean> {
    const providers = await this.t.listAll<{ '@odata.type'?: string; identityProviderType?: string }>('/identity/identityProviders');
    return providers.some((p) => (p.identityProviderType ?? '').toLowerCase() === 'google');
  }

  private async readFederatedDomains(): Promise<FederatedDomain[]> {
    const root = '/directory/federationConfigurations/graph.samlOrWsFedExternalDomainFederation';
    // `domains` is a navigation property: asked for with $expand.
    const federations = await this.t.listAll<{ id: string; displayName?: string | null; issuerUri?: string | null; domains?: Array<{ id?: string }> }>(
      `${root}${query({ $expand: 'domains' })}`,
    );
    const out: FederatedDomain[] = [];
    for (const federation of federations) {
      // The list answer normally carries `domains`; fetch them when it does not.
      const domains = federation.domains ?? (await this.t.listAll<{ id?: string }>(`${root}/${encodeURIComponent(federation.id)}/domains`));
      for (const d of domains) {
        if (!d.id) continue;
        out.push({ domain: d.id.toLowerCase(), issuerUri: federation.issuerUri ?? null, displayName: federation.displayName ?? null });
      }
    }
    return out;
  }

  private async readRedemptionPrecedence(): Promise<RedemptionPrecedence | null> {
    const policy = await this.t.call<{
      invitationRedemptionIdentityProviderConfiguration?: {
        primaryIdentityProviderPrecedenceOrder?: string[];
        fallbackIdentityProvider?: string;
      } | null;
    }>({ method: 'GET', path: `/policies/crossTenantAccessPolicy/default${query({ $select: 'invitationRedemptionIdentityProviderConfiguration' })}` });
    const config = policy.invitationRedemptionIdentityProviderConfiguration;
    if (!config) return null;
    const order = (config.primaryIdentityProviderPrecedenceOrder ?? []).filter((p): p is PrimaryIdentityProvider =>
      ['azureActiveDirectory', 'externalFederation', 'socialIdentityProviders'].includes(p),
    );
    const fallback = config.fallbackIdentityProvider;
    const precedence: RedemptionPrecedence = {
      primaryIdentityProviderPrecedenceOrder: order,
      fallbackIdentityProvider: (['defaultConfiguredIdp', 'emailOneTimePasscode', 'microsoftAccount'].includes(fallback ?? '')
        ? fallback
        : 'defaultConfiguredIdp') as FallbackIdentityProvider,
    };
    const isDefault =
      precedence.fallbackIdentityProvider === DEFAULT_PRECEDENCE.fallbackIdentityProvider &&
      precedence.primaryIdentityProviderPrecedenceOrder.join() === DEFAULT_PRECEDENCE.primaryIdentityProviderPrecedenceOrder.join();
    return isDefault ? null : precedence;
  }

  private async readB2bDomainPolicy(): Promise<B2bDomainPolicy> {
    const policies = await this.t.listAll<{ definition?: string[]; isOrganizationDefault?: boolean }>('/policies/b2bManagementPolicies', 'beta');
    const policy = policies.find((p) => p.isOrganizationDefault) ?? policies[0];
    return parseB2bDomainPolicy(policy?.definition ?? []);
  }

  private async readSharePoint(): Promise<SharePointSharingSettings> {
    const s = await this.t.call<{
      sharingCapability?: string;
      sharingDomainRestrictionMode?: string;
      sharingAllowedDomainList?: string[] | null;
      sharingBlockedDomainList?: string[] | null;
    }>({
      method: 'GET',
      path: `/admin/sharepoint/settings${query({ $select: 'sharingCapability,sharingDomainRestrictionMode,sharingAllowedDomainList,sharingBlockedDomainList' })}`,
    });
    const capability = SHARING_CAPABILITIES.includes(s.sharingCapability as SharingCapability)
      ? (s.sharingCapability as SharingCapability)
      : 'disabled'; // unknown future value: the most restrictive reading
    const mode = s.sharingDomainRestrictionMode;
    return {
      sharingCapability: capability,
      sharingDomainRestrictionMode: mode === 'allowList' || mode === 'blockList' ? mode : 'none',
      sharingAllowedDomainList: (s.sharingAllowedDomainList ?? []).map((d) => d.toLowerCase()),
      sharingBlockedDomainList: (s.sharingBlockedDomainList ?? []).map((d) => d.toLowerCase()),
    };
  }
}

/**
 * The B2B allow/deny list from the policy's JSON definition string, e.g.
 * {"B2BManagementPolicy":{"InvitationsAllowedAndBlockedDomainsPolicy":{"BlockedDomains":["x.com"]}}}.
 * A tenant has one list or the other; an unparseable definition reads as no list.
 */
export function parseB2bDomainPolicy(definition: readonly string[]): B2bDomainPolicy {
  for (const json of definition) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch {
      continue;
    }
    const inner = (parsed as { B2BManagementPolicy?: { InvitationsAllowedAndBlockedDomainsPolicy?: { AllowedDomains?: unknown; BlockedDomains?: unknown } } })
      ?.B2BManagementPolicy?.InvitationsAllowedAndBlockedDomainsPolicy;
    if (!inner) continue;
    const list = (v: unknown): string[] | null =>
      Array.isArray(v) ? v.filter((d): d is string => typeof d === 'string').map((d) => d.toLowerCase()) : null;
    const allowed = list(inner.AllowedDomains);
    const blocked = list(inner.BlockedDomains);
    // A tenant has one list or the other; an empty list means no restriction of that kind.
    if (allowed !== null && allowed.length > 0) return { mode: 'allowList', domains: allowed };
    if (blocked !== null && blocked.length > 0) return { mode: 'blockList', domains: blocked };
  }
  return { mode: 'none' };
}
