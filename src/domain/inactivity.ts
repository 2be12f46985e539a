/**
 * Is a guest inactive? The rules, pure: sign-in evidence and dates in, a verdict out.
 *
 * The traps this avoids (each a table case in test/unit/domain/inactivity.test.ts):
 * - Only interactive sign-ins counted: a guest who works in Teams mostly leaves
 *   non-interactive sign-ins (token refreshes), so `lastSignInDateTime` alone can be months old
 *   for someone active every day. The latest of interactive, non-interactive and successful wins.
 *   https://learn.microsoft.com/entra/identity/monitoring-health/howto-manage-inactive-user-accounts
 * - Guests who never redeemed skipped: they have no sign-in at all; they count from the invitation.
 * - A blank last sign-in treated as inactive: blank is "nothing recorded", not "long ago". A guest
 *   who redeemed counts from the redemption (redeeming is itself a sign-in, so a blank record
 *   after it means the data predates Entra's history, April 2020); without any date, unknown.
 * - No permission or licence (AuditLog.Read.All, Entra ID P1/P2): unknown, never inactive.
 */

const DAY_MS = 24 * 60 * 60_000;

/** Graph `signInActivity`'s three times (ISO 8601; null, blank or malformed = not recorded). */
export interface SignInTimes {
  lastSignInDateTime: string | null;
  lastNonInteractiveSignInDateTime: string | null;
  lastSuccessfulSignInDateTime: string | null;
}

/** What the directory could tell: the times, or why it could not. */
export type SignInEvidence =
  | { kind: 'known'; times: SignInTimes }
  | { kind: 'unavailable'; reason: 'permissionMissing' | 'licenceMissing' };

/** INACTIVE_EXCLUDE, parsed: guests never flagged. */
export interface InactivityExclusions {
  /** Lower-case domains; "*.example.com" covers its subdomains (not example.com itself). */
  domains: readonly string[];
  /** Lower-case addresses. */
  emails: readonly string[];
  /** Lower-case Entra object ids. */
  userIds: readonly string[];
}

export interface InactivitySettings {
  /** INACTIVE_DAYS: flagged after this many days without a sign-in. */
  inactiveDays: number;
  exclusions: InactivityExclusions;
}

export const DEFAULT_INACTIVE_DAYS = 90;

export const NO_EXCLUSIONS: InactivityExclusions = { domains: [], emails: [], userIds: [] };

export interface GuestActivityInput {
  userId: string;
  email: string;
  /** When the guest was invited (ISO), when known. */
  invitedAt: string | null;
  /** When the guest redeemed (ISO); null when they have not, or it is not known. */
  acceptedAt: string | null;
  /** The guest has redeemed (Entra externalUserState Accepted). */
  redeemed: boolean;
  signIns: SignInEvidence;
}

/** Which sign-in was the latest. */
export type SignInKind = 'interactive' | 'nonInteractive' | 'successful';

export type InactivityVerdict =
  /** Signed in (or was invited / redeemed) within INACTIVE_DAYS. */
  | { status: 'active'; lastActivityAt: string; basis: ActivityBasis; days: number }
  /** Nothing for INACTIVE_DAYS or more: flagged in reviews. */
  | { status: 'inactive'; lastActivityAt: string; basis: ActivityBasis; days: number }
  /** Excluded by INACTIVE_EXCLUDE: never flagged (the last sign-in is still shown). */
  | { status: 'excluded'; by: 'domain' | 'guest'; lastActivityAt: string | null; basis: ActivityBasis | null }
  /** Cannot tell: no permission, no licence, or no date at all. Never flagged. */
  | { status: 'unknown'; reason: 'permissionMissing' | 'licenceMissing' | 'noDate' };

/** What the date of an active/inactive verdict is: a sign-in of some kind, the invitation, or the redemption. */
export type ActivityBasis = SignInKind | 'invitation' | 'redemption';

function validTime(value: string | null | undefined): number | null {
  if (typeof value !== 'string' || value.trim() === '') return null;
  const t = Date.parse(value);
  return Number.isFinite(t) ? t : null;
}

/** The latest recorded sign-in of any kind, or null when none is recorded. */
export function latestSignIn(times: SignInTimes): { at: string; kind: SignInKind } | null {
  const candidates: Array<[SignInKind, number | null]> = [
    ['interactive', validTime(times.lastSignInDateTime)],
    ['nonInteractive', validTime(times.lastNonInteractiveSignInDateTime)],
    ['successful', validTime(times.lastSuccessfulSignInDateTime)],
  ];
  let best: { t: number; kind: SignInKind } | null = null;
  for (const [kind, t] of candidates) {
    if (t !== null && (best === null || t > best.t)) best = { t, kind };
  }
  return best ? { at: new Date(best.t).toISOString(), kind: best.kind } : null;
}

function domainOf(email: string): string {
  const at = email.lastIndexOf('@');
  return at < 0 ? '' : email.slice(at + 1).trim().toLowerCase();
}

/** Whether INACTIVE_EXCLUDE names this guest (by address or object id) or their domain. */
export function exclusionOf(exclusions: InactivityExclusions, guest: { userId: string; email: string }): 'domain' | 'guest' | null {
  const email = guest.email.trim().toLowerCase();
  if (exclusions.emails.includes(email) || exclusions.userIds.includes(guest.userId.toLowerCase())) return 'guest';
  const domain = domainOf(email);
  if (domain === '') return null;
  const byDomain = exclusions.domains.some((d) => (d.startsWith('*.') ? domain.endsWith(d.slice(1)) : d === domain));
  return byDomain ? 'domain' : null;
}

/** The date activity counts from, and what it is, when there is one. */
function lastActivity(input: GuestActivityInput, times: SignInTimes | null): { at: string; basis: ActivityBasis } | null {
  const signIn = times ? latestSignIn(times) : null;
  if (signIn) return { at: signIn.at, basis: signIn.kind };
  // Nothing recorded: a guest who never redeemed counts from the invitation; one who did, from the redemption.
  if (!input.redeemed) {
    const invited = validTime(input.invitedAt);
    return invited === null ? null : { at: new Date(invited).toISOString(), basis: 'invitation' };
  }
  const accepted = validTime(input.acceptedAt);
  return accepted === null ? null : { at: new Date(accepted).toISOString(), basis: 'redemption' };
}

export function assessInactivity(settings: InactivitySettings, input: GuestActivityInput, now: Date): InactivityVerdict {
  const excludedBy = exclusionOf(settings.exclusions, input);
  if (input.signIns.kind === 'unavailable') {
    if (excludedBy) return { status: 'excluded', by: excludedBy, lastActivityAt: null, basis: null };
    return { status: 'unknown', reason: input.signIns.reason };
  }
  const last = lastActivity(input, input.signIns.times);
  if (excludedBy) return { status: 'excluded', by: excludedBy, lastActivityAt: last?.at ?? null, basis: last?.basis ?? null };
  if (!last) return { status: 'unknown', reason: 'noDate' };
  const days = Math.max(0, Math.floor((now.getTime() - Date.parse(last.at)) / DAY_MS));
  return { status: days >= settings.inactiveDays ? 'inactive' : 'active', lastActivityAt: last.at, basis: last.basis, days };
}

/**
 * INACTIVE_EXCLUDE: comma- (or space-) separated entries, each a domain ("fabrikam.com"), a
 * domain with its subdomains ("*.fabrikam.com"), an address ("jane@fabrikam.com") or an Entra
 * object id. Returns the problems instead when an entry is none of those.
 */
export function parseInactivityExclusions(raw: string): { exclusions: InactivityExclusions } | { problems: string[] } {
  const domains: string[] = [];
  const emails: string[] = [];
  const userIds: string[] = [];
  const problems: string[] = [];
  for (const entry of raw.split(/[,;\s]+/).map((e) => e.trim().toLowerCase()).filter(Boolean)) {
    if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(entry)) userIds.push(entry);
    else if (/^[^@\s]+@[a-z0-9.-]+\.[a-z0-9-]+$/.test(entry)) emails.push(entry);
    else if (/^(\*\.)?[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$/.test(entry)) domains.push(entry);
    else problems.push(`"${entry}" is not a domain, *.domain, address or object id`);
  }
  return problems.length > 0 ? { problems } : { exclusions: { domains, emails, userIds } };
}
