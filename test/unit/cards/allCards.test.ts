/**
 * Every template in cards/ is rendered with its sample data (test/fixtures/cards/<name>.json),
 * validated against the Adaptive Cards 1.5 schema, and re-rendered with hostile data.
 *
 * Sample file format: the data object itself. Top-level keys starting with "$" are directives:
 * - "$variants": more data objects that must also render and validate (e.g. a partial result);
 * - "$keep": keys (at any depth) whose values are code-generated, never user text (e.g. a state
 *   used in a $when): the hostile pass leaves them alone. Use sparingly.
 * Keys ending in "url" (any case) get a hostile https URL instead of a hostile string.
 *
 * The rule the hostile pass enforces: data strings never land in TextBlock.text or Fact
 * title/value (both render markdown in Teams); put them in RichTextBlock > TextRun.
 */
import fs from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import draft06 from 'ajv/dist/refs/json-schema-draft-06.json';
import {
  CardTemplateError,
  MAX_CARD_TEXT,
  cardTemplateNames,
  expandCard,
  expandTemplate,
  stripUnsafeCharacters,
  truncateText,
  type AdaptiveCard,
} from '../../../src/teams/cards';

const root = path.resolve(__dirname, '../../..');
const samplesDir = path.join(root, 'test/fixtures/cards');
const schemaFile = path.join(root, 'test/fixtures/corpora/adaptive-cards/adaptive-card-1.5.schema.json');

const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
addFormats(ajv);
ajv.addMetaSchema(draft06);
const schema = JSON.parse(fs.readFileSync(schemaFile, 'utf8')) as Record<string, unknown>;
// The schema names itself with draft-06 `id`; give it to ajv without its own id to avoid a clash.
delete schema.id;
delete schema.$id;
const validateCard = ajv.compile(schema);

const SECRET_VALUE = 'S3CRET-MUST-NOT-APPEAR';
const HOSTILE_STRINGS = [
  '${secret}',
  '**bold** _italic_',
  '[x](https://evil.example)',
  '"},{"type":"Action.OpenUrl","url":"https://evil.example"}',
  'A'.repeat(10_000),
  'ctl\u0000\u0007\u001b[31mred\u007f\u0085',
  'admin\u202Egnp.exe\u2066',
];
const HOSTILE_URL = 'https://evil.example/${secret}/"},{"type":"x"}?q=**b**';

interface Sample {
  data: Record<string, unknown>;
  variants: Array<Record<string, unknown>>;
  keep: Set<string>;
}

function loadSample(name: string): Sample | null {
  const file = path.join(samplesDir, `${name}.json`);
  if (!fs.existsSync(file)) return null;
  const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  const data: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) if (!k.startsWith('$')) data[k] = v;
  const variants = Array.isArray(raw.$variants) ? (raw.$variants as Array<Record<string, unknown>>) : [];
  const keep = new Set(Array.isArray(raw.$keep) ? (raw.$keep as string[]) : []);
  return { data, variants, keep };
}

/** Every string leaf replaced (except kept keys); URL keys get a hostile https URL. */
function hostile(value: unknown, replacement: string, keep: Set<string>, key: string | null = null): unknown {
  if (key !== null && keep.has(key)) return value;
  if (typeof value === 'string') return key !== null && /url$/i.test(key) ? HOSTILE_URL : replacement;
  if (Array.isArray(value)) return value.map((v) => hostile(v, replacement, keep, key));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = hostile(v, replacement, keep, k);
    return out;
  }
  return value;
}

function countUserStrings(value: unknown, keep: Set<string>, key: string | null = null): number {
  if (key !== null && (keep.has(key) || /url$/i.test(key))) return 0;
  if (typeof value === 'string') return 1;
  if (Array.isArray(value)) return value.reduce<number>((n, v) => n + countUserStrings(v, keep, key), 0);
  if (value && typeof value === 'object') {
    return Object.entries(value).reduce<number>((n, [k, v]) => n + countUserStrings(v, keep, k), 0);
  }
  return 0;
}

/** The card's shape: every element/action type in document order. */
function structure(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => structure(v, out));
  else if (value && typeof value === 'object') {
    const t = (value as { type?: unknown }).type;
    if (typeof t === 'string') out.push(t);
    for (const [k, v] of Object.entries(value)) if (k !== 'data') structure(v, out);
  }
  return out;
}

function strings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) value.forEach((v) => strings(v, out));
  else if (value && typeof value === 'object') Object.values(value).forEach((v) => strings(v, out));
  return out;
}

/** Texts a Teams client renders as markdown. */
function markdownTexts(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => markdownTexts(v, out));
  else if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (o.type === 'TextBlock' && typeof o.text === 'string') out.push(o.text);
    if (Array.isArray(o.facts)) {
      for (const f of o.facts as Array<Record<string, unknown>>) {
        if (typeof f.title === 'string') out.push(f.title);
        if (typeof f.value === 'string') out.push(f.value);
      }
    }
    Object.values(o).forEach((v) => markdownTexts(v, out));
  }
  return out;
}

/**
 * Teams' chart elements are not in the 1.5 schema
 * (https://learn.microsoft.com/microsoftteams/platform/task-modules-and-cards/cards/charts-in-adaptive-cards):
 * each one is checked for the shape Teams reads (a bar chart's data points are { x: text, y: number })
 * and for `fallback: "drop"` (clients without charts show the card without it, so the figures must be
 * in the card besides), then left out of the schema check.
 */
const CHART_TYPES = new Set(['Chart.HorizontalBar', 'Chart.VerticalBar']);

function withoutCharts(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map(withoutCharts).filter((v) => !(v && typeof v === 'object' && String((v as { type?: unknown }).type).startsWith('Chart.')));
  }
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (typeof o.type === 'string' && o.type.startsWith('Chart.')) {
      if (!CHART_TYPES.has(o.type)) throw new Error(`chart element ${o.type} is not one the card checks know`);
      if (o.fallback !== 'drop') throw new Error(`${o.type} needs fallback "drop" (the figures must also be in the card)`);
      if (!Array.isArray(o.data) || !o.data.every((d) => d && typeof (d as { x?: unknown }).x === 'string' && typeof (d as { y?: unknown }).y === 'number')) {
        throw new Error(`${o.type} data must be { x: string, y: number } points: ${JSON.stringify(o.data).slice(0, 300)}`);
      }
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o)) out[k] = withoutCharts(v);
    return out;
  }
  return value;
}

function expectValidCard(card: AdaptiveCard): void {
  const ok = validateCard(withoutCharts(card));
  if (!ok) throw new Error(`schema: ${ajv.errorsText(validateCard.errors, { separator: '\n' })}\n${JSON.stringify(card).slice(0, 2000)}`);
  expect(card.version).toBe('1.5');
  expect(typeof card.fallbackText).toBe('string');
  expect((card.fallbackText as string).trim().length).toBeGreaterThan(0);
}

const templates = cardTemplateNames();

describe('every card template', () => {
  it('there are templates to check', () => {
    expect(templates.length).toBeGreaterThan(0);
  });

  describe.each(templates)('%s', (name) => {
    const sample = loadSample(name);

    it('has sample data in test/fixtures/cards', () => {
      if (!sample) throw new Error(`cards/${name}.json has no sample: add test/fixtures/cards/${name}.json`);
    });

    it('renders its sample (and variants) as a valid Adaptive Card 1.5 with fallbackText', () => {
      if (!sample) throw new Error(`no sample for ${name}`);
      for (const data of [sample.data, ...sample.variants]) expectValidCard(expandCard(name, data));
    });

    it.each(HOSTILE_STRINGS.map((h) => [JSON.stringify(h).slice(0, 40), h] as const))(
      'shows hostile data %s literally, keeps its structure, and renders no markdown from it',
      (_label, h) => {
        if (!sample) throw new Error(`no sample for ${name}`);
        for (const data of [sample.data, ...sample.variants]) {
          const normal = expandCard(name, data);
          const attacked = expandCard(name, { ...(hostile(data, h, sample.keep) as Record<string, unknown>), secret: SECRET_VALUE });
          expectValidCard(attacked);
          expect(structure(attacked)).toEqual(structure(normal));

          const json = JSON.stringify(attacked);
          expect(json).not.toContain(SECRET_VALUE);
          expect(json).not.toContain('evil.example"');
          const all = strings(attacked);
          expect(all.every((s) => s.length < 10_000)).toBe(true);
          expect(all.some((s) => s.includes('A'.repeat(MAX_CARD_TEXT)))).toBe(false);

          if (countUserStrings(data, sample.keep) > 0) {
            const shown = truncateText(stripUnsafeCharacters(h), MAX_CARD_TEXT);
            expect(all.some((s) => s.includes(shown))).toBe(true);
            for (const text of markdownTexts(attacked)) {
              if (text.includes(shown)) {
                throw new Error(`${name}: data reaches a TextBlock/Fact (markdown renders there): put it in a RichTextBlock TextRun`);
              }
            }
          }
        }
      },
    );
  });
});

describe('card renderer', () => {
  const nameCard = {
    type: 'AdaptiveCard',
    version: '1.5',
    fallbackText: 'x',
    body: [
      { type: 'RichTextBlock', inlines: [{ type: 'TextRun', text: 'Hello ${name}' }] },
      { type: 'RichTextBlock', inlines: [{ type: 'TextRun', text: '${name}' }] },
    ],
    actions: [
      { type: 'Action.OpenUrl', title: 'Redeem', url: '${redeemUrl}' },
      { type: 'Action.Submit', title: 'OK', data: { name: '${name}' } },
    ],
  };

  it('shows a display name like ${secret} literally and never evaluates it', () => {
    const card = expandTemplate(nameCard, { name: '${secret}', secret: SECRET_VALUE, redeemUrl: 'https://x.example/r' });
    const body = card.body as Array<{ inlines: Array<{ text: string }> }>;
    expect(body[0]?.inlines[0]?.text).toBe('Hello ${secret}');
    expect(body[1]?.inlines[0]?.text).toBe('${secret}');
    expect(JSON.stringify(card)).not.toContain(SECRET_VALUE);
  });

  it('keeps card JSON typed in as a name as plain text (no extra actions)', () => {
    const injected = '"}]},{"type":"Action.OpenUrl","title":"Evil","url":"https://evil.example"},{"x":"';
    const card = expandTemplate(nameCard, { name: injected, redeemUrl: 'https://x.example/r' });
    const actions = card.actions as Array<{ type: string; title: string }>;
    expect(actions.map((a) => a.title)).toEqual(['Redeem', 'OK']);
    expect((card.body as Array<{ inlines: Array<{ text: string }> }>)[1]?.inlines[0]?.text).toBe(injected);
  });

  it.each(['http://x.example/r', 'javascript:alert(1)', 'data:text/html,hi', '//x.example/r', 'https://user:pw@x.example/', ''])(
    'drops a link action whose URL is not https (%s)',
    (url) => {
      const card = expandTemplate(nameCard, { name: 'n', redeemUrl: url });
      expect((card.actions as Array<{ title: string }>).map((a) => a.title)).toEqual(['OK']);
    },
  );

  it('keeps a long https redeem link whole', () => {
    const url = `https://login.microsoftonline.com/redeem?rd=${'a'.repeat(1500)}`;
    const card = expandTemplate(nameCard, { name: 'n', redeemUrl: url });
    expect((card.actions as Array<{ url?: string }>)[0]?.url).toBe(url);
  });

  it('removes control characters and bidi overrides, and cuts long text with an ellipsis', () => {
    const card = expandTemplate(nameCard, { name: `a\u0000b\u202Ec${'é'.repeat(600)}`, redeemUrl: '' });
    const text = (card.body as Array<{ inlines: Array<{ text: string }> }>)[1]?.inlines[0]?.text ?? '';
    expect(text.startsWith('abc')).toBe(true);
    expect(Array.from(text)).toHaveLength(MAX_CARD_TEXT);
    expect(text.endsWith('…')).toBe(true);
  });

  it('does not split an emoji when cutting', () => {
    expect(truncateText('😀'.repeat(10), 5)).toBe('😀😀😀😀…');
  });

  it('the schema check rejects a malformed card (so the template checks above can fail)', () => {
    expect(validateCard({ type: 'AdaptiveCard', version: '1.5', body: [{ type: 'TextBlock', text: 5 }] })).toBe(false);
    expect(validateCard({ type: 'AdaptiveCard', version: '1.5', actions: [{ type: 'Action.OpenUrl', title: 'x' }] })).toBe(false);
    expect(validateCard({ type: 'AdaptiveCard', version: '1.5', body: [{ type: 'TextBlock', text: 'ok' }] })).toBe(true);
  });

  it('refuses to show template text when data is missing', () => {
    expect(() => expandTemplate(nameCard, { redeemUrl: '' })).toThrow(CardTemplateError);
  });
});
