/**
 * What the lifecycle cards share: dates in one fixed zone, the status of an access in words, the
 * facts of an access, and the admin steps block. Every value built from a guest, site or person
 * enters a card only as data (TextRun), never as template text.
 */
import type { GuestAccessStatus } from '../../../domain/lifecycle';
import type { AccountAction } from '../../../domain/lifecycle';
import type { AdminInstructions, GuestAccessSummary } from '../../../usecases/lifecycle/ports';

export type Tone = 'default' | 'emphasis' | 'good' | 'attention' | 'warning' | 'accent';
/** TextRun colours (Adaptive Cards 1.5 `Colors`). */
export type TextColor = 'Default' | 'Accent' | 'Good' | 'Warning' | 'Attention';

export interface Fact {
  title: string;
  value: string;
}

/** The admin block of cards/lifecycleResult.json and lifecycleAccessEnded.json. */
export interface AdminStepsData {
  adminSteps: string[];
  hasPermissionNote: boolean;
  permissionNote: string;
}

const DATE_FORMAT = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });

/** "15 Jan 2026" (UTC: every copy of a card says the same). */
export function formatDate(iso: string | null): string {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : DATE_FORMAT.format(d);
}

export const STATUS_LABELS: Record<GuestAccessStatus, { label: string; color: TextColor }> = {
  invited: { label: 'Invited, not accepted yet', color: 'Warning' },
  accepted: { label: 'Accepted', color: 'Good' },
  endingSoon: { label: 'Ending soon', color: 'Warning' },
  ended: { label: 'Ended', color: 'Default' },
  withdrawn: { label: 'Invitation withdrawn', color: 'Default' },
  removed: { label: 'Removed', color: 'Default' },
};

/** The end of access in words: a date, or "no end". */
export function endsText(access: Pick<GuestAccessSummary, 'endsAt'>): string {
  return access.endsAt ? formatDate(access.endsAt) : 'No end date';
}

/** Guest, site, sponsor and the dates of one access. */
export function accessFacts(access: GuestAccessSummary, options: { sponsor?: boolean; dates?: boolean } = {}): Fact[] {
  const facts: Fact[] = [
    { title: 'Guest', value: `${access.guestName} (${access.guestEmail})` },
    { title: 'Site', value: access.siteName },
  ];
  if (options.sponsor !== false) facts.push({ title: 'Sponsor', value: access.sponsorName });
  if (options.dates !== false) {
    facts.push({ title: 'Invited', value: formatDate(access.invitedAt) });
    if (access.acceptedAt) facts.push({ title: 'Accepted', value: formatDate(access.acceptedAt) });
    facts.push({ title: access.status === 'ended' || access.status === 'removed' || access.status === 'withdrawn' ? 'Access was to end' : 'Access ends', value: endsText(access) });
  }
  return facts;
}

const ACCOUNT_WORDS: Record<AccountAction, string> = {
  none: 'Their guest account was left as it is.',
  signInBlocked: 'Their guest account can no longer sign in (blocked).',
  deleted: 'Their guest account was deleted (an admin can restore it within 30 days).',
  keptOtherMemberships: 'Their guest account was kept: they still have access to other sites.',
  needsAdmin: 'An admin has to finish the change to their account (steps below).',
};

export function accountActionText(action: AccountAction | null | undefined): string {
  return action ? ACCOUNT_WORDS[action] : '';
}

/** Admin instructions as one list of steps, with the missing permission named once. */
export function adminStepsData(instructions: readonly AdminInstructions[]): AdminStepsData {
  const steps = instructions.flatMap((i) => i.steps.map((s, n) => `${n + 1}. ${s}`));
  const permissions = [...new Set(instructions.map((i) => i.permission).filter((p): p is string => Boolean(p)))];
  return {
    adminSteps: steps,
    hasPermissionNote: permissions.length > 0,
    permissionNote: permissions.length > 0 ? `The app lacks the Microsoft Graph permission ${permissions.join(', ')}; an admin can do it by hand:` : '',
  };
}

export const NO_ADMIN_STEPS: AdminStepsData = { adminSteps: [], hasPermissionNote: false, permissionNote: '' };

export function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}
