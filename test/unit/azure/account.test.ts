/**
 * The Azure Storage foundation on a real Azurite: names carry the prefix, compare-and-set on
 * ETags refuses a stale write, inserts refuse a duplicate, keys round-trip, long JSON fits, and
 * every request is counted.
 */
import { AzureStorageAccount, AzureStorageConfigError, serviceUrls } from '../../../src/adapters/azure/account';
import {
  deleteIfMatch,
  fromJsonProperties,
  fromTableKey,
  getOrNull,
  insertIfAbsent,
  jsonProperties,
  numberKey,
  replaceIfMatch,
  tableKey,
} from '../../../src/adapters/azure/tables';
import { useAzurite } from '../../support/azurite';

const azurite = useAzurite();

describe('Azure Storage account on Azurite', () => {
  it('creates the prefixed table once and does compare-and-set on ETags', async () => {
    const account = azurite.account();
    const table = await account.table('Things');
    expect(table.tableName).toBe(`${account.prefix}Things`);
    expect(await insertIfAbsent(table, { partitionKey: 'p', rowKey: 'r', n: 1 })).toBe(true);
    expect(await insertIfAbsent(table, { partitionKey: 'p', rowKey: 'r', n: 2 })).toBe(false);
    const first = await getOrNull<{ n: number }>(table, 'p', 'r');
    expect(first?.n).toBe(1);
    expect(await replaceIfMatch(table, { partitionKey: 'p', rowKey: 'r', n: 3 }, first!.etag)).toBe(true);
    // The ETag read before the write is stale now: the second writer loses.
    expect(await replaceIfMatch(table, { partitionKey: 'p', rowKey: 'r', n: 4 }, first!.etag)).toBe(false);
    expect((await getOrNull<{ n: number }>(table, 'p', 'r'))?.n).toBe(3);
    expect(await deleteIfMatch(table, 'p', 'r', first!.etag)).toBe(false);
    expect(await getOrNull(table, 'p', 'nothing')).toBeNull();
    expect(account.transactions).toBeGreaterThanOrEqual(8);
  });

  it('keeps two prefixes apart', async () => {
    const a = await azurite.account().table('Things');
    const b = await azurite.account().table('Things');
    await a.createEntity({ partitionKey: 'p', rowKey: 'r' });
    expect(await getOrNull(b, 'p', 'r')).toBeNull();
  });

  it('stores any string as a key and JSON longer than one property', async () => {
    const table = await azurite.account().table('Keys');
    const awkward = "Jane/O'Brien#1?\\x~%20 ü\u0001";
    const key = tableKey(awkward);
    // eslint-disable-next-line no-control-regex -- the control characters Table storage refuses in keys
    expect(key).not.toMatch(/[/\\#?\u0000-\u001f]/);
    expect(fromTableKey(key)).toBe(awkward);
    expect(tableKey('abc-123_Z')).toBe('abc-123_Z');
    expect(numberKey(42) < numberKey(1000)).toBe(true);
    const big = { list: Array.from({ length: 5000 }, (_, i) => `item-${i}-${'x'.repeat(10)}`) };
    await table.createEntity({ partitionKey: key, rowKey: numberKey(7), ...jsonProperties(big) });
    const back = await getOrNull<Record<string, unknown>>(table, key, numberKey(7));
    expect(fromJsonProperties(back!)).toEqual(big);
  });

  it('answers ping, and refuses a bad prefix or missing settings naming the variable', async () => {
    expect(await azurite.account().ping()).toBe(true);
    expect(() => new AzureStorageAccount({ connectionString: azurite.connectionString, prefix: 'Bad_Prefix' })).toThrow(/AZURE_STORAGE_PREFIX/);
    expect(() => new AzureStorageAccount({ prefix: 'ok' })).toThrow(AzureStorageConfigError);
    expect(serviceUrls('https://contosobot.blob.core.windows.net')).toEqual({
      tableUrl: 'https://contosobot.table.core.windows.net',
      blobUrl: 'https://contosobot.blob.core.windows.net',
      queueUrl: 'https://contosobot.queue.core.windows.net',
    });
    expect(() => serviceUrls('http://127.0.0.1:10000/devstoreaccount1')).toThrow(/AZURE_STORAGE_TABLE_URL/);
  });

  it('answers ping false when the emulator is gone', async () => {
    const dead = new AzureStorageAccount({
      connectionString:
        'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=eA==;TableEndpoint=http://127.0.0.1:1/devstoreaccount1;BlobEndpoint=http://127.0.0.1:1/devstoreaccount1;QueueEndpoint=http://127.0.0.1:1/devstoreaccount1;',
    });
    expect(await dead.ping()).toBe(false);
  }, 60_000);
});

describe('blob and queue requests are counted too', () => {
  it('counts a container create and a queue message', async () => {
    const account = azurite.account();
    const before = account.transactions;
    const container = await account.container('state');
    await container.getBlockBlobClient('a').upload('x', 1);
    const queue = await account.queue('work');
    await queue.sendMessage('hello');
    expect(account.transactions - before).toBeGreaterThanOrEqual(4);
  });
});
