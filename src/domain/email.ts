import { domainToASCII, domainToUnicode } from 'node:url';

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
  return s.replace(/^\p{Zs}+|\p{Zs}+$/gu, '');
}

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
 */
export function findAddressMentions(text: string): AddressMention[] {
  const plain = text
    .replace(/<a\b[^>]*href="mailto:([^"]*)"[^>]*>.*?<\/a>/gi, ' $1 ')
    .replace(/<\/?[a-z][a-z0-9]*(?:\s[^<>@]*)?\/?>/gi, ' ') // HTML tags, but not <jane@x.com>
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');
  const mentions: AddressMention[] = [];
  const angled = /(?:"([^"]*)"|([^<>,;"]*?))\s*<\s*(?:mailto:)?([^<>\s]*@[^<>\s]*)\s*>/gi;
  let rest = plain;
  let m: RegExpExecArray | null;
  while ((m = angled.exec(plain)) !== null) {
    const name = (m[1] ?? m[2] ?? '').trim();
    mentions.push({ raw: m[3] ?? '', displayName: name === '' ? null : name });
    rest = rest.replace(m[0], ' ');
  }
  for (const token of rest.split(/[\s,;]+/)) {
    if (!token.includes('@')) continue;
    const raw = token.replace(/^(?:mailto:)?[("'[{<]+|^mailto:/i, '').replace(/[)"'\]}>.?!:]+$/, '');
    if (raw.includes('@')) mentions.push({ raw, displayName: null });
  }
  return mentions;
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
