import type { InvokeResponse } from 'botbuilder';
import type { AdaptiveCard } from '../cards';

/** The full Adaptive Card invoke response Teams requires for every Action.Execute. */
export function cardInvokeResponse(card: AdaptiveCard): InvokeResponse {
  return {
    status: 200,
    body: { statusCode: 200, type: 'application/vnd.microsoft.card.adaptive', value: card },
  };
}
