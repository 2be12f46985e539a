import type { AccessToken } from '@azure/identity';
import { CachingDirectory, READ_TTL_MS } from '../../../src/adapters/directory/CachingDirectory';
import { DirectoryError } from '../../../src/usecases/ports/Directory';
import { GraphDirectory } from '../../../src/adapters/graph/GraphDirectory';
import { SharedTokenCredential } from '../../../src/adapters/graph/sharedTokenCredential';
import { DEMO, demoDirectory } from '../../support/directory';
import { startGraphServer } from '../../support/graphServer';

const MINUTE = 60_000;
const TTL = 5 * MINUTE;

function setup() {
  let now = Date.parse('2025-01-15T09:00:00Z');
  const clock = { now: () => new Date(now), advance: (ms: number) => (now += ms) };
  const fake = demoDirectory();
  const directory = new CachingDirectory(fake, { policyTtlMs: TTL, clock });
  return { fake, directory, clock };
}

/** Lets queued promise callbacks (a background refresh) run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('CachingDirectory: tenant policies', () => {
  it('many readers at once share one read, and get one frozen snapshot', async () => {
    const { fake, directory } = setup();
    const all = await Promise.all(Array.from({ length: 20 }, () => directory.readPolicies()));
    expect(fake.callCount('readPolicies')).toBe(1);
    expect(new Set(all).size).toBe(1);
    const [policies] = all;
    expect(Object.isFrozen(policies)).toBe(true);
    expect(() => {
      (policies as { verifiedDomains: string[] }).verifiedDomains.push('evil.example');
    }).toThrow(/not extensible/);
  });

  it('serves the snapshot for the TTL, then at once while one background read replaces it', async () => {
    const { fake, directory, clock } = setup();
    await directory.readPolicies();
    clock.advance(TTL - 1);
    await directory.readPolicies();
    expect(fake.callCount('readPolicies')).toBe(1);

    fake.setPolicies({ allowInvitesFrom: 'none' });
    clock.advance(2);
    const served = await directory.readPolicies();
    expect(served.allowInvitesFrom).toBe('adminsGuestInvitersAndAllMembers');
    await directory.readPolicies();
    expect(fake.callCount('readPolicies')).toBe(2);
    await settle();
    expect((await directory.readPolicies()).allowInvitesFrom).toBe('none');
    expect(fake.callCount('readPolicies')).toBe(2);
  });

  it('keeps the snapshot when a background refresh fails, and makes readers wait once it is twice the TTL old', async () => {
    const { fake, directory, clock } = setup();
    await directory.readPolicies();
    clock.advance(TTL + 1);
    fake.failNext('readPolicies', new DirectoryError('transient', 'Graph is having a moment'));
    await expect(directory.readPolicies()).resolves.toMatchObject({ tenantId: DEMO.tenantId });
    await settle();
    clock.advance(TTL);
    fake.failNext('readPolicies', new DirectoryError('transient', 'Graph is having a moment'));
    await expect(directory.readPolicies()).rejects.toThrow('Graph is having a moment');
    await expect(directory.readPolicies()).resolves.toMatchObject({ tenantId: DEMO.tenantId });
  });

  it('forgets the snapshot when Graph refuses an invitation for a tenant setting', async () => {
    const { fake, directory } = setup();
    expect((await directory.readPolicies()).b2bDomainPolicy).toEqual({ mode: 'blockList', domains: ['litware.com'] });
    fake.setPolicies({ b2bDomainPolicy: { mode: 'blockList', domains: ['litware.com', 'fabrikam.com'] } });
    await expect(
      directory.invite({ email: 'jane@fabrikam.com', displayName: 'Jane', redirectUrl: DEMO.groups.projectFalcon.siteUrl, sendInvitationMessage: false }),
    ).rejects.toMatchObject({ code: 'forbiddenByPolicy' });
    expect((await directory.readPolicies()).b2bDomainPolicy).toEqual({ mode: 'blockList', domains: ['litware.com', 'fabrikam.com'] });
  });

  it('with a TTL of 0 reads the policies for every caller', async () => {
    const fake = demoDirectory();
    const directory = new CachingDirectory(fake, { policyTtlMs: 0 });
    await directory.readPolicies();
    await directory.readPolicies();
    expect(fake.callCount('readPolicies')).toBe(2);
  });
});

describe('CachingDirectory: people, groups and sites', () => {
  it('keeps a user record briefly, then reads it again', async () => {
    const { fake, directory, clock } = setup();
    await directory.getUser(DEMO.users.jordan.id);
    await directory.getUser(DEMO.users.jordan.id);
    expect(fake.callCount('getUser')).toBe(1);
    clock.advance(READ_TTL_MS.user);
    await directory.getUser(DEMO.users.jordan.id);
    expect(fake.callCount('getUser')).toBe(2);
  });

  it('an invitation forgets what was known about that address', async () => {
    const { directory } = setup();
    expect(await directory.findUserByEmail('new.partner@fabrikam.com')).toBeNull();
    const invited = await directory.invite({
      email: 'New.Partner@fabrikam.com',
      displayName: 'New Partner',
      redirectUrl: DEMO.groups.projectFalcon.siteUrl,
      sendInvitationMessage: false,
    });
    expect((await directory.findUserByEmail('new.partner@fabrikam.com'))?.id).toBe(invited.userId);
  });

  it('adding members forgets those users’ groups; membership checks are never kept', async () => {
    const { fake, directory } = setup();
    const before = await directory.listMemberGroups(DEMO.users.leeGu.id);
    expect(before.map((g) => g.id)).not.toContain(DEMO.groups.marketing.id);
    expect(await directory.isMember(DEMO.groups.marketing.id, DEMO.users.leeGu.id)).toBe(false);
    await directory.addMembers(DEMO.groups.marketing.id, [DEMO.users.leeGu.id]);
    expect((await directory.listMemberGroups(DEMO.users.leeGu.id)).map((g) => g.id)).toContain(DEMO.groups.marketing.id);
    expect(await directory.isMember(DEMO.groups.marketing.id, DEMO.users.leeGu.id)).toBe(true);
    expect(fake.callCount('isMember')).toBe(2);
  });

  it('hands out frozen records, so one caller cannot change another’s copy', async () => {
    const { directory } = setup();
    const groups = await directory.listOwnedGroups(DEMO.users.megan.id);
    expect(() => groups.sort((a, b) => b.displayName.localeCompare(a.displayName))).toThrow(/read only/);
  });

  it('ownership is re-read once its short TTL has passed', async () => {
    const { fake, directory, clock } = setup();
    expect(await directory.isOwner(DEMO.groups.projectFalcon.id, DEMO.users.megan.id)).toBe(true);
    const falcon = fake.state.group(DEMO.groups.projectFalcon.id);
    if (falcon) falcon.owners = [];
    expect(await directory.isOwner(DEMO.groups.projectFalcon.id, DEMO.users.megan.id)).toBe(true);
    clock.advance(READ_TTL_MS.owners);
    expect(await directory.isOwner(DEMO.groups.projectFalcon.id, DEMO.users.megan.id)).toBe(false);
  });
});

describe('CachingDirectory: guest lifecycle', () => {
  const { megan, jordan, leeGu } = DEMO.users;
  const falcon = DEMO.groups.projectFalcon.id;

  it('forgets a deleted guest by id and by address', async () => {
    const { directory } = setup();
    expect(await directory.getUser(leeGu.id)).not.toBeNull();
    expect(await directory.findUserByEmail(leeGu.mail)).not.toBeNull();
    await directory.deleteGuest(leeGu.id);
    expect(await directory.getUser(leeGu.id)).toBeNull();
    expect(await directory.findUserByEmail(leeGu.mail)).toBeNull();
  });

  it("forgets a guest's groups when they leave one", async () => {
    const { directory } = setup();
    expect((await directory.listMemberGroups(jordan.id)).map((g) => g.id)).toEqual([falcon]);
    expect(await directory.removeMember(falcon, jordan.id)).toBe('removed');
    expect(await directory.listMemberGroups(jordan.id)).toEqual([]);
  });

  it('forgets even when the write fails (the directory may have changed anyway)', async () => {
    const { fake, directory } = setup();
    await directory.getUser(leeGu.id);
    fake.failNext('deleteGuest', new DirectoryError('transient', 'no answer'));
    fake.removeUser(leeGu.id);
    await expect(directory.deleteGuest(leeGu.id)).rejects.toThrow('no answer');
    expect(await directory.getUser(leeGu.id)).toBeNull();
  });

  it('keeps none of the lifecycle reads: a sponsor who left this minute is seen at once', async () => {
    const { fake, directory } = setup();
    await directory.addSponsor(jordan.id, megan.id);
    expect(await directory.accountStatus(megan.id)).toBe('active');
    expect((await directory.listSponsors(jordan.id))[0]?.accountEnabled).toBe(true);
    fake.setAccountEnabled(megan.id, false);
    expect(await directory.accountStatus(megan.id)).toBe('disabled');
    expect((await directory.listSponsors(jordan.id))[0]?.accountEnabled).toBe(false);
    await directory.setGuestSignIn(jordan.id, false);
    expect((await directory.getGuestLifecycle(jordan.id))?.accountEnabled).toBe(false);
    expect(fake.callCount('getGuestLifecycle')).toBe(1);
    expect(fake.callCount('accountStatus')).toBe(2);
  });
});

describe('SharedTokenCredential', () => {
  function slowCredential(lifetimeMs = 3_600_000) {
    let calls = 0;
    let inFlight = 0;
    let maxInFlight = 0;
    const credential = {
      getToken: async (): Promise<AccessToken> => {
        calls++;
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 20));
        inFlight--;
        return { token: `token-${calls}`, expiresOnTimestamp: Date.now() + lifetimeMs };
      },
    };
    return { credential, calls: () => calls, maxInFlight: () => maxInFlight };
  }

  it('sends one token request for many callers at once, and reuses the token until near its expiry', async () => {
    const slow = slowCredential();
    let now = Date.now();
    const shared = new SharedTokenCredential(slow.credential, () => now);
    const tokens = await Promise.all(Array.from({ length: 8 }, () => shared.getToken('https://graph.microsoft.com/.default')));
    expect(slow.calls()).toBe(1);
    expect(new Set(tokens.map((t) => t?.token))).toEqual(new Set(['token-1']));
    now += 50 * MINUTE;
    await shared.getToken('https://graph.microsoft.com/.default');
    expect(slow.calls()).toBe(1);
    now += 6 * MINUTE;
    expect((await shared.getToken('https://graph.microsoft.com/.default'))?.token).toBe('token-2');
  });

  it('a policy read through GraphDirectory (eight requests at once) asks for one token', async () => {
    const server = await startGraphServer(demoDirectory());
    try {
      const slow = slowCredential();
      const graph = new GraphDirectory({ credential: slow.credential, baseUrl: server.baseUrl, maxRetries: 0 });
      await graph.readPolicies();
      expect(server.requestLog.length).toBeGreaterThanOrEqual(8);
      expect(slow.calls()).toBe(1);
      expect(slow.maxInFlight()).toBe(1);
    } finally {
      await server.close();
    }
  });
});

describe('CachingDirectory: last sign-ins', () => {
  it('keeps a guest’s sign-ins for READ_TTL_MS.signIns (a review card re-reads them after every click), then reads Graph again', async () => {
    const { fake, directory, clock } = setup();
    const jordan = DEMO.users.jordan.id;
    fake.setSignInActivity(jordan, { lastSignInDateTime: null, lastNonInteractiveSignInDateTime: '2025-01-10T08:00:00Z', lastSuccessfulSignInDateTime: null });
    const first = await directory.getSignInActivity(jordan);
    await directory.getSignInActivity(jordan);
    expect(fake.callCount('getSignInActivity')).toBe(1);

    fake.setSignInActivity(jordan, { lastSignInDateTime: '2025-01-15T08:30:00Z', lastNonInteractiveSignInDateTime: null, lastSuccessfulSignInDateTime: null });
    clock.advance(READ_TTL_MS.signIns + 1);
    const later = await directory.getSignInActivity(jordan);
    expect(fake.callCount('getSignInActivity')).toBe(2);
    expect(first).toMatchObject({ kind: 'known', activity: { lastNonInteractiveSignInDateTime: '2025-01-10T08:00:00Z' } });
    expect(later).toMatchObject({ kind: 'known', activity: { lastSignInDateTime: '2025-01-15T08:30:00Z' } });
  });
});
