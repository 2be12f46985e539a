/**
 * An invitation cut short by a crash: the next attempt takes over a dead holder's lock at once,
 * and never sends a second invitation for a POST this record already sent.
 */
import { DirectoryError } from '../../../src/usecases/ports/Directory';
import { DEMO } from '../../support/directory';
import { inviteTestbed } from '../../support/dialogHarness';
import type { HolderRegistry } from '../../../src/usecases/ports/leases';

const FALCON = DEMO.groups.projectFalcon;
const DEAD = 'crashed-process';
const holders: HolderRegistry = { holderId: 'this-process', isAlive: async (id) => id !== DEAD };

async function crashedAttempt(tb: ReturnType<typeof inviteTestbed>, options: { posted: boolean }) {
  const { record } = await tb.invitations.claim({
    tenantId: DEMO.tenantId,
    emailNormalised: 'jane@fabrikam.com',
    groupId: FALCON.id,
    emailDisplay: 'jane@fabrikam.com',
    displayName: 'Jane Doe',
    siteName: FALCON.displayName,
    siteUrl: FALCON.siteUrl,
    requestedBy: { id: DEMO.users.megan.id, name: 'Megan Bowen' },
    source: 'approval',
  });
  // The crashed process had locked the record for two minutes and marked its POST.
  await tb.invitations.update(record.id, record.version, {
    lockedUntil: new Date(tb.clock().getTime() + 120_000).toISOString(),
    lockedBy: DEAD,
    inviteAttemptedAt: tb.clock().toISOString(),
  });
  if (options.posted) {
    await tb.directory.invite({ email: 'jane@fabrikam.com', displayName: 'Jane Doe', redirectUrl: FALCON.siteUrl, sendInvitationMessage: false });
  }
  return record;
}

const request = (tb: ReturnType<typeof inviteTestbed>) => ({
  email: 'jane@fabrikam.com',
  displayName: 'Jane Doe',
  groupId: FALCON.id,
  requestedBy: tb.actor('megan'),
});

describe('after a crash mid-invitation', () => {
  it('the POST had reached Graph: the guest found by address is this record\'s own, with no second invitation', async () => {
    const tb = inviteTestbed({ service: { holders } });
    await crashedAttempt(tb, { posted: true });
    expect(tb.directory.callCount('invite')).toBe(1);

    const outcome = await tb.service.execute(request(tb));

    expect(outcome.status).toBe('completed');
    expect(tb.directory.callCount('invite')).toBe(1);
    expect(tb.directory.snapshot().groups.find((g) => g.id === FALCON.id)?.members).toContain(outcome.record?.userId);
    expect((await tb.store.audit.list({ subjectId: outcome.record?.id })).map((e) => e.action)).toContain('invitation.foundAfterEarlierAttempt');
    // No waiting for the dead process's two-minute lock.
    expect(tb.waits).toEqual([]);
  });

  it('the POST had not gone out: one invitation is sent now', async () => {
    const tb = inviteTestbed({ service: { holders } });
    await crashedAttempt(tb, { posted: false });
    const outcome = await tb.service.execute(request(tb));
    expect(outcome.status).toBe('completed');
    expect(tb.directory.callCount('invite')).toBe(1);
    expect(tb.waits).toEqual([]);
  });

  it('a lock whose holder is alive is waited for and reported as in progress, not taken', async () => {
    const tb = inviteTestbed({ service: { holders: { holderId: 'this-process', isAlive: async () => true } } });
    await crashedAttempt(tb, { posted: false });
    const outcome = await tb.service.execute(request(tb));
    expect(outcome.status).toBe('inProgress');
    expect(tb.directory.callCount('invite')).toBe(0);
  });

  it("this process's heartbeats broke after it took the lock: nothing is sent, the requester is told to try again, and the next try invites once", async () => {
    let broken = true;
    // Heartbeats written again only from far in the future: a break after any lock taken now.
    const stalled: HolderRegistry = { ...holders, unbrokenSince: () => (broken ? Number.MAX_SAFE_INTEGER : 0) };
    const tb = inviteTestbed({ service: { holders: stalled } });
    const first = await tb.service.execute(request(tb));
    expect({ status: first.status, message: first.refusal?.message }).toEqual({
      status: 'failed',
      message: 'The bot briefly lost touch with its storage, so nothing was sent. Try again in a moment.',
    });
    expect(tb.directory.callCount('invite')).toBe(0);
    broken = false;
    const again = await tb.service.execute(request(tb));
    expect(again.status).toBe('completed');
    expect(tb.directory.callCount('invite')).toBe(1);
  });

  it('the heartbeats break while the invitation waits to go (after the attempt mark): nothing reaches the directory', async () => {
    let asked = 0;
    // Unbroken at the check before the mark; broken from the send on.
    const breaking: HolderRegistry = { ...holders, unbrokenSince: () => (asked++ === 0 ? 0 : Number.MAX_SAFE_INTEGER) };
    const tb = inviteTestbed({ service: { holders: breaking } });
    const outcome = await tb.service.execute(request(tb));
    expect({ status: outcome.status, message: outcome.refusal?.message }).toEqual({
      status: 'failed',
      message: 'The bot briefly lost touch with its storage, so nothing was sent. Try again in a moment.',
    });
    expect(tb.directory.state.invitations).toHaveLength(0);
    // Not retried: asking again while the hold is gone changes nothing.
    expect(tb.waits).toEqual([]);
  });

  it('a definite refusal clears the mark, so a later request invites', async () => {
    const tb = inviteTestbed({ service: { holders } });
    tb.directory.failNext('invite', new DirectoryError('forbiddenByPolicy', 'Not allowed.'));
    const refused = await tb.service.execute(request(tb));
    expect(refused.status).toBe('failed');
    expect(refused.record?.inviteAttemptedAt).toBeNull();
  });
});
