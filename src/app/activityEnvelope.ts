import { z } from 'zod';

/**
 * What /api/messages accepts before any turn runs. The Bot Framework service (and so Teams)
 * always sends JSON activities with a type, a conversation id and a service URL to answer at
 * (https://learn.microsoft.com/azure/bot-service/rest-api/bot-framework-rest-connector-api-reference#activity-object);
 * anything else is refused with a 4xx naming the problem, so a malformed request neither
 * reaches the bot (where it ended in "something went wrong") nor gets a 500 or a silent 200.
 * Fields the bot reads are type-checked; a null counts as absent; unknown fields pass.
 */

const nullish = <T extends z.ZodType>(schema: T) => schema.nullish();

const account = z.looseObject({
  id: nullish(z.string()),
  name: nullish(z.string()),
  aadObjectId: nullish(z.string()),
  role: nullish(z.string()),
});

const activityEnvelope = z.looseObject({
  type: z.string().min(1, 'type is empty'),
  id: nullish(z.string()),
  channelId: nullish(z.string()),
  serviceUrl: z.string(),
  conversation: z.looseObject({
    id: z.string().min(1, 'conversation.id is empty'),
    tenantId: nullish(z.string()),
    conversationType: nullish(z.string()),
    isGroup: nullish(z.boolean()),
    name: nullish(z.string()),
  }),
  from: nullish(account),
  recipient: nullish(account),
  text: nullish(z.string()),
  textFormat: nullish(z.string()),
  locale: nullish(z.string()),
  name: nullish(z.string()),
  replyToId: nullish(z.string()),
  deliveryMode: nullish(z.string()),
  entities: nullish(z.array(z.looseObject({ type: nullish(z.string()) }))),
  attachments: nullish(z.array(z.looseObject({ contentType: nullish(z.string()), name: nullish(z.string()) }))),
  membersAdded: nullish(z.array(account)),
  membersRemoved: nullish(z.array(account)),
  channelData: nullish(z.looseObject({ tenant: nullish(z.looseObject({ id: nullish(z.string()) })) })),
});

type Fields = Record<string, unknown>;

const isRecord = (v: unknown): v is Fields => typeof v === 'object' && v !== null && !Array.isArray(v);
const nullishString = (v: unknown): boolean => v === undefined || v === null || typeof v === 'string';
const nonEmptyString = (v: unknown): boolean => typeof v === 'string' && v.length > 0;

const STRING_FIELDS = ['id', 'channelId', 'text', 'textFormat', 'locale', 'name', 'replyToId', 'deliveryMode'] as const;
const ACCOUNT_FIELDS = ['id', 'name', 'aadObjectId', 'role'] as const;
const CONVERSATION_FIELDS = ['tenantId', 'conversationType', 'name'] as const;

function nullishAccount(v: unknown): boolean {
  if (v === undefined || v === null) return true;
  if (!isRecord(v)) return false;
  for (const k of ACCOUNT_FIELDS) if (!nullishString(v[k])) return false;
  return true;
}

function nullishArrayOf(v: unknown, item: (x: unknown) => boolean): boolean {
  if (v === undefined || v === null) return true;
  if (!Array.isArray(v)) return false;
  for (const x of v) if (!item(x)) return false;
  return true;
}

const entity = (x: unknown): boolean => isRecord(x) && nullishString(x.type);
const attachment = (x: unknown): boolean => isRecord(x) && nullishString(x.contentType) && nullishString(x.name);
const member = (x: unknown): boolean => x !== undefined && x !== null && nullishAccount(x);

/**
 * The schema's rules checked by hand, about six times cheaper than the zod parse (which every
 * activity used to go through): true only when the schema accepts the body too
 * (test/unit/app/activityEnvelope.test.ts compares the two). A body this refuses goes through
 * the schema, which names the problem.
 */
function passesQuickCheck(body: Fields): boolean {
  if (!nonEmptyString(body.type) || typeof body.serviceUrl !== 'string') return false;
  const conversation = body.conversation;
  if (!isRecord(conversation) || !nonEmptyString(conversation.id)) return false;
  for (const k of CONVERSATION_FIELDS) if (!nullishString(conversation[k])) return false;
  const isGroup = conversation.isGroup;
  if (isGroup !== undefined && isGroup !== null && typeof isGroup !== 'boolean') return false;
  for (const k of STRING_FIELDS) if (!nullishString(body[k])) return false;
  if (!nullishAccount(body.from) || !nullishAccount(body.recipient)) return false;
  if (!nullishArrayOf(body.entities, entity) || !nullishArrayOf(body.attachments, attachment)) return false;
  if (!nullishArrayOf(body.membersAdded, member) || !nullishArrayOf(body.membersRemoved, member)) return false;
  const channelData = body.channelData;
  if (channelData === undefined || channelData === null) return true;
  if (!isRecord(channelData)) return false;
  const tenant = channelData.tenant;
  if (tenant === undefined || tenant === null) return true;
  return isRecord(tenant) && nullishString(tenant.id);
}

export type EnvelopeCheck = { ok: true } | { ok: false; status: 400 | 415; reason: string };

/** `application/json`, with or without parameters (charset). */
export function isJsonContentType(contentType: string | undefined): boolean {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() === 'application/json';
}

/** Checks a parsed request body; the reason is fit for the HTTP answer (no body content echoed). */
export function checkActivityEnvelope(body: unknown): EnvelopeCheck {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return { ok: false, status: 400, reason: 'The body is not an activity (a JSON object).' };
  }
  if (!passesQuickCheck(body as Fields)) return checkBySchema(body);
  return checkServiceUrl((body as Fields).serviceUrl as string);
}

/**
 * The verdict of the schema alone, with its first problem as the reason: for a body the quick
 * check refused (and for the tests, which compare it with checkActivityEnvelope).
 */
export function checkBySchema(body: object): EnvelopeCheck {
  const parsed = activityEnvelope.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path ?? [];
    const field = path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('');
    const missing = issue?.code === 'invalid_type' && valueAt(body, path) === undefined;
    const what = missing
      ? `${field} is missing`
      : issue?.code === 'too_small'
        ? issue.message
        : `${field} has the wrong type (expected ${issue?.code === 'invalid_type' ? issue.expected : 'something else'})`;
    return { ok: false, status: 400, reason: `The body is not a valid activity: ${what}.` };
  }
  return checkServiceUrl(parsed.data.serviceUrl);
}

function checkServiceUrl(serviceUrl: string): EnvelopeCheck {
  let url: URL;
  try {
    url = new URL(serviceUrl);
  } catch {
    return { ok: false, status: 400, reason: 'The body is not a valid activity: serviceUrl is not a URL.' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return { ok: false, status: 400, reason: 'The body is not a valid activity: serviceUrl must be an http(s) URL.' };
  }
  return { ok: true };
}

function valueAt(body: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let node: unknown = body;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}
