import { DirectoryError } from '../../../src/usecases/ports/Directory';
import { DEMO, DEMO_NOW, demoDirectory, fixedClock } from '../../support/directory';

const invitation = { displayName: 'Jane Doe', redirectUrl: DEMO.groups.projectFalcon.siteUrl, sendInvitationMessage: false };

describe('FakeDirectory test hooks', () => {
  it('gives the same ids and redeem URLs to the same sequence of calls', async () => {
    const first = await demoDirectory().invite({ ...invitation, email: 'jane@outlook.com' });
    const second = await demoDirectory().invite({ ...invitation, email: 'jane@outlook.com' });
    expect(second).toEqual(first);
  });

  it('stamps invitations and redemptions with the injected clock', async () => {
    const clock = fixedClock();
    const fake = demoDirectory({ clock });
    const { userId } = await fake.invite({ ...invitation, email: 'jane@outlook.com' });
    expect((await fake.getUser(userId))?.externalUserStateChangeDateTime).toBe(DEMO_NOW);
    clock.advance(60_000);
    expect(fake.redeem(userId, 'emailOneTimePasscode').externalUserStateChangeDateTime).toBe('2025-01-15T09:01:00.000Z');
  });

  it('fails the next calls of one method with the given error, then recovers', async () => {
    const fake = demoDirectory();
    const boom = new DirectoryError('transient', 'Graph had a hiccup');
    fake.failNext('getGroup', boom, 2);
    await expect(fake.getGroup(DEMO.groups.research.id)).rejects.toBe(boom);
    await expect(fake.isOwner(DEMO.groups.research.id, DEMO.users.alex.id)).resolves.toBe(true);
    await expect(fake.getGroup(DEMO.groups.research.id)).rejects.toBe(boom);
    await expect(fake.getGroup(DEMO.groups.research.id)).resolves.toMatchObject({ displayName: 'Research' });
  });

  it('throttles the next calls with Retry-After and counts every attempt', async () => {
    const fake = demoDirectory();
    fake.throttle({ retryAfterMs: 1500, times: 2, methods: ['invite'] });
    const attempt = () => fake.invite({ ...invitation, email: 'jane@outlook.com' });
    await expect(attempt()).rejects.toMatchObject({ code: 'throttled', retryAfterMs: 1500, retryable: true });
    await expect(attempt()).rejects.toMatchObject({ code: 'throttled' });
    await expect(attempt()).resolves.toMatchObject({ status: 'PendingAcceptance' });
    expect(fake.callCount('invite')).toBe(3);
    expect(fake.snapshot().invitations).toHaveLength(1);
  });

  it('lets a test change the tenant without touching the shared demo fixture', async () => {
    const closed = demoDirectory({ tweak: (t) => (t.policies.allowInvitesFrom = 'none') });
    await expect(closed.invite({ ...invitation, email: 'jane@outlook.com' })).rejects.toMatchObject({
      code: 'forbiddenByPolicy',
    });
    await expect(demoDirectory().invite({ ...invitation, email: 'jane@outlook.com' })).resolves.toBeDefined();
  });

  it('refuses app-only invitations when only admins and guest inviters may invite', async () => {
    const fake = demoDirectory({ tweak: (t) => (t.policies.allowInvitesFrom = 'adminsAndGuestInviters') });
    await expect(fake.invite({ ...invitation, email: 'jane@outlook.com' })).rejects.toMatchObject({
      code: 'forbiddenByPolicy',
    });
  });

  it('refuses a malformed address as invalid input and creates nobody', async () => {
    const fake = demoDirectory();
    await expect(fake.invite({ ...invitation, email: 'not-an-address' })).rejects.toMatchObject({ code: 'invalidInput' });
    expect(fake.snapshot().users).toHaveLength(5);
  });
});

describe('FakeDirectory reads that grow with the tenant', () => {
  it('reading the policies copies the policies only, not the tenant with its users and invitations', async () => {
    const fake = demoDirectory();
    for (let i = 0; i < 50; i++) await fake.invite({ ...invitation, email: `guest${i}@fabrikam.com` });
    const clone = jest.spyOn(globalThis, 'structuredClone');
    const policies = await fake.readPolicies();
    const copied = clone.mock.calls.map(([value]) => value as Record<string, unknown>);
    clone.mockRestore();
    expect(copied.some((value) => value && typeof value === 'object' && ('users' in value || 'invitations' in value))).toBe(false);
    expect(policies.b2bDomainPolicy).toEqual({ mode: 'blockList', domains: ['litware.com'] });
    (policies.b2bDomainPolicy as { domains: string[] }).domains.push('changed.example');
    expect((await fake.readPolicies()).b2bDomainPolicy).toEqual({ mode: 'blockList', domains: ['litware.com'] });
  });
});
