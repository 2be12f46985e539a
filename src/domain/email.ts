import { domainToASCII, domainToUnicode } from 'node:url';
import { trimEndChars, trimStartChars, trimWhere } from './text';

/**
 * Email addresses as the Entra B2B invitation API accepts them.
 *
 * We are deliberately stricter than RFC 5321/5322: Graph's `invitedUserEmailAddress` refuses
 * ~ ! # $ % ^ & * ( ) + = [ ] { } \ / | ; : " < > ? , and allows '.' and '-' in the local part
 * except at its start or end ('_' anywhere). So these RFC-valid forms are refused on purpose,
 * before Graph is called, with a message naming the problem:
 *  - quoted local parts ("john doe"@x.com) and quoted pairs: '"' and '\' are refused;
 *  - comments and folding white space (john(comment)@x.com): '(' and spaces are refused;
 *  - IP address literals (x@[192.0.2.1], x@[IPv6:…]): a guest's domain must be a name;
 *  - single-label domains (x@io) and non-alphabetic top-level domains (x@iana.123): no
 *    Entra tenant, federation or mailbox can be looked up for them;
 *  - plus addressing (jane+tag@x.com): '+' is refused by the invitation API;
 *  - non-ASCII local parts (SMTPUTF8): not accepted by Entra user addresses.
 * Internationalised domain names are accepted and carried in punycode (for Graph and lookups),
 * with a Unicode form kept for display.
 */

/** A parsed, normalised address. */
export interface EmailAddress {
  /** Local part as typed (case kept: mailboxes may be case-sensitive, Entra compares without case). */
  localPart: string;
  /** Lower-case ASCII (punycode) domain: what Graph and domain lookups get. */
  domain: string;
  /** Unicode form of the domain, for showing to people. */
  displayDomain: string;
  /** `localPart@domain`: the address sent to Graph. */
  address: string;
  /** `localPart@displayDomain`: the address shown in chat. */
  display: string;
  /** Fully lower-cased `address`: compare and de-duplicate with this. */
  key: string;
}

/** Why an address was refused, in words fit for chat. */
export class InvalidEmailError extends Error {
  readonly userMessage: string;
  constructor(
    readonly input: string,
    reason: string,
  ) {
    super(reason);
    this.name = 'InvalidEmailError';
    this.userMessage = reason;
  }
}

export type EmailParseResult = { ok: true; email: EmailAddress } | { ok: false; reason: string };

const MAX_LOCAL = 64;
const MAX_DOMAIN = 253;
const MAX_ADDRESS = 254;
const MAX_LABEL = 63;

/** What the invitation API allows before the @ (ASCII letters, digits, and these). */
const LOCAL_ALLOWED = /^[A-Za-z0-9._'-]$/;
const SEPARATORS = /[,;\s]+/;
const LABEL = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
const TLD = /^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/;

/**
 * Parses one address as a person or a CSV cell gives it: surrounding spaces and a "mailto:"
 * prefix are dropped, then the address is checked strictly (see validateEmail). Never throws.
 */
export function parseEmail(input: string): EmailParseResult {
  let s = trimSpaces(input);
  if (/^mailto:/i.test(s)) s = trimSpaces(s.slice('mailto:'.length));
  return validateEmail(s);
}

/** Checks an address exactly as given (no trimming): what the is_email corpus is run against. */
export function validateEmail(address: string): EmailParseResult {
  const reason = problemWith(address);
  if (typeof reason === 'string') return { ok: false, reason };
  return { ok: true, email: reason };
}

/** Parses one address; throws InvalidEmailError with a plain-words reason. */
export function normaliseEmail(input: string): EmailAddress {
  const r = parseEmail(input);
  if (!r.ok) throw new InvalidEmailError(input, r.reason);
  return r.email;
}

/** Case-insensitive identity of an address (IDN domains folded to punycode); null when unparseable. */
export function emailKey(input: string): string | null {
  const r = parseEmail(input);
  return r.ok ? r.email.key : null;
}

export function sameEmail(a: string, b: string): boolean {
  const ka = emailKey(a);
  return ka !== null && ka === emailKey(b);
}

/** The ASCII domain of an already-valid address or bare domain (lower-case, punycode). */
export function normaliseDomain(domain: string): string {
  return domainToASCII(domain.trim().replace(/\.$/, '')) || domain.trim().toLowerCase();
}

function describeChar(ch: string): string {
  const cp = ch.codePointAt(0) ?? 0;
  // Control characters and invisible ones get a code point, so the message shows something.
  if (cp < 0x20 || cp === 0x7f || /\p{Cf}|\p{Z}/u.test(ch)) {
    return `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  }
  return `'${ch}'`;
}

/**
 * Trims spaces only. A line break or tab at either end is not padding but RFC 5322 folding
 * white space, and is_email refuses it; chat text reaches us already trimmed by the bot shell.
 */
function trimSpaces(s: string): string {
  return trimWhere(s, (ch) => SPACE_SEPARATOR.test(ch));
}

const SPACE_SEPARATOR = /^\p{Zs}$/u;

function problemWith(s: string): string | EmailAddress {
  if (s === '') return 'please give an email address';

  if (s.startsWith('"')) return 'quoted addresses ("…"@domain) are not accepted for guest invitations';
  const atCount = [...s].filter((c) => c === '@').length;
  if (atCount > 1 && s.split(SEPARATORS).filter((p) => p.includes('@')).length > 1) {
    return 'more than one address: please give one at a time';
  }
  if (/\p{Zs}/u.test(s)) return 'that address has a space in it';
  if (/[\t\r\n\v\f]/.test(s)) return 'that address has a line break or tab in it';
  if (atCount !== 1) return 'an address needs exactly one @';

  const at = s.indexOf('@');
  const localPart = s.slice(0, at);
  const rawDomain = s.slice(at + 1);
  if (localPart === '') return 'there is nothing before the @';
  if (rawDomain === '') return 'there is no domain after the @';

  const localProblem = checkLocalPart(localPart);
  if (localProblem) return localProblem;

  const domainResult = checkDomain(rawDomain);
  if (typeof domainResult === 'string') return domainResult;
  const { domain, displayDomain } = domainResult;

  const address = `${localPart}@${domain}`;
  if (address.length > MAX_ADDRESS) return `that address is longer than ${MAX_ADDRESS} characters`;
  return {
    localPart,
    domain,
    displayDomain,
    address,
    display: `${localPart}@${displayDomain}`,
    key: address.toLowerCase(),
  };
}

function checkLocalPart(local: string): string | null {
  for (const ch of local) {
    if (!LOCAL_ALLOWED.test(ch)) return `the character ${describeChar(ch)} is not allowed`;
  }
  if (local.startsWith('.') || local.endsWith('.')) return 'the part before the @ cannot start or end with a dot';
  if (local.includes('..')) return 'the part before the @ cannot have two dots in a row';
  if (local.startsWith('-') || local.endsWith('-')) return 'the part before the @ cannot start or end with a hyphen';
  if (local.length > MAX_LOCAL) return `the part before the @ is longer than ${MAX_LOCAL} characters`;
  return null;
}

function checkDomain(rawDomain: string): string | { domain: string; displayDomain: string } {
  if (rawDomain.startsWith('[')) return 'an IP address is not accepted after the @: use the domain name';
  for (const ch of rawDomain) {
    if (/^[A-Za-z0-9.-]$/.test(ch)) continue;
    // IDN: letters, marks and digits of any script, and the ideographic full stops IDNA maps to '.'.
    if (ch.charCodeAt(0) > 0x7f && /^[\p{L}\p{M}\p{N}\u3002\uff0e\uff61]$/u.test(ch)) continue;
    return `the character ${describeChar(ch)} is not allowed`;
  }
  const invalid = `the domain '${rawDomain}' is not a valid domain name`;
  const domain = domainToASCII(rawDomain);
  if (!domain || domain.length > MAX_DOMAIN) return invalid;
  const labels = domain.split('.');
  if (labels.length < 2) return invalid;
  for (const label of labels) {
    if (label.length === 0 || label.length > MAX_LABEL || !LABEL.test(label)) return invalid;
  }
  if (!TLD.test(labels[labels.length - 1] ?? '')) return invalid;
  return { domain, displayDomain: domainToUnicode(domain) || domain };
}

/** One address found in free text, with the name written next to it ("Jane Doe <jane@x.com>"). */
export interface AddressMention {
  /** The address as written (without angle brackets). */
  raw: string;
  displayName: string | null;
}

export type ExtractedEmail =
  | { kind: 'none' }
  | { kind: 'one'; email: EmailAddress; displayName: string | null }
  | { kind: 'invalid'; raw: string; reason: string }
  | { kind: 'many'; mentions: AddressMention[] };

/**
 * Finds the addresses a message mentions: "Jane Doe <jane@x.com>", bare addresses, and the
 * mailto links Teams may wrap them in. Surrounding punctuation is not part of an address.
 *
 * Any guest's message goes through here, so it is written as single passes over the text:
 * the patterns it replaces (`…*?\s*<`, `<a\b[^>]*…`) retried from every position and took
 * seconds on a long message of '<', '@' or spaces.
 */
export function findAddressMentions(text: string): AddressMention[] {
  const plain = decodeEntities(removeTags(replaceMailtoAnchors(text)));
  const mentions: AddressMention[] = [];
  let rest = '';
  let copied = 0;
  let from = 0;
  for (let k = plain.indexOf('<'); k !== -1; k = plain.indexOf('<', k + 1)) {
    if (k < from) continue;
    const address = angledAddressAt(plain, k);
    if (!address) continue;
    const { start, name } = nameBefore(plain, from, k);
    mentions.push({ raw: address.raw, displayName: name === '' ? null : name });
    rest += `${plain.slice(copied, start)} `;
    copied = address.end;
    from = address.end;
    k = address.end - 1;
  }
  rest += plain.slice(copied);
  for (const token of rest.split(/[\s,;]+/)) {
    if (!token.includes('@')) continue;
    const raw = trimEndChars(stripLeadingWrapper(token), ')"\']}>.?!:');
    if (raw.includes('@')) mentions.push({ raw, displayName: null });
  }
  return mentions;
}

const OPENERS = '("\'[{<';
const MAILTO = /^mailto:/i;

/** "mailto:(<jane@x.com" → "jane@x.com": a mailto: prefix and opening brackets or quotes. */
function stripLeadingWrapper(token: string): string {
  if (MAILTO.test(token)) {
    const afterMailto = token.slice('mailto:'.length);
    const stripped = trimStartChars(afterMailto, OPENERS);
    return stripped;
  }
  return trimStartChars(token, OPENERS);
}

function isSpace(ch: string): boolean {
  return ch !== '' && /^\s$/.test(ch);
}

/** `<  mailto:jane@x.com >` at `k`: the address and where the match ends, or null. */
function angledAddressAt(s: string, k: number): { raw: string; end: number } | null {
  let i = k + 1;
  while (isSpace(s.charAt(i))) i++;
  if (MAILTO.test(s.slice(i, i + 'mailto:'.length))) i += 'mailto:'.length;
  const runStart = i;
  while (i < s.length && !'<>'.includes(s.charAt(i)) && !isSpace(s.charAt(i))) i++;
  const raw = s.slice(runStart, i);
  while (isSpace(s.charAt(i))) i++;
  if (s.charAt(i) !== '>' || !raw.includes('@')) return null;
  return { raw, end: i + 1 };
}

/**
 * The name written before the `<` at `k` (not before `from`): a quoted "Doe, Jane", or the words
 * back to the previous `<`, `>`, `,`, `;` or `"`. `start` is where the name (with its quotes) begins.
 */
function nameBefore(s: string, from: number, k: number): { start: number; name: string } {
  let j = k;
  while (j > from && isSpace(s.charAt(j - 1))) j--;
  if (j - 1 > from && s.charAt(j - 1) === '"') {
    const open = s.lastIndexOf('"', j - 2);
    if (open >= from) return { start: open, name: s.slice(open + 1, j - 1).trim() };
  }
  let b = k;
  while (b > from && !'<>,;"'.includes(s.charAt(b - 1))) b--;
  return { start: b, name: s.slice(b, k).trim() };
}

/** `<a … href="mailto:X" …>…</a>` → ` X `. Each search resumes where the last one stopped. */
function replaceMailtoAnchors(text: string): string {
  const anchor = /<a(?![\w])/gi;
  const href = /href="mailto:/gi;
  const close = /<\/a>/gi;
  let out = '';
  let copied = 0;
  let tagEnd = -1;
  let hrefAt = -1;
  let closeAt = -1;
  for (let m = anchor.exec(text); m !== null; m = anchor.exec(text)) {
    const a = m.index;
    if (tagEnd < a) tagEnd = text.indexOf('>', a);
    if (tagEnd === -1) break;
    if (hrefAt < a) {
      href.lastIndex = a;
      hrefAt = href.exec(text)?.index ?? Number.MAX_SAFE_INTEGER;
    }
    if (hrefAt > tagEnd) continue;
    const valueStart = hrefAt + 'href="mailto:'.length;
    const valueEnd = text.indexOf('"', valueStart);
    if (valueEnd === -1 || valueEnd > tagEnd) continue;
    if (closeAt <= tagEnd) {
      close.lastIndex = tagEnd + 1;
      closeAt = close.exec(text)?.index ?? Number.MAX_SAFE_INTEGER;
    }
    if (closeAt === Number.MAX_SAFE_INTEGER) break;
    out += `${text.slice(copied, a)} ${text.slice(valueStart, valueEnd)} `;
    copied = closeAt + '</a>'.length;
    anchor.lastIndex = copied;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

const TAG_NAME_START = /^[a-z]$/i;
const TAG_NAME_CHAR = /^[a-z0-9]$/i;

/** Removes HTML tags (`<b>`, `</p>`, `<span class="x">`) but not `<jane@x.com>`. */
function removeTags(text: string): string {
  let out = '';
  let copied = 0;
  for (let k = text.indexOf('<'); k !== -1; k = text.indexOf('<', k + 1)) {
    let i = k + 1;
    if (text.charAt(i) === '/') i++;
    if (!TAG_NAME_START.test(text.charAt(i))) continue;
    while (TAG_NAME_CHAR.test(text.charAt(i))) i++;
    if (isSpace(text.charAt(i))) {
      while (i < text.length && !'<>@'.includes(text.charAt(i))) i++;
    } else if (text.charAt(i) === '/') {
      i++;
    }
    if (text.charAt(i) !== '>') {
      k = Math.max(k, i - 1);
      continue;
    }
    out += `${text.slice(copied, k)} `;
    copied = i + 1;
    k = i;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

function decodeEntities(text: string): string {
  return text.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&quot;', '"').replaceAll('&amp;', '&');
}

/** The single address a message is about, or why there isn't one. */
export function extractEmail(text: string): ExtractedEmail {
  const mentions = findAddressMentions(text);
  const unique = new Map<string, AddressMention>();
  for (const mention of mentions) unique.set(emailKey(mention.raw) ?? mention.raw, mention);
  const distinct = [...unique.values()];
  if (distinct.length === 0) return { kind: 'none' };
  if (distinct.length > 1) return { kind: 'many', mentions: distinct };
  const only = distinct[0] as AddressMention;
  const parsed = parseEmail(only.raw);
  if (!parsed.ok) return { kind: 'invalid', raw: only.raw, reason: parsed.reason };
  return { kind: 'one', email: parsed.email, displayName: only.displayName };
}
