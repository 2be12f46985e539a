/**
 * What /api/messages does with requests that are not activities, or activities with odd
 * fields: a 4xx naming the problem and no turn for the first, a normal answer (never the
 * generic "something went wrong") for valid JSON the bot can still make sense of.
 */
import type { Activity } from 'botbuilder';
import { TURN_ERROR_MESSAGE } from '../../src/teams/bot/GuestOnboardingBot';
import { messageFrom, replyTexts, startInProcessApp, type RunningApp } from '../support/e2e/inProcessApp';

interface Case {
  name: string;
  /** The raw body, or an activity to send as JSON. */
  body: string | Record<string, unknown> | unknown[];
  contentType?: string;
  status: number;
  /** A part of the `error` text of a refusal. */
  reason?: string;
}

const message = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({ ...(messageFrom('help') as Record<string, unknown>), ...overrides });
const without = (key: string): Record<string, unknown> => {
  const copy = message();
  delete copy[key];
  return copy;
};
const conversationUpdate = (overrides: Record<string, unknown>): Record<string, unknown> => ({ ...message({ type: 'conversationUpdate', text: undefined }), ...overrides });

const REFUSED: Case[] = [
  { name: 'an XML body', body: '<activity><type>message</type></activity>', contentType: 'application/xml', status: 415, reason: 'application/json' },
  { name: 'a form-encoded body', body: 'type=message&text=help', contentType: 'application/x-www-form-urlencoded', status: 415, reason: 'application/json' },
  { name: 'JSON sent as text/plain', body: JSON.stringify(message()), contentType: 'text/plain', status: 415, reason: 'application/json' },
  { name: 'a body that is not JSON at all', body: '{"type": "message",', status: 400 },
  { name: 'a JSON array', body: [message()], status: 400, reason: 'not an activity' },
  { name: 'a JSON string', body: '"hello"', status: 400, reason: 'not an activity' },
  { name: 'JSON without type', body: without('type'), status: 400, reason: 'type is missing' },
  { name: 'an empty type', body: message({ type: '' }), status: 400, reason: 'type is empty' },
  { name: 'a type that is not a string', body: message({ type: 7 }), status: 400, reason: 'type has the wrong type' },
  { name: 'no conversation', body: without('conversation'), status: 400, reason: 'conversation is missing' },
  { name: 'a conversation without id', body: message({ conversation: { tenantId: 'x' } }), status: 400, reason: 'conversation.id is missing' },
  { name: 'an empty conversation id', body: message({ conversation: { id: '' } }), status: 400, reason: 'conversation.id is empty' },
  { name: 'no serviceUrl', body: without('serviceUrl'), status: 400, reason: 'serviceUrl is missing' },
  { name: 'a serviceUrl that is not a URL', body: message({ serviceUrl: 'not a url' }), status: 400, reason: 'serviceUrl is not a URL' },
  { name: 'a serviceUrl that is not http(s)', body: message({ serviceUrl: 'file:///etc/passwd' }), status: 400, reason: 'http(s)' },
  { name: 'a null among the entities', body: message({ entities: [null] }), status: 400, reason: 'entities[0]' },
  { name: 'membersAdded that is a string', body: conversationUpdate({ membersAdded: 'x' }), status: 400, reason: 'membersAdded' },
  { name: 'a text that is a number', body: message({ text: 5 }), status: 400, reason: 'text has the wrong type' },
  { name: 'a from that is a string', body: message({ from: 'megan' }), status: 400, reason: 'from has the wrong type' },
  { name: 'attachments that are an object', body: message({ attachments: { contentType: 'text/csv' } }), status: 400, reason: 'attachments' },
];

const HANDLED: Array<{ name: string; activity: Record<string, unknown> }> = [
  { name: 'a message whose optional fields are null', activity: message({ locale: null, channelData: null, entities: null, attachments: null, replyToId: null }) },
  { name: 'a mention entity without "mentioned" or text', activity: message({ text: '<at>Bot</at> help', entities: [{ type: 'mention' }, { type: 'mention', mentioned: null, text: null }] }) },
  { name: 'a message with a null text', activity: message({ text: null }) },
  { name: 'a conversation update with nobody added', activity: conversationUpdate({ membersAdded: [] }) },
  { name: 'unknown extra fields', activity: message({ somethingNew: { nested: [1, null] } }) },
];

describe('requests that are not valid activities', () => {
  let running: RunningApp;
  let turns: jest.SpyInstance;
  beforeAll(async () => {
    running = await startInProcessApp();
    turns = jest.spyOn(running.app.bot, 'run');
  });
  afterAll(async () => {
    await running?.close();
  });
  beforeEach(() => turns.mockClear());

  it.each(REFUSED)('refuses $name with $status and a reason, running no turn', async ({ body, contentType, status, reason }) => {
    const res = await fetch(`${running.baseUrl}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': contentType ?? 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    expect(res.status).toBe(status);
    const answer = (await res.json()) as { error?: string; message?: string };
    const text = answer.error ?? answer.message ?? '';
    expect(text.length).toBeGreaterThan(0);
    if (reason) expect(text).toContain(reason);
    expect(turns).not.toHaveBeenCalled();
  });

  it.each(HANDLED)('answers $name normally', async ({ activity }) => {
    const res = await running.post(activity as Partial<Activity>);
    expect(res.status).toBe(200);
    expect(turns).toHaveBeenCalledTimes(1);
    const body = await res.text();
    const replies = body ? replyTexts(JSON.parse(body)) : [];
    expect(replies.join('\n')).not.toContain(TURN_ERROR_MESSAGE);
  });
});
