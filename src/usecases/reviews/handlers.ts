import type { WorkHandler } from '../scheduling/workRunner';
import { audit, DAY_MS, REVIEW_WORK, type ReviewDeps, type ReviewWorkKind } from './model';
import type { Delivery, ReviewDelivery, ReviewPerson, ReviewRound } from './ports';
import { openRound, undecided } from './rounds';
import { reviewView } from './views';

/**
 * The periodic reviews on the durable scheduler (usecases/ports/scheduler.ts): one `review.cycle`
 * per tenant comes back every REVIEW_INTERVAL_DAYS and opens the period's round of every site with
 * guests; each round's cards go out through `review.deliver`, and what is still undecided after
 * REVIEW_ESCALATE_DAYS through `review.escalate`. Once per owner per period, across restarts and
 * instances: the round id is the site + period (insert-or-get), and each card is claimed on the
 * round by compare-and-set before it is sent (a claim that lost the race sends nothing).
 */

const DONE = { outcome: 'done' } as const;

/** Schedules the cycle when periodic reviews are on (kept as it is when already there), cancels it when off. */
export async function schedulePeriodicReviews(deps: ReviewDeps): Promise<void> {
  if (!deps.settings.periodic) {
    await deps.work.cancel(REVIEW_WORK.cycle, deps.settings.tenantId);
    return;
  }
  await deps.work.schedule({ kind: REVIEW_WORK.cycle, subject: deps.settings.tenantId, dueAt: deps.clock.now().toISOString() });
}

function cycle(deps: ReviewDeps): WorkHandler {
  return async (work) => {
    if (!deps.settings.periodic) return DONE;
    // The period is the time this cycle was due: a replay (or another instance) opens the same rounds.
    const period = new Date(work.dueAt).toISOString();
    const records = await deps.access.listByTenant(deps.settings.tenantId, { states: ['invited', 'accepted'] });
    const sites = new Map<string, { groupId: string; siteName: string; siteUrl: string | null }>();
    for (const r of records) if (!sites.has(r.groupId.toLowerCase())) sites.set(r.groupId.toLowerCase(), { groupId: r.groupId, siteName: r.siteName, siteUrl: r.siteUrl });
    for (const site of sites.values()) {
      const opened = await openRound(deps, site, { trigger: 'schedule', period, startedBy: null, escalate: true });
      if (opened) await deps.work.schedule({ kind: REVIEW_WORK.deliver, subject: opened.round.id, dueAt: deps.clock.now().toISOString() });
    }
    // Next period from this one (not from now): a late pass does not shift every later review.
    let next = Date.parse(period) + deps.settings.intervalDays * DAY_MS;
    while (next <= deps.clock.now().getTime()) next += deps.settings.intervalDays * DAY_MS;
    return { outcome: 'reschedule', dueAt: new Date(next).toISOString() };
  };
}

/**
 * Sends the round's card to each person once: the delivery is claimed on the round (compare-and-set)
 * before sending, so two instances, a retry or a restart never send a person a second card.
 */
async function deliverOnce(
  deps: ReviewDeps,
  roundId: string,
  people: ReviewPerson[],
  as: 'owner' | 'approver',
  send: (to: ReviewPerson, round: ReviewRound) => Promise<Delivery>,
): Promise<number> {
  let sent = 0;
  for (const person of people) {
    let claimed: ReviewRound | null = null;
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const round = await deps.rounds.get(roundId);
      if (!round || round.deliveries.some((d) => d.userId.toLowerCase() === person.id.toLowerCase())) break;
      const claim: ReviewDelivery = { userId: person.id, name: person.name, as, at: deps.clock.now().toISOString(), outcome: 'claimed' };
      claimed = await deps.rounds.update(round.id, round.version, { deliveries: [...round.deliveries, claim] });
      if (claimed) break;
    }
    if (!claimed) continue;
    let outcome: Delivery;
    try {
      outcome = await send(person, claimed);
    } catch (error) {
      // Not sent (a transient fault): give the claim back, so the retry of this work sends it.
      await settleClaim(deps, roundId, person.id, null);
      throw error;
    }
    if (outcome === 'sent') sent += 1;
    await settleClaim(deps, roundId, person.id, outcome);
  }
  return sent;
}

/** Records how a claimed delivery went, or (null) drops the claim. */
async function settleClaim(deps: ReviewDeps, roundId: string, userId: string, outcome: Delivery | null): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const round = await deps.rounds.get(roundId);
    if (!round) return;
    const deliveries =
      outcome === null
        ? round.deliveries.filter((d) => !(d.userId === userId && d.outcome === 'claimed'))
        : round.deliveries.map((d) => (d.userId === userId && d.outcome === 'claimed' ? { ...d, outcome } : d));
    if (await deps.rounds.update(round.id, round.version, { deliveries })) return;
  }
}

function deliver(deps: ReviewDeps): WorkHandler {
  return async (work) => {
    const round = await deps.rounds.get(work.subject);
    if (!round || round.completedAt) return DONE;
    const owners = (await deps.directory.listGroupOwners(round.groupId)).map((o) => ({ id: o.id, name: o.displayName }));
    await deliverOnce(deps, round.id, owners, 'owner', async (to, current) => deps.notifier.reviewRequested(to, await reviewView(deps, current, { as: 'owner' })));
    const after = await deps.rounds.get(round.id);
    // Nobody could be reached (no owner, or none ever talked to the bot): the approvers get it now.
    // A card claimed by another instance and on its way counts as reaching someone.
    if (after && after.escalateAt && !after.escalatedAt && !after.deliveries.some((d) => d.as === 'owner' && d.outcome !== 'unreachable')) {
      await deps.work.schedule({ kind: REVIEW_WORK.escalate, subject: round.id, dueAt: deps.clock.now().toISOString() }, { replace: true });
    }
    return DONE;
  };
}

function escalate(deps: ReviewDeps): WorkHandler {
  return async (work) => {
    let round = await deps.rounds.get(work.subject);
    if (!round || round.completedAt || undecided(round).length === 0) return DONE;
    if (round.escalateAt && Date.parse(round.escalateAt) > deps.clock.now().getTime() && round.deliveries.some((d) => d.as === 'owner' && d.outcome !== 'unreachable')) {
      return { outcome: 'reschedule', dueAt: round.escalateAt };
    }
    for (let attempt = 0; attempt < 5 && round && !round.escalatedAt; attempt += 1) {
      const updated: ReviewRound | null = await deps.rounds.update(round.id, round.version, { escalatedAt: deps.clock.now().toISOString() });
      if (updated) {
        await audit(deps, { id: 'system', name: 'Access reviews' }, 'accessReview.escalated', updated, { undecided: undecided(updated).length });
        round = updated;
        break;
      }
      round = await deps.rounds.get(work.subject);
    }
    if (!round) return DONE;
    const owners = round.deliveries.filter((d) => d.as === 'owner').map((d) => ({ id: d.userId, name: d.name }));
    const approvers = (await deps.approvers.list()).filter((a) => !owners.some((o) => o.id.toLowerCase() === a.id.toLowerCase()));
    await deliverOnce(deps, round.id, approvers, 'approver', async (to, current) =>
      deps.notifier.reviewEscalated(to, await reviewView(deps, current, { as: 'approver' }), owners),
    );
    return DONE;
  };
}

export function reviewHandlers(deps: ReviewDeps): Record<ReviewWorkKind, WorkHandler> {
  return {
    [REVIEW_WORK.cycle]: cycle(deps),
    [REVIEW_WORK.deliver]: deliver(deps),
    [REVIEW_WORK.escalate]: escalate(deps),
  };
}
