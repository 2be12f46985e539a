import {
  assessInactivity,
  latestSignIn,
  NO_EXCLUSIONS,
  parseInactivityExclusions,
  type GuestActivityInput,
  type InactivitySettings,
  type SignInEvidence,
} from '../../../src/domain/inactivity';

const NOW = new Date('2026-12-01T12:00:00Z');
const daysAgo = (d: number): string => new Date(NOW.getTime() - d * 86_400_000).toISOString();
const settings: InactivitySettings = { inactiveDays: 90, exclusions: NO_EXCLUSIONS };

const known = (interactive: number | null | string, nonInteractive: number | null | string, successful: number | null | string = null): SignInEvidence => {
  const at = (v: number | null | string): string | null => (typeof v === 'number' ? daysAgo(v) : v);
  return { kind: 'known', times: { lastSignInDateTime: at(interactive), lastNonInteractiveSignInDateTime: at(nonInteractive), lastSuccessfulSignInDateTime: at(successful) } };
};

const guest = (signIns: SignInEvidence, over: Partial<GuestActivityInput> = {}): GuestActivityInput => ({
  userId: '6f1c2b3a-0004-4c5d-8e9f-0a1b2c3d4e04',
  email: 'jordan.lee@tailspintoys.com',
  invitedAt: daysAgo(400),
  acceptedAt: daysAgo(399),
  redeemed: true,
  signIns,
  ...over,
});

describe('inactivity rules, on a table of sign-in shapes (INACTIVE_DAYS=90)', () => {
  it.each<[string, GuestActivityInput, { status: string; basis?: string; days?: number; reason?: string }]>([
    ['interactive only, recent: active', guest(known(10, null)), { status: 'active', basis: 'interactive', days: 10 }],
    ['interactive only, long ago: inactive', guest(known(120, null)), { status: 'inactive', basis: 'interactive', days: 120 }],
    // The Teams guest: interactive sign-ins months old, token refreshes yesterday. Counting only interactive would flag them.
    ['non-interactive only (a Teams guest): active', guest(known(null, 1)), { status: 'active', basis: 'nonInteractive', days: 1 }],
    ['both, the interactive one old and the non-interactive recent: the latest wins', guest(known(200, 3)), { status: 'active', basis: 'nonInteractive', days: 3 }],
    ['both old: inactive from the later one', guest(known(300, 95)), { status: 'inactive', basis: 'nonInteractive', days: 95 }],
    ['the successful sign-in is the latest', guest(known(150, 140, 20)), { status: 'active', basis: 'successful', days: 20 }],
    ['exactly INACTIVE_DAYS: inactive', guest(known(90, null)), { status: 'inactive', days: 90 }],
    ['one day short: active', guest(known(89, null)), { status: 'active', days: 89 }],
    // Never redeemed: no sign-in at all; counts from the invitation, not skipped.
    ['never redeemed, invited 10 days ago: active', guest(known(null, null), { redeemed: false, acceptedAt: null, invitedAt: daysAgo(10) }), { status: 'active', basis: 'invitation', days: 10 }],
    ['never redeemed, invited 120 days ago: inactive', guest(known(null, null), { redeemed: false, acceptedAt: null, invitedAt: daysAgo(120) }), { status: 'inactive', basis: 'invitation', days: 120 }],
    // Blank: nothing recorded is not "long ago". A redeemed guest counts from the redemption.
    ['none recorded, redeemed 30 days ago: active from the redemption', guest(known(null, null), { acceptedAt: daysAgo(30) }), { status: 'active', basis: 'redemption', days: 30 }],
    ['none recorded, redeemed 200 days ago: inactive from the redemption', guest(known(null, null), { acceptedAt: daysAgo(200) }), { status: 'inactive', basis: 'redemption', days: 200 }],
    ['blank strings are not dates', guest(known('', '  ', ''), { acceptedAt: daysAgo(5) }), { status: 'active', basis: 'redemption', days: 5 }],
    ['a malformed date is ignored, the valid one counts', guest(known('not a date', 4)), { status: 'active', basis: 'nonInteractive', days: 4 }],
    ['none recorded and no date to count from: unknown, not inactive', guest(known(null, null), { acceptedAt: null, invitedAt: null }), { status: 'unknown', reason: 'noDate' }],
    // No AuditLog.Read.All, or no Entra ID P1: unknown, never inactive, even for someone invited years ago.
    ['no permission: unknown', guest({ kind: 'unavailable', reason: 'permissionMissing' }, { invitedAt: daysAgo(900) }), { status: 'unknown', reason: 'permissionMissing' }],
    ['no licence: unknown', guest({ kind: 'unavailable', reason: 'licenceMissing' }), { status: 'unknown', reason: 'licenceMissing' }],
  ])('%s', (_name, input, expected) => {
    expect(assessInactivity(settings, input, NOW)).toMatchObject(expected);
  });

  it('follows INACTIVE_DAYS', () => {
    const input = guest(known(40, null));
    expect(assessInactivity({ ...settings, inactiveDays: 30 }, input, NOW).status).toBe('inactive');
    expect(assessInactivity({ ...settings, inactiveDays: 60 }, input, NOW).status).toBe('active');
  });
});

describe('INACTIVE_EXCLUDE', () => {
  const parsed = parseInactivityExclusions('tailspintoys.com, *.fabrikam.com ; priya.shah@gmail.com 6F1C2B3A-0103-4C5D-8E9F-0A1B2C3D4F03');
  if (!('exclusions' in parsed)) throw new Error('expected the exclusions to parse');
  const withExclusions: InactivitySettings = { inactiveDays: 90, exclusions: parsed.exclusions };
  const old = known(300, 290);

  it.each<[string, Partial<GuestActivityInput>, string | null]>([
    ['a domain', { email: 'Jordan.Lee@TailspinToys.com' }, 'domain'],
    ['a subdomain under *.', { email: 'ann@eu.fabrikam.com' }, 'domain'],
    ['not the parent of *.', { email: 'ann@fabrikam.com' }, null],
    ['an address', { email: 'priya.shah@gmail.com' }, 'guest'],
    ['an object id, whatever its case', { email: 'omar.haddad@outlook.com', userId: '6f1c2b3a-0103-4c5d-8e9f-0a1b2c3d4f03' }, 'guest'],
    ['anyone else', { email: 'someone@contoso-partner.net' }, null],
  ])('excludes by %s', (_name, over, by) => {
    const verdict = assessInactivity(withExclusions, guest(old, over), NOW);
    if (by === null) expect(verdict.status).toBe('inactive');
    else expect(verdict).toMatchObject({ status: 'excluded', by, basis: 'nonInteractive' });
  });

  it('an excluded guest is excluded even when the sign-ins are unavailable', () => {
    expect(assessInactivity(withExclusions, guest({ kind: 'unavailable', reason: 'permissionMissing' }), NOW)).toMatchObject({ status: 'excluded', by: 'domain' });
  });

  it('refuses an entry that is none of domain, *.domain, address or object id', () => {
    expect(parseInactivityExclusions('fabrikam.com, not_a_domain, @x')).toEqual({
      problems: ['"not_a_domain" is not a domain, *.domain, address or object id', '"@x" is not a domain, *.domain, address or object id'],
    });
    expect(parseInactivityExclusions('')).toEqual({ exclusions: { domains: [], emails: [], userIds: [] } });
  });
});

describe('latestSignIn', () => {
  it('is null when nothing is recorded', () => {
    expect(latestSignIn({ lastSignInDateTime: null, lastNonInteractiveSignInDateTime: null, lastSuccessfulSignInDateTime: null })).toBeNull();
  });
});
