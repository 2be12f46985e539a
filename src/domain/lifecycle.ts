/**
 * A guest's access to one site, from the invitation to its end, and the rules that say when
 * something happens: the end date, the reminders, and what "the end" does to the account.
 *
 * Modelled on Microsoft Entra entitlement management: an assignment that expires with reminders
 * before it does, then the `externalUserLifecycleAction` once the guest's last access is gone
 * (`none`, `blockSignIn`, `blockSignInAndDelete`, with `durationUntilExternalUserDeletedAfterBlocked`
 * before the delete):
 * https://learn.microsoft.com/graph/api/resources/entitlementmanagementsettings
 * Pure: no I/O; times are Dates or ISO strings handed in.
 */

export const DAY_MS = 24 * 60 * 60_000;

/**
 * invited    invited, not redeemed yet (Entra `externalUserState` PendingAcceptance);
 * accepted   redeemed, access running;
 * ended      the end date came: removed from the site's group;
 * withdrawn  the invitation was withdrawn before it was redeemed (by the sponsor, or automatically);
 * removed    an owner or the sponsor removed the guest from the site before the end date.
 */
export type GuestAccessState = 'invited' | 'accepted' | 'ended' | 'withdrawn' | 'removed';

/** What "my guests" shows: the stored state, with "ending soon" for running access near its end. */
export type GuestAccessStatus = GuestAccessState | 'endingSoon';

/** Still has access to the site (the group membership is, or should be, there). */
export function isActive(state: GuestAccessState): boolean {
  return state === 'invited' || state === 'accepted';
}

/** GUEST_REMOVAL: what happens to the account after access ends (the group membership always goes). */
export type GuestRemovalMode = 'removeFromGroup' | 'blockSignIn' | 'delete';

export const GUEST_REMOVAL_MODES: readonly GuestRemovalMode[] = ['removeFromGroup', 'blockSignIn', 'delete'];

/** What was done to the account after its access ended. */
export type AccountAction = 'none' | 'signInBlocked' | 'deleted' | 'keptOtherMemberships' | 'needsAdmin';

export interface LifecycleSettings {
  /** GUEST_ACCESS_DAYS: the length of an access period; null = no end (only where configured). */
  accessDays: number | null;
  /** GUEST_ACCESS_DAYS_BY_SITE: per group id (lower-case), days or null for "no end". */
  siteAccessDays: Readonly<Record<string, number | null>>;
  /** UNREDEEMED_REMINDER_DAYS: remind the sponsor this long after the invitation; 0 = never. */
  unredeemedReminderDays: number;
  /** UNREDEEMED_WITHDRAW_DAYS when UNREDEEMED_AUTO_WITHDRAW is on; null = never withdraw automatically. */
  unredeemedWithdrawDays: number | null;
  /** RENEWAL_REMINDER_DAYS: days before the end, largest first; empty = no reminders. */
  renewalReminderDays: readonly number[];
  /** GUEST_REMOVAL. */
  removal: GuestRemovalMode;
  /** GUEST_DELETE_AFTER_DAYS: for removal 'delete', days between blocking sign-in and deleting. */
  deleteAfterDays: number;
  /** GUEST_ACCOUNT_DELETE_ON_WITHDRAW: a withdrawn, never-redeemed account with no other memberships may be deleted. */
  deleteOnWithdraw: boolean;
}

export const DEFAULT_LIFECYCLE_SETTINGS: LifecycleSettings = {
  accessDays: 180,
  siteAccessDays: {},
  unredeemedReminderDays: 7,
  unredeemedWithdrawDays: null,
  renewalReminderDays: [14, 1],
  removal: 'removeFromGroup',
  deleteAfterDays: 30,
  deleteOnWithdraw: true,
};

function addDays(from: Date | string, days: number): Date {
  return new Date(new Date(from).getTime() + days * DAY_MS);
}

/** The access period for a site: its override when configured, else the default. */
export function accessDaysFor(settings: LifecycleSettings, groupId: string): number | null {
  // Group ids are GUIDs: compared without case (the setting is stored lower-case).
  const key = groupId.toLowerCase();
  return Object.hasOwn(settings.siteAccessDays, key) ? (settings.siteAccessDays[key] ?? null) : settings.accessDays;
}

/** The end of an access starting at `from` (ISO), or null when the site's access has no end. */
export function accessEndFor(settings: LifecycleSettings, groupId: string, from: Date | string): string | null {
  const days = accessDaysFor(settings, groupId);
  return days === null ? null : addDays(from, days).toISOString();
}

/**
 * The end after a renewal: another full period from the current end (or from now, when the
 * current end has already passed), so renewing early never shortens anything.
 */
export function renewedEnd(settings: LifecycleSettings, groupId: string, currentEnd: string | null, now: Date): string | null {
  const from = currentEnd && Date.parse(currentEnd) > now.getTime() ? currentEnd : now;
  return accessEndFor(settings, groupId, from);
}

/** When the sponsor is reminded of an unredeemed invitation, or null when never. */
export function unredeemedReminderAt(settings: LifecycleSettings, invitedAt: string): string | null {
  return settings.unredeemedReminderDays > 0 ? addDays(invitedAt, settings.unredeemedReminderDays).toISOString() : null;
}

/** When an unredeemed invitation is withdrawn automatically, or null when never. */
export function autoWithdrawAt(settings: LifecycleSettings, invitedAt: string): string | null {
  return settings.unredeemedWithdrawDays !== null && settings.unredeemedWithdrawDays > 0
    ? addDays(invitedAt, settings.unredeemedWithdrawDays).toISOString()
    : null;
}

/** The renewal reminders of one end date, earliest first. */
export function renewalReminderTimes(settings: LifecycleSettings, endsAt: string): Array<{ daysBefore: number; at: string }> {
  return [...new Set(settings.renewalReminderDays)]
    .filter((d) => d > 0)
    .sort((a, b) => b - a)
    .map((daysBefore) => ({ daysBefore, at: addDays(endsAt, -daysBefore).toISOString() }));
}

export interface RenewalReminderStep {
  /** The reminder to send now (the most urgent one due and not sent), or null when none is due. */
  send: { daysBefore: number } | null;
  /** Every reminder due now, the one sent included: a bot that was down sends one card, not a pile. */
  covers: number[];
  /** When the next reminder is due, or null when none is left before the end. */
  nextAt: string | null;
}

/** Which renewal reminder is due at `now`, given the ones already sent for this end date. */
export function renewalReminderStep(settings: LifecycleSettings, endsAt: string, sent: readonly number[], now: Date): RenewalReminderStep {
  if (now.getTime() >= Date.parse(endsAt)) return { send: null, covers: [], nextAt: null };
  const times = renewalReminderTimes(settings, endsAt).filter((t) => !sent.includes(t.daysBefore));
  const due = times.filter((t) => Date.parse(t.at) <= now.getTime());
  const later = times.filter((t) => Date.parse(t.at) > now.getTime());
  const mostUrgent = due.at(-1);
  return {
    send: mostUrgent ? { daysBefore: mostUrgent.daysBefore } : null,
    covers: due.map((t) => t.daysBefore),
    nextAt: later[0]?.at ?? null,
  };
}

/** "Ending soon": running access within the first renewal reminder's reach of its end. */
export function accessStatus(
  settings: LifecycleSettings,
  access: { state: GuestAccessState; endsAt: string | null },
  now: Date,
): GuestAccessStatus {
  if (!isActive(access.state) || access.endsAt === null) return access.state;
  const reach = Math.max(0, ...settings.renewalReminderDays);
  return Date.parse(access.endsAt) - now.getTime() <= reach * DAY_MS ? 'endingSoon' : access.state;
}

/** Whole days from `from` to `to`, rounded down, never negative. */
export function daysBetween(from: string | Date, to: string | Date): number {
  return Math.max(0, Math.floor((new Date(to).getTime() - new Date(from).getTime()) / DAY_MS));
}

export interface AccountFacts {
  /** The guest redeemed at some point (externalUserState Accepted, or a sign-in was seen). */
  everRedeemed: boolean;
  /** Groups the guest is still a member of, other than the one being left. */
  otherMemberships: number;
}

/**
 * Withdrawing an invitation deletes the account only when nothing else depends on it: never
 * redeemed, no other memberships, and the policy allows deleting.
 */
export function mayDeleteOnWithdraw(settings: LifecycleSettings, facts: AccountFacts): boolean {
  return settings.deleteOnWithdraw && !facts.everRedeemed && facts.otherMemberships === 0;
}

export interface RemovalPlan {
  /** Set accountEnabled=false now. */
  blockSignIn: boolean;
  /** Delete the account at this time (after blocking), or null. */
  deleteAt: string | null;
  /** Why the account was left alone although the mode asks more (other memberships). */
  keptBecause: 'otherMemberships' | null;
}

/**
 * What the end of access does to the account, after the group membership is gone. Like
 * entitlement management, the account is touched only when this was the guest's last access:
 * a guest still in another group keeps their account as it is.
 */
export function removalPlan(settings: LifecycleSettings, facts: Pick<AccountFacts, 'otherMemberships'>, endedAt: Date): RemovalPlan {
  if (settings.removal === 'removeFromGroup') return { blockSignIn: false, deleteAt: null, keptBecause: null };
  if (facts.otherMemberships > 0) return { blockSignIn: false, deleteAt: null, keptBecause: 'otherMemberships' };
  return {
    blockSignIn: true,
    deleteAt: settings.removal === 'delete' ? addDays(endedAt, settings.deleteAfterDays).toISOString() : null,
    keptBecause: null,
  };
}

/** Who may act on a guest's access: the sponsor, an owner of the site, an approver (renewals). */
export type LifecycleRole = 'sponsor' | 'owner' | 'approver';
