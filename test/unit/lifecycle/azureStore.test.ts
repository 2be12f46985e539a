/**
 * The guest lifecycle on the Azure store (Azurite), by time travel as on SQLite: the whole path
 * (reminder, renewal, end), two instances sending a reminder once, and a bot restarted on the same
 * account finding its schedule and catching up once. Each instance is its own openAzureStore over
 * one account prefix (cold caches, its own holder), as two processes would be.
 */
import { openAzureStore, type AzureStore } from '../../../src/adapters/azure/store';
import { DAY_MS, DEFAULT_LIFECYCLE_SETTINGS } from '../../../src/domain/lifecycle';
import { createGuestLifecycle, type GuestLifecycle } from '../../../src/usecases/lifecycle/guestLifecycle';
import { LIFECYCLE_WORK } from '../../../src/usecases/lifecycle/schedule';
import { ScheduledWorkRunner } from '../../../src/usecases/scheduling/workRunner';
import { useAzurite, uniquePrefix } from '../../support/azurite';
import { FakeGuestAccounts, FALCON, MEGAN, RecordingNotifier, T0 } from '../../support/lifecycle';
import { manualClock, type ManualClock } from '../../support/store';

const azurite = useAzurite();
const at = (days: number): string => new Date(Date.parse(T0) + days * DAY_MS).toISOString();

interface Instance {
  store: AzureStore;
  lifecycle: GuestLifecycle;
  runner: ScheduledWorkRunner;
}

describe('guest lifecycle on the Azure store', () => {
  const opened: AzureStore[] = [];
  afterAll(async () => {
    for (const store of opened) await store.close();
  });

  function tenant(): FakeGuestAccounts {
    const accounts = new FakeGuestAccounts();
    accounts.addUser('megan', { displayName: 'Megan Bowen' });
    accounts.addUser('alex', { displayName: 'Alex Wilber' });
    accounts.owners.set('falcon', [{ id: 'alex', displayName: 'Alex Wilber' }]);
    accounts.addGuest('u-jane', 'Jane Doe', ['falcon']);
    return accounts;
  }

  /** One bot instance on the account `prefix`; one heartbeat keeps its holder alive for the test clock's 30 days. */
  async function instance(prefix: string, clock: ManualClock, accounts: FakeGuestAccounts, notifier: RecordingNotifier, batch = 20): Promise<Instance> {
    const store = openAzureStore({ account: azurite.account(prefix), clock, holderTtlMs: 30 * DAY_MS });
    opened.push(store);
    await store.holders.beat();
    const lifecycle = createGuestLifecycle({
      access: store.guestAccess,
      work: store.scheduledWork,
      accounts,
      notifier,
      audit: store.audit,
      clock,
      settings: DEFAULT_LIFECYCLE_SETTINGS,
      approvals: null,
    });
    const runner = new ScheduledWorkRunner({ work: store.scheduledWork, holderId: store.holders.holderId, clock, handlers: lifecycle.handlers, options: { batch } });
    return { store, lifecycle, runner };
  }

  const invite = (lifecycle: GuestLifecycle, userId = 'u-jane', email = 'jane@fabrikam.com'): Promise<string> =>
    lifecycle
      .recordAccess({
        tenantId: 'contoso',
        ...FALCON,
        guest: { userId, email, displayName: userId },
        invitationRecordId: null,
        sponsor: { id: 'megan', name: 'Megan Bowen' },
        redeemed: false,
        sponsorSetByInvitation: true,
      })
      .then((r) => r.access.accessId);

  it('the whole path: reminder, renewal, end', async () => {
    const clock = manualClock(T0);
    const accounts = tenant();
    const notifier = new RecordingNotifier();
    const { store, lifecycle, runner } = await instance(uniquePrefix(), clock, accounts, notifier);
    const travel = async (days: number): Promise<void> => {
      clock.advance(Math.round(days * DAY_MS));
      await runner.runOnce();
    };
    const id = await invite(lifecycle);
    await travel(7);
    expect(notifier.of('unredeemedReminder')).toHaveLength(1);
    accounts.accept('u-jane', at(8));
    await travel(159);
    expect(notifier.of('renewalReminder')).toHaveLength(1);
    expect((await lifecycle.renew(MEGAN, { accessId: id, forEndsAt: at(180) })).kind).toBe('done');
    await travel(180);
    expect(notifier.of('renewalReminder')).toHaveLength(2);
    await travel(14);
    expect((await store.guestAccess.get(id))?.state).toBe('ended');
    expect(accounts.writes).toEqual(['removeFromGroup:falcon:u-jane']);
    expect(notifier.of('accessEnded')).toHaveLength(1);
  });

  it('two instances over one account send each reminder once', async () => {
    const clock = manualClock(T0);
    const accounts = tenant();
    const notifier = new RecordingNotifier();
    const prefix = uniquePrefix();
    const a = await instance(prefix, clock, accounts, notifier, 3);
    const b = await instance(prefix, clock, accounts, notifier, 3);
    for (let i = 0; i < 12; i += 1) {
      accounts.addGuest(`u-${i}`, `Guest ${i}`, ['falcon']);
      await invite(i % 2 ? a.lifecycle : b.lifecycle, `u-${i}`, `g${i}@fabrikam.com`);
    }
    clock.advance(7 * DAY_MS);
    await Promise.all([a.runner.runOnce(), b.runner.runOnce()]);
    const reminded = notifier.of('unredeemedReminder').map((n) => (n.notice as { access: { guestName: string } }).access.guestName);
    expect(reminded).toHaveLength(12);
    expect(new Set(reminded).size).toBe(12);
  });

  it('a bot restarted on the same account finds its schedule and catches up, once', async () => {
    const clock = manualClock(T0);
    const accounts = tenant();
    const notifier = new RecordingNotifier();
    const prefix = uniquePrefix();
    const before = await instance(prefix, clock, accounts, notifier);
    const id = await invite(before.lifecycle);
    clock.advance(3 * DAY_MS);
    await before.runner.runOnce();
    await before.store.close(); // the process stops; nothing is due yet
    clock.advance(10 * DAY_MS); // ...and stays down past the reminder
    const after = await instance(prefix, clock, accounts, notifier);
    expect((await after.lifecycle.scheduleFor(MEGAN, 'jane@fabrikam.com'))[0]?.scheduled.map((s) => s.kind)).toEqual([
      LIFECYCLE_WORK.unredeemedReminder,
      LIFECYCLE_WORK.renewalReminder,
      LIFECYCLE_WORK.endOfAccess,
    ]);
    await after.runner.runOnce();
    await after.runner.runOnce();
    expect(notifier.of('unredeemedReminder')).toHaveLength(1);
    expect((notifier.of('unredeemedReminder')[0]?.notice as { daysWaiting: number }).daysWaiting).toBe(13);
    expect((await after.store.guestAccess.get(id))?.unredeemedRemindedAt).toBe(at(13));
  });
});
