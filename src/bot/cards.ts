import fs from 'node:fs';
import path from 'node:path';
import * as ACData from 'adaptivecards-templating';
import { CardFactory, type Attachment } from 'botbuilder';
import { projectRoot } from '../config';

/** Adaptive Card JSON (the result of expanding a template). */
export type AdaptiveCard = Record<string, unknown> & { type: 'AdaptiveCard'; version: string };

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

/**
 * Expands cards/<name>.json with `data`. User-supplied values enter only as data, never as
 * template text. The data is made safe first (see sanitizeCardData).
 */
export function expandCard(name: string, data: Record<string, unknown>): AdaptiveCard {
  const template = new ACData.Template(loadTemplate(name));
  const card = template.expand({ $root: sanitizeCardData(data) }) as AdaptiveCard;
  return card;
}

export function cardAttachment(card: AdaptiveCard): Attachment {
  return CardFactory.adaptiveCard(card);
}

export function renderCard(name: string, data: Record<string, unknown>): Attachment {
  return cardAttachment(expandCard(name, data));
}

/** Longest string a card shows for one value; longer values are cut with an ellipsis. */
export const MAX_CARD_TEXT = 512;

/**
 * Makes every string in the data safe to show: control characters removed, overlong values
 * truncated. Refined in the cards work (markdown neutralisation); keep the signature.
 */
export function sanitizeCardData<T>(data: T): T {
  return walk(data) as T;
}

function walk(value: unknown): unknown {
  if (typeof value === 'string') return cleanText(value);
  if (Array.isArray(value)) return value.map(walk);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = walk(v);
    return out;
  }
  return value;
}

function cleanText(s: string): string {
  // eslint-disable-next-line no-control-regex
  const cleaned = s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '');
  return cleaned.length > MAX_CARD_TEXT ? `${cleaned.slice(0, MAX_CARD_TEXT - 1)}…` : cleaned;
}
