/**
 * The lifecycle over the real Directory port (FakeDirectory, the demo tenant with guests at each
 * stage): the app's adapter, the demo seeding, and what an owner gets right after start-up.
 */
import { FakeDirectory } from '../../../src/adapters/demo/FakeDirectory';
import { DEMO, DEMO_LIFECYCLE, demoTenantFixture } from '../../../src/adapters/demo/demoTenant';
import { openMemoryStore } from '../../../src/adapters/memory/store';
import { guestAccountsFrom, seedDemoGuestAccess } from '../../../src/app/lifecycleWiring';
import { DEFAULT_LIFECYCLE_SETTINGS } from '../../../src/domain/lifecycle';
import { createGuestLifecycle } from '../../../src/usecases/lifecycle/guestLifecycle';
import type { RenewalReminderNotice } from '../../../src/usecases/lifecycle/ports';
import { ScheduledWorkRunner } from '../../../src/usecases/scheduling/workRunner';
import { RecordingNotifier } from '../../support/lifecycle';
import { manualClock } from '../../support/store';

const START = '2026-03-02T08:00:00.000Z';
const { guests } = DEMO_LIFECYCLE;
const MEGAN = { userId: DEMO.users.megan.id, name: 'Megan Bowen', tenantId: DEMO.tenantId };

function demoBot() {
  const clock = manualClock(START);
  const directory = new FakeDirectory(demoTenantFixture({ lifecycleStagesAt: clock.now() }), { clock });
  const store = openMemoryStore({ clock });
  const notifier = new RecordingNotifier();
  const lifecycle = createGuestLifecycle({
    access: store.guestAccess,
    work: store.scheduledWork,
    accounts: guestAccountsFrom(directory),
    notifier,
    audit: store.audit,
    clock,
    settings: DEFAULT_LIFECYCLE_SETTINGS,
    approvals: null,
  });
  const runner = new ScheduledWorkRunner({ work: store.scheduledWork, holderId: store.holders.holderId, clock, handlers: lifecycle.handlers });
  return { clock, directory, store, notifier, lifecycle, runner };
}

describe('guest lifecycle on the demo tenant', () => {
  it('right after start-up: Megan is reminded of Isabel and asked about Nora, owners about Priya, Omar is removed', async () => {
    const bot = demoBot();
    expect(await seedDemoGuestAccess(bot.lifecycle, DEMO.tenantId, bot.clock.now())).toBe(4);
    expect(await seedDemoGuestAccess(bot.lifecycle, DEMO.tenantId, bot.clock.now())).toBe(0);
    await bot.runner.runOnce();

    const unredeemed = bot.notifier.of('unredeemedReminder');
    expect(unredeemed.map((n) => [n.to, (n.notice as { access: { guestName: string } }).access.guestName, (n.notice as { daysWaiting: number }).daysWaiting])).toEqual([
      [DEMO.users.megan.id, 'Isabel Ruiz', 10],
    ]);
    const renewals = bot.notifier.of('renewalReminder').map((n) => [n.to, n.as, (n.notice as RenewalReminderNotice).access.guestName, (n.notice as RenewalReminderNotice).daysLeft]);
    // Diego (Priya's sponsor) has left: Project Falcon's owner gets it instead.
    expect(renewals).toEqual(
      expect.arrayContaining([
        [DEMO.users.megan.id, 'sponsor', 'Nora Quinn', 1],
        [DEMO.users.megan.id, 'owner', 'Priya Shah', 14],
      ]),
    );
    expect(renewals).toHaveLength(2);
    // Omar's access ended yesterday: out of Project Falcon now, Megan told.
    expect(await bot.directory.isMember(DEMO.groups.projectFalcon.id, guests.endedYesterday.id)).toBe(false);
    expect(bot.notifier.of('accessEnded').map((n) => n.to)).toEqual([DEMO.users.megan.id]);
    expect(bot.notifier.of('guestAccessEnded').map((n) => n.to)).toEqual([guests.endedYesterday.id]);

    const mine = await bot.lifecycle.myGuests(MEGAN);
    expect(mine.map((r) => [r.access.guestName, r.access.status]).sort()).toEqual([
      ['Isabel Ruiz', 'invited'],
      ['Nora Quinn', 'endingSoon'],
    ]);
  });

  it('Resend through the directory gives Isabel a new link; Withdraw removes her and deletes the never-redeemed account', async () => {
    const bot = demoBot();
    await seedDemoGuestAccess(bot.lifecycle, DEMO.tenantId, bot.clock.now());
    await bot.runner.runOnce();
    const reminder = bot.notifier.of('unredeemedReminder')[0]?.notice as { access: { accessId: string }; reminderToken: string };
    const resent = await bot.lifecycle.resend(MEGAN, { accessId: reminder.access.accessId, reminderToken: reminder.reminderToken, sendEmail: false });
    expect(resent.kind).toBe('done');
    expect(resent.kind === 'done' && resent.redeemUrl).toMatch(/^https:\/\//);

    const withdrawn = await bot.lifecycle.withdraw(MEGAN, { accessId: reminder.access.accessId });
    expect(withdrawn).toMatchObject({ kind: 'done', accountAction: 'deleted' });
    expect(await bot.directory.getUser(guests.unredeemed.id)).toBeNull();
  });

  it('hand-over through the directory: Entra sponsors of Priya change from Diego to Megan', async () => {
    const bot = demoBot();
    await seedDemoGuestAccess(bot.lifecycle, DEMO.tenantId, bot.clock.now());
    const [priya] = await bot.store.guestAccess.listByEmail(DEMO.tenantId, guests.sponsorGone.mail);
    const outcome = await bot.lifecycle.handOver(MEGAN, { accessId: priya!.id, newSponsor: { id: DEMO.users.megan.id, name: 'Megan Bowen' } });
    expect(outcome.kind).toBe('done');
    expect((await bot.directory.listSponsors(guests.sponsorGone.id)).map((s) => s.id)).toEqual([DEMO.users.megan.id]);
  });
});
