/**
 * Many approvers clicking at once, each through its own database connection to the same SQLite
 * file (as separate bot processes would): exactly one decision and one invitation.
 */
import { openStore } from '../../../src/adapters/sqlite/store';
import { APPROVAL_TEST_MIGRATIONS, RecordingAdapter, actorOf, approvalTestbed, DEMO } from './testbed';
import { demoDirectory, fixedClock } from '../../support/directory';
import { tempDatabaseFile } from '../../support/store';

describe('concurrent decisions on one request', () => {
  it('20 simultaneous approvals and rejections from 4 connections yield one decision and one invitation', async () => {
    const file = tempDatabaseFile();
    const clock = fixedClock();
    const directory = demoDirectory({ clock });
    // A second approver, so approvals and rejections come from different people.
    directory.state.group(DEMO.groups.guestApprovers.id)?.members.push(DEMO.users.megan.id);
    const adapter = new RecordingAdapter();
    const beds = Array.from({ length: 4 }, () =>
      approvalTestbed({ store: openStore({ file, extraMigrations: APPROVAL_TEST_MIGRATIONS, clock }), directory, clock, adapter }),
    );
    const first = beds[0];
    if (!first) throw new Error('no testbed');
    const request = await first.requestInvitation();

    const clicks = Array.from({ length: 20 }, (_, i) => {
      const bed = beds[i % beds.length];
      if (!bed) throw new Error('no testbed');
      return i % 2 === 0
        ? bed.service.decide(actorOf('alex'), request.id, 'approve', null, request.version)
        : bed.service.decide(actorOf('megan'), request.id, 'reject', 'Not this quarter.', request.version);
    });
    const outcomes = await Promise.all(clicks);
    await Promise.all(beds.map((b) => b.service.whenIdle()));

    const winners = outcomes.filter((o) => o.status === 'applied');
    expect(winners).toHaveLength(1);
    expect(outcomes.filter((o) => o.status === 'alreadyDecided')).toHaveLength(19);
    const final = (await first.requests.get(request.id));
    expect(final?.state).toBe(winners[0]?.request?.state);
    // Every loser is told who decided.
    for (const o of outcomes.filter((x) => x.status === 'alreadyDecided')) {
      expect(o.message).toMatch(/already (approved|rejected) this request/);
    }
    const executions = beds.reduce((n, b) => n + b.executor.calls.length, 0);
    expect(executions).toBe(final?.state === 'approved' ? 1 : 0);
    expect(directory.callCount('invite')).toBe(final?.state === 'approved' ? 1 : 0);
    expect((await first.store.audit.list({ subjectId: request.id })).filter((e) => /approval\.(approved|rejected)/.test(e.action))).toHaveLength(1);
    for (const b of beds) b.store.close();
  });

  it('approve and reject racing on one connection: one wins, the loser sees what happened', async () => {
    const bed = approvalTestbed();
    bed.directory.state.group(DEMO.groups.guestApprovers.id)?.members.push(DEMO.users.megan.id);
    const request = await bed.requestInvitation();
    const [a, b] = await Promise.all([
      bed.service.decide(actorOf('alex'), request.id, 'approve', null, request.version),
      bed.service.decide(actorOf('megan'), request.id, 'reject', 'No.', request.version),
    ]);
    await bed.service.whenIdle();
    expect([a?.status, b?.status].sort()).toEqual(['alreadyDecided', 'applied']);
    expect(bed.directory.callCount('invite')).toBe((await bed.requests.get(request.id))?.state === 'approved' ? 1 : 0);
  });
});
