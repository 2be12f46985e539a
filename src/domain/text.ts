/**
 * Small string helpers that take linear time whatever the input. A regular expression such
 * as /[.!?]+$/ looks harmless, but unanchored at the start it retries from every position:
 * a message of 28,000 '?' followed by one other character costs 28,000² steps. These loops
 * do the same jobs in one pass (see the regexp/no-super-linear-* lint rules).
 */

/** `s` without the characters of `chars` at its end. */
export function trimEndChars(s: string, chars: string): string {
  let end = s.length;
  while (end > 0 && chars.includes(s.charAt(end - 1))) end--;
  return end === s.length ? s : s.slice(0, end);
}

/** `s` without the characters of `chars` at its start. */
export function trimStartChars(s: string, chars: string): string {
  let start = 0;
  while (start < s.length && chars.includes(s.charAt(start))) start++;
  return start === 0 ? s : s.slice(start);
}

/** `s` without characters matching `test` (one character at a time) at either end. */
export function trimWhere(s: string, test: (ch: string) => boolean): string {
  let start = 0;
  let end = s.length;
  while (start < end && test(s.charAt(start))) start++;
  while (end > start && test(s.charAt(end - 1))) end--;
  return s.slice(start, end);
}
