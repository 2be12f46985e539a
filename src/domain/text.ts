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

/**
 * Characters that start markdown or HTML in a Teams text message, and the look-alikes shown
 * instead. Teams renders a bot's plain message as markdown (links, emphasis, headings) and
 * HTML (`<at>` mentions, tags), and backslash escapes render differently across clients, so
 * user text repeated in a message is shown with these inert look-alikes: it reads the same,
 * and nothing in it can become a link, a mention, bold text or a heading.
 * (https://learn.microsoft.com/microsoftteams/platform/bots/how-to/format-your-bot-messages)
 */
const INERT: Readonly<Record<string, string>> = {
  '[': '\uff3b', // ［
  ']': '\uff3d', // ］
  '<': '\u2039', // ‹
  '>': '\u203a', // ›
  '*': '\u2217', // ∗
  '`': '\u02cb', // ˋ
  '~': '\u223c', // ∼
  '#': '\uff03', // ＃
  '\\': '\uff3c', // ＼
  '&': '\uff06', // ＆
  '|': '\u2223', // ∣
};

const WORD_CHAR = /^[\p{L}\p{N}]$/u;

/**
 * User text made safe to repeat inside a plain chat message: line breaks and runs of spaces
 * become one space, it is cut to `max` characters with "…", markdown and HTML characters are
 * replaced by look-alikes (see INERT), `_` too where it could start or end emphasis, and
 * "://" is broken so that no link is made of it. The caller puts it in quotes.
 */
export function quoteForChat(text: string, max = 80): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  const chars = Array.from(flat);
  const cut = chars.length > max ? [...chars.slice(0, max - 1), '…'] : chars;
  let out = '';
  for (let i = 0; i < cut.length; i++) {
    const ch = cut[i] ?? '';
    if (ch === '_') {
      const inWord = WORD_CHAR.test(cut[i - 1] ?? '') && WORD_CHAR.test(cut[i + 1] ?? '');
      out += inWord ? '_' : '\uff3f'; // ＿
      continue;
    }
    out += INERT[ch] ?? ch;
  }
  return out.replaceAll('://', ':\u2060//');
}
