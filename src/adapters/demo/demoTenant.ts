/**
 * The embedded demo tenant "Contoso (demo)": what local mode runs against and what most tests
 * use. The ids and names are fixed so that tests, the Agents Playground's mock users and the
 * README can all refer to the same people.
 */
import type { UserIdentity } from '../../domain/tenant';
import type { FixtureUser, TenantFixture } from './fixture';

const DAY_MS = 24 * 60 * 60 * 1000;

const TENANT_ID = 'c0a7f3e2-1d4b-4e8a-9f6c-2b5d8e1a7c30';
const INITIAL_DOMAIN = 'contoso.onmicrosoft.com';

export const DEMO = {
  tenantId: TENANT_ID,
  tenantName: 'Contoso (demo)',
  verifiedDomains: ['contoso.com', INITIAL_DOMAIN],
  initialDomain: INITIAL_DOMAIN,
  users: {
    /** Site owner (Project Falcon, Marketing). */
    megan: { id: '6f1c2b3a-0001-4c5d-8e9f-0a1b2c3d4e01', displayName: 'Megan Bowen', mail: 'megan.bowen@contoso.com' },
    /** Member who owns nothing. */
    adele: { id: '6f1c2b3a-0002-4c5d-8e9f-0a1b2c3d4e02', displayName: 'Adele Vance', mail: 'adele.vance@contoso.com' },
    /** Admin and approver; owns Research. */
    alex: { id: '6f1c2b3a-0003-4c5d-8e9f-0a1b2c3d4e03', displayName: 'Alex Wilber', mail: 'alex.wilber@contoso.com' },
    /** Guest who redeemed with an email one-time passcode; tailspintoys.com has since got an Entra tenant. */
    jordan: { id: '6f1c2b3a-0004-4c5d-8e9f-0a1b2c3d4e04', displayName: 'Jordan Lee', mail: 'jordan.lee@tailspintoys.com' },
    /** Guest who has not redeemed yet. */
    leeGu: { id: '6f1c2b3a-0005-4c5d-8e9f-0a1b2c3d4e05', displayName: 'Lee Gu', mail: 'lee.gu@fabrikam.com' },
  },
  groups: {
    projectFalcon: {
      id: '7a2e9d41-0001-4b6c-9d8e-1f2a3b4c5d01',
      displayName: 'Project Falcon',
      siteUrl: 'https://contoso.sharepoint.com/sites/ProjectFalcon',
    },
    marketing: {
      id: '7a2e9d41-0002-4b6c-9d8e-1f2a3b4c5d02',
      displayName: 'Marketing',
      siteUrl: 'https://contoso.sharepoint.com/sites/Marketing',
    },
    research: {
      id: '7a2e9d41-0003-4b6c-9d8e-1f2a3b4c5d03',
      displayName: 'Research',
      siteUrl: 'https://contoso.sharepoint.com/sites/Research',
    },
    /** The approver group in local mode; no site. */
    guestApprovers: { id: '7a2e9d41-0004-4b6c-9d8e-1f2a3b4c5d04', displayName: 'Guest Approvers', siteUrl: null },
  },
  externalTenants: {
    fabrikam: { domain: 'fabrikam.com', tenantId: '0f8e7d6c-0001-4a5b-9c8d-7e6f5a4b3c21', displayName: 'Fabrikam' },
    tailspinToys: {
      domain: 'tailspintoys.com',
      tenantId: '0f8e7d6c-0002-4a5b-9c8d-7e6f5a4b3c22',
      displayName: 'Tailspin Toys',
    },
  },
  /** wingtiptoys.com: no Entra tenant, SAML-federated with this issuer. */
  samlDomain: 'wingtiptoys.com',
  samlIssuer: 'https://sts.wingtiptoys.com/adfs/services/trust',
  blockedDomains: ['litware.com'],
} as const;

/**
 * Guests at each stage of the guest lifecycle, for the demo (opt in with
 * `demoTenantFixture({ lifecycleStagesAt: now })`): their dates are relative to `now`, so an owner
 * sees the reminders right after start-up. All are members of Project Falcon, whose owner is
 * Megan. `invitedDaysAgo` dates the invitation (createdDateTime); `endsInDays` is the end of access
 * the lifecycle records should carry (negative: already ended), consistent with 180 days of access.
 */
export const DEMO_LIFECYCLE = {
  /** A colleague who left: still in the directory, sign-in blocked (accountEnabled=false), owns nothing. */
  departedSponsor: {
    id: '6f1c2b3a-0006-4c5d-8e9f-0a1b2c3d4e06',
    displayName: 'Diego Siciliani',
    mail: 'diego.siciliani@contoso.com',
  },
  guests: {
    /** Never redeemed, invited 10 days ago: the unredeemed reminder (7 days) is due; sponsor Megan. */
    unredeemed: {
      id: '6f1c2b3a-0101-4c5d-8e9f-0a1b2c3d4f01',
      displayName: 'Isabel Ruiz',
      mail: 'isabel.ruiz@fabrikam.com',
      invitedDaysAgo: 10,
      endsInDays: 170,
    },
    /** Redeemed (work account), access ends tomorrow: the 1-day renewal reminder is due; sponsor Megan. */
    endingTomorrow: {
      id: '6f1c2b3a-0102-4c5d-8e9f-0a1b2c3d4f02',
      displayName: 'Nora Quinn',
      mail: 'nora.quinn@tailspintoys.com',
      invitedDaysAgo: 179,
      endsInDays: 1,
    },
    /** Redeemed (Microsoft account), access ended yesterday and nobody acted: still in the group; sponsor Megan. */
    endedYesterday: {
      id: '6f1c2b3a-0103-4c5d-8e9f-0a1b2c3d4f03',
      displayName: 'Omar Haddad',
      mail: 'omar.haddad@outlook.com',
      invitedDaysAgo: 181,
      endsInDays: -1,
    },
    /** Redeemed (Google), access ends in 14 days, sponsor Diego has left: the reminder goes to the site's owners. */
    sponsorGone: {
      id: '6f1c2b3a-0104-4c5d-8e9f-0a1b2c3d4f04',
      displayName: 'Priya Shah',
      mail: 'priya.shah@gmail.com',
      invitedDaysAgo: 166,
      endsInDays: 14,
    },
  },
} as const;

/**
 * What Entra recorded of the demo guests' sign-ins (signInActivity), in days before `now`; null =
 * no sign-in of that kind. Each shape is one case of the inactivity rules (src/domain/inactivity.ts):
 * Jordan works in Teams (non-interactive sign-ins only lately), Omar has not signed in for months
 * (his access ends first anyway), Isabel never redeemed, Priya only ever appears as non-interactive
 * sign-ins and none for 100 days (inactive).
 */
export const DEMO_SIGN_INS: Readonly<Record<string, { interactive: number | null; nonInteractive: number | null; successful: number | null } | null>> = {
  [DEMO.users.jordan.id]: { interactive: 200, nonInteractive: 3, successful: 3 },
  [DEMO_LIFECYCLE.guests.unredeemed.id]: null,
  [DEMO_LIFECYCLE.guests.endingTomorrow.id]: { interactive: 6, nonInteractive: 1, successful: 1 },
  [DEMO_LIFECYCLE.guests.endedYesterday.id]: { interactive: 130, nonInteractive: 125, successful: 125 },
  [DEMO_LIFECYCLE.guests.sponsorGone.id]: { interactive: null, nonInteractive: 100, successful: null },
};

function demoSignIns(users: FixtureUser[], now: Date): void {
  const at = (days: number | null): string | null => (days === null ? null : new Date(now.getTime() - days * DAY_MS).toISOString());
  for (const user of users) {
    if (!Object.hasOwn(DEMO_SIGN_INS, user.id)) continue;
    const shape = DEMO_SIGN_INS[user.id];
    user.signInActivity = shape
      ? { lastSignInDateTime: at(shape.interactive), lastNonInteractiveSignInDateTime: at(shape.nonInteractive), lastSuccessfulSignInDateTime: at(shape.successful) }
      : null;
  }
}

/** The lifecycle-stage guests and the departed sponsor, dated relative to `now`. */
export function demoLifecycleUsers(now: Date): FixtureUser[] {
  const { departedSponsor, guests } = DEMO_LIFECYCLE;
  const { megan } = DEMO.users;
  const daysAgo = (days: number): string => new Date(now.getTime() - days * DAY_MS).toISOString();
  const stage = (
    person: (typeof guests)[keyof typeof guests],
    redeemed: { daysAgo: number; issuer: string } | null,
    sponsor: string,
  ): FixtureUser => ({
    ...guest(person, {
      externalUserState: redeemed ? 'Accepted' : 'PendingAcceptance',
      at: daysAgo(redeemed ? redeemed.daysAgo : person.invitedDaysAgo),
      identities: redeemed
        ? [{ signInType: 'federated', issuer: redeemed.issuer, issuerAssignedId: redeemed.issuer === 'ExternalAzureAD' ? null : person.mail }]
        : [],
    }),
    createdDateTime: daysAgo(person.invitedDaysAgo),
    sponsors: [sponsor],
  });
  return [
    { ...member(departedSponsor), accountEnabled: false, createdDateTime: '2022-09-12T08:00:00Z' },
    stage(guests.unredeemed, null, megan.id),
    stage(guests.endingTomorrow, { daysAgo: 178, issuer: 'ExternalAzureAD' }, megan.id),
    stage(guests.endedYesterday, { daysAgo: 180, issuer: 'MicrosoftAccount' }, megan.id),
    stage(guests.sponsorGone, { daysAgo: 165, issuer: 'google.com' }, departedSponsor.id),
  ];
}

/** Guests' userPrincipalName as Entra writes it: `jane_fabrikam.com#EXT#@contoso.onmicrosoft.com`. */
export function guestUserPrincipalName(email: string, initialDomain: string): string {
  return `${email.toLowerCase().replace('@', '_')}#EXT#@${initialDomain}`;
}

function member(person: { id: string; displayName: string; mail: string }): FixtureUser {
  const identities: UserIdentity[] = [
    { signInType: 'userPrincipalName', issuer: INITIAL_DOMAIN, issuerAssignedId: person.mail },
  ];
  return {
    id: person.id,
    displayName: person.displayName,
    mail: person.mail,
    userPrincipalName: person.mail,
    otherMails: [],
    proxyAddresses: [`SMTP:${person.mail}`],
    kind: 'member',
    externalUserState: null,
    externalUserStateChangeDateTime: null,
    identities,
    accountEnabled: true,
    createdDateTime: '2023-03-01T09:00:00Z',
    sponsors: [],
  };
}

function guest(
  person: { id: string; displayName: string; mail: string },
  state: {
    externalUserState: 'Accepted' | 'PendingAcceptance';
    at: string;
    identities: UserIdentity[];
    createdDateTime?: string;
  },
): FixtureUser {
  return {
    id: person.id,
    displayName: person.displayName,
    mail: person.mail,
    userPrincipalName: guestUserPrincipalName(person.mail, INITIAL_DOMAIN),
    otherMails: [person.mail],
    proxyAddresses: [`SMTP:${person.mail}`],
    kind: 'guest',
    externalUserState: state.externalUserState,
    externalUserStateChangeDateTime: state.at,
    identities: state.identities,
    accountEnabled: true,
    createdDateTime: state.createdDateTime ?? state.at,
    sponsors: [],
  };
}

/**
 * A fresh copy of the demo tenant each call: callers may change it freely. With
 * `lifecycleStagesAt`, the tenant also has the DEMO_LIFECYCLE guests (members of Project Falcon)
 * and their departed sponsor, dated relative to that instant, and the guests' sign-ins (DEMO_SIGN_INS).
 */
export function demoTenantFixture(options: { lifecycleStagesAt?: Date } = {}): TenantFixture {
  const fixture = baseFixture();
  if (options.lifecycleStagesAt) {
    const people = demoLifecycleUsers(options.lifecycleStagesAt);
    fixture.users.push(...people);
    const falcon = fixture.groups.find((g) => g.id === DEMO.groups.projectFalcon.id);
    falcon?.members.push(...Object.values(DEMO_LIFECYCLE.guests).map((g) => g.id));
    demoSignIns(fixture.users, options.lifecycleStagesAt);
  }
  return fixture;
}

function baseFixture(): TenantFixture {
  const { users, groups } = DEMO;
  return {
    tenantId: DEMO.tenantId,
    displayName: DEMO.tenantName,
    verifiedDomains: [...DEMO.verifiedDomains],
    initialDomain: DEMO.initialDomain,
    policies: {
      allowInvitesFrom: 'adminsGuestInvitersAndAllMembers',
      emailOtp: 'enabled',
      googleFederation: true,
      federatedDomains: [{ domain: DEMO.samlDomain, issuerUri: DEMO.samlIssuer, displayName: 'Wingtip Toys' }],
      redemptionPrecedence: null,
      b2bDomainPolicy: { mode: 'blockList', domains: [...DEMO.blockedDomains] },
      sharePoint: {
        sharingCapability: 'externalUserAndGuestSharing',
        sharingDomainRestrictionMode: 'none',
        sharingAllowedDomainList: [],
        sharingBlockedDomainList: [],
      },
    },
    users: [
      member(users.megan),
      member(users.adele),
      member(users.alex),
      guest(users.jordan, {
        externalUserState: 'Accepted',
        at: '2024-11-04T16:20:00Z',
        createdDateTime: '2024-10-28T10:05:00Z',
        identities: [{ signInType: 'federated', issuer: 'mail', issuerAssignedId: users.jordan.mail }],
      }),
      guest(users.leeGu, { externalUserState: 'PendingAcceptance', at: '2025-01-10T08:30:00Z', identities: [] }),
    ],
    groups: [
      {
        ...groups.projectFalcon,
        mail: 'projectfalcon@contoso.com',
        owners: [users.megan.id],
        members: [users.megan.id, users.adele.id, users.jordan.id],
      },
      { ...groups.marketing, mail: 'marketing@contoso.com', owners: [users.megan.id], members: [users.megan.id] },
      {
        ...groups.research,
        mail: 'research@contoso.com',
        owners: [users.alex.id],
        members: [users.alex.id, users.adele.id],
      },
      { ...groups.guestApprovers, mail: 'guestapprovers@contoso.com', owners: [], members: [users.alex.id] },
    ],
    externalDomains: [
      { domain: 'fabrikam.com', managedTenant: { tenantId: DEMO.externalTenants.fabrikam.tenantId, displayName: 'Fabrikam' } },
      {
        domain: 'tailspintoys.com',
        managedTenant: { tenantId: DEMO.externalTenants.tailspinToys.tenantId, displayName: 'Tailspin Toys' },
      },
      { domain: 'wingtiptoys.com', managedTenant: null },
      { domain: 'gmail.com', managedTenant: null },
      { domain: 'googlemail.com', managedTenant: null },
      { domain: 'litware.com', managedTenant: null },
    ],
  };
}
