/** A request survives a process restart: same database file, new service instances. */
import { openStore } from '../../../src/store/store';
import { APPROVAL_TEST_MIGRATIONS, actorOf, approvalTestbed, personalConversationId, textOf } from './testbed';
import { demoDirectory, fixedClock } from '../../support/directory';
import { tempDatabaseFile } from '../../support/store';

describe('after a restart', () => {
  it('a request made before the restart can be approved after it, and the requester is notified', async () => {
    const file = tempDatabaseFile();
    const clock = fixedClock();
    const directory = demoDirectory({ clock });

    const before = approvalTestbed({ store: openStore({ file, extraMigrations: APPROVAL_TEST_MIGRATIONS, clock }), directory, clock });
    const request = await before.requestInvitation();
    before.store.close();

    // New process: nothing in memory survives, only the file. No conversation references are re-seeded.
    const after = approvalTestbed({
      store: openStore({ file, extraMigrations: APPROVAL_TEST_MIGRATIONS, clock }),
      directory,
      clock,
      reachable: [],
    });
    const outcome = await after.service.decide(actorOf('alex'), request.id, 'approve', null, request.version);
    await after.service.whenIdle();

    expect(outcome.status).toBe('applied');
    expect(after.executor.calls).toHaveLength(1);
    expect(directory.callCount('invite')).toBe(1);
    // The approver's copy posted before the restart is updated in place, from the stored activity id.
    const updates = after.adapter.updatesIn(personalConversationId('alex'));
    expect(updates.length).toBeGreaterThan(0);
    expect(after.adapter.updated[0]?.activity.id).toBe(before.adapter.sent[0]?.activity.id);
    // The requester is told in the chat they asked from, found through the stored reference.
    expect(textOf(after.adapter.cardsSentTo(personalConversationId('adele'))[0])).toContain('was invited and added to Project Falcon');
    after.store.close();
  });
});
