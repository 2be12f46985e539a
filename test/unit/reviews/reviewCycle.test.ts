/**
 * The periodic review with time travel, on the durable scheduler over a SQLite file: each owner
 * gets one card per site per period, across restarts and across two instances sharing the store;
 * unanswered reviews go to the approvers once after REVIEW_ESCALATE_DAYS; decisions apply once.
 */
import { DEMO, DEMO_LIFECYCLE } from '../../../src/adapters/demo/demoTenant';
import { REVIEW_WORK } from '../../../src/usecases/reviews/model';
import { tempDatabaseFile } from '../../support/store';
import { ALEX, MEGAN, reviewHarness, type ReviewHarness } from '../../support/reviews';

const PERIODIC = { periodic: true, intervalDays: 90, escalateDays: 14 };
const megan = DEMO.users.megan.id;
const alex = DEMO.users.alex.id;

const cardsTo = (h: Pick<ReviewHarness, 'notifier'>, to: string, type: 'requested' | 'escalated' = 'requested') => h.notifier.sent.filter((s) => s.to === to && s.type === type);

/** A restart: the store closed, opened again from its file, the same tenant, clock and inbox. */
async function restart(h: ReviewHarness, file: string): Promise<ReviewHarness> {
  await h.store.close();
  const next = await reviewHarness({ settings: PERIODIC, file, carry: h });
  await next.reviews.schedulePeriodic();
  return next;
}

describe('periodic access reviews (ACCESS_REVIEWS=true, every 90 days, escalated after 14)', () => {
  it('each owner gets one card per site per period, across restarts; the next period brings the next card', async () => {
    const file = tempDatabaseFile();
    let h = await reviewHarness({ settings: PERIODIC, file });
    await h.reviews.schedulePeriodic();
    await h.tick();
    expect(cardsTo(h, megan)).toHaveLength(1);
    const first = cardsTo(h, megan)[0]!.view;
    expect(first).toMatchObject({ siteName: 'Project Falcon', trigger: 'schedule', undecided: 5, viewer: { as: 'owner' } });

    // Restarts the same day and a week later: the cycle is kept (not scheduled again), nothing is resent.
    h = await restart(h, file);
    await h.tick();
    await h.travel(7);
    h = await restart(h, file);
    await h.tick();
    expect(cardsTo(h, megan)).toHaveLength(1);

    // 90 days after the first: the next period's round, and its card.
    await h.travel(83);
    expect(cardsTo(h, megan)).toHaveLength(2);
    expect(cardsTo(h, megan)[1]!.view.roundId).not.toBe(first.roundId);
    const rounds = await h.store.reviewRounds.listBySite(DEMO.tenantId, DEMO.groups.projectFalcon.id);
    expect(rounds).toHaveLength(2);
    await h.store.close();
  });

  it('two instances over one store running at the same moment send each card once', async () => {
    const file = tempDatabaseFile();
    const one = await reviewHarness({ settings: PERIODIC, file });
    const two = await reviewHarness({ settings: PERIODIC, file, carry: one });
    await Promise.all([one.reviews.schedulePeriodic(), two.reviews.schedulePeriodic()]);
    await Promise.all([one.tick(), two.tick()]);
    await Promise.all([one.tick(), two.tick()]);
    expect(cardsTo(one, megan)).toHaveLength(1);
    // And the deliveries themselves, run twice at once (a claim that ran out, a replay): still once.
    const [round] = await one.store.reviewRounds.listBySite(DEMO.tenantId, DEMO.groups.projectFalcon.id);
    const work = { kind: REVIEW_WORK.deliver, subject: round!.id, dueAt: round!.startedAt, payload: {}, attempts: 0, lastError: null, claimedBy: null, claimedUntil: null, createdAt: '', updatedAt: '', version: 1 };
    await Promise.all([one.reviews.handlers[REVIEW_WORK.deliver](work), two.reviews.handlers[REVIEW_WORK.deliver](work)]);
    expect(cardsTo(one, megan)).toHaveLength(1);
    expect((await one.store.reviewRounds.get(round!.id))?.deliveries).toEqual([expect.objectContaining({ userId: megan, as: 'owner', outcome: 'sent' })]);
  });

  it('an unanswered review goes to the approvers after REVIEW_ESCALATE_DAYS, once; one answered in time does not', async () => {
    const h = await reviewHarness({ settings: PERIODIC });
    await h.reviews.schedulePeriodic();
    await h.tick();
    const roundId = cardsTo(h, megan)[0]!.view.roundId;

    await h.travel(13.9);
    expect(cardsTo(h, alex, 'escalated')).toHaveLength(0);
    await h.travel(0.2);
    expect(cardsTo(h, alex, 'escalated')).toHaveLength(1);
    const escalated = cardsTo(h, alex, 'escalated')[0]!;
    expect(escalated.view).toMatchObject({ roundId, escalated: true, viewer: { as: 'approver' }, undecided: 5 });
    expect(escalated.owners).toEqual([{ id: megan, name: 'Megan Bowen' }]);
    expect(await h.store.audit.list({ action: 'accessReview.escalated' })).toHaveLength(1);
    await h.travel(1);
    await h.travel(30);
    expect(cardsTo(h, alex, 'escalated')).toHaveLength(1);

    // The approver decides from the escalated card: applied once, as approver.
    const decided = await h.reviews.decide(ALEX, { roundId, userId: DEMO_LIFECYCLE.guests.endedYesterday.id, decision: 'remove' });
    expect(decided.kind).toBe('done');
    expect(await h.fake.isMember(DEMO.groups.projectFalcon.id, DEMO_LIFECYCLE.guests.endedYesterday.id)).toBe(false);

    // Next period: Megan keeps everyone within the 14 days, so nobody else hears of it.
    await h.travel(45.1);
    const next = cardsTo(h, megan)[1]!.view;
    expect(next.roundId).not.toBe(roundId);
    expect((await h.reviews.keepAll(MEGAN, { roundId: next.roundId })).kind).toBe('done');
    await h.travel(15);
    expect(cardsTo(h, alex, 'escalated')).toHaveLength(1);
  });

  it('goes to the approvers at once when no owner can be reached, and a card that failed to send is sent on the retry', async () => {
    const h = await reviewHarness({ settings: PERIODIC });
    h.notifier.unreachable.add(megan);
    await h.reviews.schedulePeriodic();
    await h.tick();
    expect(cardsTo(h, alex, 'escalated')).toHaveLength(1);

    const again = await reviewHarness({ settings: PERIODIC });
    again.notifier.failOnce.add(megan);
    await again.reviews.schedulePeriodic();
    await again.tick();
    expect(cardsTo(again, megan)).toHaveLength(0);
    await again.travel(1 / 24);
    expect(cardsTo(again, megan)).toHaveLength(1);
  });

  it('with ACCESS_REVIEWS off nothing is scheduled, and turning it off cancels the cycle', async () => {
    const file = tempDatabaseFile();
    const on = await reviewHarness({ settings: PERIODIC, file });
    await on.reviews.schedulePeriodic();
    expect(await on.store.scheduledWork.get(REVIEW_WORK.cycle, DEMO.tenantId)).not.toBeNull();
    await on.store.close();
    const off = await reviewHarness({ settings: { ...PERIODIC, periodic: false }, file, carry: on });
    await off.reviews.schedulePeriodic();
    expect(await off.store.scheduledWork.get(REVIEW_WORK.cycle, DEMO.tenantId)).toBeNull();
    await off.travel(1);
    expect(off.notifier.sent).toEqual([]);
    await off.store.close();
  });
});
