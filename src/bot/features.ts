import type { BotFeature } from './feature';
import type { BotServices } from './services';

/**
 * Every feature the bot offers, in the order their onMessage is tried.
 * The lead wires features in here; the foundation ships none.
 */
export function buildFeatures(_services: BotServices): BotFeature[] {
  return [];
}
