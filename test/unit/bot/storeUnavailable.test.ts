/**
 * The store out of reach for a moment (Azure Storage down, a network blip): a turn is answered
 * "try again in a moment", nothing is cleared, and the conversation carries on where it was once
 * the store answers again. Through the real app, with the bot state's storage failing on demand
 * as the Azure SDK fails (a RestError without a status: no answer came).
 */
import { RestError } from '@azure/core-rest-pipeline';
import type { Storage, StoreItems } from 'botbuilder';
import { openMemoryStore } from '../../../src/adapters/memory/store';
import { isStoreUnavailable } from '../../../src/adapters/storeErrors';
import { StorageETagConflictError } from '../../../src/adapters/botStorageItems';
import { CROSSED_TURN_MESSAGE, STORE_UNAVAILABLE_MESSAGE, TURN_ERROR_MESSAGE } from '../../../src/teams/bot/GuestOnboardingBot';
import { messageFrom, replyTexts, startInProcessApp, type RunningApp } from '../../support/e2e/inProcessApp';

describe('isStoreUnavailable', () => {
  it.each([
    ['no answer (connection refused)', new RestError('connect ECONNREFUSED 127.0.0.1:10002', { code: 'ECONNREFUSED' })],
    ['no answer, no code', new RestError('socket hang up')],
    ['503 Server Busy', new RestError('busy', { statusCode: 503, code: 'ServerBusy' })],
    ['500', new RestError('internal', { statusCode: 500 })],
    ['wrapped as a cause', new Error('Storage: read failed', { cause: new RestError('x', { code: 'ETIMEDOUT' }) })],
    ['SQLite busy', Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' })],
  ])('%s: unavailable', (_label, error) => {
    expect(isStoreUnavailable(error)).toBe(true);
  });

  it.each([
    ['412 (a lost compare-and-set)', new RestError('precondition', { statusCode: 412 })],
    ['404', new RestError('not found', { statusCode: 404 })],
    ['403 (no role on the account)', new RestError('forbidden', { statusCode: 403, code: 'AuthorizationPermissionMismatch' })],
    ['a bug', new TypeError('x is undefined')],
    ['nothing', undefined],
  ])('%s: not unavailable', (_label, error) => {
    expect(isStoreUnavailable(error)).toBe(false);
  });
});

describe('a turn while the store is out of reach', () => {
  let running: RunningApp;
  let down = false;
  /** The next write loses an eTag race (another turn of the chat saved first). */
  let conflictNext = false;

  beforeAll(async () => {
    const store = openMemoryStore();
    const inner = store.botStorage;
    const outage = (): never => {
      throw new RestError('connect ECONNREFUSED 127.0.0.1:10000', { code: 'ECONNREFUSED' });
    };
    const flaky: Storage = {
      read: (keys: string[]): Promise<StoreItems> => (down ? Promise.reject(outage()) : inner.read(keys)),
      write: (changes: StoreItems): Promise<void> => {
        if (down) return Promise.reject(outage());
        if (conflictNext) {
          conflictNext = false;
          return Promise.reject(new StorageETagConflictError(Object.keys(changes)[0] ?? ''));
        }
        return inner.write(changes);
      },
      delete: (keys: string[]): Promise<void> => (down ? Promise.reject(outage()) : inner.delete(keys)),
    };
    running = await startInProcessApp({ overrides: { store: { ...store, botStorage: flaky } } });
  });
  afterAll(async () => {
    await running.close();
  });

  it('is answered "try again in a moment", and the guided invitation carries on afterwards', async () => {
    const conversation = { id: 'conv-store-outage', tenantId: 'c0a7f3e2-1d4b-4e8a-9f6c-2b5d8e1a7c30', isGroup: false, name: '', conversationType: 'personal' };
    const say = async (text: string): Promise<string> => {
      const res = await running.post(messageFrom(text, { conversation }));
      expect(res.status).toBe(200);
      return replyTexts(await res.json()).join('\n');
    };
    expect(await say('invite a guest')).toContain("What is the guest's email address?");
    down = true;
    const during = await say('sam.taylor@fabrikam.com');
    expect(during).toContain(STORE_UNAVAILABLE_MESSAGE);
    expect(during).not.toContain(TURN_ERROR_MESSAGE);
    down = false;
    // The question is still open: the same answer now moves the dialog on.
    expect(await say('sam.taylor@fabrikam.com')).toContain('What name should they have in your organisation');
  });

  it('a turn whose state save lost an eTag race says so, and the dialog the other turn saved goes on', async () => {
    const conversation = { id: 'conv-crossed', tenantId: 'c0a7f3e2-1d4b-4e8a-9f6c-2b5d8e1a7c30', isGroup: false, name: '', conversationType: 'personal' };
    const say = async (text: string): Promise<string> => {
      const res = await running.post(messageFrom(text, { conversation }));
      expect(res.status).toBe(200);
      return replyTexts(await res.json()).join('\n');
    };
    expect(await say('invite a guest')).toContain("What is the guest's email address?");
    conflictNext = true;
    const lost = await say('sam.taylor@fabrikam.com');
    expect(lost).toContain(CROSSED_TURN_MESSAGE);
    expect(lost).not.toContain(TURN_ERROR_MESSAGE);
    // The state as saved before (still at the address question) is the conversation's.
    expect(await say('sam.taylor@fabrikam.com')).toContain('What name should they have in your organisation');
  });
});
