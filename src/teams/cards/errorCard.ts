import { expandCard, type AdaptiveCard } from '../cards';

/** The data of cards/error.json: what went wrong, in plain words (nothing changed). */
export interface ErrorCardData {
  title: string;
  message: string;
}

export function errorCard(data: ErrorCardData): AdaptiveCard {
  return expandCard('error', data);
}
