/**
 * How Entra B2B chooses a guest's sign-in method, as a pure decision over facts the directory
 * gives us. Current documented order (DESIGN.md §3.1): managed Entra tenant for the domain →
 * SAML/WS-Fed federation for the domain → Google federation (gmail.com/googlemail.com) →
 * existing personal Microsoft account → email one-time passcode (if enabled) → create a
 * Microsoft account. A tenant can reorder the first three and pick the fallback.
 */
import type { DirectoryUser, TenantPolicies } from './tenant';
import type { EmailAddress } from './email';
import type { SignInAdvice, SignInMethod } from './signInAdvice';
import { type ManagedTenantFact, RESET_NEEDED_WARNING, SYNC_UNAVAILABLE, nextStepsFor, predict, syncFor, usesOtp } from './newGuestPrediction';
import { OTP_CODE_VALID_MINUTES, OTP_SESSION_HOURS, methodWithArticle, otpSignInAdvice, refusalWarning, signInUrlFor } from './signInWording';
import { blockingSettings, methodFromIdentities, providerTurnedOff } from './tenantSettingRules';

export interface SignInDecisionInput {
  email: EmailAddress;
  policies: TenantPolicies;
  managedTenant: ManagedTenantFact;
  /** The directory user with this address, if any (member or guest). */
  existingUser: DirectoryUser | null;
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

function dedupe(items: string[]): string[] {
  return [...new Set(items)];
}
