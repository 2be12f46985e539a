/** What the tenant's settings do to a guest: blocking settings, how a guest redeemed, and providers turned off since. */
import type { DirectoryUser, TenantPolicies, UserIdentity } from './tenant';
import type { BlockingSetting, SignInMethod } from './signInAdvice';

const ENTRA_ADMIN = 'a Global Administrator (Microsoft Entra admin center → External Identities → External collaboration settings)';
const SHAREPOINT_ADMIN = 'a SharePoint Administrator (SharePoint admin center → Policies → Sharing)';

/**
 * How a guest actually redeemed, from their `identities`. Null while pending, for members, and
 * for issuers with no SignInMethod (e.g. facebook.com).
 */
export function methodFromIdentities(identities: readonly UserIdentity[], policies: TenantPolicies): SignInMethod | null {
  const federationIssuers = new Set(
    policies.federatedDomains.map((f) => f.issuerUri?.toLowerCase()).filter((u): u is string => !!u),
  );
  const ownDomains = new Set(policies.verifiedDomains.map((d) => d.toLowerCase()));
  for (const identity of identities) {
    const issuer = identity.issuer.trim();
    const lower = issuer.toLowerCase();
    if (lower === 'externalazuread') return 'workOrSchoolAccount';
    if (lower === 'microsoftaccount') return 'microsoftAccount';
    if (lower === 'google.com') return 'googleFederation';
    if (lower === 'mail') return 'emailOneTimePasscode';
    if (federationIssuers.has(lower)) return 'samlWsFedFederation';
    // A federation we no longer list still shows its issuer URI; the tenant's own domains are members.
    if (/^https?:\/\//i.test(issuer) && !ownDomains.has(lower)) return 'samlWsFedFederation';
  }
  return null;
}

export function isOtpEnabled(policies: TenantPolicies): boolean {
  return policies.emailOtp !== 'disabled';
}

function domainMatches(domain: string, entries: readonly string[]): boolean {
  return entries.some((raw) => {
    const entry = raw.trim().toLowerCase();
    if (entry.startsWith('*.')) return domain.endsWith(entry.slice(1));
    return entry === domain;
  });
}


/** Settings that refuse an invitation to a new guest from this domain, in the order they are hit. */
export function blockingSettings(domain: string, policies: TenantPolicies): BlockingSetting[] {
  const found: BlockingSetting[] = [];
  if (policies.allowInvitesFrom === 'none') {
    found.push({
      setting: 'authorizationPolicy.allowInvitesFrom',
      explanation: `${policies.tenantDisplayName} lets nobody invite guests, not even admins ("Guest invite settings" is set to the most restrictive option).`,
      whoCanChange: ENTRA_ADMIN,
    });
  }
  const b2b = policies.b2bDomainPolicy;
  if (b2b.mode === 'blockList' && domainMatches(domain, b2b.domains)) {
    found.push({
      setting: 'b2bManagementPolicy.blockList',
      explanation: `${domain} is on the tenant's B2B block list: invitations to it are refused.`,
      whoCanChange: ENTRA_ADMIN,
    });
  }
  if (b2b.mode === 'allowList' && !domainMatches(domain, b2b.domains)) {
    found.push({
      setting: 'b2bManagementPolicy.allowList',
      explanation: `The tenant only allows invitations to listed domains, and ${domain} is not one of them.`,
      whoCanChange: ENTRA_ADMIN,
    });
  }
  const sp = policies.sharePoint;
  if (sp.sharingCapability === 'disabled') {
    found.push({
      setting: 'sharePoint.sharingCapability',
      explanation: 'SharePoint external sharing is turned off, so a guest could not open the site or its files.',
      whoCanChange: SHAREPOINT_ADMIN,
    });
  } else if (sp.sharingCapability === 'existingExternalUserSharingOnly') {
    found.push({
      setting: 'sharePoint.sharingCapability',
      explanation: 'SharePoint only allows sharing with guests who are already in the directory, not new ones.',
      whoCanChange: SHAREPOINT_ADMIN,
    });
  }
  if (sp.sharingDomainRestrictionMode === 'blockList' && domainMatches(domain, sp.sharingBlockedDomainList)) {
    found.push({
      setting: 'sharePoint.sharingBlockedDomainList',
      explanation: `${domain} is on SharePoint's blocked domains list for sharing.`,
      whoCanChange: SHAREPOINT_ADMIN,
    });
  }
  if (sp.sharingDomainRestrictionMode === 'allowList' && !domainMatches(domain, sp.sharingAllowedDomainList)) {
    found.push({
      setting: 'sharePoint.sharingAllowedDomainList',
      explanation: `SharePoint only shares with listed domains, and ${domain} is not one of them.`,
      whoCanChange: SHAREPOINT_ADMIN,
    });
  }
  return found;
}


/**
 * A guest keeps the provider they redeemed with; when this tenant has since turned that provider
 * off, they can no longer sign in until an admin resets their redemption. Null when nothing was
 * turned off.
 * - Google: https://learn.microsoft.com/en-us/entra/external-id/google-federation (removing the
 *   federation stops guests who redeemed with Google from signing in; reset their redemption).
 * - One-time passcode: https://learn.microsoft.com/en-us/entra/external-id/one-time-passcode
 *   (disabling it does not change existing passcode guests' method: they need a redemption reset).
 * - SAML/WS-Fed: https://learn.microsoft.com/en-us/entra/external-id/direct-federation (guests of a
 *   removed federation cannot sign in until their redemption is reset).
 * - Reset: https://learn.microsoft.com/en-us/entra/external-id/reset-redemption-status
 */
export function providerTurnedOff(method: SignInMethod | null, user: DirectoryUser, policies: TenantPolicies): string | null {
  const org = policies.tenantDisplayName;
  if (method === 'googleFederation' && !policies.googleFederation) {
    return `They accepted with a Google account, and ${org} has since removed Google federation.`;
  }
  if (method === 'emailOneTimePasscode' && !isOtpEnabled(policies)) {
    return `They accepted with one-time passcodes, and ${org} has since turned email one-time passcode off.`;
  }
  if (method === 'samlWsFedFederation') {
    const issuers = new Set(policies.federatedDomains.map((f) => f.issuerUri?.toLowerCase()).filter((u): u is string => !!u));
    const listed = user.identities.some((i) => issuers.has(i.issuer.trim().toLowerCase()));
    if (!listed) return `They accepted through their organisation's SAML/WS-Fed federation, and ${org} no longer has that federation.`;
  }
  return null;
}
