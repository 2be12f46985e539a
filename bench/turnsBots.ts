/**
 * The two bots the turn benchmark (turns.bench.ts) starts, each in its own process:
 *
 *   node dist/bench/turnsBots.js bot       this bot, built by createApp from the environment as
 *                                          in production (demo tenant, or DIRECTORY=graph against
 *                                          the Graph-shaped test server with a fixed-token credential)
 *   node dist/bench/turnsBots.js minimal   a minimal bot on the same botbuilder + restify versions
 *                                          that answers every message with a card of similar size
 *
 * Both listen on 127.0.0.1 (port 0, local mode: replies go to the activity's serviceUrl, the
 * benchmark's Bot Connector stand-in) and talk to the parent over IPC: {ready, port} once
 * listening; on {usage} they answer with CPU time and peak RSS; {stop} ends them.
 */
import type { AddressInfo } from 'node:net';
import type { AccessToken } from '@azure/identity';
import {
  ActivityHandler,
  CardFactory,
  CloudAdapter,
  ConfigurationBotFrameworkAuthentication,
  ConversationState,
  MemoryStorage,
} from 'botbuilder';
import restify from 'restify';
// Types only at the top: this bot's modules are loaded in thisBot(), so that the minimal bot's
// process (and its cold start) holds botbuilder and restify alone.
import type { App } from '../src/app/app';
import type { Directory } from '../src/usecases/ports/Directory';

export interface UsageReport {
  usage: true;
  /** CPU time (user + system) since the process started, in milliseconds. */
  cpuMs: number;
  /** Peak resident set size so far, in MB. */
  peakRssMb: number;
  rssMb: number;
}

function send(message: unknown): void {
  process.send?.(message);
}

function usage(): UsageReport {
  const cpu = process.cpuUsage();
  return {
    usage: true,
    cpuMs: (cpu.user + cpu.system) / 1000,
    // resourceUsage().maxRSS is the peak resident set size in kilobytes.
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    rssMb: process.memoryUsage.rss() / (1024 * 1024),
  };
}

function serveControl(stop: () => Promise<void>): void {
  process.on('message', (message: unknown) => {
    const command = (message as { command?: string } | null)?.command;
    if (command === 'usage') send(usage());
    if (command === 'stop') void stop().finally(() => process.exit(0));
  });
  process.on('disconnect', () => process.exit(0));
}

/** A card about the size of this bot's replies (the welcome card is ~2 KB of template, ~3 KB expanded). */
function minimalCard(text: string): Record<string, unknown> {
  return {
    type: 'AdaptiveCard',
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    version: '1.5',
    body: [
      { type: 'TextBlock', text: 'Guest onboarding', weight: 'Bolder', size: 'Medium', wrap: true },
      { type: 'RichTextBlock', inlines: [{ type: 'TextRun', text: `You said: ${text.slice(0, 200)}` }] },
      ...Array.from({ length: 8 }, (_, i) => ({
        type: 'ColumnSet',
        columns: [
          { type: 'Column', width: 'auto', items: [{ type: 'TextBlock', text: `Item ${i + 1}`, weight: 'Bolder', wrap: true }] },
          {
            type: 'Column',
            width: 'stretch',
            items: [{ type: 'RichTextBlock', inlines: [{ type: 'TextRun', text: 'An example line of about the length the real cards carry.' }] }],
          },
        ],
      })),
    ],
    actions: [{ type: 'Action.Submit', title: 'OK', data: { verb: 'ok' } }],
  };
}

async function minimalBot(): Promise<void> {
  const adapter = new CloudAdapter(new ConfigurationBotFrameworkAuthentication({}));
  // Same per-turn state round trip as a typical bot (memory storage: no disk).
  const conversationState = new ConversationState(new MemoryStorage());
  const turns = conversationState.createProperty<number>('turns');
  const bot = new ActivityHandler();
  bot.onMessage(async (context, next) => {
    await turns.set(context, (await turns.get(context, 0)) + 1);
    await context.sendActivity({ attachments: [CardFactory.adaptiveCard(minimalCard(context.activity.text ?? ''))] });
    await conversationState.saveChanges(context);
    await next();
  });
  const server = restify.createServer({ name: 'minimal-bot' });
  server.use(restify.plugins.bodyParser({ mapParams: false }));
  server.post('/api/messages', async (req, res) => {
    await adapter.process(req, res, (context) => bot.run(context));
  });
  server.get('/healthz', async (_req, res) => {
    res.send(200, { status: 'ok' });
  });
  await new Promise<void>((resolve) => server.listen(Number(process.env.PORT ?? '0'), '127.0.0.1', resolve));
  serveControl(async () => {
    server.close();
  });
  send({ ready: true, port: (server.address() as AddressInfo).port });
}

/** A credential that hands out a fixed token: the Graph-shaped server only checks that one is sent. */
const fixedTokenCredential = {
  getToken: async (): Promise<AccessToken> => ({ token: 'bench-token', expiresOnTimestamp: Date.now() + 3_600_000 }),
};

/**
 * Puts `count` completed invitations in the store and the directory before the bot listens, as a
 * long-running bot would hold them: a guest in the demo tenant, a member of Project Falcon, and
 * the invitation record (demo mode only; the Graph-shaped server keeps its own tenant).
 */
async function preloadInvitations(app: App, count: number): Promise<void> {
  const { DEMO } = await import('../src/adapters/demo/demoTenant');
  const { directory } = app.services;
  const { store } = app;
  const invitations = store.invitations;
  const group = DEMO.groups.projectFalcon;
  for (let i = 1; i <= count; i++) {
    const email = `held${i}@fabrikam.com`;
    const invited = await directory.invite({ email, displayName: `Held Guest ${i}`, redirectUrl: group.siteUrl, sendInvitationMessage: false });
    await directory.addMembers(group.id, [invited.userId]);
    const { record } = await invitations.claim({
      tenantId: DEMO.tenantId,
      emailNormalised: email,
      groupId: group.id,
      emailDisplay: email,
      displayName: `Held Guest ${i}`,
      siteName: group.displayName,
      siteUrl: group.siteUrl,
      requestedBy: { id: DEMO.users.megan.id, name: DEMO.users.megan.displayName },
      conversationRefKey: null,
      source: 'chat',
      predictedMethod: 'workOrSchoolAccount',
    });
    await invitations.update(record.id, record.version, {
      state: 'completed',
      outcomeKind: 'newGuest',
      userId: invited.userId,
      invitationId: invited.invitationId,
      redeemUrl: invited.redeemUrl,
    });
  }
}

async function thisBot(): Promise<void> {
  const { createApp } = await import('../src/app/app');
  const { loadConfig } = await import('../src/app/config');
  const { createDirectory } = await import('../src/app/createDirectory');
  const { createLogger } = await import('../src/shared/logger');
  const config = { ...loadConfig(process.env), port: 0 };
  const logger = createLogger({ level: config.env.LOG_LEVEL });
  let directory: Directory | undefined;
  if (config.directory === 'graph') directory = createDirectory(config, logger, { credential: fixedTokenCredential });
  const app = createApp(config, { logger, directory });
  const preload = Number(process.env.BENCH_PRELOAD_INVITATIONS ?? '0');
  if (preload > 0) await preloadInvitations(app, preload);
  const { port } = await app.listen();
  serveControl(() => app.close());
  send({ ready: true, port });
}

const kind = process.argv[2];
(kind === 'minimal' ? minimalBot() : kind === 'bot' ? thisBot() : Promise.reject(new Error('usage: turnsBots.js bot|minimal'))).catch(
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
