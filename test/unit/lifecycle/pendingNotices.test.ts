/**
 * Notices waiting for someone who has no chat with the bot yet: kept in the bot's Storage, so two
 * notices written at the same moment (two instances, or two sweeps) must both wait, on every store.
 */
import type { Storage } from 'botbuilder';
import { MemoryBotStorage } from '../../../src/adapters/memory/botStorage';
import { SqliteBotStorage } from '../../../src/adapters/sqlite/SqliteBotStorage';
import { openDatabase } from '../../../src/adapters/sqlite/database';
import { coreMigrations } from '../../../src/adapters/sqlite/coreMigrations';
import { AzureBotStorage } from '../../../src/adapters/azure/botStorage';
import { PendingNotices } from '../../../src/teams/lifecycle/pendingNotices';
import { useAzurite } from '../../support/azurite';

const azurite = useAzurite();
const clock = { now: () => new Date('2026-12-02T09:00:00Z') };

describe.each([
  ['sqlite', (): Storage => new SqliteBotStorage(openDatabase(':memory:', coreMigrations))],
  ['memory', (): Storage => new MemoryBotStorage()],
  ['azure', (): Storage => new AzureBotStorage(azurite.account())],
])('pending notices (%s)', (_name, make) => {
  it('keeps every notice when the first ones for a person are written at the same moment', async () => {
    const storage = make();
    // Two processes, as two instances would be: each its own PendingNotices over the one store.
    const writers = [new PendingNotices(storage, clock), new PendingNotices(storage, clock)];
    await Promise.all(
      Array.from({ length: 6 }, (_, i) => writers[i % 2]?.add('sponsor-1', `reminder|access-${i}`, { type: 'message', text: `notice ${i}` })),
    );
    const taken = await writers[0]?.take('sponsor-1');
    expect(taken?.map((n) => n.activity.text).sort()).toEqual(['notice 0', 'notice 1', 'notice 2', 'notice 3', 'notice 4', 'notice 5']);
    expect(await writers[1]?.count('sponsor-1')).toBe(0);
  });

  it('a newer notice with the same key replaces the older one', async () => {
    const notices = new PendingNotices(make(), clock);
    await notices.add('sponsor-1', 'reminder|access-1', { type: 'message', text: 'first' });
    await notices.add('sponsor-1', 'reminder|access-1', { type: 'message', text: 'second' });
    expect((await notices.take('sponsor-1')).map((n) => n.activity.text)).toEqual(['second']);
  });
});
