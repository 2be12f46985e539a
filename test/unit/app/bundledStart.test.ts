/**
 * The production start as `npm run build` leaves it (requires the build): dist/src/main.js is
 * one bundle that loads nothing of ours from other files, and `node dist/src/index.js` starts
 * from it, answers /healthz and /readyz, holds a real conversation turn (card templates found,
 * card rendered, reply sent), writes its compile cache on a clean stop, and starts again from
 * that cache. The Storage and Graph SDKs stay outside the bundle and load from node_modules only
 * with STORE=azure (Azurite here) or DIRECTORY=graph.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { builtinModules, Module } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { DEMO } from '../../../src/adapters/demo/demoTenant';
import { uniquePrefix, useAzurite } from '../../support/azurite';
import { PROJECT_ROOT, startBotProcess, type BotProcess } from '../../support/e2e/processes';

const MAIN = path.join(PROJECT_ROOT, 'dist', 'src', 'main.js');
/** What scripts/bundle.mjs leaves outside the bundle, on purpose. */
const EXTERNAL = [
  'better-sqlite3',
  'dtrace-provider',
  '@azure/monitor-opentelemetry',
  '@opentelemetry/resources',
  '@opentelemetry/api',
  // Loaded only with STORE=azure / DIRECTORY=graph (kept out of a demo or SQLite process's memory).
  '@azure/data-tables',
  '@azure/storage-blob',
  '@azure/storage-queue',
  'botbuilder-azure-blobs',
  '@microsoft/microsoft-graph-client',
  '@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials',
];

/** Records the bot's replies (the Bot Connector's place in local mode: the activity's serviceUrl). */
async function startConnector(): Promise<{ url: string; replies: Array<Record<string, unknown>>; close(): Promise<void> }> {
  const replies: Array<Record<string, unknown>> = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'POST' && /\/v3\/conversations\/[^/]+\/activities/.test(req.url ?? '')) {
        replies.push(JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>);
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: `reply-${replies.length}` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    replies,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function askForHelp(bot: BotProcess, serviceUrl: string, n: number): Promise<number> {
  const megan = DEMO.users.megan;
  const response = await fetch(`${bot.url}/api/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      type: 'message',
      id: `bundled-start-${n}`,
      text: 'help',
      channelId: 'msteams',
      serviceUrl,
      from: { id: `29:${megan.id}`, name: megan.displayName, aadObjectId: megan.id },
      recipient: { id: '28:guest-onboarding-bot', name: 'Guest onboarding' },
      conversation: { id: `bundled-start-conversation-${n}`, tenantId: DEMO.tenantId, conversationType: 'personal' },
      channelData: { tenant: { id: DEMO.tenantId } },
    }),
  });
  return response.status;
}

const azurite = useAzurite();

describe('the bundled production start (node dist/src/index.js)', () => {
  let cacheDir: string;
  let connector: Awaited<ReturnType<typeof startConnector>>;

  beforeAll(async () => {
    cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gob-bundled-start-'));
    connector = await startConnector();
  });

  afterAll(async () => {
    await connector?.close();
    fs.rmSync(cacheDir, { recursive: true, force: true });
  });

  it('dist/src/main.js is one bundle: it requires only Node built-ins and the deliberate externals', () => {
    const source = fs.readFileSync(MAIN, 'utf8');
    const required = new Set([...source.matchAll(/\brequire\("([^"]+)"\)/g)].map((m) => m[1]!));
    const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
    const others = [...required].filter((id) => !builtins.has(id) && !EXTERNAL.includes(id));
    // What remains are optional add-ons that libraries try in try/catch (ws: bufferutil; node-fetch:
    // encoding). None is installed, so the bundle behaves as the unbundled code did; one that
    // could be found here would be code left out of the bundle.
    const resolvable = others.filter((id) => {
      try {
        require.resolve(id, { paths: [path.dirname(MAIN)] });
        return true;
      } catch {
        return false;
      }
    });
    expect(resolvable).toEqual([]);
    // ASCII only: one other character and Node decodes the whole file as UTF-16, slower to load.
    expect(source.match(/[\u0080-\uffff]/g) ?? []).toEqual([]);
    // Our own modules are inside (a composition-root module and a card template loader).
    expect(source).toContain('dist/src/app/app.js');
    expect(source).toContain('dist/src/teams/cards.js');
    // The Storage and Graph SDKs are not: V8 keeps the whole source of the bundle in memory, so
    // inside it they would cost every demo or SQLite process memory (README "Performance").
    for (const sdk of ['@azure/storage-blob', '@azure/storage-queue', '@azure/data-tables', 'botbuilder-azure-blobs', '@microsoft/microsoft-graph-client']) {
      expect(source).not.toContain(`node_modules/${sdk}/`);
    }
    // Our adapters over them are inside, loaded only when configured.
    expect(source).toContain('dist/src/adapters/azure/store.js');
    expect(source).toContain('dist/src/adapters/graph/GraphDirectory.js');
    // The choice recognizer's number models load at its first use, not with TextPrompt (scripts/bundleFile.mjs).
    expect(source).toMatch(/numberRecognizers=\(\)=>loadedRecognizers\?\?=__importStar\d*\(require_recognizers_text_number_umd\(\)\)/);
  });

  /** The packages the process loaded from node_modules (NODE_DEBUG=module), by name. */
  const loadedPackages = (output: string): Set<string> =>
    new Set([...output.matchAll(/^MODULE \d+: load "[^"]*\/node_modules\/((?:@[^/"]+\/)?[^/"]+)\//gm)].map((m) => m[1]!));

  it('a demo start loads neither the Storage nor the Graph SDK; STORE=azure and DIRECTORY=graph load them from node_modules and work', async () => {
    const sdks = ['@azure/storage-blob', '@azure/storage-queue', '@azure/data-tables', 'botbuilder-azure-blobs', '@microsoft/microsoft-graph-client'];
    // No compile cache here: the cache test below starts from an empty one.
    const env = { NODE_DISABLE_COMPILE_CACHE: '1', NODE_DEBUG: 'module', LOG_LEVEL: 'info' };
    const demo = await startBotProcess({ env, readyTimeoutMs: 60_000 });
    try {
      expect(await askForHelp(demo, connector.url, 10)).toBeLessThan(300);
    } finally {
      expect(await demo.stop()).toBe(0);
    }
    expect(sdks.filter((sdk) => loadedPackages(demo.output()).has(sdk))).toEqual([]);

    // STORE=azure: the bot state, conversation references and records in Azurite, a turn answered.
    const azure = await startBotProcess({
      env: { ...env, STORE: 'azure', AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString, AZURE_STORAGE_PREFIX: uniquePrefix() },
      readyTimeoutMs: 60_000,
    });
    try {
      expect((await fetch(`${azure.url}/readyz`)).status).toBe(200);
      const before = connector.replies.length;
      expect(await askForHelp(azure, connector.url, 11)).toBeLessThan(300);
      expect(connector.replies.length).toBeGreaterThan(before);
    } finally {
      expect(await azure.stop()).toBe(0);
    }
    expect(['@azure/storage-blob', '@azure/storage-queue', '@azure/data-tables', 'botbuilder-azure-blobs'].filter((sdk) => !loadedPackages(azure.output()).has(sdk))).toEqual([]);

    // DIRECTORY=graph: GraphDirectory and the Graph SDK load at start (no request is made before a turn).
    const graph = await startBotProcess({
      env: {
        ...env,
        DIRECTORY: 'graph',
        GRAPH_TENANT_ID: DEMO.tenantId,
        GRAPH_CLIENT_ID: '00000000-0000-4000-8000-000000000001',
        GRAPH_CLIENT_SECRET: 'not used: no Graph request is made in this test',
        GRAPH_BASE_URL: 'http://127.0.0.1:9',
        APPROVER_GROUP_ID: DEMO.groups.guestApprovers.id,
      },
      readyTimeoutMs: 60_000,
    });
    try {
      expect((await fetch(`${graph.url}/healthz`)).status).toBe(200);
    } finally {
      expect(await graph.stop()).toBe(0);
    }
    expect(graph.output()).toMatch(/directory: Microsoft Graph/);
    expect(loadedPackages(graph.output()).has('@microsoft/microsoft-graph-client')).toBe(true);
  }, 150_000);

  it('starts from the bundle, answers /healthz, /readyz and a turn, then starts again from its compile cache', async () => {
    // Node 22.1+ caches itself (module.enableCompileCache) and tells what it did under
    // NODE_DEBUG_NATIVE=COMPILE_CACHE; Node 20 runs src/app/compileCache.ts's own, under
    // NODE_DEBUG=compile-cache. Same two rounds either way: compiled and written, then read back.
    const nodeCaches = typeof (Module as { enableCompileCache?: unknown }).enableCompileCache === 'function';
    const env = { NODE_COMPILE_CACHE: cacheDir, NODE_DEBUG: 'compile-cache', NODE_DEBUG_NATIVE: 'COMPILE_CACHE' };
    const main = MAIN.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const expectations = nodeCaches
      ? ([
          [1, new RegExp(`cache for (CommonJS )?${main} was not initialized`)],
          [2, new RegExp(`cache for (CommonJS )?${main} was accepted`)],
        ] as const)
      : ([
          [1, new RegExp(`${main}: cache none`)],
          [2, new RegExp(`${main}: cache accepted`)],
        ] as const);
    for (const [round, expected] of expectations) {
      const bot = await startBotProcess({ env, readyTimeoutMs: 60_000 });
      try {
        expect(bot.output()).toMatch(expected);
        expect((await fetch(`${bot.url}/readyz`)).status).toBe(200);
        const before = connector.replies.length;
        expect(await askForHelp(bot, connector.url, round)).toBeLessThan(300);
        const replies = connector.replies.slice(before);
        const cards = replies.flatMap((r) => (r.attachments as Array<{ contentType?: string }> | undefined) ?? []);
        expect(cards.map((c) => c.contentType)).toContain('application/vnd.microsoft.card.adaptive');
      } finally {
        expect(await bot.stop()).toBe(0);
      }
      // Node's own cache is written at exit, and its last lines can still be in the pipe when
      // the exit is seen: round 2 accepting the cache is the proof it was written.
      if (round === 1 && !nodeCaches) expect(bot.output()).toMatch(/COMPILE-CACHE \d+: wrote \d+ bytes/);
    }
    if (!nodeCaches) expect(fs.readdirSync(cacheDir).filter((f) => f.endsWith('.bin'))).toHaveLength(1);
    else expect(fs.readdirSync(cacheDir).filter((f) => f.startsWith(`v${process.versions.node}-`))).toHaveLength(1);
  }, 150_000);
});
