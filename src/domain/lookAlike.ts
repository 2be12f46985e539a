import { domainToUnicode } from 'node:url';
import type { EmailAddress } from './email';

/**
 * Look-alike addresses: an internationalised domain can imitate another one letter for letter
 * (`gmаil.com` with a Cyrillic "а" is `xn--gmil-63d.com`, not `gmail.com`). Such an address is
 * not refused (genuine internationalised domains exist and stay allowed) but flagged, with the
 * ASCII (punycode) form that Microsoft Entra will actually use shown beside the Unicode one, so
 * the owner confirms knowingly.
 *
 * Two levels:
 * - mixedScripts: a label mixes letters of scripts that are not normally written together
 *   (Latin with Cyrillic, Greek with Latin …). The combinations Unicode's "Highly Restrictive"
 *   level allows (UTS #39 §5.2: Latin with Han, Hiragana and Katakana; with Han and Bopomofo; with
 *   Han and Hangul) do not count as mixed.
 *   https://www.unicode.org/reports/tr39/#Restriction_Level_Detection
 * - internationalised: any other domain with non-ASCII letters; a whole label in one script can
 *   still imitate a Latin one (Cyrillic "аррӏе"), and only the owner knows which domain they mean.
 */

export type LookAlikeKind = 'mixedScripts' | 'internationalised';

export interface LookAlikeWarning {
  kind: LookAlikeKind;
  /** The address as shown to people (Unicode domain). */
  display: string;
  /** The address as Entra gets it (ASCII, punycode domain). */
  ascii: string;
  /** Scripts of the letters in the domain, e.g. ['Latin', 'Cyrillic']. */
  scripts: string[];
  /** One sentence for the owner, naming the scripts. */
  message: string;
}

/** Scripts a domain label is likely to use; anything else is reported as "other". */
const SCRIPTS = [
  'Latin', 'Cyrillic', 'Greek', 'Armenian', 'Georgian', 'Hebrew', 'Arabic', 'Syriac', 'Thaana',
  'Devanagari', 'Bengali', 'Gurmukhi', 'Gujarati', 'Oriya', 'Tamil', 'Telugu', 'Kannada',
  'Malayalam', 'Sinhala', 'Thai', 'Lao', 'Tibetan', 'Myanmar', 'Khmer', 'Mongolian', 'Ethiopic',
  'Cherokee', 'Canadian_Aboriginal', 'Hangul', 'Hiragana', 'Katakana', 'Bopomofo', 'Han',
] as const;

const SCRIPT_TESTS = SCRIPTS.map((name) => ({ name, test: new RegExp(`^\\p{Script=${name}}$`, 'u') }));
const LETTER = /^\p{L}$/u;

/** Sets of scripts UTS #39 "Highly Restrictive" allows in one label. */
const ALLOWED_MIXES: ReadonlyArray<ReadonlySet<string>> = [
  new Set(['Latin', 'Han', 'Hiragana', 'Katakana']),
  new Set(['Latin', 'Han', 'Bopomofo']),
  new Set(['Latin', 'Han', 'Hangul']),
];

function scriptOf(ch: string): string | null {
  // Digits, hyphens and combining marks (Common / Inherited) belong to no script of their own.
  if (!LETTER.test(ch)) return null;
  return SCRIPT_TESTS.find((s) => s.test.test(ch))?.name.replace('_', ' ') ?? 'other';
}

function scriptsIn(label: string): Set<string> {
  const scripts = new Set<string>();
  for (const ch of label) {
    const script = scriptOf(ch);
    if (script) scripts.add(script);
  }
  return scripts;
}

function isMixed(scripts: ReadonlySet<string>): boolean {
  if (scripts.size <= 1) return false;
  return !ALLOWED_MIXES.some((allowed) => [...scripts].every((s) => allowed.has(s)));
}

/** The warning for an address, or null for a plain ASCII domain. */
export function lookAlikeWarning(email: Pick<EmailAddress, 'localPart' | 'domain' | 'display' | 'address'>): LookAlikeWarning | null {
  const unicodeDomain = domainToUnicode(email.domain) || email.domain;
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(unicodeDomain)) return null;
  const labels = unicodeDomain.split('.');
  const all = new Set<string>();
  let mixedLabel: { label: string; scripts: string[] } | null = null;
  for (const label of labels) {
    const scripts = scriptsIn(label);
    for (const s of scripts) all.add(s);
    if (!mixedLabel && isMixed(scripts)) mixedLabel = { label, scripts: [...scripts] };
  }
  const display = `${email.localPart}@${unicodeDomain}`;
  const scripts = [...all];
  if (mixedLabel) {
    return {
      kind: 'mixedScripts',
      display,
      ascii: email.address,
      scripts,
      message: `"${mixedLabel.label}" mixes ${joinScripts(mixedLabel.scripts)} letters, a common way to imitate another domain. Entra will invite ${email.address}.`,
    };
  }
  return {
    kind: 'internationalised',
    display,
    ascii: email.address,
    scripts,
    message: `The domain has ${joinScripts(scripts.filter((s) => s !== 'Latin'))} letters; letters of other scripts can look like Latin ones. Entra will invite ${email.address}.`,
  };
}

function joinScripts(scripts: readonly string[]): string {
  if (scripts.length <= 1) return scripts[0] ?? 'non-Latin';
  return `${scripts.slice(0, -1).join(', ')} and ${scripts[scripts.length - 1]}`;
}
