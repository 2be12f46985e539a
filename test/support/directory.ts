/**
 * Builders for tests that need a directory: the demo tenant in a FakeDirectory with a clock
 * that only moves when the test says so.
 */
import type { Clock } from '../../src/domain/clock';
import { FakeDirectory } from '../../src/adapters/demo/FakeDirectory';
import { demoTenantFixture, DEMO } from '../../src/adapters/demo/demoTenant';
import type { FixtureGroup, FixtureUser, TenantFixture } from '../../src/adapters/demo/fixture';

export { DEMO };

/** The instant demo directories start at. */
export const DEMO_NOW = '2025-01-15T09:00:00.000Z';

export interface TestClock extends Clock {
  (): Date;
  /** The same instant, as the domain Clock (src/domain/clock.ts) reads it. */
  now(): Date;
  /** Moves the clock forward. */
  advance(ms: number): void;
  set(iso: string): void;
}

export function fixedClock(iso: string = DEMO_NOW): TestClock {
  let now = Date.parse(iso);
  const clock = (() => new Date(now)) as TestClock;
  clock.now = () => new Date(now);
  clock.advance = (ms: number) => {
    now += ms;
  };
  clock.set = (next: string) => {
    now = Date.parse(next);
  };
  return clock;
}

/**
 * A FakeDirectory seeded with the demo tenant. `tweak` changes the fixture first, e.g.
 * `demoDirectory({ tweak: (t) => { t.policies.allowInvitesFrom = 'none'; } })`.
 */
export function demoDirectory(
  options: { clock?: TestClock; tweak?: (fixture: TenantFixture) => void; idSeed?: number } = {},
): FakeDirectory {
  const fixture = demoTenantFixture();
  options.tweak?.(fixture);
  return new FakeDirectory(fixture, { clock: options.clock ?? fixedClock(), idSeed: options.idSeed ?? 1 });
}

/** The nth extra partner guest (partner<n>@northwind.example), invited and not yet accepted. */
export function partnerGuest(n: number, overrides: Partial<FixtureUser> = {}): FixtureUser {
  const mail = `partner${n}@northwind.example`;
  return {
    id: `c0ffee00-0000-4000-8000-${n.toString().padStart(12, '0')}`,
    displayName: `Partner ${n}`,
    mail,
    userPrincipalName: `partner${n}_northwind.example#EXT#@contoso.onmicrosoft.com`,
    otherMails: [mail],
    proxyAddresses: [`SMTP:${mail}`],
    kind: 'guest',
    externalUserState: 'PendingAcceptance',
    externalUserStateChangeDateTime: '2025-01-01T00:00:00Z',
    identities: [],
    ...overrides,
  };
}

/** The nth extra group ("Lab <n>"): no mail, no site and nobody in it unless given. */
export function labGroup(n: number, overrides: Partial<FixtureGroup> = {}): FixtureGroup {
  return {
    id: `d0d0d0d0-0000-4000-8000-${n.toString().padStart(12, '0')}`,
    displayName: `Lab ${n}`,
    mail: null,
    siteUrl: null,
    owners: [],
    members: [],
    ...overrides,
  };
}
