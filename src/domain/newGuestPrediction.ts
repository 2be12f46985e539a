/**
 * The method a new guest will get, walking the tenant's redemption precedence (DESIGN.md §3.1),
 * with the next steps, sync and one-time passcode facts that follow from it.
 */
import type { FallbackIdentityProvider, PrimaryIdentityProvider, TenantPolicies } from './tenant';
import type { EmailAddress } from './email';
import type { AdviceConfidence, SignInMethod } from './signInAdvice';
import { OTP_CODE_VALID_MINUTES, OTP_SESSION_HOURS, methodWithArticle, otpSignInAdvice } from './signInWording';
import { isOtpEnabled } from './tenantSettingRules';

/** What the domain lookup said: the managed tenant, none, or that the lookup failed. */
export type ManagedTenantFact = { tenantId: string; displayName: string } | null | 'lookupFailed';

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

/** Warning on an OTP guest whose domain now has a managed Entra tenant (cards test for it). */
export const RESET_NEEDED_WARNING =
  'This guest still signs in with one-time passcodes although their organisation now has Microsoft Entra ID; an admin can reset their redemption so they use their work account (and can sync).';

export const SYNC_UNAVAILABLE =
  'OneDrive sync will not be available to this guest: B2B Sync needs a Microsoft Entra work or school account. They can use the files in the browser or in Teams.';

/** The method a new guest will get, walking the tenant's precedence. */
export interface Prediction {
  method: SignInMethod;
  otherwise: SignInMethod | null;
  confidence: AdviceConfidence;
  reasons: string[];
  warnings: string[];
}

export function predict(email: EmailAddress, policies: TenantPolicies, tenantFact: ManagedTenantFact): Prediction {
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

export function nextStepsFor(method: SignInMethod | null, otherwise: SignInMethod | null, policies: TenantPolicies, orgName: string | null): string[] {
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

export function usesOtp(method: SignInMethod | null, otherwise: SignInMethod | null): boolean {
  return method === 'emailOneTimePasscode' || otherwise === 'emailOneTimePasscode';
}

export function syncFor(method: SignInMethod | null, confidence: AdviceConfidence): boolean | 'depends' {
  if (method === 'workOrSchoolAccount') return true;
  // The lookup failed: they may turn out to have a work account after all.
  if (confidence === 'likely' && method !== null) return 'depends';
  return false;
}
