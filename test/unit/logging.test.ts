/**
 * What reaches the logs, read back from a real logger at the most verbose level: bearer tokens,
 * the bot's secret and invitation redeem links must never appear, whatever the turn does.
 */
import { Writable } from 'node:stream';
import { createLogger } from '../../src/shared/logger';
import { messageFrom, startInProcessApp, type RunningApp } from '../support/e2e/inProcessApp';

const APP_ID = '11111111-2222-4333-8444-555555555555';
const APP_PASSWORD = 'app-password-that-must-never-be-logged';
const TENANT = '66666666-7777-4888-9999-000000000000';

function capturingLogger(): { logger: ReturnType<typeof createLogger>; text: () => string } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  return { logger: createLogger({ level: 'trace', destination }), text: () => chunks.join('') };
}

describe('logs', () => {
  let running: RunningApp | undefined;
  afterEach(async () => {
    await running?.close();
    running = undefined;
  });

  it('never contain a bearer token or the bot secret, even for a refused forged token', async () => {
    const { logger, text } = capturingLogger();
    running = await startInProcessApp({
      env: { MicrosoftAppId: APP_ID, MicrosoftAppPassword: APP_PASSWORD, MicrosoftAppTenantId: TENANT, DIRECTORY: 'demo' },
      overrides: { logger },
    });
    const forged = `eyJhbGciOiJIUzI1NiJ9.${Buffer.from(JSON.stringify({ aud: APP_ID })).toString('base64url')}.forged-signature-xyz`;
    const res = await running.post(messageFrom('help'), { authorization: `Bearer ${forged}` });
    expect(res.status).toBe(401);
    logger.flush();
    const logged = text();
    expect(logged.length).toBeGreaterThan(0);
    expect(logged).not.toContain('forged-signature-xyz');
    expect(logged).not.toContain(APP_PASSWORD);
  });

  it('never contain the redeem link of an invitation the bot just created, nor the message text', async () => {
    const { logger, text } = capturingLogger();
    running = await startInProcessApp({ overrides: { logger } });
    const conversation = { id: 'conv-logging', tenantId: 'c0a7f3e2-1d4b-4e8a-9f6c-2b5d8e1a7c30', isGroup: false, name: '', conversationType: 'personal' };
    const say = async (text: string, value?: unknown): Promise<unknown> => {
      const res = await running!.post(messageFrom(text, { conversation, ...(value ? { value } : {}) }));
      return res.json();
    };
    await say('invite Quinn Logtest <quinn.logtest@example.org> to Project Falcon');
    const confirmReplies = JSON.stringify(await say('confirm'));
    expect(confirmReplies).toMatch(/login\.microsoftonline\.com\/redeem/);
    const redeem = /https:\/\/login\.microsoftonline\.com\/redeem[^"\\]*/.exec(confirmReplies)?.[0];
    logger.flush();
    const logged = text();
    expect(logged).not.toContain('quinn.logtest@example.org');
    expect(logged).not.toContain(redeem);
    expect(logged).not.toMatch(/login\.microsoftonline\.com\/redeem/);
  });
});
