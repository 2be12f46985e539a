import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSign, generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { Activity } from 'botbuilder';
import type { BotFeature } from '../../src/teams/bot/feature';
import { cardInvokeResponse } from '../../src/teams/bot/invokeResponse';
import { messageFrom, startInProcessApp, type RunningApp } from '../support/e2e/inProcessApp';

const APP_ID = '11111111-2222-4333-8444-555555555555';
const BOT_TENANT = '99999999-8888-4777-8666-555555555555';
const SERVICE_URL = 'https://smba.trafficmanager.net/emea/';
const KEY_ID = 'bf-signing-key';

/** Stands in for login.botframework.com: serves the OpenID configuration and the channel's public key. */
async function startKeyServer(publicKey: KeyObject): Promise<{ url: string; close(): Promise<void> }> {
  const jwk = publicKey.export({ format: 'jwk' });
  const server: Server = createServer((req, res) => {
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    res.setHeader('content-type', 'application/json');
    if (req.url === '/openid') res.end(JSON.stringify({ issuer: 'https://api.botframework.com', jwks_uri: `${base}/keys` }));
    else if (req.url === '/keys') res.end(JSON.stringify({ keys: [{ ...jwk, kid: KEY_ID, kty: 'RSA', use: 'sig' }] }));
    else res.writeHead(404).end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/openid`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function base64url(value: string | Buffer): string {
  return Buffer.from(value).toString('base64url');
}

/** A Bot Framework channel token (RS256) signed with `privateKey`. */
function channelToken(privateKey: KeyObject): string {
  const now = Math.floor(Date.now() / 1000);
  const header = base64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: KEY_ID }));
  const payload = base64url(
    JSON.stringify({ iss: 'https://api.botframework.com', aud: APP_ID, serviceurl: SERVICE_URL, nbf: now - 60, exp: now + 600 }),
  );
  const signature = createSign('RSA-SHA256').update(`${header}.${payload}`).sign(privateKey);
  return `${header}.${payload}.${base64url(signature)}`;
}

/** An Action.Execute invoke: answered in the HTTP response, so a turn that runs is visible without any outbound call. */
function cardAction(verb: string): Partial<Activity> {
  return messageFrom('', {
    type: 'invoke',
    name: 'adaptiveCard/action',
    text: undefined,
    serviceUrl: SERVICE_URL,
    deliveryMode: undefined,
    value: { action: { type: 'Action.Execute', verb, data: {} }, trigger: 'manual' },
  });
}

describe('Bot Framework authentication with credentials configured', () => {
  const channelKeys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const forgerKeys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  let keyServer: Awaited<ReturnType<typeof startKeyServer>>;
  let running: RunningApp;
  const turnsRun: string[] = [];

  const probe: BotFeature = {
    name: 'probe',
    onMessage: async (_dc, text) => {
      turnsRun.push(text);
      return true;
    },
    actions: {
      'probe.ping': async (_context, actor) => {
        turnsRun.push(`action by ${actor?.userId ?? 'nobody'}`);
        return cardInvokeResponse({ type: 'AdaptiveCard', version: '1.5', body: [{ type: 'TextBlock', text: 'pong' }] });
      },
    },
  };

  beforeAll(async () => {
    keyServer = await startKeyServer(channelKeys.publicKey);
    running = await startInProcessApp({
      env: {
        MicrosoftAppId: APP_ID,
        MicrosoftAppPassword: 'not-a-real-secret',
        MicrosoftAppType: 'SingleTenant',
        MicrosoftAppTenantId: BOT_TENANT,
        DIRECTORY: 'demo',
      },
      overrides: { features: [probe], auth: { botFramework: { ToBotFromChannelOpenIdMetadataUrl: keyServer.url } } },
    });
  });
  afterAll(async () => {
    await running?.close();
    await keyServer?.close();
  });
  beforeEach(() => {
    turnsRun.length = 0;
    // The SDK prints rejected tokens with console.error; the status code is what matters here.
    jest.spyOn(console, 'error').mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());

  it('refuses an activity without an Authorization header with 401 and runs no turn', async () => {
    const res = await running.post(messageFrom('help', { serviceUrl: SERVICE_URL }));
    expect(res.status).toBe(401);
    expect(turnsRun).toEqual([]);
  });

  it('refuses a token signed with someone else\'s key with 401 and runs no turn', async () => {
    const res = await running.post(cardAction('probe.ping'), { authorization: `Bearer ${channelToken(forgerKeys.privateKey)}` });
    expect(res.status).toBe(401);
    expect(turnsRun).toEqual([]);
  });

  it('refuses a token that is not a JWT at all with 401', async () => {
    const res = await running.post(cardAction('probe.ping'), { authorization: 'Bearer not.a.jwt' });
    expect(res.status).toBe(401);
    expect(turnsRun).toEqual([]);
  });

  it('accepts the same activity signed with the channel\'s key (so the refusals above are about the signature)', async () => {
    const res = await running.post(cardAction('probe.ping'), { authorization: `Bearer ${channelToken(channelKeys.privateKey)}` });
    expect(res.status).toBe(200);
    expect(turnsRun).toEqual(['action by 6f1c2b3a-0001-4c5d-8e9f-0a1b2c3d4e01']);
  });
});
