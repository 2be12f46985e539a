/** A request survives a process restart: same database file, new service instances. */
import type { InvitationExecutor } from '../../../src/usecases/approvals/runtime';
import { openStore } from '../../../src/adapters/sqlite/store';
import type { InvitationRequest, InviteOutcome } from '../../../src/usecases/invite/model';
import { APPROVAL_TEST_MIGRATIONS, DEMO, RecordingAdapter, actorOf, approvalTestbed, personalConversationId, textOf } from './testbed';
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

describe('an approval recorded just before the process stopped', () => {
  /** An executor standing for a process that stops mid-way: `before` runs first (if given), then nothing ever returns. */
  const stopsMidWay =
    (before?: (request: InvitationRequest, inner: InvitationExecutor) => Promise<unknown>) =>
    (inner: InvitationExecutor): InvitationExecutor => ({
      execute: async (request) => {
        if (before) await before(request, inner);
        return new Promise<InviteOutcome>(() => undefined);
      },
    });

  function approvedThenStopped(options: { invitationSentBeforeStop: boolean }) {
    const file = tempDatabaseFile();
    const clock = fixedClock();
    const directory = demoDirectory({ clock });
    const before = approvalTestbed({
      store: openStore({ file, extraMigrations: APPROVAL_TEST_MIGRATIONS, clock }),
      directory,
      clock,
      inlineBudgetMs: 20,
      wrapExecutor: stopsMidWay(options.invitationSentBeforeStop ? (request, inner) => inner.execute(request) : undefined),
    });
    return { file, clock, directory, before };
  }

  it.each([
    ['before the invitation was sent', false],
    ['after the invitation was sent but before its outcome was recorded', true],
  ])('stopped %s: resumeApproved in a new process makes exactly one invitation and tells the requester', async (_when, sent) => {
    const { file, clock, directory, before } = approvedThenStopped({ invitationSentBeforeStop: sent });
    const request = await before.requestInvitation();
    const clicked = await before.service.decide(actorOf('alex'), request.id, 'approve', null, request.version);
    expect(clicked.message).toMatch(/Carrying it out now/);
    expect((await before.requests.get(request.id))).toMatchObject({ state: 'approved', outcome: null });
    expect(directory.callCount('invite')).toBe(sent ? 1 : 0);
    before.store.close();

    const after = approvalTestbed({ store: openStore({ file, extraMigrations: APPROVAL_TEST_MIGRATIONS, clock }), directory, clock, reachable: [] });
    expect(await after.service.resumeApproved()).toBe(1);
    await after.service.whenIdle();

    expect(directory.callCount('invite')).toBe(1);
    expect(directory.snapshot().invitations).toHaveLength(1);
    const invited = directory.snapshot().invitations[0];
    expect(directory.snapshot().groups.find((g) => g.id === DEMO.groups.projectFalcon.id)?.members).toContain(invited?.userId);
    expect((await after.requests.get(request.id))?.outcome).toMatchObject({ status: 'succeeded' });
    // The requester hears about it in the chat they asked from, with the link to pass on.
    const notices = after.adapter.cardsSentTo(personalConversationId('adele'));
    expect(notices).toHaveLength(1);
    expect(textOf(notices[0])).toContain('Jane Doe (jane.doe@outlook.com) was invited and added to Project Falcon.');
    expect(textOf(notices[0])).toContain(invited?.redeemUrl ?? 'no redeem url');
    // The approver's card posted before the stop is updated in place.
    expect(after.adapter.updated[0]?.activity.id).toBe(before.adapter.sent[0]?.activity.id);
    expect(textOf(after.adapter.updatesIn(personalConversationId('alex'))[0])).toContain('was invited and added');

    // Done is done: another resumption (the next start, or the interval) changes nothing.
    expect(await after.service.resumeApproved()).toBe(0);
    await after.service.whenIdle();
    expect(after.adapter.cardsSentTo(personalConversationId('adele'))).toHaveLength(1);
    expect(directory.callCount('invite')).toBe(1);
    after.store.close();
  });

  it('two processes resuming the same request at once make one invitation and one notice', async () => {
    const { file, clock, directory, before } = approvedThenStopped({ invitationSentBeforeStop: false });
    const request = await before.requestInvitation();
    await before.service.decide(actorOf('alex'), request.id, 'approve', null, request.version);
    before.store.close();

    const adapter = new RecordingAdapter();
    const one = approvalTestbed({ store: openStore({ file, extraMigrations: APPROVAL_TEST_MIGRATIONS, clock }), directory, clock, reachable: [], adapter });
    const two = approvalTestbed({ store: openStore({ file, extraMigrations: APPROVAL_TEST_MIGRATIONS, clock }), directory, clock, reachable: [], adapter });
    await Promise.all([one.service.resumeApproved(), two.service.resumeApproved()]);
    await Promise.all([one.service.whenIdle(), two.service.whenIdle()]);

    expect(directory.callCount('invite')).toBe(1);
    expect(adapter.cardsSentTo(personalConversationId('adele'))).toHaveLength(1);
    expect((await one.requests.get(request.id))?.outcome?.status).toBe('succeeded');
    one.store.close();
    two.store.close();
  });

  it('a request approved moments ago is left to the process carrying it out when a minimum age is asked', async () => {
    const { file, clock, directory, before } = approvedThenStopped({ invitationSentBeforeStop: false });
    const request = await before.requestInvitation();
    await before.service.decide(actorOf('alex'), request.id, 'approve', null, request.version);
    before.store.close();

    const after = approvalTestbed({ store: openStore({ file, extraMigrations: APPROVAL_TEST_MIGRATIONS, clock }), directory, clock, reachable: [] });
    expect(await after.service.resumeApproved({ minAgeMs: 10 * 60_000 })).toBe(0);
    expect(directory.callCount('invite')).toBe(0);
    clock.advance(11 * 60_000);
    expect(await after.service.resumeApproved({ minAgeMs: 10 * 60_000 })).toBe(1);
    await after.service.whenIdle();
    expect(directory.callCount('invite')).toBe(1);
    after.store.close();
  });
});
