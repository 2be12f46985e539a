import { checkActivityEnvelope, checkBySchema } from '../../../src/app/activityEnvelope';

/**
 * checkActivityEnvelope answers most bodies with a hand-written check and the zod schema only
 * for the ones that check refuses: its answers (accept, or the schema's reason) must be the
 * schema's own for every body. Each field the schema names is set to each kind of value.
 */

const teamsMessage = (): Record<string, unknown> => ({
  type: 'message',
  id: '1',
  channelId: 'msteams',
  serviceUrl: 'https://smba.trafficmanager.net/emea/',
  conversation: { id: 'a:1', tenantId: 't', conversationType: 'personal', isGroup: false, name: null },
  from: { id: '29:1', name: 'Megan', aadObjectId: 'o-1', role: 'user' },
  recipient: { id: '28:bot', name: 'Bot' },
  text: 'help',
  textFormat: 'plain',
  locale: 'en-US',
  replyToId: null,
  entities: [{ type: 'clientInfo', locale: 'en-US' }],
  attachments: [{ contentType: 'text/html', name: null, content: '<p>help</p>' }],
  membersAdded: [{ id: '29:2' }],
  membersRemoved: null,
  channelData: { tenant: { id: 't' }, extra: 1 },
  unknownField: { anything: [1, 2] },
});

const VALUES: unknown[] = [undefined, null, '', 'x', 0, 5, true, false, {}, [], [{}], [null], ['x'], [{ type: 5 }], [{ id: 5 }], { id: 5 }, { id: 'x' }, { id: '' }, { tenant: 5 }, { tenant: { id: 5 } }, { tenant: null }];

const PATHS: string[][] = [
  ['type'], ['id'], ['channelId'], ['serviceUrl'], ['text'], ['textFormat'], ['locale'], ['name'], ['replyToId'], ['deliveryMode'],
  ['conversation'], ['conversation', 'id'], ['conversation', 'tenantId'], ['conversation', 'conversationType'], ['conversation', 'isGroup'], ['conversation', 'name'],
  ['from'], ['from', 'id'], ['from', 'name'], ['from', 'aadObjectId'], ['from', 'role'], ['recipient'], ['recipient', 'aadObjectId'],
  ['entities'], ['attachments'], ['membersAdded'], ['membersRemoved'],
  ['channelData'], ['channelData', 'tenant'], ['channelData', 'tenant', 'id'],
  ['unknownField'],
];

function withValue(path: string[], value: unknown): Record<string, unknown> {
  const body = teamsMessage();
  let node = body;
  for (const key of path.slice(0, -1)) {
    if (node[key] === null || typeof node[key] !== 'object') node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  const last = path[path.length - 1] as string;
  if (value === undefined) delete node[last];
  else node[last] = value;
  return body;
}

describe('activity envelope: the quick check agrees with the schema', () => {
  it('accepts a Teams message, a minimal activity and a conversation update', () => {
    expect(checkActivityEnvelope(teamsMessage())).toEqual({ ok: true });
    expect(checkActivityEnvelope({ type: 'message', serviceUrl: 'http://127.0.0.1:1/', conversation: { id: 'c' } })).toEqual({ ok: true });
    expect(
      checkActivityEnvelope({ type: 'conversationUpdate', serviceUrl: 'https://x/', conversation: { id: 'c', isGroup: true }, membersAdded: [{ id: 'b', aadObjectId: null }] }),
    ).toEqual({ ok: true });
  });

  it('gives the schema answer for every field set to every kind of value', () => {
    let accepted = 0;
    let refused = 0;
    for (const path of PATHS) {
      for (const value of VALUES) {
        const body = withValue(path, value);
        const expected = checkBySchema(body);
        expect({ path, value, verdict: checkActivityEnvelope(body) }).toEqual({ path, value, verdict: expected });
        if (expected.ok) accepted += 1;
        else refused += 1;
      }
    }
    // Both branches are exercised many times.
    expect(accepted).toBeGreaterThan(100);
    expect(refused).toBeGreaterThan(200);
  });

  it('gives the schema answer for array items of each kind', () => {
    for (const field of ['entities', 'attachments', 'membersAdded', 'membersRemoved']) {
      for (const item of VALUES) {
        const body = withValue([field], [{}, item]);
        expect({ field, item, verdict: checkActivityEnvelope(body) }).toEqual({ field, item, verdict: checkBySchema(body) });
        const named = withValue([field], [{ type: item, contentType: item, name: item, id: item, aadObjectId: item, role: item }]);
        expect({ field, item, verdict: checkActivityEnvelope(named) }).toEqual({ field, item, verdict: checkBySchema(named) });
      }
    }
  });

  it('refuses a service URL that is not an http(s) URL, either way', () => {
    for (const serviceUrl of ['not a url', 'ftp://x/', 'file:///etc/passwd', '']) {
      const body = withValue(['serviceUrl'], serviceUrl);
      expect(checkActivityEnvelope(body)).toEqual(checkBySchema(body));
      expect(checkActivityEnvelope(body).ok).toBe(false);
    }
  });
});
