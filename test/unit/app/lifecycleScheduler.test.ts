/**
 * The one scheduler, as the app starts it: createApp in local mode with the demo guests seeded
 * (what `npm start` does), a manual clock, an SQLite file. The first pass at start catches up
 * what is due; after a restart two days later, what fell due while it was down is caught up too.
 */
import { FakeDirectory } from '../../../src/adapters/demo/FakeDirectory';
import { DEMO, DEMO_LIFECYCLE, demoTenantFixture } from '../../../src/adapters/demo/demoTenant';
import type { Store } from '../../../src/adapters/repositories';
import { DAY_MS } from '../../../src/domain/lifecycle';
import { PendingNotices } from '../../../src/teams/lifecycle/pendingNotices';
import type { GuestAccessRecord } from '../../../src/usecases/lifecycle/ports';
import { startInProcessApp, type RunningApp } from '../../support/e2e/inProcessApp';
import { manualClock, tempDatabaseFile, tempStore } from '../../support/store';

jest.setTimeout(60_000);

async function eventually<T>(what: string, read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const falcon = DEMO.groups.projectFalcon.id;
const access = (store: Store, guest: keyof typeof DEMO_LIFECYCLE.guests): Promise<GuestAccessRecord | null> =>
  store.guestAccess.findByKey({ tenantId: DEMO.tenantId, groupId: falcon, userId: DEMO_LIFECYCLE.guests[guest].id });

describe('the scheduler started by the app', () => {
  let running: RunningApp | undefined;
  afterEach(async () => {
    await running?.close();
    running = undefined;
  });

  it('seeds the demo guests in local mode and catches up at start; after a restart, what fell due meanwhile', async () => {
    const clock = manualClock('2026-12-01T09:00:00.000Z');
    const file = tempDatabaseFile();
    const directory = new FakeDirectory(demoTenantFixture({ lifecycleStagesAt: clock.now() }), { clock });
    const first = tempStore([], { file, clock });
    running = await startInProcessApp({ overrides: { clock, directory, store: first, seedDemoGuests: true } });
    await eventually('the ended access to be ended', () => access(first, 'endedYesterday'), (r) => r?.state === 'ended' && r.endNoticesDone);
    await eventually('the unredeemed reminder', () => access(first, 'unredeemed'), (r) => r?.unredeemedRemindedAt !== null);
    // Megan has no chat with the bot yet: her notices wait for her, in the store.
    expect(await new PendingNotices(first.botStorage, clock).count(DEMO.users.megan.id)).toBeGreaterThanOrEqual(3);
    expect((await access(first, 'endingTomorrow'))?.state).toBe('accepted');
    await running.close();
    running = undefined;

    clock.advance(2 * DAY_MS);
    const second = tempStore([], { file, clock });
    running = await startInProcessApp({ overrides: { clock, directory, store: second, seedDemoGuests: true } });
    await eventually('the access that ended while the bot was down', () => access(second, 'endingTomorrow'), (r) => r?.state === 'ended' && r.endNoticesDone);
    expect(await directory.isMember(falcon, DEMO_LIFECYCLE.guests.endingTomorrow.id)).toBe(false);
    // Seeding again added nothing: one record per guest.
    expect(await second.guestAccess.listByGroup(DEMO.tenantId, falcon, {})).toHaveLength(4);
  });

  it('does not seed unless asked (tests and Graph mode)', async () => {
    const clock = manualClock('2026-12-01T09:00:00.000Z');
    const store = tempStore([], { clock });
    running = await startInProcessApp({ overrides: { clock, store } });
    expect(await store.guestAccess.listByGroup(DEMO.tenantId, falcon, {})).toHaveLength(0);
  });
});
