/**
 * The answer to a click or a command (cards/lifecycleResult.json): done, already done (a replay,
 * a second click, or someone was first), refused (with why), or for an admin (with the steps).
 * A card that answered a click replaces it in place, so a second click shows this, not the action.
 */
import type { AccountAction } from '../../../domain/lifecycle';
import type { ActionOutcome } from '../../../usecases/lifecycle/model';
import type { GuestAccessSummary } from '../../../usecases/lifecycle/ports';
import { expandCard, isSafeCardUrl, type AdaptiveCard } from '../../cards';
import { accessFacts, accountActionText, adminStepsData, endsText, formatDate, NO_ADMIN_STEPS, type AdminStepsData, type Fact, type Tone } from './common';

/** The data of cards/lifecycleResult.json. */
export interface LifecycleResultCardData extends AdminStepsData {
  tone: Tone;
  headline: string;
  details: string[];
  facts: Fact[];
  showLink: boolean;
  redeemUrl: string;
  linkNote: string;
  hasListAction: boolean;
}

export type LifecycleVerbName = 'resend' | 'withdraw' | 'keepWaiting' | 'renew' | 'approveRenewal' | 'letEnd' | 'remove' | 'handOver';

/** What each action did, in words, once it is done. */
function doneWords(verb: LifecycleVerbName, a: GuestAccessSummary, extra: { emailed?: boolean; accountAction?: AccountAction; nextReminderAt?: string | null; sponsorName?: string }): { headline: string; details: string[] } {
  switch (verb) {
    case 'resend':
      return {
        headline: `A new invitation for ${a.guestName} is ready`,
        details: [extra.emailed ? 'Microsoft is emailing it to them too.' : 'Send them the link below (Microsoft does not email it unless you ask).'],
      };
    case 'withdraw':
      return { headline: `${a.guestName}'s invitation to ${a.siteName} was withdrawn`, details: [accountActionText(extra.accountAction)].filter(Boolean) };
    case 'remove':
      return { headline: `${a.guestName} was removed from ${a.siteName}`, details: [accountActionText(extra.accountAction)].filter(Boolean) };
    case 'keepWaiting':
      return {
        headline: `Waiting for ${a.guestName} to accept`,
        details: [extra.nextReminderAt ? `You will be reminded again on ${formatDate(extra.nextReminderAt)} if they have not accepted by then.` : 'You will not be reminded again.'],
      };
    case 'renew':
    case 'approveRenewal':
      return { headline: `${a.guestName}'s access to ${a.siteName} was renewed`, details: [`It now ends on ${endsText(a)}.`] };
    case 'letEnd':
      return { headline: `${a.guestName}'s access to ${a.siteName} will end`, details: [`It ends on ${endsText(a)}; no more renewal reminders for it.`] };
    case 'handOver':
      return { headline: `${extra.sponsorName ?? a.sponsorName} is now the sponsor of ${a.guestName}`, details: ['They were told in their chat with the bot, and get the reminders from now on.'] };
  }
}

function base(tone: Tone, headline: string, details: string[], facts: Fact[], hasListAction: boolean): LifecycleResultCardData {
  return { tone, headline, details, facts, showLink: false, redeemUrl: '', linkNote: '', hasListAction, ...NO_ADMIN_STEPS };
}

/** The outcome of an action as the card that replaces the one clicked. */
export function actionResultCard(
  verb: LifecycleVerbName,
  outcome: ActionOutcome<{ redeemUrl?: string | null; accountAction?: AccountAction; nextReminderAt?: string | null; sponsor?: { name: string } }> | { kind: 'pendingApproval'; access: GuestAccessSummary; created: boolean },
  options: { emailed?: boolean; listAction?: boolean } = {},
): AdaptiveCard {
  const listAction = options.listAction ?? true;
  if (outcome.kind === 'refused') {
    return expandCard('lifecycleResult', base('attention', 'Nothing was changed', [outcome.message], [], listAction));
  }
  const facts = accessFacts(outcome.access, { dates: verb !== 'resend' });
  if (outcome.kind === 'pendingApproval') {
    return expandCard(
      'lifecycleResult',
      base(
        'accent',
        `Renewal of ${outcome.access.guestName}'s access sent for approval`,
        [
          outcome.created ? 'The approvers have the request in their chat with the bot.' : 'This renewal was already sent for approval: the approvers have it.',
          'The access is renewed once an approver approves; you are told either way.',
        ],
        facts,
        listAction,
      ),
    );
  }
  if (outcome.kind === 'needsAdmin') {
    return expandCard('lifecycleResult', { ...base('warning', outcome.message, [], facts, listAction), ...adminStepsData(outcome.instructions) });
  }
  const redeemUrl = outcome.redeemUrl ?? null;
  const link = verb === 'resend' && isSafeCardUrl(redeemUrl);
  // "Let it end" after the last reminder went out: nothing was left to note, and it does end then.
  const endsAsPlanned = verb === 'letEnd' && outcome.kind === 'already' && ['invited', 'accepted', 'endingSoon'].includes(outcome.access.status) && !/renewed/.test(outcome.message);
  if (outcome.kind === 'already' && !endsAsPlanned) {
    const data = base('default', outcome.message, [], facts, listAction);
    if (link) Object.assign(data, { showLink: true, redeemUrl, linkNote: `The link of that new invitation, for ${outcome.access.guestName}:` });
    return expandCard('lifecycleResult', data);
  }
  const words = doneWords(verb, outcome.access, {
    emailed: options.emailed,
    accountAction: outcome.accountAction,
    nextReminderAt: outcome.nextReminderAt,
    sponsorName: outcome.sponsor?.name,
  });
  const data = base('good', words.headline, words.details, facts, listAction);
  if (link) Object.assign(data, { showLink: true, redeemUrl, linkNote: `Send this link to ${outcome.access.guestName} (${outcome.access.guestEmail}):` });
  return expandCard('lifecycleResult', data);
}

/** A plain answer: bad input, a refusal before any guest is known, or something that went wrong. */
export function lifecycleMessageCard(headline: string, details: string[], tone: Tone = 'attention'): AdaptiveCard {
  return expandCard('lifecycleResult', base(tone, headline, details, [], false));
}
