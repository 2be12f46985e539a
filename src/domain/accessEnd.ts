/**
 * The end date of a guest's access as the invitation paths state it: what an invitation made
 * now would get, an end asked for explicitly (a bulk row's own date or number of days) kept
 * within the site's period, and how it reads on a card. Pure: times are handed in.
 *
 * Dates read in one fixed zone (UTC), like every other date on the bot's cards, so each copy of
 * a card says the same whoever opens it. An end asked for as a calendar day lasts to the end of
 * that day (23:59:59.999 UTC).
 */
import { accessDaysFor, accessEndFor, DAY_MS, type LifecycleSettings } from './lifecycle';

// Built once (a formatter per call shows in profiles of busy cards).
const DAY_FORMAT = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });

/** "30 May 2027" (UTC). */
export function formatAccessDay(iso: string): string {
  return DAY_FORMAT.format(new Date(iso));
}

/** "Access ends on 30 May 2027", or "No end date". */
export function accessEndSentence(endsAt: string | null): string {
  return endsAt === null ? 'No end date' : `Access ends on ${formatAccessDay(endsAt)}`;
}

/**
 * An end asked for explicitly, kept within what the site allows: never later than the site's
 * period from `from` (GUEST_ACCESS_DAYS or its override; a site without an end takes any date)
 * and never before `from`. Undefined asks for the site's own end.
 */
export function boundedAccessEnd(settings: LifecycleSettings, groupId: string, from: Date, requested?: string): string | null {
  const siteEnd = accessEndFor(settings, groupId, from);
  if (requested === undefined) return siteEnd;
  const at = Date.parse(requested);
  if (!Number.isFinite(at)) throw new TypeError('endsAt must be an ISO date');
  if (siteEnd !== null && at > Date.parse(siteEnd)) return siteEnd;
  return new Date(Math.max(at, from.getTime())).toISOString();
}

/**
 * An end asked for in a bulk file, as stored with the row: a calendar day (`2027-05-30`) or a
 * number of days from the invitation (`90`).
 */
export type RequestedAccessEnd = { kind: 'date'; date: string } | { kind: 'days'; days: number };

/** The stored form of a requested end: `2027-05-30` or `90d`. */
export function storedAccessEnd(end: RequestedAccessEnd): string {
  return end.kind === 'date' ? end.date : `${end.days}d`;
}

/** Reads the stored form back; null for none or anything else. */
export function requestedAccessEndFrom(stored: string | null): RequestedAccessEnd | null {
  if (!stored) return null;
  const days = /^(\d{1,4})d$/.exec(stored);
  if (days) return { kind: 'days', days: Number(days[1]) };
  return /^\d{4}-\d{2}-\d{2}$/.test(stored) ? { kind: 'date', date: stored } : null;
}

/** The end instant of a requested end, for an access starting at `from` (ISO, unbounded). */
export function requestedEndAt(end: RequestedAccessEnd, from: Date): string {
  return end.kind === 'days' ? new Date(from.getTime() + end.days * DAY_MS).toISOString() : `${end.date}T23:59:59.999Z`;
}

const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];

function isoDay(year: number, month: number, day: number): string | null {
  const d = new Date(Date.UTC(year, month - 1, day));
  if (d.getUTCFullYear() !== year || d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day) return null;
  return d.toISOString().slice(0, 10);
}

/** "May", "Sept", "september" → 5, 9, 9 (English names, at least three letters). */
function monthOf(word: string): number | null {
  const w = word.toLowerCase();
  const i = MONTHS.findIndex((name) => name.startsWith(w.slice(0, 3)) && (name.startsWith(w) || (w === 'sept' && name === 'september')));
  return i < 0 ? null : i + 1;
}

/**
 * A cell of the end-date column, read without guessing: `2027-05-30` (also with `/` or `.`, or
 * an ISO time after it), `30 May 2027`, `May 30, 2027`, `30-May-2027`. Numeric day/month orders
 * (`05/06/2027`) are ambiguous between countries and refused with the form to use.
 */
export function parseEndDateCell(cell: string): { ok: true; date: string } | { ok: false; reason: string } {
  const v = cell.trim();
  const bad = { ok: false as const, reason: `"${v.slice(0, 40)}" is not a date I can read: write it as 2027-05-30` };
  let m = /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$/.exec(v);
  if (m) {
    const day = isoDay(Number(m[1]), Number(m[2]), Number(m[3]));
    return day ? { ok: true, date: day } : { ok: false, reason: `"${v.slice(0, 40)}" is not a real date` };
  }
  m = /^(\d{1,2})[\s-]+([A-Za-z]{3,9})\.?[\s-]+(\d{4})$/.exec(v) ?? null;
  const named = m ? { day: Number(m[1]), month: monthOf(m[2] ?? ''), year: Number(m[3]) } : null;
  const m2 = named ? null : /^([A-Za-z]{3,9})\.?\s+(\d{1,2}),?\s+(\d{4})$/.exec(v);
  const parts = named ?? (m2 ? { day: Number(m2[2]), month: monthOf(m2[1] ?? ''), year: Number(m2[3]) } : null);
  if (parts) {
    if (parts.month === null) return bad;
    const day = isoDay(parts.year, parts.month, parts.day);
    return day ? { ok: true, date: day } : { ok: false, reason: `"${v.slice(0, 40)}" is not a real date` };
  }
  if (/^\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}$/.test(v)) {
    return { ok: false, reason: `"${v.slice(0, 40)}" could be read day-first or month-first: write it as 2027-05-30` };
  }
  return bad;
}

/** A cell of the days column: a whole number of days, at least 1. */
export function parseAccessDaysCell(cell: string): { ok: true; days: number } | { ok: false; reason: string } {
  const v = cell.trim();
  const m = /^(\d{1,4})(?:\s*days?)?$/i.exec(v);
  if (!m || Number(m[1]) < 1) return { ok: false, reason: `the number of access days must be a whole number of days (1 or more), not "${v.slice(0, 40)}"` };
  return { ok: true, days: Number(m[1]) };
}

/**
 * Checks a requested end against the site's period, as of `now`: a date already past (or today,
 * which would end at once), or later than the site allows, is refused with the reason.
 */
export function checkRequestedEnd(
  settings: LifecycleSettings,
  groupId: string | null,
  end: RequestedAccessEnd,
  now: Date,
): { ok: true } | { ok: false; reason: string } {
  const maxDays = groupId === null ? settings.accessDays : accessDaysFor(settings, groupId);
  if (end.kind === 'date') {
    if (Date.parse(requestedEndAt(end, now)) - now.getTime() < DAY_MS / 2 || end.date <= now.toISOString().slice(0, 10)) {
      return { ok: false, reason: `the access end date ${formatAccessDay(`${end.date}T12:00:00Z`)} is not in the future` };
    }
    if (maxDays !== null) {
      const latest = new Date(now.getTime() + maxDays * DAY_MS).toISOString().slice(0, 10);
      if (end.date > latest) {
        return { ok: false, reason: `the access end date ${formatAccessDay(`${end.date}T12:00:00Z`)} is later than this site allows (at most ${maxDays} days, until ${formatAccessDay(`${latest}T12:00:00Z`)})` };
      }
    }
    return { ok: true };
  }
  if (maxDays !== null && end.days > maxDays) {
    return { ok: false, reason: `${end.days} access days is more than this site allows (at most ${maxDays} days)` };
  }
  return { ok: true };
}
