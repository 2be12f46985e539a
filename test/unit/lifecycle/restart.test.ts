/** Crashes and restarts in the middle of a transition; two instances; the SQLite store. */
import { DAY_MS } from '../../../src/domain/lifecycle';
import { DirectoryError } from '../../../src/usecases/ports/Directory';
import { beginEnd } from '../../../src/usecases/lifecycle/ending';
import { LIFECYCLE_WORK } from '../../../src/usecases/lifecycle/schedule';
import { ScheduledWorkRunner } from '../../../src/usecases/scheduling/workRunner';
import { lifecycleHarness, MEGAN, T0 } from '../../support/lifecycle';
import { tempDatabaseFile } from '../../support/store';

const at = (days: number): string => new Date(Date.parse(T0) + days * DAY_MS).toISOString();

describe('guest lifecycle across crashes and instances', () => {
  it('a directory fault half-way through the end is retried with backoff and completes once', async () => {
    const h = lifecycleHarness({ settings: { removal: 'blockSignIn' } });
    const id = await h.inviteJane({ redeemed: true });
    h.accounts.before.set('disableSignIn', () => Promise.reject(new DirectoryError('transient', 'Graph is unavailable')));
    await h.travel(180);
    // Out of the group already, sign-in not blocked yet; nobody told yet.
    expect(h.accounts.writes).toEqual(['removeFromGroup:falcon:u-jane']);
    expect(await h.store.guestAccess.get(id)).toMatchObject({ state: 'ended', endNoticesDone: false });
    expect(h.notifier.of('accessEnded')).toEqual([]);
    expect(await h.store.scheduledWork.get(LIFECYCLE_WORK.endOfAccess, id)).toMatchObject({ attempts: 1, lastError: 'directory: transient' });
    await h.travel(1 / 24);
    expect(h.accounts.writes).toEqual(['removeFromGroup:falcon:u-jane', 'disableSignIn:u-jane']);
    expect(await h.store.guestAccess.get(id)).toMatchObject({ state: 'ended', endNoticesDone: true, accountAction: 'signInBlocked' });
    expect(h.notifier.of('accessEnded')).toHaveLength(1);
    expect(await h.store.audit.list({ action: 'guestAccess.ended' })).toHaveLength(1);
    await h.travel(30);
    expect(h.notifier.of('accessEnded')).toHaveLength(1);
  });

  it('an instance that dies mid-end: another takes the work over at once and finishes it; the stalled one, resumed, tells nobody twice', async () => {
    const h = lifecycleHarness({ store: 'sqlite' });
    const id = await h.inviteJane({ redeemed: true });
    h.clock.advance(180 * DAY_MS);
    // Instance A claims the end and stalls inside Graph (its process is about to die).
    let resume: () => void = () => undefined;
    let stalled: () => void = () => undefined;
    const inGraph = new Promise<void>((resolve) => (stalled = resolve));
    h.accounts.before.set('removeFromGroup', () => {
      stalled();
      return new Promise<void>((resolve) => (resume = resolve));
    });
    const a = h.secondRunner();
    const passA = a.runOnce();
    await inGraph;
    expect(await h.store.guestAccess.get(id)).toMatchObject({ state: 'ended', endNoticesDone: false });
    // While A's holder lives, its claim holds.
    expect(await h.runner.runOnce()).toEqual({ done: 0, rescheduled: 0, retried: 0, superseded: 0 });
    // A dies: its heartbeat row goes (a clean stop, or its ttl). B takes over at once.
    const holderA = (await h.store.scheduledWork.get(LIFECYCLE_WORK.endOfAccess, id))?.claimedBy;
    expect(holderA).toBeTruthy();
    const { sqliteDatabaseOf } = await import('../../../src/adapters/sqlite/store');
    sqliteDatabaseOf(h.store).prepare('DELETE FROM holders WHERE holder_id = ?').run(holderA);
    expect((await h.runner.runOnce()).done).toBe(1);
    expect(h.accounts.writes).toEqual(['removeFromGroup:falcon:u-jane']);
    expect(h.notifier.of('accessEnded')).toHaveLength(1);
    // A comes back to life and finishes its stale run: nothing more happens.
    resume();
    await passA;
    expect(h.accounts.writes).toEqual(['removeFromGroup:falcon:u-jane']);
    expect(h.notifier.of('accessEnded')).toHaveLength(1);
    expect(h.notifier.of('guestAccessEnded')).toHaveLength(1);
    expect(await h.store.audit.list({ action: 'guestAccess.ended' })).toHaveLength(1);
  });

  it('a withdraw whose process died after the state change is finished by the safety net', async () => {
    const h = lifecycleHarness();
    const id = await h.inviteJane();
    await h.travel(7);
    // The first half of Withdraw ran, then the process died.
    await beginEnd(h.deps, id, { reason: 'withdrawn', by: { id: 'megan', name: 'Megan Bowen' }, safetyNet: true });
    expect(h.accounts.writes).toEqual([]);
    // A click replayed meanwhile answers "already" and does nothing.
    expect((await h.lifecycle.withdraw(MEGAN, { accessId: id })).kind).toBe('already');
    await h.travel(14 / (24 * 60));
    expect(h.accounts.writes).toEqual([]);
    await h.travel(1 / (24 * 60));
    expect(h.accounts.writes).toEqual(['removeFromGroup:falcon:u-jane', 'deleteUser:u-jane']);
    expect(await h.store.guestAccess.get(id)).toMatchObject({ state: 'withdrawn', endNoticesDone: true, accountAction: 'deleted' });
    expect(await h.store.audit.list({ action: 'guestAccess.ended' })).toHaveLength(1);
    expect(await h.store.scheduledWork.listBySubject(id)).toEqual([]);
  });

  it('a renewal that races the end: either the renewal wins (no removal) or the end wins (renewal refused), never both', async () => {
    const h = lifecycleHarness();
    const id = await h.inviteJane({ redeemed: true });
    h.clock.advance(180 * DAY_MS);
    const [renewed] = await Promise.all([h.lifecycle.renew(MEGAN, { accessId: id, forEndsAt: at(180) }), h.runner.runOnce()]);
    const record = await h.store.guestAccess.get(id);
    if (renewed.kind === 'done') {
      expect(record).toMatchObject({ state: 'accepted', endsAt: at(360) });
      expect(h.accounts.writes).toEqual([]);
    } else {
      expect(renewed).toMatchObject({ kind: 'refused', reason: 'notActive' });
      expect(record?.state).toBe('ended');
      expect(h.accounts.writes).toEqual(['removeFromGroup:falcon:u-jane']);
    }
  });

  it('two instances over one SQLite store send a reminder once', async () => {
    const h = lifecycleHarness({ store: 'sqlite' });
    for (let i = 0; i < 12; i += 1) {
      h.accounts.addGuest(`u-${i}`, `Guest ${i}`, ['falcon']);
      await h.lifecycle.recordAccess({
        tenantId: 'contoso',
        groupId: 'falcon',
        siteName: 'Project Falcon',
        siteUrl: 'https://contoso.sharepoint.com/sites/falcon',
        guest: { userId: `u-${i}`, email: `g${i}@fabrikam.com`, displayName: `Guest ${i}` },
        invitationRecordId: null,
        sponsor: { id: 'megan', name: 'Megan Bowen' },
        redeemed: false,
        sponsorSetByInvitation: true,
      });
    }
    h.clock.advance(7 * DAY_MS);
    const b = h.secondRunner();
    const small = new ScheduledWorkRunner({ work: h.store.scheduledWork, holderId: h.store.holders.holderId, clock: h.clock, handlers: h.lifecycle.handlers, options: { batch: 3 } });
    await Promise.all([small.runOnce(), b.runOnce()]);
    const reminded = h.notifier.of('unredeemedReminder').map((n) => (n.notice as { access: { guestName: string } }).access.guestName);
    expect(reminded).toHaveLength(12);
    expect(new Set(reminded).size).toBe(12);
  });

  it('the whole path on the SQLite store: reminder, renewal, end', async () => {
    const h = lifecycleHarness({ store: 'sqlite' });
    const id = await h.inviteJane();
    await h.travel(7);
    expect(h.notifier.of('unredeemedReminder')).toHaveLength(1);
    h.accounts.accept('u-jane', at(8));
    await h.travel(159);
    expect(h.notifier.of('renewalReminder')).toHaveLength(1);
    expect((await h.lifecycle.renew(MEGAN, { accessId: id, forEndsAt: at(180) })).kind).toBe('done');
    await h.travel(180);
    expect(h.notifier.of('renewalReminder')).toHaveLength(2);
    await h.travel(14);
    expect((await h.store.guestAccess.get(id))?.state).toBe('ended');
    expect(h.accounts.writes).toEqual(['removeFromGroup:falcon:u-jane']);
  });
  it('a bot restarted on its database file finds its schedule and catches up, once', async () => {
    const file = tempDatabaseFile();
    const before = lifecycleHarness({ file });
    const id = await before.inviteJane();
    await before.travel(3);
    before.store.close(); // the process stops; nothing is due yet
    before.clock.advance(10 * DAY_MS); // ...and stays down past the reminder
    const after = lifecycleHarness({ file, carry: before });
    expect((await after.lifecycle.scheduleFor(MEGAN, 'jane@fabrikam.com'))[0]?.scheduled.map((s) => s.kind)).toEqual([
      LIFECYCLE_WORK.unredeemedReminder,
      LIFECYCLE_WORK.renewalReminder,
      LIFECYCLE_WORK.endOfAccess,
    ]);
    await after.runner.runOnce();
    await after.runner.runOnce();
    expect(after.notifier.of('unredeemedReminder')).toHaveLength(1);
    expect((after.notifier.of('unredeemedReminder')[0]?.notice as { daysWaiting: number }).daysWaiting).toBe(13);
    expect((await after.store.guestAccess.get(id))?.unredeemedRemindedAt).toBe(at(13));
  });
});
