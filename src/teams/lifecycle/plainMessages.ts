/**
 * The lifecycle notices as plain sentences: the first rendering, until each notice has its card
 * (the cards carry the actions: Resend, Withdraw, Keep waiting, Renew, Let it end).
 */
import type { LifecycleMessages } from './lifecycleNotifier';

const day = (iso: string): string => iso.slice(0, 10);

export const plainLifecycleMessages: LifecycleMessages = {
  unredeemedReminder: (_to, n) =>
    `${n.access.guestName} has not accepted the invitation to ${n.access.siteName} yet (${n.daysWaiting} days). Say "my guests" to resend or withdraw it.`,
  autoWithdrawn: (_to, n) => `The unaccepted invitation of ${n.access.guestName} to ${n.access.siteName} was withdrawn.`,
  renewalReminder: (_to, n) =>
    `${n.access.guestName}'s access to ${n.access.siteName} ends on ${day(n.forEndsAt)} (${n.daysLeft} days). Say "my guests" to renew it.`,
  accessEnded: (_to, n) => `${n.access.guestName}'s access to ${n.access.siteName} has ended.`,
  guestAccessEnded: (_guest, n) => `Your access to ${n.siteName} ended on ${day(n.endedAt)}.`,
  sponsorshipReceived: (_to, n) => `${n.by} made you the sponsor of ${n.access.guestName} (${n.access.siteName}).`,
};
