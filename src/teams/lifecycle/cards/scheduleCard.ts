/** "what is scheduled for jane@…" (cards/lifecycleSchedule.json): each access the asker may see, with its due work. */
import type { GuestAccessSummary } from '../../../usecases/lifecycle/ports';
import type { ScheduledStep } from '../../../usecases/lifecycle/queries';
import { expandCard, type AdaptiveCard } from '../../cards';
import { accessFacts, formatDate, STATUS_LABELS, type Fact } from './common';

export interface ScheduleAccessData {
  siteName: string;
  statusLabel: string;
  facts: Fact[];
  steps: string[];
}

/** The data of cards/lifecycleSchedule.json. */
export interface ScheduleCardData {
  title: string;
  details: string[];
  accesses: ScheduleAccessData[];
}

const KIND_WORDS: Record<string, string> = {
  'lifecycle.unredeemedReminder': 'Remind the sponsor that the invitation is not accepted yet',
  'lifecycle.autoWithdraw': 'Withdraw the invitation automatically if still not accepted',
  'lifecycle.renewalReminder': 'Ask the sponsor to renew',
  'lifecycle.endOfAccess': 'End of access: remove from the site',
  'lifecycle.deleteAccount': 'Delete the blocked guest account',
};

function stepText(step: ScheduledStep): string {
  const what = KIND_WORDS[step.kind] ?? step.kind;
  const retry = step.attempts > 0 ? ` (tried ${step.attempts} time${step.attempts === 1 ? '' : 's'}${step.lastError ? `: ${step.lastError}` : ''}; trying again then)` : '';
  return `${formatDate(step.dueAt)}: ${what}${retry}`;
}

export function scheduleCard(email: string, entries: Array<{ access: GuestAccessSummary; running: boolean; scheduled: ScheduledStep[] }>): AdaptiveCard {
  const data: ScheduleCardData = {
    title: `What is scheduled for ${email}`,
    details: [entries.length === 0 ? 'Nothing you sponsor or own: I only show guests of sites you own or guests you sponsor.' : 'Soonest first; times are checked every minute or so.'],
    accesses: entries.map((e) => ({
      siteName: e.access.siteName,
      statusLabel: STATUS_LABELS[e.access.status].label,
      facts: accessFacts(e.access).filter((f) => f.title !== 'Site'),
      steps: e.scheduled.length > 0 ? e.scheduled.map(stepText) : ['Nothing scheduled.'],
    })),
  };
  return expandCard('lifecycleSchedule', data);
}
