/**
 * Starts the real app (createApp: restify server, CloudAdapter, bot, store, demo directory)
 * inside the test process on a free loopback port, for HTTP-level tests.
 */
import os from 'node:os';
import path from 'node:path';
import type { Activity } from 'botbuilder';
import { createApp, type App, type AppOverrides } from '../../../src/app/app';
import { loadConfig, type AppConfig } from '../../../src/app/config';
import { createLogger } from '../../../src/shared/logger';
import { botTestStore, TEST_STORE } from '../store';

export const DEMO_TENANT_ID = 'c0a7f3e2-1d4b-4e8a-9f6c-2b5d8e1a7c30';
export const MEGAN = { id: 'user-megan', name: 'Megan Bowen', aadObjectId: '6f1c2b3a-0001-4c5d-8e9f-0a1b2c3d4e01' };

export interface RunningApp {
  app: App;
  config: AppConfig;
  baseUrl: string;
  /** POSTs an activity to /api/messages. */
  post(activity: Partial<Activity>, headers?: Record<string, string>): Promise<Response>;
  close(): Promise<void>;
}

/** An AppConfig from environment-style values (validated by the real loadConfig), on an ephemeral port. */
export function testConfig(env: Record<string, string> = {}): AppConfig {
  // The store is opened in memory (see startInProcessApp), so the data folder is never created.
  return { ...loadConfig({ LOG_LEVEL: 'silent', ...env }, path.join(os.tmpdir(), 'gob-in-process')), port: 0 };
}

export async function startInProcessApp(
  options: { env?: Record<string, string>; config?: AppConfig; overrides?: AppOverrides } = {},
): Promise<RunningApp> {
  const config = options.config ?? testConfig(options.env);
  // TEST_STORE=azure: the app runs on Azure Storage (this file's Azurite) unless the test chose a store.
  const onAzure = TEST_STORE === 'azure' && !options.overrides?.store && config.env.STORE !== 'azure';
  const app = createApp(config, {
    logger: createLogger({ level: 'silent' }),
    databaseFile: ':memory:',
    shutdownTimeoutMs: 2_000,
    ...(onAzure ? { store: botTestStore({ clock: options.overrides?.clock }) } : {}),
    ...options.overrides,
  });
  const { port } = await app.listen();
  const host = config.host.includes(':') ? `[${config.host}]` : config.host === '0.0.0.0' ? '127.0.0.1' : config.host;
  const baseUrl = `http://${host}:${port}`;
  return {
    app,
    config,
    baseUrl,
    post: (activity, headers = {}) =>
      fetch(`${baseUrl}/api/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(activity),
      }),
    close: () => app.close(),
  };
}

/** A Teams personal-chat message from Megan, answered inline (deliveryMode expectReplies). */
export function messageFrom(text: string, overrides: Partial<Activity> = {}): Partial<Activity> {
  return {
    type: 'message',
    id: `act-${Math.random().toString(36).slice(2)}`,
    text,
    channelId: 'msteams',
    serviceUrl: 'http://127.0.0.1:9/',
    from: MEGAN,
    recipient: { id: 'bot-id', name: 'Guest onboarding' },
    conversation: { id: `conv-${Math.random().toString(36).slice(2)}`, tenantId: DEMO_TENANT_ID, isGroup: false, name: '', conversationType: 'personal' },
    channelData: { tenant: { id: DEMO_TENANT_ID } },
    deliveryMode: 'expectReplies',
    ...overrides,
  };
}

/** Message texts, and the texts of every TextBlock and TextRun in the cards, of an expectReplies body. */
export function replyTexts(body: unknown): string[] {
  const activities = (body as { activities?: Array<Partial<Activity>> }).activities ?? [];
  const texts: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      const record = node as Record<string, unknown>;
      if ((record.type === 'TextBlock' || record.type === 'TextRun' || record.type === 'message') && typeof record.text === 'string') {
        texts.push(record.text);
      }
      Object.values(record).forEach(walk);
    }
  };
  for (const activity of activities) {
    if (typeof activity.text === 'string') texts.push(activity.text);
    walk(activity.attachments);
  }
  return texts;
}
