/**
 * How Entra B2B chooses a guest's sign-in method, as a pure decision over facts the directory
 * gives us. Current documented order (DESIGN.md §3.1): managed Entra tenant for the domain →
 * SAML/WS-Fed federation for the domain → Google federation (gmail.com/googlemail.com) →
 * existing personal Microsoft account → email one-time passcode (if enabled) → create a
 * Microsoft account. A tenant can reorder the first three and pick the fallback.
 */
import type {
  DirectoryUser,
  FallbackIdentityProvider,
  PrimaryIdentityProvider,
  TenantPolicies,
  UserIdentity,
} from './tenant';
import type { EmailAddress } from './email';
import type { AdviceConfidence, BlockingSetting, SignInAdvice, SignInMethod } from './signInAdvice';

/** What the domain lookup said: the managed tenant, none, or that the lookup failed. */
export type ManagedTenantFact = { tenantId: string; displayName: string } | null | 'lookupFailed';

export interface SignInDecisionInput {
  email: EmailAddress;
  policies: TenantPolicies;
  managedTenant: ManagedTenantFact;
  /** The directory user with this address, if any (member or guest). */
  existingUser: DirectoryUser | null;
}

export const DEFAULT_PRIMARY_ORDER: readonly PrimaryIdentityProvider[] = [
  'azureActiveDirectory',
  'externalFederation',
  'socialIdentityProviders',
];
export const DEFAULT_FALLBACK: FallbackIdentityProvider = 'defaultConfiguredIdp';

const GOOGLE_DOMAINS = new Set(['gmail.com', 'googlemail.com']);

/**
 * Microsoft's consumer mail domains: every address there IS a personal Microsoft account, so the
 * "existing Microsoft account" step always applies to them (no "if they have one").
 * https://learn.microsoft.com/en-us/entra/external-id/redemption-experience#invitation-redemption-flow
 * (the personal Microsoft account step) and https://support.microsoft.com/account-billing (outlook.com,
 * hotmail.com, live.com and msn.com addresses are Microsoft accounts). Country variants such as
 * hotmail.co.uk, outlook.fr, live.com.au, hotmail.de are included.
 */
const CONSUMER_MICROSOFT_DOMAIN = /^(?:outlook|hotmail|live|msn|windowslive|passport)\.(?:com|[a-z]{2}|co\.[a-z]{2}|com\.[a-z]{2})$/;

/** True for outlook.com, hotmail.com, live.com, msn.com and their country variants. */
export function isMicrosoftConsumerDomain(domain: string): boolean {
  return CONSUMER_MICROSOFT_DOMAIN.test(domain.trim().toLowerCase());
}

/** OTP facts from the one-time passcode documentation. */
export const OTP_CODE_VALID_MINUTES = 30;
export const OTP_SESSION_HOURS = 24;

/**
 * How a one-time passcode guest signs in after the first time, as the current doc puts it: a link
 * that carries the tenant is the surest; on a general sign-in page (one with no tenant in it) they
 * choose "Sign-in options" → "Sign in to an organization" and type the organisation's name.
 * https://learn.microsoft.com/en-us/entra/external-id/one-time-passcode#sign-in-endpoints
 */
export function otpSignInAdvice(tenantName: string, reader: 'you' | 'they' = 'you'): string {
  const subject = reader === 'you' ? 'you' : 'they';
  return `The surest way in is the ${tenantName} sign-in link (it names ${tenantName}). On a general Microsoft sign-in page, ${subject} can also choose "Sign-in options", then "Sign in to an organization", and type ${tenantName}.`;
}

const ENTRA_ADMIN = 'a Global Administrator (Microsoft Entra admin center → External Identities → External collaboration settings)';
const SHAREPOINT_ADMIN = 'a SharePoint Administrator (SharePoint admin center → Policies → Sharing)';

/**
 * Tenant-context sign-in link: the surest way in for one-time passcode guests. The current doc
 * also lets them use a common endpoint through "Sign-in options" → "Sign in to an organization"
 * (see OTP_SIGN_IN_ADVICE), so this is the recommended link, not the only one that works.
 * https://learn.microsoft.com/en-us/entra/external-id/one-time-passcode#sign-in-endpoints
 */
export function signInUrlFor(tenantId: string): string {
  return `https://myapps.microsoft.com/?tenantid=${encodeURIComponent(tenantId)}`;
}

/** Plain-English name of a method, for cards. */
export function methodLabel(method: SignInMethod): string {
  switch (method) {
    case 'workOrSchoolAccount':
      return 'work or school account (Microsoft Entra ID)';
    case 'samlWsFedFederation':
      return "their organisation's own sign-in (SAML/WS-Fed federation)";
    case 'googleFederation':
      return 'Google account';
    case 'microsoftAccount':
      return 'personal Microsoft account';
    case 'emailOneTimePasscode':
      return 'one-time passcode sent by email';
    case 'createMicrosoftAccount':
      return 'a new personal Microsoft account (created at sign-in)';
  }
}

/**
 * The method as read after "sign in with" or "otherwise": "a Google account", "their
 * organisation's own sign-in (…)". `reader: 'you'` when the sentence speaks to the guest.
 */
export function methodWithArticle(method: SignInMethod, reader: 'they' | 'you' = 'they'): string {
  switch (method) {
    case 'samlWsFedFederation':
      return `${reader === 'you' ? 'your' : 'their'} organisation's own sign-in (SAML/WS-Fed federation)`;
    case 'createMicrosoftAccount':
      // The label already reads "a new personal Microsoft account …".
      return methodLabel(method);
    case 'workOrSchoolAccount':
    case 'googleFederation':
    case 'microsoftAccount':
    case 'emailOneTimePasscode':
      return `a ${methodLabel(method)}`;
  }
}

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

/** Where an admin finds each blocking setting, in the admin centers' own words. */
const SETTING_TITLES: Readonly<Record<string, string>> = {
  'authorizationPolicy.allowInvitesFrom': 'Guest invite restrictions',
  'b2bManagementPolicy.blockList': 'Collaboration restrictions: "Deny invitations to the specified domains"',
  'b2bManagementPolicy.allowList': 'Collaboration restrictions: "Allow invitations only to the specified domains"',
  'sharePoint.sharingCapability': 'SharePoint external sharing level',
  'sharePoint.sharingBlockedDomainList': 'SharePoint "Limit external sharing by domain" (blocked domains)',
  'sharePoint.sharingAllowedDomainList': 'SharePoint "Limit external sharing by domain" (allowed domains)',
};

/** A blocking setting as a card names it: the admin center's name, then the machine name. */
export function blockingSettingTitle(setting: string): string {
  const title = SETTING_TITLES[setting];
  return title ? `${title} (${setting})` : setting;
}

/** The warning a blocked address gets: the first blocking setting, and who can change it. */
export function refusalWarning(emailDisplay: string, blocker: BlockingSetting): string {
  return `An invitation to ${emailDisplay} would be refused. To change this, ask ${blocker.whoCanChange}.`;
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

/** Warning on an OTP guest whose domain now has a managed Entra tenant (cards test for it). */
export const RESET_NEEDED_WARNING =
  'This guest still signs in with one-time passcodes although their organisation now has Microsoft Entra ID; an admin can reset their redemption so they use their work account (and can sync).';

const SYNC_UNAVAILABLE =
  'OneDrive sync will not be available to this guest: B2B Sync needs a Microsoft Entra work or school account. They can use the files in the browser or in Teams.';

/** The method a new guest will get, walking the tenant's precedence. */
interface Prediction {
  method: SignInMethod;
  otherwise: SignInMethod | null;
  confidence: AdviceConfidence;
  reasons: string[];
  warnings: string[];
}

function predict(email: EmailAddress, policies: TenantPolicies, tenantFact: ManagedTenantFact): Prediction {
  const domain = email.domain;
  // Consumer domains resolve to Microsoft's own consumer directory, never to a work or school tenant.
  const managedTenant = isMicrosoftConsumerDomain(domain) ? null : tenantFact;
  const shown = email.displayDomain;
  const precedence = policies.redemptionPrecedence;
  const order = precedence?.primaryIdentityProviderPrecedenceOrder ?? DEFAULT_PRIMARY_ORDER;
  const fallback = precedence?.fallbackIdentityProvider ?? DEFAULT_FALLBACK;
  const reasons: string[] = [];
  const warnings: string[] = [];
  if (precedence) {
    reasons.push(
      `${policies.tenantDisplayName} has changed the redemption order: ${order.join(' → ') || '(no primary providers)'}, then ${fallback}.`,
    );
  }
  let lookupFailed = false;
  const federation = policies.federatedDomains.find((f) => f.domain.toLowerCase() === domain);
  const google = GOOGLE_DOMAINS.has(domain);

  for (const provider of order) {
    if (provider === 'azureActiveDirectory') {
      if (managedTenant === 'lookupFailed') {
        lookupFailed = true;
        reasons.push(
          `We could not check whether ${shown} belongs to a Microsoft Entra tenant (the lookup failed); if it does, they will sign in with their work or school account.`,
        );
      } else if (managedTenant) {
        // Discovery is per user, not per domain: a user missing from the partner's tenant (a
        // partly synced directory) falls through to the next step, so this is "likely".
        // https://learn.microsoft.com/en-us/entra/external-id/redemption-experience#invitation-redemption-flow
        const rest = predict(email, withoutEntraStep(policies), null);
        reasons.push(
          `${shown} belongs to the Microsoft Entra tenant "${managedTenant.displayName}", so they will most likely sign in with their work or school account there.`,
          `Likely, not certain: Microsoft checks the person, not only the domain. If ${email.display} has no account in that tenant (for example a partly synced directory), they get ${methodWithArticle(rest.method)}${rest.otherwise ? ` or ${methodWithArticle(rest.otherwise)}` : ''} instead.`,
        );
        return { method: 'workOrSchoolAccount', otherwise: null, confidence: 'likely', reasons, warnings };
      } else {
        reasons.push(`${shown} does not belong to any Microsoft Entra tenant.`);
      }
    } else if (provider === 'externalFederation') {
      if (federation) {
        reasons.push(
          `${shown} is federated with ${policies.tenantDisplayName} through SAML/WS-Fed${federation.issuerUri ? ` (issuer ${federation.issuerUri})` : ''}.`,
        );
        warnings.push(SYNC_UNAVAILABLE);
        return done('samlWsFedFederation', null);
      }
      reasons.push(`No SAML/WS-Fed federation is set up for ${shown}.`);
    } else if (provider === 'socialIdentityProviders') {
      if (google && policies.googleFederation) {
        reasons.push(`${shown} is a Google address and ${policies.tenantDisplayName} has Google federation set up.`);
        warnings.push(SYNC_UNAVAILABLE);
        return done('googleFederation', null);
      }
      if (google) reasons.push(`${shown} is a Google address, but Google federation is not set up.`);
    }
  }

  const otp = isOtpEnabled(policies);
  warnings.push(SYNC_UNAVAILABLE);
  if (fallback === 'emailOneTimePasscode') {
    reasons.push('The tenant always uses an email one-time passcode when no primary provider applies.');
    if (!otp) warnings.push('Email one-time passcode is turned off, yet the redemption order names it as the fallback: an admin should check these settings.');
    return done('emailOneTimePasscode', null, otp ? undefined : 'likely');
  }
  if (isMicrosoftConsumerDomain(domain)) {
    // An outlook.com / hotmail.com / live.com / msn.com address is a personal Microsoft account.
    reasons.push(`${shown} is one of Microsoft's consumer domains: every address there is a personal Microsoft account, so that is what they sign in with.`);
    return done('microsoftAccount', null);
  }
  const msaUnknowable = 'Whether they have a personal Microsoft account for this address cannot be known in advance.';
  if (fallback === 'microsoftAccount') {
    reasons.push('The tenant uses a personal Microsoft account when no primary provider applies: their existing one, or a new one they create.');
    reasons.push(msaUnknowable);
    return done('microsoftAccount', 'createMicrosoftAccount', 'depends');
  }
  reasons.push(msaUnknowable);
  if (otp) {
    reasons.push('If they have none, email one-time passcode is enabled, so they will get a code by email.');
    return done('microsoftAccount', 'emailOneTimePasscode', 'depends');
  }
  reasons.push('Email one-time passcode is turned off, so without one they will be asked to create a Microsoft account.');
  return done('microsoftAccount', 'createMicrosoftAccount', 'depends');

  function done(method: SignInMethod, otherwise: SignInMethod | null, confidence?: AdviceConfidence): Prediction {
    // A failed tenant lookup outranks everything decided after it.
    const c: AdviceConfidence = lookupFailed ? 'likely' : (confidence ?? 'certain');
    return { method, otherwise, confidence: c, reasons, warnings };
  }
}

/** The same policies without the Entra step: what a user missing from their organisation's tenant gets. */
function withoutEntraStep(policies: TenantPolicies): TenantPolicies {
  const precedence = policies.redemptionPrecedence;
  const order = (precedence?.primaryIdentityProviderPrecedenceOrder ?? DEFAULT_PRIMARY_ORDER).filter((p) => p !== 'azureActiveDirectory');
  return {
    ...policies,
    tenantDisplayName: policies.tenantDisplayName,
    redemptionPrecedence: { primaryIdentityProviderPrecedenceOrder: order, fallbackIdentityProvider: precedence?.fallbackIdentityProvider ?? DEFAULT_FALLBACK },
  };
}

function nextStepsFor(method: SignInMethod | null, otherwise: SignInMethod | null, policies: TenantPolicies, orgName: string | null): string[] {
  const steps: string[] = [];
  switch (method) {
    case 'workOrSchoolAccount':
      steps.push(`Open the invitation link and sign in with your ${orgName ? `${orgName} ` : ''}work or school account.`);
      break;
    case 'samlWsFedFederation':
      steps.push("Open the invitation link and sign in with your organisation's usual sign-in page.");
      break;
    case 'googleFederation':
      steps.push('Open the invitation link and sign in with your Google account.');
      break;
    case 'microsoftAccount':
      steps.push('Open the invitation link. If you have a personal Microsoft account for this address, sign in with it.');
      break;
    case 'emailOneTimePasscode':
      break;
    case 'createMicrosoftAccount':
      steps.push('Open the invitation link; you will be asked to create a free Microsoft account for this address.');
      break;
    case null:
      break;
  }
  if (method === 'emailOneTimePasscode' || otherwise === 'emailOneTimePasscode') {
    const prefix = method === 'emailOneTimePasscode' ? '' : 'Otherwise: ';
    steps.push(
      `${prefix}Open the invitation link and choose "Send code"; a code arrives by email and is valid for ${OTP_CODE_VALID_MINUTES} minutes.`,
      `A session lasts ${OTP_SESSION_HOURS} hours; after that you get a new code. ${otpSignInAdvice(policies.tenantDisplayName)}`,
    );
  }
  if (otherwise === 'createMicrosoftAccount') {
    steps.push('Otherwise you will be asked to create a free Microsoft account for this address.');
  }
  return steps;
}

function usesOtp(method: SignInMethod | null, otherwise: SignInMethod | null): boolean {
  return method === 'emailOneTimePasscode' || otherwise === 'emailOneTimePasscode';
}

function syncFor(method: SignInMethod | null, confidence: AdviceConfidence): boolean | 'depends' {
  if (method === 'workOrSchoolAccount') return true;
  // The lookup failed: they may turn out to have a work account after all.
  if (confidence === 'likely' && method !== null) return 'depends';
  return false;
}

function baseAdvice(email: EmailAddress): Pick<SignInAdvice, 'email' | 'domain'> {
  return { email: email.address, domain: email.domain };
}

/** The whole decision: who this address is to the tenant, and how they will (or did) sign in. */
export function decideSignIn(input: SignInDecisionInput): SignInAdvice {
  const { email, policies, managedTenant, existingUser } = input;
  const domain = email.domain;
  const shown = email.displayDomain;
  const own = policies.verifiedDomains.map((d) => d.toLowerCase());

  if (own.includes(domain) || existingUser?.kind === 'member') {
    const reasons = own.includes(domain)
      ? [`${shown} is one of ${policies.tenantDisplayName}'s own verified domains: this is an internal address.`]
      : [`${email.display} already belongs to a member of ${policies.tenantDisplayName}.`];
    return {
      ...baseAdvice(email),
      subject: 'internalUser',
      method: null,
      otherwise: null,
      confidence: 'certain',
      reasons,
      guestNextSteps: [`No invitation is needed: they sign in with their ${policies.tenantDisplayName} account.`],
      tenantSignInUrl: null,
      syncAvailable: true,
      warnings: [],
      blockedBy: null,
      existing: existingUser
        ? {
            userId: existingUser.id,
            displayName: existingUser.displayName,
            state: existingUser.externalUserState,
            stateChangedAt: existingUser.externalUserStateChangeDateTime,
            redeemedWith: null,
          }
        : null,
    };
  }

  if (existingUser) return decideExistingGuest(input, existingUser);

  const blockers = blockingSettings(domain, policies);
  const first = blockers[0];
  if (first) {
    return {
      ...baseAdvice(email),
      subject: 'blocked',
      method: null,
      otherwise: null,
      confidence: 'certain',
      reasons: blockers.map((b) => b.explanation),
      guestNextSteps: [],
      tenantSignInUrl: null,
      syncAvailable: false,
      warnings: [refusalWarning(email.display, first)],
      blockedBy: first,
      existing: null,
    };
  }

  const p = predict(email, policies, managedTenant);
  const orgName = managedTenant && managedTenant !== 'lookupFailed' ? managedTenant.displayName : null;
  const warnings = [...p.warnings];
  if (policies.allowInvitesFrom === 'adminsAndGuestInviters') {
    warnings.push('Only admins and Guest Inviters may invite guests in this tenant: an invitation sent by the bot may be refused.');
  }
  return {
    ...baseAdvice(email),
    subject: 'newGuest',
    method: p.method,
    otherwise: p.otherwise,
    confidence: p.confidence,
    reasons: p.reasons,
    guestNextSteps: nextStepsFor(p.method, p.otherwise, policies, orgName),
    tenantSignInUrl: usesOtp(p.method, p.otherwise) ? signInUrlFor(policies.tenantId) : null,
    syncAvailable: syncFor(p.method, p.confidence),
    warnings: dedupe(warnings),
    blockedBy: null,
    existing: null,
  };
}

function decideExistingGuest(input: SignInDecisionInput, user: DirectoryUser): SignInAdvice {
  const { email, policies, managedTenant } = input;
  const shown = email.displayDomain;
  const existing = {
    userId: user.id,
    displayName: user.displayName,
    state: user.externalUserState,
    stateChangedAt: user.externalUserStateChangeDateTime,
    redeemedWith: null as SignInMethod | null,
  };
  const since = user.externalUserStateChangeDateTime ? ` (since ${user.externalUserStateChangeDateTime.slice(0, 10)})` : '';
  // Existing guests are not invited again: only settings that still stop them reaching the site matter.
  const blockers = blockingSettings(email.domain, policies).filter(
    (b) =>
      b.setting !== 'authorizationPolicy.allowInvitesFrom' &&
      !(b.setting === 'sharePoint.sharingCapability' && policies.sharePoint.sharingCapability === 'existingExternalUserSharingOnly'),
  );

  if (user.externalUserState !== 'Accepted') {
    // Pending: the method is decided at redemption, so predict it like for a new guest.
    const p = predict(email, policies, managedTenant);
    const orgName = managedTenant && managedTenant !== 'lookupFailed' ? managedTenant.displayName : null;
    const warnings = [...p.warnings];
    for (const b of blockers) {
      if (b.setting.startsWith('b2bManagementPolicy')) warnings.push(`${b.explanation} Their redemption will fail until this changes.`);
      else warnings.push(b.explanation);
    }
    return {
      ...baseAdvice(email),
      subject: 'existingGuest',
      method: p.method,
      otherwise: p.otherwise,
      confidence: p.confidence,
      reasons: [
        `${user.displayName} is already a guest of ${policies.tenantDisplayName} but has not accepted the invitation yet${since}.`,
        ...p.reasons,
      ],
      guestNextSteps: nextStepsFor(p.method, p.otherwise, policies, orgName),
      tenantSignInUrl: usesOtp(p.method, p.otherwise) ? signInUrlFor(policies.tenantId) : null,
      syncAvailable: syncFor(p.method, p.confidence),
      warnings: dedupe(warnings),
      blockedBy: null,
      existing,
    };
  }

  const method = methodFromIdentities(user.identities, policies);
  existing.redeemedWith = method;
  const stranded = providerTurnedOff(method, user, policies);
  const reasons = [
    `${user.displayName} is already a guest of ${policies.tenantDisplayName} and accepted the invitation${since}.`,
  ];
  const warnings: string[] = [];
  const nextSteps: string[] = [];
  if (method === null) {
    reasons.push('Entra does not say which kind of account they signed in with.');
  } else {
    reasons.push(`They signed in with ${methodWithArticle(method)}; Entra keeps using the method chosen when they accepted.`);
  }
  if (method === 'emailOneTimePasscode') {
    if (managedTenant && managedTenant !== 'lookupFailed') {
      reasons.push(
        `${shown} now belongs to the Microsoft Entra tenant "${managedTenant.displayName}", but a guest who accepted with a one-time passcode keeps getting codes until an admin resets their redemption.`,
      );
      warnings.push(RESET_NEEDED_WARNING);
      nextSteps.push('Ask an admin to reset your sign-in (redemption) so you can use your work account.');
    }
    nextSteps.unshift(
      `Each code is valid for ${OTP_CODE_VALID_MINUTES} minutes; a session lasts ${OTP_SESSION_HOURS} hours, then a new code is sent.`,
      otpSignInAdvice(policies.tenantDisplayName),
    );
  } else if (method !== null) {
    nextSteps.push(...nextStepsFor(method, null, policies, null).map((s) => s.replace(/^Open the invitation link and s/, 'S')));
  }
  if (stranded) {
    reasons.push(stranded);
    warnings.unshift(`${user.displayName} cannot sign in any more: ${stranded} An admin must reset their redemption; they then accept the invitation again with whatever sign-in applies now.`);
    nextSteps.length = 0;
    nextSteps.push('Ask an admin to reset your sign-in (redemption): until then you cannot sign in here. After the reset you accept the invitation again.');
  }
  if (method !== 'workOrSchoolAccount') warnings.push(SYNC_UNAVAILABLE);
  for (const b of blockers) {
    // The B2B lists do not apply to guests who already redeemed; SharePoint's do.
    if (!b.setting.startsWith('b2bManagementPolicy')) warnings.push(b.explanation);
  }
  return {
    ...baseAdvice(email),
    subject: 'existingGuest',
    method,
    otherwise: null,
    confidence: method === null ? 'likely' : 'certain',
    reasons,
    guestNextSteps: nextSteps,
    tenantSignInUrl: method === 'emailOneTimePasscode' ? signInUrlFor(policies.tenantId) : null,
    syncAvailable: method === 'workOrSchoolAccount',
    warnings: dedupe(warnings),
    blockedBy: null,
    existing,
    redemptionResetNeeded: stranded,
  };
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

function dedupe(items: string[]): string[] {
  return [...new Set(items)];
}
