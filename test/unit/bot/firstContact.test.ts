/**
 * Teams sends conversationUpdate and installationUpdate together when someone opens the bot's
 * chat. Fired at the same moment, at one bot process and at two bot processes sharing one data
 * folder (`node dist/src/index.js`, requires `npm run build`), 20 times each: exactly one welcome
 * and one copy of each approval card that could not be delivered before, every time.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Activity } from 'botbuilder';
import { SqliteApprovalRequestRepository } from '../../../src/adapters/sqlite/approvalRequests';
import { WELCOME_TITLE } from '../../../src/teams/cards/welcomeCard';
import { DEMO } from '../../../src/adapters/demo/demoTenant';
import { openDatabase } from '../../../src/adapters/sqlite/database';
import { startBotProcess, type BotProcess } from '../../support/e2e/processes';

const TRIALS = Number(process.env.FIRST_CONTACT_TRIALS ?? 20);
const BOT_ID = '28:guest-onboarding-bot';
const alex = DEMO.users.alex;

/** A stand-in for the Bot Connector: records every activity the bots send, by conversation. */
async function startConnector(): Promise<{ url: string; sent: Map<string, Array<Partial<Activity>>>; close(): Promise<void> }> {
  const sent = new Map<string, Array<Partial<Activity>>>();
  let counter = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const match = /\/v3\/conversations\/([^/]+)\/activities/.exec(req.url ?? '');
      if (req.method === 'POST' && match?.[1]) {
        const conversationId = decodeURIComponent(match[1]);
        const list = sent.get(conversationId) ?? [];
        list.push(JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Partial<Activity>);
        sent.set(conversationId, list);
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: `activity-${++counter}` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    sent,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function firstContactEvents(conversationId: string, serviceUrl: string): Array<Partial<Activity>> {
  const common: Partial<Activity> = {
    channelId: 'msteams',
    serviceUrl,
    from: { id: `29:${alex.id}`, name: alex.displayName, aadObjectId: alex.id },
    recipient: { id: BOT_ID, name: 'Guest onboarding' },
    conversation: { id: conversationId, conversationType: 'personal', tenantId: DEMO.tenantId, isGroup: false, name: '' },
    channelData: { tenant: { id: DEMO.tenantId } },
  };
  return [
    { ...common, type: 'conversationUpdate', id: `cu-${conversationId}`, membersAdded: [{ id: BOT_ID, name: 'Guest onboarding' }] },
    { ...common, type: 'installationUpdate', id: `iu-${conversationId}`, action: 'add' },
  ];
}

const post = (bot: BotProcess, activity: Partial<Activity>): Promise<Response> =>
  fetch(`${bot.url}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(activity) });

function textOf(activity: Partial<Activity>): string {
  return JSON.stringify(activity.attachments ?? []) + (activity.text ?? '');
}

/** The welcome card: its title is the bot's name (the approval cards carry their own). */
function isWelcome(activity: Partial<Activity>): boolean {
  const content = activity.attachments?.[0]?.content as { body?: Array<{ text?: string }> } | undefined;
  return content?.body?.some((b) => b.text === WELCOME_TITLE) ?? false;
}

describe('first contact: conversationUpdate and installationUpdate at the same moment', () => {
  let connector: Awaited<ReturnType<typeof startConnector>>;
  let dataDir: string;
  let bots: BotProcess[] = [];
  let requests: SqliteApprovalRequestRepository;
  let db: ReturnType<typeof openDatabase>;

  beforeAll(async () => {
    connector = await startConnector();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gob-first-contact-'));
    // One after the other, so that the second finds the schema in place.
    bots.push(await startBotProcess({ dataDir, readyTimeoutMs: 60_000 }));
    bots.push(await startBotProcess({ dataDir, readyTimeoutMs: 60_000 }));
    db = openDatabase(path.join(dataDir, 'bot.sqlite'), []);
    requests = new SqliteApprovalRequestRepository(db, { audit: { appendSync: () => { throw new Error('this test writes no audit rows'); } } });
  }, 150_000);

  afterAll(async () => {
    db?.close();
    for (const bot of bots) await bot.stop();
    bots = [];
    await connector?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  /** A pending request whose card could not reach Alex (he had never chatted with the bot). */
  async function undeliveredRequestFor(trial: string): Promise<string> {
    const now = new Date();
    const guestEmail = `first.contact.${trial}@example.net`;
    const request = (await requests.create({
      tenantId: DEMO.tenantId,
      requester: { userId: DEMO.users.adele.id, name: DEMO.users.adele.displayName, tenantId: DEMO.tenantId },
      requesterConversationId: null,
      subject: {
        kind: 'invitation',
        guestName: `Guest ${trial}`,
        guestEmail,
        groupId: DEMO.groups.projectFalcon.id,
        siteName: 'Project Falcon',
        siteUrl: null,
        signInMethod: null,
        signInSummary: null,
        warnings: [],
      },
      justification: 'First-contact test.',
      reasons: ['Adele is not an owner of Project Falcon.'],
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + 86_400_000).toISOString(),
    }));
    await requests.recordDelivery({
      requestId: request.id,
      audience: 'approver',
      recipientId: alex.id,
      recipientName: alex.displayName,
      purpose: 'card',
      status: 'unreachable',
      conversation: null,
      activityId: null,
      error: 'The bot has no personal chat with this person (they have never talked to it).',
      at: now.toISOString(),
    });
    return guestEmail;
  }

  async function trial(name: string, targets: [BotProcess, BotProcess]): Promise<{ welcomes: number; cards: number }> {
    const conversationId = `a:first-contact-${name}`;
    const guestEmail = await undeliveredRequestFor(name);
    const [update, install] = firstContactEvents(conversationId, connector.url);
    const answers = await Promise.all([post(targets[0], update as Partial<Activity>), post(targets[1], install as Partial<Activity>)]);
    expect(answers.map((a) => a.status < 300)).toEqual([true, true]);
    const count = () => {
      const sent = connector.sent.get(conversationId) ?? [];
      return {
        welcomes: sent.filter((a) => isWelcome(a)).length,
        cards: sent.filter((a) => textOf(a).includes(guestEmail)).length,
      };
    };
    const deadline = Date.now() + 10_000;
    while ((count().welcomes < 1 || count().cards < 1) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    // A duplicate, if any, has its chance to arrive.
    await new Promise((r) => setTimeout(r, 150));
    return count();
  }

  it.each([
    ['one process', false],
    ['two processes sharing one data folder', true],
  ])('at %s, 20 times: one welcome and one copy of the undelivered card each time', async (label, twoProcesses) => {
    const [a, b] = bots as [BotProcess, BotProcess];
    const results = [];
    for (let i = 0; i < TRIALS; i++) results.push(await trial(`${twoProcesses ? 'two' : 'one'}-${i}`, twoProcesses ? [a, b] : [a, a]));
    expect({ label, results }).toEqual({ label, results: Array.from({ length: TRIALS }, () => ({ welcomes: 1, cards: 1 })) });
  }, 60_000);
});
