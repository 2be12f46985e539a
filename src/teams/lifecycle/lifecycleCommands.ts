/**
 * What a person types to the lifecycle, parsed: "my guests", "guests of Project Falcon",
 * "make Alex the sponsor of jane@fabrikam.com" (optionally "… on Project Falcon"), and
 * "what is scheduled for jane@fabrikam.com". Pure: no I/O; plain string steps (no backtracking
 * regular expressions over user text).
 */
export type LifecycleCommand =
  | { kind: 'myGuests'; includeEnded: boolean }
  | { kind: 'guestsOf'; siteName: string; includeEnded: boolean }
  | { kind: 'handOver'; person: string; guest: string; siteName: string | null }
  | { kind: 'schedule'; guest: string };

const QUOTES = new Set(['"', "'", '“', '”', '‘', '’']);
const CLOSING = new Set(['.', '!', '?']);

/** Trims, collapses spaces and drops closing punctuation. */
function tidy(text: string): string {
  let t = text.split(/\s+/).filter(Boolean).join(' ');
  while (t.length > 0 && CLOSING.has(t.charAt(t.length - 1))) t = t.slice(0, -1).trimEnd();
  return t;
}

function unquote(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && (QUOTES.has(s.charAt(start)) || s.charAt(start) === ' ')) start += 1;
  while (end > start && (QUOTES.has(s.charAt(end - 1)) || s.charAt(end - 1) === ' ')) end -= 1;
  return s.slice(start, end);
}

/** The rest of `t` after the first of `prefixes` it starts with (any case), or null. */
function after(t: string, prefixes: readonly string[]): string | null {
  const lower = t.toLowerCase();
  for (const p of prefixes) if (lower.startsWith(p)) return t.slice(p.length);
  return null;
}

const ENDED_SUFFIXES = [' including ended', ' and ended ones', ' (all)', ' all'];

function withoutEnded(t: string): { text: string; includeEnded: boolean } {
  const lower = t.toLowerCase();
  for (const s of ENDED_SUFFIXES) if (lower.endsWith(s)) return { text: t.slice(0, -s.length), includeEnded: true };
  return { text: t, includeEnded: false };
}

const MY_GUESTS = new Set(['my guests', 'show my guests', 'list my guests', 'show me my guests', 'guests of mine']);
const GUESTS_OF = ['show guests of ', 'list guests of ', 'show guests in ', 'guests of ', 'guests in ', 'guests on ', 'guests for ', 'show all guests of ', 'all guests of '];
const SCHEDULE = ['what is scheduled for ', "what's scheduled for ", 'whats scheduled for ', 'what is planned for ', 'what is due for ', 'scheduled for '];

function parseHandOver(t: string): LifecycleCommand | null {
  const rest = after(t, ['please make ', 'make ']);
  if (rest === null) return null;
  const lower = rest.toLowerCase();
  let at = -1;
  let marker = '';
  for (const m of [' the new sponsor of ', ' the sponsor of ', ' new sponsor of ', ' sponsor of ', ' the sponsor for ', ' sponsor for ']) {
    at = lower.indexOf(m);
    if (at >= 0) {
      marker = m;
      break;
    }
  }
  if (at < 0) return null;
  const person = unquote(rest.slice(0, at));
  const tail = rest.slice(at + marker.length);
  const space = tail.indexOf(' ');
  const guest = unquote(space < 0 ? tail : tail.slice(0, space));
  const siteRest = space < 0 ? null : after(tail.slice(space), [' on the site ', ' in the site ', ' on ', ' in ', ' for ', ' at ']);
  if (!person || !guest) return null;
  return { kind: 'handOver', person, guest, siteName: siteRest ? unquote(siteRest) || null : null };
}

export function parseLifecycleCommand(text: string): LifecycleCommand | null {
  const t = tidy(text);
  const ended = withoutEnded(t);
  if (MY_GUESTS.has(ended.text.toLowerCase())) return { kind: 'myGuests', includeEnded: ended.includeEnded };
  const handOver = parseHandOver(t);
  if (handOver) return handOver;
  const scheduled = after(t, SCHEDULE);
  if (scheduled !== null) return { kind: 'schedule', guest: unquote(scheduled) };
  const site = after(ended.text, GUESTS_OF);
  if (site !== null) {
    const siteName = unquote(after(site, ['the site ']) ?? site);
    if (siteName) return { kind: 'guestsOf', siteName, includeEnded: ended.includeEnded };
  }
  return null;
}
