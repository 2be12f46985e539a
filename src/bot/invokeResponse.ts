import type { InvokeResponse } from 'botbuilder';
import type { AdaptiveCard } from './cards';

/** The full Adaptive Card invoke response Teams requires for every Action.Execute. */
export function cardInvokeResponse(card: AdaptiveCard): InvokeResponse {
  return {
    status: 200,
    body: { statusCode: 200, type: 'application/vnd.microsoft.card.adaptive', value: card },
  };
}

/** A plain message response (shown as a toast-like message by Teams). */
export function messageInvokeResponse(message: string): InvokeResponse {
  return { status: 200, body: { statusCode: 200, type: 'application/vnd.microsoft.activity.message', value: message } };
}
