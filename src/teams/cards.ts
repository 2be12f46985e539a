import fs from 'node:fs';
import path from 'node:path';
import type * as ACDataModule from 'adaptivecards-templating';
import { CardFactory, type Attachment } from 'botbuilder';
import { projectRoot } from '../shared/projectRoot';

/**
 * Card rendering. Templates are cards/<name>.json (Adaptive Cards 1.5) expanded with
 * adaptivecards-templating; user-supplied values enter only as data.
 *
 * How user text stays literal:
 * - `${...}` inside DATA is never evaluated: adaptivecards-templating only evaluates the
 *   template's own strings (test/unit/cards/allCards.test.ts proves it). Data strings are also
 *   carried through the expansion with `$` swapped for a private-use character, so a `${`
 *   still present afterwards can only be a template expression with no data: that is a bug
 *   and throws CardTemplateError instead of showing template text to a user.
 * - Data cannot inject card JSON: the engine works on the parsed template object, so a value
 *   like `"},{"type":"Action.OpenUrl"` is only ever a string.
 * - Markdown: TextBlock (and Teams' FactSet) render a markdown subset, and backslash escapes
 *   render differently across Teams clients (desktop vs mobile; AdaptiveCards issues 4677,
 *   5590, 7474), so escaping is not reliable. Templates put data strings only where markdown
 *   is not processed: RichTextBlock > TextRun (the schema: "Markdown is not supported"),
 *   input values, action titles and data. TextBlock and Fact hold template text only.
 * - URLs: data keys ending in "url" (any case) must be absolute https URLs; anything else is
 *   emptied, and the renderer drops every Action.OpenUrl / selectAction whose url is not https.
 * - Control characters and bidirectional overrides are removed; long values are cut with "…".
 */

/** Adaptive Card JSON (the result of expanding a template). */
export type AdaptiveCard = Record<string, unknown> & { type: 'AdaptiveCard'; version: string };

/** A template that cannot be expanded with the data given: a programming error, not user input. */
export class CardTemplateError extends Error {
  readonly userMessage = 'Sorry, I could not show that card.';
  constructor(
    readonly template: string,
    detail: string,
    options: { cause?: unknown } = {},
  ) {
    super(`Card template "${template}": ${detail}`, options);
    this.name = 'CardTemplateError';
  }
}

const cardsDir = path.join(projectRoot(), 'cards');
const templateCache = new Map<string, unknown>();

function loadTemplate(name: string): unknown {
  if (!/^[a-zA-Z0-9_-]+$/.test(name)) throw new Error(`Invalid card template name: ${name}`);
  let t = templateCache.get(name);
  if (t === undefined) {
    t = JSON.parse(fs.readFileSync(path.join(cardsDir, `${name}.json`), 'utf8')) as unknown;
    templateCache.set(name, t);
  }
  return t;
}

/** Names of every template in cards/ (without .json). */
export function cardTemplateNames(): string[] {
  return fs
    .readdirSync(cardsDir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

/**
 * A template's data: a typed interface per template, filled by that template's builder (e.g.
 * teams/guestHelp/cards/syncHelpCard.ts). Plain JSON values only.
 */
export type CardData = object;

/**
 * Expands cards/<name>.json with `data`. User-supplied values enter only as data, never as
 * template text. The data is made safe first (see sanitizeCardData).
 */
export function expandCard(name: string, data: CardData): AdaptiveCard {
  return expandTemplate(loadTemplate(name), data, name);
}

/**
 * Compiled templates, one per template object: `new Template()` parses every `${...}` expression
 * of the card, which is most of the cost of a card. A Template expands any number of times (each
 * expand starts from a fresh context and builds new objects), so it is compiled once.
 */
const compiled = new WeakMap<object, ACDataModule.Template>();

/**
 * adaptivecards-templating (with adaptive-expressions, antlr4ts and the data they load) is
 * loaded at the first card, not at start-up: about 0.1 s of CPU less before the server listens,
 * paid once by the first card instead (README, Cold start).
 */
let templating: typeof ACDataModule | undefined;

function templateClass(): typeof ACDataModule.Template {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy on purpose (cold start: see above)
  templating ??= require('adaptivecards-templating') as typeof ACDataModule;
  return templating.Template;
}

function compiledTemplate(templateJson: unknown): ACDataModule.Template {
  const Template = templateClass();
  if (typeof templateJson !== 'object' || templateJson === null) return new Template(templateJson);
  let template = compiled.get(templateJson);
  if (!template) {
    template = new Template(templateJson);
    compiled.set(templateJson, template);
  }
  return template;
}

/**
 * Cards already expanded, by template and data: many turns show the same card with the same
 * data (help, sign-in advice, sync instructions), and expanding costs several times more than
 * a copy (the guest help menu: about 65 vs 10 µs). Only data of plain JSON values is looked up
 * (see dataKey); every caller gets its own deep copy, so no card object is ever shared. A card
 * is kept from the second time its data is seen, so cards of one-off data (an invitation's
 * address) cost no memory. Bounded: the least recently used go first. The templates'
 * expressions are pure (count, if, string), so the same data gives the same card.
 */
const EXPANDED_MAX = 200;
/** Data longer than this (as a key) is expanded every time: large data is rarely repeated. */
const EXPANDED_MAX_KEY = 4_096;
const expanded = new Map<string, AdaptiveCard>();
/** Keys seen once, not yet worth keeping a card for (same bound). */
const seenOnce = new Set<string>();
const templateIds = new WeakMap<object, number>();
let nextTemplateId = 1;

function templateId(templateJson: object): number {
  let id = templateIds.get(templateJson);
  if (id === undefined) {
    id = nextTemplateId++;
    templateIds.set(templateJson, id);
  }
  return id;
}

/**
 * A key that tells apart any two different data values, or null when the data holds anything
 * but strings, finite numbers, booleans, null, undefined, arrays and plain objects (a Date, a
 * class instance, -0 or NaN are expanded every time rather than risk two values sharing a key).
 */
export function dataKey(value: unknown, budget = EXPANDED_MAX_KEY): string | null {
  const parts: string[] = [];
  let length = 0;
  const add = (s: string): boolean => {
    parts.push(s);
    length += s.length;
    return length <= budget;
  };
  const visit = (v: unknown): boolean => {
    switch (typeof v) {
      case 'string':
        return add(JSON.stringify(v));
      case 'number':
        return Number.isFinite(v) && !Object.is(v, -0) && add(String(v));
      case 'boolean':
        return add(v ? 't' : 'f');
      case 'undefined':
        return add('u');
      case 'object': {
        if (v === null) return add('n');
        if (Array.isArray(v)) {
          if (!add('[')) return false;
          for (let i = 0; i < v.length; i++) if (!(i in v) || !visit(v[i]) || !add(',')) return false;
          return add(']');
        }
        const proto = Object.getPrototypeOf(v) as unknown;
        if (proto !== Object.prototype && proto !== null) return false;
        if (!add('{')) return false;
        for (const k of Object.keys(v)) {
          if (!add(JSON.stringify(k)) || !add(':') || !visit((v as Record<string, unknown>)[k]) || !add(',')) return false;
        }
        return add('}');
      }
      default:
        return false;
    }
  };
  return visit(value) ? parts.join('') : null;
}

/** How many expanded cards are kept (tests). */
export function expandedCardsKept(): number {
  return expanded.size;
}

/** A deep copy of an expanded card (plain JSON: objects, arrays and primitives only). */
function copyCard<T>(value: T): T {
  if (Array.isArray(value)) return value.map(copyCard) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value)) out[k] = copyCard((value as Record<string, unknown>)[k]);
    return out as T;
  }
  return value;
}

/** expandCard for a template object already in hand (tests, composed cards). */
export function expandTemplate(templateJson: unknown, data: CardData, name = 'inline'): AdaptiveCard {
  const forData = dataKey(data);
  const key = forData !== null && typeof templateJson === 'object' && templateJson !== null ? `${templateId(templateJson)}|${forData}` : null;
  if (key !== null) {
    const card = expanded.get(key);
    if (card !== undefined) {
      expanded.delete(key);
      expanded.set(key, card);
      return copyCard(card);
    }
  }
  const card = expandTemplateAfresh(templateJson, data, name);
  if (key !== null) {
    if (seenOnce.delete(key)) {
      dropOldest(expanded);
      expanded.set(key, copyCard(card));
    } else {
      dropOldest(seenOnce);
      seenOnce.add(key);
    }
  }
  return card;
}

function dropOldest(kept: Map<string, unknown> | Set<string>): void {
  if (kept.size < EXPANDED_MAX) return;
  const oldest = kept.keys().next();
  if (!oldest.done) kept.delete(oldest.value);
}

function expandTemplateAfresh(templateJson: unknown, data: CardData, name: string): AdaptiveCard {
  const template = compiledTemplate(templateJson);
  let expanded: unknown;
  try {
    expanded = template.expand({ $root: walk(sanitizeCardData(data), encodeDollar) });
  } catch (e) {
    throw new CardTemplateError(name, `expansion failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  const leftover = findUnexpanded(expanded);
  if (leftover !== null) throw new CardTemplateError(name, `no data for ${leftover}`);
  const card = decodeAndDropUnsafeUrlActions(expanded);
  if (!isAdaptiveCard(card)) throw new CardTemplateError(name, 'the result is not an AdaptiveCard');
  return card;
}

export function cardAttachment(card: AdaptiveCard): Attachment {
  return CardFactory.adaptiveCard(card);
}

export function renderCard(name: string, data: CardData): Attachment {
  return cardAttachment(expandCard(name, data));
}

/** Longest string a card shows for one value; longer values are cut with an ellipsis. */
export const MAX_CARD_TEXT = 512;
/** Longest URL kept (redeem links are long; a cut URL is useless, so longer ones are dropped). */
export const MAX_CARD_URL = 2048;

/**
 * Makes every string in the data safe to show: control characters and bidi overrides removed,
 * overlong values truncated, values under a key ending in "url" kept only if https.
 */
export function sanitizeCardData<T>(data: T): T {
  return sanitizeValue(data, null) as T;
}

function sanitizeValue(value: unknown, key: string | null): unknown {
  if (typeof value === 'string') {
    return key !== null && /url$/i.test(key) ? safeUrl(value) : truncateText(stripUnsafeCharacters(value), MAX_CARD_TEXT);
  }
  if (Array.isArray(value)) return value.map((v) => sanitizeValue(v, key));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = sanitizeValue(v, k);
    return out;
  }
  return value;
}

/** An absolute https URL, or '' (which makes the renderer drop the action). */
function safeUrl(raw: string): string {
  const s = raw.trim();
  if (!isSafeCardUrl(s)) return '';
  // The parsed form percent-encodes quotes, braces and the like.
  return new URL(s).href;
}

export function isSafeCardUrl(value: unknown): value is string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_CARD_URL) return false;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0020\u007f-\u009f]/.test(value)) return false;
  try {
    const u = new URL(value);
    return u.protocol === 'https:' && u.hostname.length > 0 && u.username === '' && u.password === '';
  } catch {
    return false;
  }
}

// C0 (except tab, newline, carriage return), DEL, C1, bidi embeddings/overrides/isolates and
// marks (spoofing: "Trojan source"), and the private-use character used as the `$` carrier.
// eslint-disable-next-line no-control-regex
const UNSAFE_CHARACTERS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ue000]/g;

export function stripUnsafeCharacters(s: string): string {
  return s.replace(UNSAFE_CHARACTERS, '');
}

/** Cuts to at most `max` characters (code points, never half a surrogate pair), ending with "…". */
export function truncateText(s: string, max: number): string {
  if (s.length <= max) return s;
  const points = Array.from(s);
  if (points.length <= max) return s;
  return `${points.slice(0, max - 1).join('')}…`;
}

const DOLLAR_CARRIER = '\ue000';
const encodeDollar = (s: string): string => s.replace(/\$/g, DOLLAR_CARRIER);
const decodeDollar = (s: string): string => s.replace(/\ue000/g, '$');

function walk(value: unknown, onString: (s: string) => string): unknown {
  if (typeof value === 'string') return onString(value);
  if (Array.isArray(value)) return value.map((v) => walk(v, onString));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = walk(v, onString);
    return out;
  }
  return value;
}

function findUnexpanded(value: unknown): string | null {
  if (typeof value === 'string') {
    const m = /\$\{[^}]*\}?/.exec(value);
    return m ? m[0] : null;
  }
  if (Array.isArray(value)) {
    for (const v of value) {
      const f = findUnexpanded(v);
      if (f !== null) return f;
    }
    return null;
  }
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) {
      const f = findUnexpanded(v);
      if (f !== null) return f;
    }
  }
  return null;
}

function isUrlAction(v: unknown): v is { type: 'Action.OpenUrl'; url?: unknown } {
  return !!v && typeof v === 'object' && (v as { type?: unknown }).type === 'Action.OpenUrl';
}

/**
 * The expanded card with its `$` carriers decoded, less the Action.OpenUrl entries (and
 * selectActions) whose url is not a safe https URL: one copy of the card, not one per pass.
 */
function decodeAndDropUnsafeUrlActions(value: unknown): unknown {
  if (typeof value === 'string') return decodeDollar(value);
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (const item of value) {
      const v = decodeAndDropUnsafeUrlActions(item);
      if (!isUrlAction(v) || isSafeCardUrl(v.url)) out.push(v);
    }
    return out;
  }
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value)) {
      const v = decodeAndDropUnsafeUrlActions((value as Record<string, unknown>)[k]);
      if (k === 'selectAction' && isUrlAction(v) && !isSafeCardUrl(v.url)) continue;
      out[k] = v;
    }
    return out;
  }
  return value;
}

function isAdaptiveCard(v: unknown): v is AdaptiveCard {
  return (
    !!v &&
    typeof v === 'object' &&
    (v as { type?: unknown }).type === 'AdaptiveCard' &&
    typeof (v as { version?: unknown }).version === 'string'
  );
}
