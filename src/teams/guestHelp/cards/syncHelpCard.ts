import type { SyncHelpAnswer } from '../../../usecases/guestHelp/syncHelp';
import { expandCard, type AdaptiveCard } from '../../cards';

/** The data of cards/syncHelp.json. */
export interface SyncHelpCardData {
  title: string;
  summary: string;
  requirements: string[];
  steps: string[];
  alternatives: string[];
  tenantSignInUrl: string;
  tenantName: string;
  hasTenantLink: boolean;
  showReset: boolean;
}

export function syncHelpCard(answer: SyncHelpAnswer): AdaptiveCard {
  const data: SyncHelpCardData = {
    title: answer.title,
    summary: answer.summary,
    requirements: answer.requirements,
    steps: answer.steps,
    alternatives: answer.alternatives,
    tenantSignInUrl: answer.tenantSignInUrl,
    tenantName: answer.tenantName,
    hasTenantLink: answer.hasTenantLink,
    showReset: answer.showReset,
  };
  return expandCard('syncHelp', data);
}
