import { ConversationState, TestAdapter, type StoreItems } from 'botbuilder';
import { StorageETagConflictError, StorageValueError } from '../../../src/adapters/sqlite/SqliteBotStorage';
import { memoryStore, tempDatabaseFile, tempStore } from '../../support/store';

describe('SqliteBotStorage', () => {
  it('returns what was written, with an eTag, and nothing for unknown keys', async () => {
    const { botStorage } = memoryStore();
    await botStorage.write({ 'msteams/conversations/a/': { dialogState: { stack: [{ id: 'invite' }] }, count: 2 } });

    const items = await botStorage.read(['msteams/conversations/a/', 'missing']);

    expect(items['msteams/conversations/a/']).toEqual({
      dialogState: { stack: [{ id: 'invite' }] },
      count: 2,
      eTag: expect.any(String),
    });
    expect(items).not.toHaveProperty('missing');
  });

  it('gives an item a new eTag on every write', async () => {
    const { botStorage } = memoryStore();
    await botStorage.write({ k: { n: 1 } });
    const first = (await botStorage.read(['k']))['k'].eTag as string;
    await botStorage.write({ k: { n: 1 } });
    const second = (await botStorage.read(['k']))['k'].eTag as string;

    expect(second).not.toBe(first);
  });

  it('rejects a write carrying a stale eTag with the MemoryStorage error, and keeps the newer value', async () => {
    const { botStorage } = memoryStore();
    await botStorage.write({ k: { owner: 'first' } });
    const stale = (await botStorage.read(['k']))['k'] as StoreItems;
    await botStorage.write({ k: { ...stale, owner: 'second' } });

    const attempt = botStorage.write({ k: { ...stale, owner: 'late' } });

    await expect(attempt).rejects.toThrow('Storage: error writing "k" due to eTag conflict.');
    await expect(attempt).rejects.toBeInstanceOf(StorageETagConflictError);
    expect((await botStorage.read(['k']))['k'].owner).toBe('second');
  });

  it("accepts the current eTag, '*' and no eTag (last writer wins)", async () => {
    const { botStorage } = memoryStore();
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
    const { botStorage } = memoryStore();
    await botStorage.write({ fresh: { v: 1, eTag: 'from-a-deleted-item' } });
    expect((await botStorage.read(['fresh']))['fresh'].v).toBe(1);
  });

  it('writes nothing from a batch when one key conflicts', async () => {
    const { botStorage } = memoryStore();
    await botStorage.write({ a: { v: 1 }, b: { v: 1 } });
    await botStorage.write({ b: { v: 2 } });

    await expect(botStorage.write({ a: { v: 99 }, b: { v: 99, eTag: 'stale' } })).rejects.toBeInstanceOf(
      StorageETagConflictError,
    );
    const items = await botStorage.read(['a', 'b']);
    expect([items['a'].v, items['b'].v]).toEqual([1, 2]);
  });

  it('does not change the caller’s object', async () => {
    const { botStorage } = memoryStore();
    const item = { v: 1, eTag: '*' };
    await botStorage.write({ k: item });
    expect(item).toEqual({ v: 1, eTag: '*' });
  });

  it('stores values as JSON like MemoryStorage: undefined dropped, dates as ISO strings', async () => {
    const { botStorage } = memoryStore();
    await botStorage.write({ k: { options: undefined, at: new Date('2025-03-01T09:00:00Z') } });
    expect((await botStorage.read(['k']))['k']).toEqual({ at: '2025-03-01T09:00:00.000Z', eTag: expect.any(String) });
  });

  it('refuses values JSON cannot hold, naming the key, and writes nothing', async () => {
    const { botStorage } = memoryStore();
    const circular: Record<string, unknown> = {};
    circular.self = circular;

    await expect(botStorage.write({ ok: { v: 1 }, loop: circular })).rejects.toThrow(/cannot write "loop"/);
    await expect(botStorage.write({ big: { n: 10n } })).rejects.toBeInstanceOf(StorageValueError);
    await expect(botStorage.write({ text: 'not an object' })).rejects.toBeInstanceOf(StorageValueError);
    expect(await botStorage.read(['ok', 'loop', 'big', 'text'])).toEqual({});
  });

  it('deletes items, and a delete of a missing key is not an error', async () => {
    const { botStorage } = memoryStore();
    await botStorage.write({ a: { v: 1 }, b: { v: 2 } });
    await botStorage.delete(['a', 'never-written']);
    expect(Object.keys(await botStorage.read(['a', 'b']))).toEqual(['b']);
  });

  it('keeps conversation state across a restart of the bot', async () => {
    const file = tempDatabaseFile();
    const runTurn = async (text: string): Promise<string[]> => {
      const store = tempStore([], { file });
      const state = new ConversationState(store.botStorage);
      const counter = state.createProperty<number>('turns');
      const replies: string[] = [];
      const adapter = new TestAdapter(async (context) => {
        const turns = (await counter.get(context, 0)) + 1;
        await counter.set(context, turns);
        await context.sendActivity(`turn ${turns}`);
        await state.saveChanges(context);
      });
      await adapter.send(text).assertReply((activity) => {
        replies.push(activity.text ?? '');
      });
      store.close();
      return replies;
    };

    expect(await runTurn('hi')).toEqual(['turn 1']);
    expect(await runTurn('hi again')).toEqual(['turn 2']);
  });
});
