/** Bot state (botbuilder Storage): SqliteBotStorage's eTag and value rules, the same over SQLite and memory. */
import type { Storage, StoreItems } from 'botbuilder';
import { coreMigrations } from '../../../src/adapters/sqlite/coreMigrations';
import { openDatabase } from '../../../src/adapters/sqlite/database';
import { SqliteBotStorage } from '../../../src/adapters/sqlite/SqliteBotStorage';
import { MemoryBotStorage } from '../../../src/adapters/memory/botStorage';
import { StorageETagConflictError, StorageValueError } from '../../../src/adapters/botStorageItems';
import { AzureBotStorage, blobNameOf } from '../../../src/adapters/azure/botStorage';
import { sanitizeBlobKey } from 'botbuilder-azure-blobs/lib/sanitizeBlobKey';
import { useAzurite } from '../../support/azurite';

const azurite = useAzurite();

type Make = () => Storage;

const makeSqlite: Make = () => new SqliteBotStorage(openDatabase(':memory:', coreMigrations));
const makeMemory: Make = () => new MemoryBotStorage();
const makeAzure: Make = () => new AzureBotStorage(azurite.account());

describe('Azure bot state blob names', () => {
  it('are the names BlobsStorage gives the same keys (a create-only write must land on the blob it reads)', () => {
    const keys = ['msteams/conversations/a/', 'lifecycle/pendingNotices/29:1a-b', '//a//b/', 'x'.repeat(1500), 'é ü/ß?#&=', `${'a/'.repeat(300)}end`];
    for (const key of keys) expect(blobNameOf(key)).toBe(sanitizeBlobKey(key));
  });
});

describe.each([
  ['sqlite', makeSqlite],
  ['memory', makeMemory],
  ['azure', makeAzure],
])('bot Storage contract (%s)', (_name, make) => {
  it('returns what was written, with an eTag, and nothing for unknown keys', async () => {
    const botStorage = make();
    await botStorage.write({ 'msteams/conversations/a/': { dialogState: { stack: [{ id: 'invite' }] }, count: 2 } });

    const items = await botStorage.read(['msteams/conversations/a/', 'missing']);

    expect(items['msteams/conversations/a/']).toEqual({
      dialogState: { stack: [{ id: 'invite' }] },
      count: 2,
      eTag: expect.any(String),
    });
    expect(items).not.toHaveProperty('missing');
  });

  it('gives an item a new eTag on every write, never one it had before a delete', async () => {
    const botStorage = make();
    await botStorage.write({ k: { n: 1 } });
    const first = (await botStorage.read(['k']))['k'].eTag as string;
    await botStorage.write({ k: { n: 1 } });
    const second = (await botStorage.read(['k']))['k'].eTag as string;
    await botStorage.delete(['k']);
    await botStorage.write({ k: { n: 1 } });
    const third = (await botStorage.read(['k']))['k'].eTag as string;

    expect(new Set([first, second, third]).size).toBe(3);
  });

  it('rejects a write carrying a stale eTag with the MemoryStorage error, and keeps the newer value', async () => {
    const botStorage = make();
    await botStorage.write({ k: { owner: 'first' } });
    const stale = (await botStorage.read(['k']))['k'] as StoreItems;
    await botStorage.write({ k: { ...stale, owner: 'second' } });

    const attempt = botStorage.write({ k: { ...stale, owner: 'late' } });

    await expect(attempt).rejects.toThrow('Storage: error writing "k" due to eTag conflict.');
    await expect(attempt).rejects.toBeInstanceOf(StorageETagConflictError);
    expect((await botStorage.read(['k']))['k'].owner).toBe('second');
  });

  it('concurrent writers holding the same eTag: exactly one wins', async () => {
    const botStorage = make();
    await botStorage.write({ k: { v: 0 } });
    const read = (await botStorage.read(['k']))['k'] as StoreItems;
    const results = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => botStorage.write({ k: { ...read, v: i + 1 } })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected').every((r) => (r as PromiseRejectedResult).reason instanceof StorageETagConflictError)).toBe(true);
  });

  it("accepts the current eTag, '*' and no eTag (last writer wins)", async () => {
    const botStorage = make();
    await botStorage.write({ k: { v: 1 } });
    const current = (await botStorage.read(['k']))['k'] as StoreItems;

    await botStorage.write({ k: { ...current, v: 2 } });
    // current.eTag is stale now; '*' and a missing eTag overwrite regardless.
    await botStorage.write({ k: { v: 3, eTag: '*' } });
    expect((await botStorage.read(['k']))['k'].v).toBe(3);
    await botStorage.write({ k: { v: 4 } });
    expect((await botStorage.read(['k']))['k'].v).toBe(4);
  });

  it('writes an item that does not exist yet whatever eTag it carries (as MemoryStorage does)', async () => {
    const botStorage = make();
    await botStorage.write({ fresh: { v: 1, eTag: 'from-a-deleted-item' } });
    expect((await botStorage.read(['fresh']))['fresh'].v).toBe(1);
  });

  it('creates an item not stored yet once: concurrent first writers with eTags of their own, exactly one wins', async () => {
    const botStorage = make();
    const results = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => botStorage.write({ fresh: { v: i + 1, eTag: `absent-${i}` } })));
    const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i + 1] : []));
    expect(won).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected').every((r) => (r as PromiseRejectedResult).reason instanceof StorageETagConflictError)).toBe(true);
    expect((await botStorage.read(['fresh']))['fresh'].v).toBe(won[0]);
  });

  it('writes nothing from a batch when one key conflicts', async () => {
    const botStorage = make();
    await botStorage.write({ a: { v: 1 }, b: { v: 1 } });
    await botStorage.write({ b: { v: 2 } });

    await expect(botStorage.write({ a: { v: 99 }, b: { v: 99, eTag: 'stale' } })).rejects.toBeInstanceOf(StorageETagConflictError);
    const items = await botStorage.read(['a', 'b']);
    expect([items['a'].v, items['b'].v]).toEqual([1, 2]);
  });

  it('does not change the caller’s object, and a read object changes nothing stored', async () => {
    const botStorage = make();
    const item = { v: 1, eTag: '*', nested: { n: 1 } };
    await botStorage.write({ k: item });
    expect(item).toEqual({ v: 1, eTag: '*', nested: { n: 1 } });
    const read = (await botStorage.read(['k']))['k'] as { nested: { n: number } };
    read.nested.n = 2;
    expect((await botStorage.read(['k']))['k'].nested).toEqual({ n: 1 });
  });

  it('stores values as JSON like MemoryStorage: undefined dropped, dates as ISO strings', async () => {
    const botStorage = make();
    await botStorage.write({ k: { options: undefined, at: new Date('2025-03-01T09:00:00Z') } });
    expect((await botStorage.read(['k']))['k']).toEqual({ at: '2025-03-01T09:00:00.000Z', eTag: expect.any(String) });
  });

  it('refuses values JSON cannot hold, naming the key, and writes nothing', async () => {
    const botStorage = make();
    const circular: Record<string, unknown> = {};
    circular.self = circular;

    await expect(botStorage.write({ ok: { v: 1 }, loop: circular })).rejects.toThrow(/cannot write "loop"/);
    await expect(botStorage.write({ big: { n: 10n } })).rejects.toBeInstanceOf(StorageValueError);
    await expect(botStorage.write({ text: 'not an object' })).rejects.toBeInstanceOf(StorageValueError);
    expect(await botStorage.read(['ok', 'loop', 'big', 'text'])).toEqual({});
  });

  it('deletes items, and a delete of a missing key is not an error', async () => {
    const botStorage = make();
    await botStorage.write({ a: { v: 1 }, b: { v: 2 } });
    await botStorage.delete(['a', 'never-written']);
    expect(Object.keys(await botStorage.read(['a', 'b']))).toEqual(['b']);
  });
});
