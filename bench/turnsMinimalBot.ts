/**
 * The turn benchmark's baseline (see turns.bench.ts): a minimal bot on the same botbuilder +
 * restify versions as this bot, answering every message with a card of similar size. Listens on
 * 127.0.0.1 (port 0, local mode: replies go to the activity's serviceUrl, the benchmark's Bot
 * Connector stand-in). Bundled like this bot for the load phases (scripts/bundle-bench.mjs).
 */
import type { AddressInfo } from 'node:net';
import {
  ActivityHandler,
  CardFactory,
  CloudAdapter,
  ConfigurationBotFrameworkAuthentication,
  ConversationState,
  MemoryStorage,
} from 'botbuilder';
import restify from 'restify';
import { send, serveControl } from './turnsBotControl';

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

export function runMinimalBot(): void {
  minimalBot().catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
}

if (require.main === module) runMinimalBot();
