import { expandCard, type AdaptiveCard } from '../cards';

/** Data of the `error` template (cards/error.json): a title and a message, both plain text. */
export interface ErrorCardData {
  title: string;
  message: string;
}

export function errorCard(data: ErrorCardData): AdaptiveCard {
  return expandCard('error', { title: data.title, message: data.message });
}
