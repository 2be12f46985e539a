import type { Actor } from '../../domain/actor';
import { audit, refused, reviewerRight, type ReviewDeps, type ReviewOutcome } from './model';
import type { DecisionOutcome, ReviewDecision, ReviewRound, ReviewedGuest } from './ports';
import { undecided } from './rounds';
import { reviewView } from './views';

/**
 * Keep / Remove per guest and Keep all, on a review card. Every click re-reads the round and
 * re-checks the clicker's right (an owner of the site now, or a guest approver), and is
 * idempotent: a decision is written by compare-and-set on the round, so of a double click, a
 * replayed invoke or two instances acting at once exactly one records it; the others answer
 * "already". Remove then goes through the lifecycle's removal (GUEST_REMOVAL, notices, audit); a
 * removal cut short stays 'pending' and the next click on that guest finishes it.
 */

const ATTEMPTS = 5;
/**
 * A 'remove' still pending this long after it was decided was cut short (a crash, a lost answer):
 * the next click finishes it. Younger, it is a click racing the one carrying it out right now.
 */
export const PENDING_REMOVAL_GRACE_MS = 60_000;
const nameOf = (actor: Actor) => ({ id: actor.userId, name: actor.name });

type Loaded = { round: ReviewRound; as: 'owner' | 'approver' } | { refusal: Exclude<ReviewOutcome, { view: unknown }> };

/** What a reviewer tried (the `attempted` of an accessReview.refused event); null: only looking. */
type ReviewAttempt = { attempted: 'keep' | 'remove' | 'keepAll'; userId: string | null } | null;

async function load(deps: ReviewDeps, actor: Actor, roundId: string, attempt: ReviewAttempt): Promise<Loaded> {
  const round = await deps.rounds.get(roundId);
  // Another tenant's round, or one that does not exist: the same answer, saying nothing about it.
  if (!round || round.tenantId.toLowerCase() !== actor.tenantId.toLowerCase()) {
    return { refusal: refused('notFound', 'I could not find that review any more.') };
  }
  const as = await reviewerRight(deps, actor, round);
  if (!as) {
    if (attempt) await auditRefusal(deps, actor, round, attempt);
    return { refusal: refused('notAllowed', `Only an owner of ${round.siteName} or a guest approver can decide on its guests.`) };
  }
  return { round, as };
}

/** A click by someone neither an owner of the site nor a guest approver: on the record, nothing else changes. */
async function auditRefusal(deps: ReviewDeps, actor: Actor, round: ReviewRound, attempt: NonNullable<ReviewAttempt>): Promise<void> {
  try {
    await audit(deps, nameOf(actor), 'accessReview.refused', round, {
      attempted: attempt.attempted,
      reason: 'notOwnerOrApprover',
      ...(attempt.userId ? { userId: attempt.userId } : {}),
    });
  } catch (error) {
    deps.logger?.warn({ roundId: round.id, err: error instanceof Error ? error.name : 'error' }, 'reviews: refusal not audited');
  }
}

function decidedMessage(d: ReviewDecision, guestName: string): string {
  const what = d.decision === 'keep' ? 'kept' : 'removed';
  return `${guestName} was already ${what} by ${d.by.name}.`;
}

function completed(round: ReviewRound, decisions: ReviewDecision[], now: string): string | null {
  const decided = new Set(decisions.map((d) => d.userId.toLowerCase()));
  return round.guests.every((g) => decided.has(g.userId.toLowerCase())) ? (round.completedAt ?? now) : null;
}

export async function decide(deps: ReviewDeps, actor: Actor, input: { roundId: string; userId: string; decision: 'keep' | 'remove' }): Promise<ReviewOutcome> {
  const tried = { attempted: input.decision, userId: input.userId };
  let loaded = await load(deps, actor, input.roundId, tried);
  if ('refusal' in loaded) return loaded.refusal;
  for (let attempt = 0; attempt < ATTEMPTS; attempt += 1) {
    const { round, as } = loaded;
    const guest = round.guests.find((g) => g.userId.toLowerCase() === input.userId.toLowerCase());
    if (!guest) return refused('notFound', 'That guest is not part of this review.');
    const existing = round.decisions.find((d) => d.userId.toLowerCase() === guest.userId.toLowerCase());
    if (existing) {
      // Someone decided first (or this is a replay); a removal left half-way is finished now.
      const stale = existing.decision === 'remove' && existing.outcome === 'pending' && deps.clock.now().getTime() - Date.parse(existing.at) >= PENDING_REMOVAL_GRACE_MS;
      const current = stale ? await finishRemoval(deps, actor, round, guest) : round;
      return { kind: 'already', view: await reviewView(deps, current, { as }), message: decidedMessage(existing, guest.displayName) };
    }
    const now = deps.clock.now().toISOString();
    const decision: ReviewDecision = {
      userId: guest.userId,
      decision: input.decision,
      by: nameOf(actor),
      as,
      at: now,
      outcome: input.decision === 'keep' ? 'kept' : 'pending',
      accessId: guest.accessId,
      note: null,
    };
    const decisions = [...round.decisions, decision];
    const updated = await deps.rounds.update(round.id, round.version, { decisions, completedAt: completed(round, decisions, now) });
    if (!updated) {
      const again = await load(deps, actor, input.roundId, tried);
      if ('refusal' in again) return again.refusal;
      loaded = again;
      continue;
    }
    await audit(deps, nameOf(actor), input.decision === 'keep' ? 'accessReview.kept' : 'accessReview.removeDecided', updated, {
      userId: guest.userId,
      accessId: guest.accessId,
      as,
    });
    if (input.decision === 'keep') {
      return { kind: 'done', view: await reviewView(deps, updated, { as }), message: `You kept ${guest.displayName}.` };
    }
    const after = await finishRemoval(deps, actor, updated, guest);
    const outcome = after.decisions.find((d) => d.userId === guest.userId);
    return { kind: 'done', view: await reviewView(deps, after, { as }), message: removalMessage(guest.displayName, round.siteName, outcome) };
  }
  return refused('invalidInput', 'That review keeps changing; please look at it again.');
}

function removalMessage(guestName: string, siteName: string, decision: ReviewDecision | undefined): string {
  switch (decision?.outcome) {
    case 'removed':
      return `${guestName} no longer has access to ${siteName}.`;
    case 'alreadyEnded':
      return `${guestName}'s access to ${siteName} had already ended.`;
    case 'needsAdmin':
      return `Removal decided; the bot may not do every step itself, so an administrator has the steps. ${decision.note ?? ''}`.trim();
    case 'failed':
      return `Removal decided, but it did not go through: ${decision.note ?? 'please try again.'}`;
    default:
      return `Removal of ${guestName} decided; it is on its way.`;
  }
}

/**
 * Carries out a 'remove' decision through the lifecycle's removal, then records its outcome on
 * the round (compare-and-set; only the writer that moves it from 'pending' audits it). A guest the
 * bot did not invite gets an access record first, so the same removal (GUEST_REMOVAL, notices,
 * audit) applies to every guest.
 */
export async function finishRemoval(deps: ReviewDeps, actor: Actor, start: ReviewRound, guest: ReviewedGuest): Promise<ReviewRound> {
  const decision = start.decisions.find((d) => d.userId === guest.userId);
  if (!decision || decision.decision !== 'remove' || decision.outcome !== 'pending') return start;
  let outcome: DecisionOutcome;
  let note: string | null = null;
  let accessId = decision.accessId;
  if (accessId === null) {
    const account = await deps.directory.guestAccount(guest.userId);
    if (account) {
      const sponsors = await deps.directory.sponsorsOf(guest.userId);
      const sponsor = sponsors[0] ? { id: sponsors[0].id, name: sponsors[0].displayName } : decision.by;
      accessId = await deps.removals.adopt({
        tenantId: start.tenantId,
        group: { id: start.groupId, name: start.siteName, siteUrl: start.siteUrl },
        guest: account,
        sponsor,
      });
    }
  }
  if (accessId === null) {
    outcome = 'alreadyEnded';
  } else {
    const result = await deps.removals.remove(actor, accessId);
    outcome = result.kind === 'refused' ? 'failed' : result.kind;
    note = result.kind === 'removed' ? null : result.message;
  }
  let round: ReviewRound | null = start;
  for (let attempt = 0; attempt < ATTEMPTS && round; attempt += 1) {
    const current = round.decisions.find((d) => d.userId === guest.userId);
    if (!current || current.outcome !== 'pending') return round;
    const decisions = round.decisions.map((d) => (d.userId === guest.userId ? { ...d, outcome, note, accessId } : d));
    const updated = await deps.rounds.update(round.id, round.version, { decisions });
    if (updated) {
      await audit(deps, nameOf(actor), 'accessReview.removed', updated, { userId: guest.userId, accessId, outcome });
      return updated;
    }
    round = await deps.rounds.get(start.id);
  }
  return round ?? start;
}

/** Keep all: every guest still undecided is kept, in one compare-and-set (a second click finds none left). */
export async function keepAll(deps: ReviewDeps, actor: Actor, input: { roundId: string }): Promise<ReviewOutcome> {
  const tried = { attempted: 'keepAll' as const, userId: null };
  let loaded = await load(deps, actor, input.roundId, tried);
  if ('refusal' in loaded) return loaded.refusal;
  for (let attempt = 0; attempt < ATTEMPTS; attempt += 1) {
    const { round, as } = loaded;
    const open = undecided(round);
    if (open.length === 0) {
      return { kind: 'already', view: await reviewView(deps, round, { as }), message: 'Every guest of this review already has a decision.' };
    }
    const now = deps.clock.now().toISOString();
    const added: ReviewDecision[] = open.map((g) => ({ userId: g.userId, decision: 'keep', by: nameOf(actor), as, at: now, outcome: 'kept', accessId: g.accessId, note: null }));
    const decisions = [...round.decisions, ...added];
    const updated = await deps.rounds.update(round.id, round.version, { decisions, completedAt: completed(round, decisions, now) });
    if (!updated) {
      const again = await load(deps, actor, input.roundId, tried);
      if ('refusal' in again) return again.refusal;
      loaded = again;
      continue;
    }
    for (const g of open) await audit(deps, nameOf(actor), 'accessReview.kept', updated, { userId: g.userId, accessId: g.accessId, as, keptAll: true });
    return { kind: 'done', view: await reviewView(deps, updated, { as }), message: `You kept ${open.length === 1 ? '1 guest' : `${open.length} guests`}.` };
  }
  return refused('invalidInput', 'That review keeps changing; please look at it again.');
}

/** The card as it stands now, for someone who may see it (a refresh, or opening it again). */
export async function viewRound(deps: ReviewDeps, actor: Actor, input: { roundId: string }): Promise<ReviewOutcome> {
  const loaded = await load(deps, actor, input.roundId, null);
  if ('refusal' in loaded) return loaded.refusal;
  return { kind: 'already', view: await reviewView(deps, loaded.round, { as: loaded.as }), message: '' };
}
