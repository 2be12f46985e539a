/**
 * The demo tenant's guests at each lifecycle stage, dated relative to the instant the demo
 * starts, as the bot reads them through the Directory port (the fake, and Graph over the
 * Graph-shaped server serving the same tenant).
 */
import type { AccessToken, TokenCredential } from '@azure/identity';
import { FakeDirectory } from '../../../src/adapters/demo/FakeDirectory';
import { DEMO, DEMO_LIFECYCLE, demoTenantFixture } from '../../../src/adapters/demo/demoTenant';
import { GraphDirectory } from '../../../src/adapters/graph/GraphDirectory';
import type { Directory } from '../../../src/usecases/ports/Directory';
import { fixedClock } from '../../support/directory';
import { startGraphServer } from '../../support/graphServer';

const DAY = 24 * 60 * 60 * 1000;
const START = '2026-03-02T08:00:00.000Z';
const { guests, departedSponsor } = DEMO_LIFECYCLE;

function demo(at = START): FakeDirectory {
  const clock = fixedClock(at);
  return new FakeDirectory(demoTenantFixture({ lifecycleStagesAt: clock.now() }), { clock });
}

const daysBefore = (iso: string | null | undefined, at = START) => (Date.parse(at) - Date.parse(iso ?? '')) / DAY;

async function checkStages(directory: Directory, at = START): Promise<void> {
  const unredeemed = await directory.getGuestLifecycle(guests.unredeemed.id);
  expect(unredeemed).toMatchObject({ kind: 'guest', externalUserState: 'PendingAcceptance', accountEnabled: true });
  expect(daysBefore(unredeemed?.externalUserStateChangeDateTime, at)).toBe(10);
  expect(daysBefore(unredeemed?.createdDateTime, at)).toBe(10);

  for (const [stage, invitedDaysAgo] of [
    ['endingTomorrow', 179],
    ['endedYesterday', 181],
    ['sponsorGone', 166],
  ] as const) {
    const facts = await directory.getGuestLifecycle(guests[stage].id);
    expect(facts?.externalUserState).toBe('Accepted');
    expect(daysBefore(facts?.createdDateTime, at)).toBe(invitedDaysAgo);
    // Each still in the site's group, and in nothing else: "no other memberships" holds.
    expect(facts?.memberOf.map((g) => g.id)).toEqual([DEMO.groups.projectFalcon.id]);
  }

  for (const stage of ['unredeemed', 'endingTomorrow', 'endedYesterday'] as const) {
    expect(await directory.listSponsors(guests[stage].id)).toEqual([
      { id: DEMO.users.megan.id, displayName: 'Megan Bowen', kind: 'user', accountEnabled: true },
    ]);
  }
  // The sponsor has left: still in the directory, sign-in blocked.
  expect(await directory.listSponsors(guests.sponsorGone.id)).toEqual([
    { id: departedSponsor.id, displayName: 'Diego Siciliani', kind: 'user', accountEnabled: false },
  ]);
  expect(await directory.accountStatus(departedSponsor.id)).toBe('disabled');
  expect(await directory.listGroupOwners(DEMO.groups.projectFalcon.id)).toEqual([{ id: DEMO.users.megan.id, displayName: 'Megan Bowen' }]);
}

describe('demo tenant: guests at each lifecycle stage', () => {
  it('has an unredeemed guest, one ending tomorrow, one ended yesterday, and one whose sponsor left, dated from now', async () => {
    await checkStages(demo());
  });

  it('dates them from whatever instant the demo starts at', async () => {
    const later = '2027-07-19T17:45:00.000Z';
    await checkStages(demo(later), later);
  });

  it('reads the same through Graph over the Graph-shaped server', async () => {
    const fake = demo();
    const server = await startGraphServer(fake);
    const credential: TokenCredential = {
      getToken: async (): Promise<AccessToken> => ({ token: 't', expiresOnTimestamp: Date.now() + 3_600_000 }),
    };
    try {
      await checkStages(new GraphDirectory({ credential, baseUrl: server.baseUrl, maxRetries: 0 }));
    } finally {
      await server.close();
    }
  });

  it('leaves the plain demo tenant as it was', async () => {
    const plain = new FakeDirectory(demoTenantFixture(), { clock: fixedClock(START) });
    expect(await plain.getUser(guests.unredeemed.id)).toBeNull();
    expect(await plain.accountStatus(departedSponsor.id)).toBe('notFound');
    expect((await plain.listGroupMembers(DEMO.groups.projectFalcon.id)).map((m) => m.displayName).sort()).toEqual([
      'Adele Vance',
      'Jordan Lee',
      'Megan Bowen',
    ]);
  });
});
