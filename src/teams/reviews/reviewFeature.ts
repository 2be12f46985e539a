/**
 * Access reviews in Teams: "review Project Falcon" answers with the site's review card; Keep,
 * Remove and Keep all on it are Action.Execute verbs whose answer is the card itself, read again
 * after the decision (Teams replaces the card in place). Rights are the use case's, re-checked at
 * every click; a refusal is a card that says why and changes nothing.
 */
import type { InvokeResponse } from 'botbuilder';
import { z } from 'zod';
import type { Actor } from '../../domain/actor';
import type { Clock } from '../../domain/clock';
import type { Logger } from '../../shared/logger';
import type { AccessReviews } from '../../usecases/reviews/accessReviews';
import type { ReviewOutcome } from '../../usecases/reviews/model';
import type { ActionData, ActionHandler, BotFeature, RefusedClickOf } from '../bot/feature';
import { cardInvokeResponse } from '../bot/invokeResponse';
import { cardAttachment, type AdaptiveCard } from '../cards';
import { errorCard } from '../cards/errorCard';
import { reviewCard, type Tone } from './reviewCard';

export const REVIEW_VERBS = {
  keep: 'review.keep',
  remove: 'review.remove',
  keepAll: 'review.keepAll',
  refresh: 'review.refresh',
} as const;

/** "review Project Falcon", "start a review of Project Falcon", "review site Marketing". */
const REVIEW_COMMAND = /^(?:start (?:an? )?)?(?:access )?review(?: of)?(?: (?:the )?site)?(?= |$)/i;

/** The site named after the command, '' when none; null when the text is not the command. */
export function reviewCommandSite(text: string): string | null {
  let words = text.replace(/\s+/g, ' ').trim();
  while (words.endsWith('.') || words.endsWith('!') || words.endsWith('?')) words = words.slice(0, -1).trimEnd();
  const match = REVIEW_COMMAND.exec(words);
  if (!match) return null;
  return words.slice(match[0].length).trim();
}

const roundData = z.object({ roundId: z.string().trim().min(1).max(300) });
const guestData = roundData.extend({ userId: z.string().trim().min(1).max(100) });

export interface ReviewFeatureServices {
  reviews: AccessReviews;
  clock: Clock;
  logger?: Pick<Logger, 'error'>;
}

const TONE: Record<ReviewOutcome['kind'], Tone> = { done: 'good', already: 'warning', refused: 'attention' };

export function createReviewFeature(services: ReviewFeatureServices): BotFeature {
  const { reviews, clock, logger } = services;

  const cardFor = (outcome: ReviewOutcome): AdaptiveCard => {
    if (outcome.kind === 'refused') return errorCard({ title: 'Nothing was changed', message: outcome.message });
    return reviewCard(outcome.view, clock.now(), { notice: outcome.message ? { text: outcome.message, tone: TONE[outcome.kind] } : null });
  };

  const handler =
    <T extends z.ZodTypeAny>(schema: T, act: (actor: Actor, data: z.infer<T>) => Promise<ReviewOutcome>): ActionHandler =>
    async (_context, actor, raw: ActionData): Promise<InvokeResponse> => {
      const parsed = schema.safeParse(raw);
      if (!parsed.success) {
        return cardInvokeResponse(errorCard({ title: 'Nothing was changed', message: 'That button does not say which review or guest it is for.' }));
      }
      if (!actor) {
        return cardInvokeResponse(errorCard({ title: 'Nothing was changed', message: "I can't tell who you are in this chat, so I can't take that decision." }));
      }
      try {
        return cardInvokeResponse(cardFor(await act(actor, parsed.data)));
      } catch (error) {
        logger?.error({ err: error instanceof Error ? error.name : 'error' }, 'reviews: action failed');
        return cardInvokeResponse(
          errorCard({ title: 'Something went wrong', message: 'That click could not be handled. Press Refresh to see where the review stands, then try again.' }),
        );
      }
    };

  /** What each button attempts (accessReview.refused), for a click from someone Teams did not identify. */
  const onRound = (attempted: string) => (data: ActionData) => ({ event: 'accessReview', subjectType: 'accessReview', subjectId: data.roundId, attempted });
  const refusedClicks: Record<string, RefusedClickOf> = {
    [REVIEW_VERBS.keep]: onRound('keep'),
    [REVIEW_VERBS.remove]: onRound('remove'),
    [REVIEW_VERBS.keepAll]: onRound('keepAll'),
    [REVIEW_VERBS.refresh]: null,
  };

  return {
    name: 'reviews',
    refusedClicks,
    async onMessage(dc, text, actor): Promise<boolean> {
      const site = reviewCommandSite(text);
      if (site === null) return false;
      if (!actor) {
        await dc.context.sendActivity("I can't tell who you are in this chat, so I can't start a review for you.");
        return true;
      }
      if (site === '') {
        await dc.context.sendActivity('Say which site to review, for example "review Project Falcon".');
        return true;
      }
      const outcome = await reviews.startReview(actor, site);
      if (outcome.kind === 'refused') {
        await dc.context.sendActivity(outcome.message);
        return true;
      }
      await dc.context.sendActivity({ attachments: [cardAttachment(cardFor({ ...outcome, message: outcome.kind === 'already' ? outcome.message : '' }))] });
      return true;
    },
    actions: {
      [REVIEW_VERBS.keep]: handler(guestData, (actor, d) => reviews.decide(actor, { roundId: d.roundId, userId: d.userId, decision: 'keep' })),
      [REVIEW_VERBS.remove]: handler(guestData, (actor, d) => reviews.decide(actor, { roundId: d.roundId, userId: d.userId, decision: 'remove' })),
      [REVIEW_VERBS.keepAll]: handler(roundData, (actor, d) => reviews.keepAll(actor, { roundId: d.roundId })),
      [REVIEW_VERBS.refresh]: handler(roundData, (actor, d) => reviews.view(actor, { roundId: d.roundId })),
    },
    help: [
      { title: "Review a site's guests now: keep or remove each one", example: 'review Project Falcon', audience: 'owners' },
      { title: 'Review any site the bot knows, as a guest approver', example: 'review Marketing', audience: 'admins' },
    ],
  };
}
