import type { DirectoryUser, TenantPolicies } from '../../../src/domain/tenant';
import { DEMO, demoTenantFixture } from '../../../src/adapters/demo/demoTenant';
import { normaliseEmail } from '../../../src/domain/email';
import type { SignInAdvice } from '../../../src/domain/signInAdvice';
import { decideSignIn } from '../../../src/domain/signInRules';
import { isMicrosoftConsumerDomain, type ManagedTenantFact } from '../../../src/domain/newGuestPrediction';
import { methodFromIdentities } from '../../../src/domain/tenantSettingRules';
import { otpSignInAdvice, methodLabel, methodWithArticle, signInUrlFor } from '../../../src/domain/signInWording';

/** The demo tenant's policies, with one thing changed per case. */
function policies(change: (p: TenantPolicies) => void = () => {}): TenantPolicies {
  const f = demoTenantFixture();
  const p: TenantPolicies = {
    tenantId: f.tenantId,
    tenantDisplayName: f.displayName,
    verifiedDomains: f.verifiedDomains,
    ...structuredClone(f.policies),
  };
  change(p);
  return p;
}

const FABRIKAM: ManagedTenantFact = { tenantId: DEMO.externalTenants.fabrikam.tenantId, displayName: 'Fabrikam' };
const TAILSPIN: ManagedTenantFact = { tenantId: DEMO.externalTenants.tailspinToys.tenantId, displayName: 'Tailspin Toys' };
const WINGTIP_AS_TENANT: ManagedTenantFact = { tenantId: '0f8e7d6c-0009-4a5b-9c8d-7e6f5a4b3c29', displayName: 'Wingtip Toys' };

function guest(email: string, state: 'Accepted' | 'PendingAcceptance', issuer: string | null): DirectoryUser {
  return {
    id: '6f1c2b3a-0099-4c5d-8e9f-0a1b2c3d4e99',
    displayName: 'Test Guest',
    mail: email,
    userPrincipalName: `${email.replace('@', '_')}#EXT#@contoso.onmicrosoft.com`,
    otherMails: [email],
    kind: 'guest',
    externalUserState: state,
    externalUserStateChangeDateTime: '2024-11-04T16:20:00Z',
    identities: issuer ? [{ signInType: 'federated', issuer, issuerAssignedId: email }] : [],
  };
}

function decide(
  email: string,
  opts: { policies?: TenantPolicies; tenant?: ManagedTenantFact; user?: DirectoryUser | null } = {},
): SignInAdvice {
  return decideSignIn({
    email: normaliseEmail(email),
    policies: opts.policies ?? policies(),
    managedTenant: opts.tenant === undefined ? null : opts.tenant,
    existingUser: opts.user ?? null,
  });
}

type Expect = Partial<Pick<SignInAdvice, 'subject' | 'method' | 'otherwise' | 'confidence' | 'syncAvailable'>> & {
  blockedBy?: string;
  tenantLink?: boolean;
  reason?: RegExp;
  warning?: RegExp;
};

const OTP_OFF = policies((p) => {
  p.emailOtp = 'disabled';
});
const GOOGLE_OFF = policies((p) => {
  p.googleFederation = false;
});
const FEDERATION_FIRST = policies((p) => {
  p.redemptionPrecedence = {
    primaryIdentityProviderPrecedenceOrder: ['externalFederation', 'azureActiveDirectory', 'socialIdentityProviders'],
    fallbackIdentityProvider: 'defaultConfiguredIdp',
  };
});
const FALLBACK_OTP = policies((p) => {
  p.redemptionPrecedence = {
    primaryIdentityProviderPrecedenceOrder: ['azureActiveDirectory', 'externalFederation', 'socialIdentityProviders'],
    fallbackIdentityProvider: 'emailOneTimePasscode',
  };
});
const FALLBACK_MSA = policies((p) => {
  p.redemptionPrecedence = {
    primaryIdentityProviderPrecedenceOrder: ['azureActiveDirectory', 'externalFederation', 'socialIdentityProviders'],
    fallbackIdentityProvider: 'microsoftAccount',
  };
});
const FALLBACK_MSA_OTP_OFF = policies((p) => {
  p.emailOtp = 'disabled';
  p.redemptionPrecedence = { primaryIdentityProviderPrecedenceOrder: ['azureActiveDirectory'], fallbackIdentityProvider: 'microsoftAccount' };
});
const NO_SOCIAL = policies((p) => {
  p.redemptionPrecedence = {
    primaryIdentityProviderPrecedenceOrder: ['azureActiveDirectory', 'externalFederation'],
    fallbackIdentityProvider: 'emailOneTimePasscode',
  };
});
const ALLOW_LIST = policies((p) => {
  p.b2bDomainPolicy = { mode: 'allowList', domains: ['fabrikam.com', '*.partners.example'] };
});
const NO_LIST = policies((p) => {
  p.b2bDomainPolicy = { mode: 'none' };
});
const SP_DISABLED = policies((p) => {
  p.sharePoint.sharingCapability = 'disabled';
});
const SP_EXISTING_ONLY = policies((p) => {
  p.sharePoint.sharingCapability = 'existingExternalUserSharingOnly';
});
const SP_ALLOW_LIST = policies((p) => {
  p.sharePoint.sharingDomainRestrictionMode = 'allowList';
  p.sharePoint.sharingAllowedDomainList = ['fabrikam.com'];
});
const SP_BLOCK_LIST = policies((p) => {
  p.sharePoint.sharingDomainRestrictionMode = 'blockList';
  p.sharePoint.sharingBlockedDomainList = ['outlook.com'];
});
const NOBODY_INVITES = policies((p) => {
  p.allowInvitesFrom = 'none';
});
const OTP_DEFAULT = policies((p) => {
  p.emailOtp = 'default';
});

const LINK = signInUrlFor(DEMO.tenantId);

describe('decideSignIn: someone not yet invited', () => {
  const cases: Array<[string, string, Parameters<typeof decide>[1], Expect]> = [
    // Default documented order.
    ['managed Entra tenant: likely (discovery is per user)', 'jane@fabrikam.com', { tenant: FABRIKAM }, { subject: 'newGuest', method: 'workOrSchoolAccount', confidence: 'likely', syncAvailable: true, reason: /Fabrikam/ }],
    ['SAML federation', 'pat@wingtiptoys.com', {}, { method: 'samlWsFedFederation', confidence: 'certain', syncAvailable: false, reason: /sts\.wingtiptoys\.com/, warning: /sync will not be available/i }],
    ['federated domain that is also an Entra tenant: Entra wins', 'pat@wingtiptoys.com', { tenant: WINGTIP_AS_TENANT }, { method: 'workOrSchoolAccount', confidence: 'likely' }],
    ['gmail.com with Google federation', 'sam@gmail.com', {}, { method: 'googleFederation', confidence: 'certain', syncAvailable: false }],
    ['googlemail.com with Google federation', 'sam@googlemail.com', {}, { method: 'googleFederation' }],
    ['Gmail with Google federation off: MSA or OTP', 'sam@gmail.com', { policies: GOOGLE_OFF }, { method: 'microsoftAccount', otherwise: 'emailOneTimePasscode', confidence: 'depends', tenantLink: true, reason: /Google federation is not set up/ }],
    ['Google Workspace domain is not Google federation', 'sam@example.org', {}, { method: 'microsoftAccount', otherwise: 'emailOneTimePasscode' }],
    ['no tenant, no federation: MSA if they have one, else OTP', 'kim@example.org', {}, { method: 'microsoftAccount', otherwise: 'emailOneTimePasscode', confidence: 'depends', syncAvailable: false, tenantLink: true, reason: /cannot be known in advance/ }],
    ['OTP "default" counts as on', 'kim@example.org', { policies: OTP_DEFAULT }, { otherwise: 'emailOneTimePasscode' }],
    ['OTP off: MSA if they have one, else create one', 'kim@example.org', { policies: OTP_OFF }, { method: 'microsoftAccount', otherwise: 'createMicrosoftAccount', confidence: 'depends', tenantLink: false }],
    ['OTP off does not change a managed tenant', 'jane@fabrikam.com', { policies: OTP_OFF, tenant: FABRIKAM }, { method: 'workOrSchoolAccount' }],
    ['OTP off and Google off for Gmail', 'sam@gmail.com', { policies: policies((p) => { p.emailOtp = 'disabled'; p.googleFederation = false; }) }, { method: 'microsoftAccount', otherwise: 'createMicrosoftAccount' }],
    // Changed precedence.
    ['federation before Entra: federation wins', 'pat@wingtiptoys.com', { policies: FEDERATION_FIRST, tenant: WINGTIP_AS_TENANT }, { method: 'samlWsFedFederation', reason: /changed the redemption order/ }],
    ['federation before Entra, no federation: Entra', 'jane@fabrikam.com', { policies: FEDERATION_FIRST, tenant: FABRIKAM }, { method: 'workOrSchoolAccount' }],
    ['fallback emailOneTimePasscode: always OTP', 'kim@outlook.com', { policies: FALLBACK_OTP }, { method: 'emailOneTimePasscode', otherwise: null, confidence: 'certain', tenantLink: true, syncAvailable: false }],
    ['fallback emailOneTimePasscode with OTP off: flagged', 'kim@outlook.com', { policies: policies((p) => { p.emailOtp = 'disabled'; p.redemptionPrecedence = { primaryIdentityProviderPrecedenceOrder: ['azureActiveDirectory'], fallbackIdentityProvider: 'emailOneTimePasscode' }; }) }, { method: 'emailOneTimePasscode', confidence: 'likely', warning: /turned off/ }],
    ['fallback microsoftAccount: existing or new MSA', 'kim@example.org', { policies: FALLBACK_MSA }, { method: 'microsoftAccount', otherwise: 'createMicrosoftAccount', confidence: 'depends', tenantLink: false }],
    ['fallback microsoftAccount ignores OTP setting', 'kim@example.org', { policies: FALLBACK_MSA_OTP_OFF }, { method: 'microsoftAccount', otherwise: 'createMicrosoftAccount' }],
    ['social providers left out of the order: Gmail falls back', 'sam@gmail.com', { policies: NO_SOCIAL }, { method: 'emailOneTimePasscode' }],
    ['fallback OTP still loses to a managed tenant', 'jane@fabrikam.com', { policies: FALLBACK_OTP, tenant: FABRIKAM }, { method: 'workOrSchoolAccount' }],
    // Lookup failed.
    ['lookup failed: likely, with a reason', 'jane@fabrikam.com', { tenant: 'lookupFailed' }, { method: 'microsoftAccount', confidence: 'likely', syncAvailable: 'depends', reason: /could not check/ }],
    ['lookup failed but federation comes first', 'pat@wingtiptoys.com', { policies: FEDERATION_FIRST, tenant: 'lookupFailed' }, { method: 'samlWsFedFederation', confidence: 'certain' }],
    ['lookup failed, Entra first, federated domain', 'pat@wingtiptoys.com', { tenant: 'lookupFailed' }, { method: 'samlWsFedFederation', confidence: 'likely' }],
    // Internal.
    ['internal address', 'megan.bowen@contoso.com', {}, { subject: 'internalUser', method: null, confidence: 'certain', reason: /own verified domains/ }],
    ['internal address, mixed case', 'Someone.New@CONTOSO.com', {}, { subject: 'internalUser' }],
    ['internal address on the initial domain', 'x@contoso.onmicrosoft.com', {}, { subject: 'internalUser' }],
    // Blocked.
    ['B2B block list', 'chris@litware.com', {}, { subject: 'blocked', method: null, blockedBy: 'b2bManagementPolicy.blockList', reason: /litware\.com is on the tenant's B2B block list/ }],
    ['B2B block list, mixed-case address', 'Chris@LITWARE.COM', {}, { blockedBy: 'b2bManagementPolicy.blockList' }],
    ['block list removed', 'chris@litware.com', { policies: NO_LIST }, { subject: 'newGuest' }],
    ['allow list, inside', 'jane@fabrikam.com', { policies: ALLOW_LIST, tenant: FABRIKAM }, { subject: 'newGuest', method: 'workOrSchoolAccount' }],
    ['allow list, inside by wildcard', 'ann@eu.partners.example', { policies: ALLOW_LIST }, { subject: 'newGuest' }],
    ['allow list, outside', 'sam@gmail.com', { policies: ALLOW_LIST }, { subject: 'blocked', blockedBy: 'b2bManagementPolicy.allowList' }],
    ['nobody may invite', 'jane@fabrikam.com', { policies: NOBODY_INVITES, tenant: FABRIKAM }, { subject: 'blocked', blockedBy: 'authorizationPolicy.allowInvitesFrom' }],
    ['SharePoint sharing disabled', 'jane@fabrikam.com', { policies: SP_DISABLED, tenant: FABRIKAM }, { subject: 'blocked', blockedBy: 'sharePoint.sharingCapability', reason: /turned off/ }],
    ['SharePoint existing guests only', 'jane@fabrikam.com', { policies: SP_EXISTING_ONLY, tenant: FABRIKAM }, { subject: 'blocked', blockedBy: 'sharePoint.sharingCapability', reason: /already in the directory/ }],
    ['SharePoint allow list, inside', 'jane@fabrikam.com', { policies: SP_ALLOW_LIST, tenant: FABRIKAM }, { subject: 'newGuest' }],
    ['SharePoint allow list, outside', 'sam@gmail.com', { policies: SP_ALLOW_LIST }, { subject: 'blocked', blockedBy: 'sharePoint.sharingAllowedDomainList' }],
    ['SharePoint block list, listed', 'kim@outlook.com', { policies: SP_BLOCK_LIST }, { subject: 'blocked', blockedBy: 'sharePoint.sharingBlockedDomainList' }],
    ['SharePoint block list, not listed', 'sam@gmail.com', { policies: SP_BLOCK_LIST }, { subject: 'newGuest', method: 'googleFederation' }],
    ['B2B block list and SharePoint off: first one reported', 'chris@litware.com', { policies: policies((p) => { p.sharePoint.sharingCapability = 'disabled'; }) }, { blockedBy: 'b2bManagementPolicy.blockList', reason: /SharePoint external sharing is turned off/ }],
    // IDN.
    ['IDN domain with a managed tenant', 'hans@bücher.de', { tenant: FABRIKAM }, { method: 'workOrSchoolAccount' }],
    ['IDN domain on the block list (punycode entry)', 'hans@bücher.de', { policies: policies((p) => { p.b2bDomainPolicy = { mode: 'blockList', domains: ['xn--bcher-kva.de'] }; }) }, { blockedBy: 'b2bManagementPolicy.blockList' }],
  ];

  it.each(cases)('%s (%s)', (_name, email, opts, expected) => {
    const advice = decide(email, opts);
    const { blockedBy, tenantLink, reason, warning, ...fields } = expected;
    expect(advice).toMatchObject(fields);
    if (blockedBy !== undefined) expect(advice.blockedBy?.setting).toBe(blockedBy);
    if (tenantLink !== undefined) expect(advice.tenantSignInUrl).toBe(tenantLink ? LINK : null);
    if (reason) expect(advice.reasons.join('\n')).toMatch(reason);
    if (warning) expect(advice.warnings.join('\n')).toMatch(warning);
  });

  it('normalises the address it reports on', () => {
    const advice = decide('  Jane.Doe@FABRIKAM.com ', { tenant: FABRIKAM });
    expect(advice.email).toBe('Jane.Doe@fabrikam.com');
    expect(advice.domain).toBe('fabrikam.com');
  });

  it('a blocked address says who can change the setting', () => {
    const advice = decide('chris@litware.com');
    expect(advice.blockedBy?.whoCanChange).toMatch(/Global Administrator/);
    expect(advice.warnings.join(' ')).toMatch(/would be refused/);
    expect(decide('jane@fabrikam.com', { policies: SP_DISABLED }).blockedBy?.whoCanChange).toMatch(/SharePoint Administrator/);
  });

  it('one-time passcode next steps give the 30-minute code, the 24-hour session and the current sign-in guidance, without repeating the link', () => {
    const advice = decide('kim@outlook.com', { policies: FALLBACK_OTP });
    const steps = advice.guestNextSteps.join('\n');
    expect(steps).toMatch(/30 minutes/);
    expect(steps).toMatch(/24 hours/);
    expect(steps).toMatch(/surest way in is the Contoso \(demo\) sign-in link/);
    expect(steps).toContain('"Sign-in options", then "Sign in to an organization"');
    // The link itself is on the card once (tenantSignInUrl), not again inside the steps.
    expect(steps).not.toContain('https://');
    expect(advice.tenantSignInUrl).toBe(LINK);
  });

  it('warns that invitations may be refused when only admins and Guest Inviters may invite', () => {
    const advice = decide('jane@fabrikam.com', { policies: policies((p) => { p.allowInvitesFrom = 'adminsAndGuestInviters'; }), tenant: FABRIKAM });
    expect(advice.subject).toBe('newGuest');
    expect(advice.warnings.join(' ')).toMatch(/Guest Inviters/);
  });
});

/**
 * The four documented rules the advice follows (sources cited in src/domain/signInRules.ts):
 * consumer Microsoft domains, per-user work-or-school discovery, providers turned off since the
 * guest redeemed, and the current one-time passcode sign-in guidance.
 */
describe('rule 1: Microsoft consumer domains are personal Microsoft accounts', () => {
  it.each([
    ['kim@outlook.com', OTP_DEFAULT],
    ['kim@hotmail.com', OTP_DEFAULT],
    ['kim@live.com', OTP_DEFAULT],
    ['kim@msn.com', OTP_DEFAULT],
    ['kim@hotmail.co.uk', OTP_DEFAULT],
    ['kim@outlook.fr', OTP_DEFAULT],
    ['kim@live.com.au', OTP_DEFAULT],
    ['Kim@Hotmail.DE', OTP_DEFAULT],
    ['kim@outlook.com', OTP_OFF],
    ['kim@outlook.com', FALLBACK_MSA],
  ])('%s signs in with a personal Microsoft account, no "if they have one"', (email, p) => {
    const advice = decide(email, { policies: p });
    expect(advice).toMatchObject({ method: 'microsoftAccount', otherwise: null, confidence: 'certain', syncAvailable: false, tenantSignInUrl: null });
    expect(advice.reasons.join(' ')).toMatch(/consumer domains: every address there is a personal Microsoft account/);
    expect(advice.reasons.join(' ')).not.toMatch(/cannot be known in advance/);
  });

  it.each([
    ['kim@outlook.example.org'],
    ['kim@myoutlook.com'],
    ['kim@livestock.com'],
    ['kim@example.org'],
  ])('%s is not a consumer domain: "if they have one" stays', (email) => {
    expect(decide(email)).toMatchObject({ method: 'microsoftAccount', otherwise: 'emailOneTimePasscode', confidence: 'depends' });
  });

  it('a tenant that always falls back to a passcode still sends consumer addresses a code', () => {
    expect(decide('kim@outlook.com', { policies: FALLBACK_OTP })).toMatchObject({ method: 'emailOneTimePasscode' });
  });

  it.each([['outlook.com', true], ['hotmail.it', true], ['msn.com', true], ['gmail.com', false], ['outlook.office.com', false]])(
    'isMicrosoftConsumerDomain(%s) is %s',
    (domain, expected) => expect(isMicrosoftConsumerDomain(domain)).toBe(expected),
  );
});

describe('rule 2: work-or-school discovery is per user, so an Entra domain is "likely", with why', () => {
  it.each([
    ['default order: a user missing from the tenant gets a personal account or a code', policies(), /a personal Microsoft account or a one-time passcode sent by email instead/],
    ['OTP off: a personal account or a new one', OTP_OFF, /a personal Microsoft account or a new personal Microsoft account \(created at sign-in\) instead/],
    ['fallback OTP: a code', FALLBACK_OTP, /they get a one-time passcode sent by email instead/],
  ])('%s', (_name, p, fallbackText) => {
    const advice = decide('jane@fabrikam.com', { policies: p, tenant: FABRIKAM });
    expect(advice).toMatchObject({ method: 'workOrSchoolAccount', confidence: 'likely' });
    const why = advice.reasons.join(' ');
    expect(why).toMatch(/most likely sign in with their work or school account/);
    expect(why).toMatch(/Microsoft checks the person, not only the domain/);
    expect(why).toMatch(fallbackText);
  });
});

describe('rule 3: a guest whose sign-in provider was turned off needs a redemption reset', () => {
  const OTP_DISABLED = OTP_OFF;
  const FEDERATION_REMOVED = policies((p) => {
    p.federatedDomains = [];
  });
  it.each([
    ['Google guest, Google federation removed', 'sam@gmail.com', 'google.com', GOOGLE_OFF, /removed Google federation/],
    ['passcode guest, one-time passcode turned off', 'kim@example.org', 'mail', OTP_DISABLED, /turned email one-time passcode off/],
    ['SAML guest, federation removed', 'pat@wingtiptoys.com', DEMO.samlIssuer, FEDERATION_REMOVED, /no longer has that federation/],
  ])('%s: cannot sign in until an admin resets their redemption', (_name, email, issuer, p, why) => {
    const advice = decide(email, { policies: p, user: guest(email, 'Accepted', issuer) });
    expect(advice.redemptionResetNeeded).toMatch(why);
    expect(advice.warnings[0]).toMatch(/cannot sign in any more/);
    expect(advice.warnings[0]).toMatch(/An admin must reset their redemption/);
    expect(advice.guestNextSteps).toEqual([expect.stringMatching(/Ask an admin to reset your sign-in \(redemption\): until then you cannot sign in here/)]);
  });

  it.each([
    ['Google guest, Google federation still on', 'sam@gmail.com', 'google.com', policies()],
    ['passcode guest, passcode still on', 'kim@example.org', 'mail', policies()],
    ['SAML guest, federation still there', 'pat@wingtiptoys.com', DEMO.samlIssuer, policies()],
    ['work account guest, passcode off (not their provider)', 'jane@fabrikam.com', 'ExternalAzureAD', OTP_OFF],
    ['Microsoft account guest, Google off (not their provider)', 'kim@outlook.com', 'MicrosoftAccount', GOOGLE_OFF],
  ])('%s: no reset needed', (_name, email, issuer, p) => {
    const advice = decide(email, { policies: p, user: guest(email, 'Accepted', issuer) });
    expect(advice.redemptionResetNeeded ?? null).toBeNull();
    expect(advice.guestNextSteps.join(' ')).not.toMatch(/cannot sign in here/);
  });
});

describe('rule 4: one-time passcode guests get the current sign-in guidance', () => {
  it.each([
    ['new guest, passcode fallback', 'kim@example.org', { policies: FALLBACK_OTP }],
    ['new guest, passcode if no Microsoft account', 'kim@example.org', {}],
    ['accepted passcode guest', 'kim@example.org', { user: guest('kim@example.org', 'Accepted', 'mail') }],
  ] as const)('%s: the tenant link is the surest, "Sign in to an organization" also works', (_name, email, opts) => {
    const steps = decide(email, opts).guestNextSteps.join(' ');
    expect(steps).toMatch(/surest way in is the Contoso \(demo\) sign-in link/);
    expect(steps).toMatch(/"Sign-in options", then "Sign in to an organization", and type Contoso \(demo\)/);
    expect(steps).not.toMatch(/only|Always sign in through/);
  });

  it('otpSignInAdvice can speak about the guest', () => {
    expect(otpSignInAdvice('Contoso', 'they')).toMatch(/they can also choose "Sign-in options"/);
  });
});

describe('decideSignIn: someone already a guest', () => {
  it('OTP guest whose domain now has an Entra tenant keeps getting codes until an admin resets redemption', () => {
    const advice = decide('jordan.lee@tailspintoys.com', { tenant: TAILSPIN, user: guest('jordan.lee@tailspintoys.com', 'Accepted', 'mail') });
    expect(advice).toMatchObject({
      subject: 'existingGuest',
      method: 'emailOneTimePasscode',
      confidence: 'certain',
      syncAvailable: false,
      tenantSignInUrl: LINK,
      existing: { state: 'Accepted', redeemedWith: 'emailOneTimePasscode' },
    });
    expect(advice.reasons.join(' ')).toMatch(/keeps getting codes until an admin resets/);
    expect(advice.guestNextSteps.join(' ')).toMatch(/reset your sign-in/);
  });

  it('OTP guest whose domain still has no tenant is not told to ask for a reset', () => {
    const advice = decide('kim@example.org', { user: guest('kim@example.org', 'Accepted', 'mail') });
    expect(advice.method).toBe('emailOneTimePasscode');
    expect(advice.guestNextSteps.join(' ')).not.toMatch(/reset/);
    expect(advice.guestNextSteps.join(' ')).toMatch(/30 minutes/);
  });

  it.each([
    ['ExternalAzureAD', 'workOrSchoolAccount', true],
    ['MicrosoftAccount', 'microsoftAccount', false],
    ['google.com', 'googleFederation', false],
    ['mail', 'emailOneTimePasscode', false],
    [DEMO.samlIssuer, 'samlWsFedFederation', false],
  ] as const)('accepted guest with issuer %s redeemed with %s', (issuer, method, sync) => {
    const advice = decide('pat@wingtiptoys.com', { user: guest('pat@wingtiptoys.com', 'Accepted', issuer) });
    expect(advice).toMatchObject({ subject: 'existingGuest', method, syncAvailable: sync, existing: { redeemedWith: method } });
  });

  it('pending guest: says not accepted yet and predicts the method', () => {
    const advice = decide('lee.gu@fabrikam.com', { tenant: FABRIKAM, user: guest('lee.gu@fabrikam.com', 'PendingAcceptance', null) });
    expect(advice).toMatchObject({
      subject: 'existingGuest',
      method: 'workOrSchoolAccount',
      existing: { state: 'PendingAcceptance', redeemedWith: null },
    });
    expect(advice.reasons[0]).toMatch(/has not accepted/);
  });

  it('pending guest whose domain got blocked: redemption will fail', () => {
    const advice = decide('chris@litware.com', { user: guest('chris@litware.com', 'PendingAcceptance', null) });
    expect(advice.subject).toBe('existingGuest');
    expect(advice.warnings.join(' ')).toMatch(/redemption will fail/);
  });

  it('accepted guest is not refused by the B2B block list (it does not apply after redemption)', () => {
    const advice = decide('chris@litware.com', { user: guest('chris@litware.com', 'Accepted', 'mail') });
    expect(advice.subject).toBe('existingGuest');
    expect(advice.warnings.join(' ')).not.toMatch(/block list/);
  });

  it('unknown issuer: likely, not certain', () => {
    const advice = decide('kim@outlook.com', { user: guest('kim@outlook.com', 'Accepted', 'facebook.com') });
    expect(advice).toMatchObject({ method: null, confidence: 'likely' });
  });

  it('an existing member found by a non-verified address is internal', () => {
    const member: DirectoryUser = { ...guest('megan@personal.example', 'Accepted', null), kind: 'member', externalUserState: null };
    expect(decide('megan@personal.example', { user: member }).subject).toBe('internalUser');
  });
});

describe('methodFromIdentities and labels', () => {
  it('ignores the tenant-own identity of a member and reads the first guest issuer', () => {
    const p = policies();
    expect(methodFromIdentities([{ signInType: 'userPrincipalName', issuer: 'contoso.onmicrosoft.com', issuerAssignedId: null }], p)).toBeNull();
    expect(
      methodFromIdentities(
        [
          { signInType: 'userPrincipalName', issuer: 'contoso.onmicrosoft.com', issuerAssignedId: null },
          { signInType: 'federated', issuer: 'ExternalAzureAD', issuerAssignedId: null },
        ],
        p,
      ),
    ).toBe('workOrSchoolAccount');
    expect(methodFromIdentities([], p)).toBeNull();
  });

  it('every method has a plain-English label', () => {
    expect(methodLabel('emailOneTimePasscode')).toBe('one-time passcode sent by email');
    expect(methodLabel('workOrSchoolAccount')).toMatch(/work or school/);
  });

  it.each([
    ['workOrSchoolAccount', 'they', 'a work or school account (Microsoft Entra ID)'],
    ['samlWsFedFederation', 'they', "their organisation's own sign-in (SAML/WS-Fed federation)"],
    ['samlWsFedFederation', 'you', "your organisation's own sign-in (SAML/WS-Fed federation)"],
    ['googleFederation', 'they', 'a Google account'],
    ['googleFederation', 'you', 'a Google account'],
    ['microsoftAccount', 'they', 'a personal Microsoft account'],
    ['emailOneTimePasscode', 'you', 'a one-time passcode sent by email'],
    ['createMicrosoftAccount', 'they', 'a new personal Microsoft account (created at sign-in)'],
  ] as const)('after "sign in with", %s reads (to %s) "%s"', (method, reader, expected) => {
    expect(methodWithArticle(method, reader)).toBe(expected);
  });

  it.each(['workOrSchoolAccount', 'samlWsFedFederation', 'googleFederation', 'microsoftAccount', 'emailOneTimePasscode', 'createMicrosoftAccount'] as const)(
    '%s never reads "with a a …" or "with a their …"',
    (method) => {
      for (const reader of ['they', 'you'] as const) {
        expect(`with ${methodWithArticle(method, reader)}`).not.toMatch(/\b(a|an) (a|an|their|your)\b/);
      }
      expect(methodWithArticle(method)).toBe(methodWithArticle(method, 'they'));
    },
  );

  it('an accepted guest is told how they signed in without a doubled article', () => {
    const saml = decide('pat@wingtiptoys.com', { user: guest('pat@wingtiptoys.com', 'Accepted', DEMO.samlIssuer) });
    expect(saml.reasons.join(' ')).toContain("They signed in with their organisation's own sign-in");
    const google = decide('sam@gmail.com', { user: guest('sam@gmail.com', 'Accepted', 'google.com') });
    expect(google.reasons.join(' ')).toContain('They signed in with a Google account;');
  });

  it('the tenant sign-in link carries the tenant id', () => {
    expect(signInUrlFor(DEMO.tenantId)).toBe('https://myapps.microsoft.com/?tenantid=c0a7f3e2-1d4b-4e8a-9f6c-2b5d8e1a7c30');
  });
});
