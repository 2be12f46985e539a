import type { Actor } from '../../domain/actor';
import type { WorkHandler } from '../scheduling/workRunner';
import { decide, keepAll, viewRound } from './decisions';
import { reviewHandlers, schedulePeriodicReviews } from './handlers';
import type { ReviewDeps, ReviewOutcome, ReviewWorkKind } from './model';
import { startReview } from './start';

/**
 * Access reviews, as the Teams layer calls them: each method returns data (a view of the review
 * card and a sentence); cards sent later go out through the ReviewNotifier port.
 */
export interface AccessReviews {
  /** "review Project Falcon". */
  startReview(actor: Actor, siteName: string): Promise<ReviewOutcome>;
  decide(actor: Actor, input: { roundId: string; userId: string; decision: 'keep' | 'remove' }): Promise<ReviewOutcome>;
  keepAll(actor: Actor, input: { roundId: string }): Promise<ReviewOutcome>;
  view(actor: Actor, input: { roundId: string }): Promise<ReviewOutcome>;
  /** At start-up: the periodic cycle scheduled when ACCESS_REVIEWS is on (once across instances), cancelled when off. */
  schedulePeriodic(): Promise<void>;
  /** The due-work handlers, by kind ('review.…'), for the one ScheduledWorkRunner. */
  readonly handlers: Record<ReviewWorkKind, WorkHandler>;
}

export function createAccessReviews(deps: ReviewDeps): AccessReviews {
  return {
    startReview: (actor, siteName) => startReview(deps, actor, siteName),
    decide: (actor, input) => decide(deps, actor, input),
    keepAll: (actor, input) => keepAll(deps, actor, input),
    view: (actor, input) => viewRound(deps, actor, input),
    schedulePeriodic: () => schedulePeriodicReviews(deps),
    handlers: reviewHandlers(deps),
  };
}
