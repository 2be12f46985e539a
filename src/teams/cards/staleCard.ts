import { expandCard, type AdaptiveCard } from '../cards';

/** The data of cards/staleCard.json: why a card's button no longer does anything. */
export interface StaleCardData {
  message: string;
}

export function staleCard(data: StaleCardData): AdaptiveCard {
  return expandCard('staleCard', data);
}
