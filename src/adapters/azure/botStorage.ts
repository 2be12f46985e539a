/**
 * The bot's conversation and user state (botbuilder `Storage`) in Azure Blob storage, through
 * botbuilder-azure-blobs' BlobsStorage: one blob per state key in the container
 * `<prefix>-botstate` (blob name: the key, URI-encoded by BlobsStorage), JSON, with the blob's
 * ETag as the item's eTag. A write carrying an eTag is conditional (If-Match), so when two turns
 * of one conversation run at once on two instances, the second to save finds the state changed
 * and is refused (botbuilder's "eTag conflict"): the state's ETag decides, never a silent
 * overwrite. https://learn.microsoft.com/azure/bot-service/bot-builder-howto-v4-storage
 *
 * Around BlobsStorage, the rules every bot-state adapter here keeps (see SqliteBotStorage):
 * values are checked before anything is written (StorageValueError names the key); a conflict is
 * a StorageETagConflictError with MemoryStorage's message; an item not stored yet is written
 * whatever eTag it carries (Blob storage itself refuses If-Match on a missing blob), but only while
 * it is still absent (If-None-Match: *), so of two first writers one wins; in a batch of
 * several keys the eTags are checked before the first write, so a stale one writes nothing. That
 * check and the writes are not one atomic step (blobs have no multi-blob transaction); the bot
 * writes one key per save, so it never needs more.
 *
 * botbuilder's BotState.saveChanges writes every state with `eTag: '*'` (last writer wins), which
 * would let two instances running turns of one conversation at once overwrite each other's
 * dialog. So an item this storage read remembers, out of sight (a non-enumerable symbol, which
 * JSON and object spreads do not carry), the ETag it was read with; when that same object comes
 * back with `eTag: '*'` (BotState's save), the write is conditional on the remembered ETag. The
 * turn that saves second is refused with the eTag conflict, the bot answers it with its turn
 * error message and cannot clear the winner's state either (its clearing save is refused the
 * same way). A copy of a read item, or an item the caller made, keeps the rules above.
 *
 * Transactions: read, write and delete = 1 per key (a conflict costs 1 more, the read that tells
 * a changed item from a missing one); a batch of n > 1 keys with eTags also reads them first.
 */
import type { Storage, StoreItems } from 'botbuilder';
import { BlobsStorage } from 'botbuilder-azure-blobs';
import type { ContainerClient } from '@azure/storage-blob';
import { serializeStoreItem, StorageETagConflictError } from '../botStorageItems';
import type { AzureStorageAccount } from './account';

export const BOT_STATE_CONTAINER = 'botstate';

/** The ETag an item was read with, kept on the very object handed out by read(). */
const READ_ETAG = Symbol('eTagAtRead');

/**
 * The blob name BlobsStorage gives a key (its sanitizeBlobKey, which the package does not export
 * from its entry point; a test checks they agree): empty path segments dropped, at most 255
 * slashes, URI-encoded, 1,024 characters at most.
 */
export function blobNameOf(key: string): string {
  if (!key) throw new Error('Please provide a non-empty key');
  const sanitized = key.split('/').reduce((acc, part, idx) => (part ? [acc, part].join(idx < 255 ? '/' : '') : acc));
  return encodeURIComponent(sanitized).substring(0, 1024);
}

const isConflict = (error: unknown): boolean => error instanceof Error && /due to eTag conflict/.test(error.message);

export class AzureBotStorage implements Storage {
  private readonly blobs: BlobsStorage;

  /** The same container through the account's own client (counted), for the create-only write. */
  private readonly container: ContainerClient;

  constructor(private readonly account: AzureStorageAccount) {
    const name = account.containerName(BOT_STATE_CONTAINER);
    this.container = account.blobs.getContainerClient(name);
    const credential = account.credential;
    this.blobs = credential
      ? new BlobsStorage('', name, undefined, this.container.url, credential)
      : new BlobsStorage(account.connectionString ?? '', name);
  }

  async read(keys: string[]): Promise<StoreItems> {
    if (!keys) throw new ReferenceError('Keys are required when reading.');
    if (keys.length === 0) return {};
    this.account.countTransactions(keys.length);
    const items = await this.blobs.read(keys);
    for (const item of Object.values(items)) {
      if (item && typeof item === 'object' && typeof item.eTag === 'string') {
        Object.defineProperty(item, READ_ETAG, { value: item.eTag, enumerable: false, writable: true });
      }
    }
    return items;
  }

  async write(changes: StoreItems): Promise<void> {
    if (!changes) throw new ReferenceError('Changes are required when writing.');
    // Every value is checked first: one that JSON cannot hold writes nothing.
    const items = Object.entries(changes).map(([key, item]) => {
      const { value, eTag } = serializeStoreItem(key, item);
      // BotState's '*' on the object this storage handed out: the ETag it was read with decides.
      const atRead = (item as { [READ_ETAG]?: string })[READ_ETAG];
      return { key, item: item as object, value: JSON.parse(value) as Record<string, unknown>, eTag: eTag === '*' && atRead ? atRead : eTag };
    });
    if (items.length > 1) {
      const conditional = items.filter((i) => i.eTag !== undefined && i.eTag !== '*');
      if (conditional.length > 0) {
        const stored = await this.read(conditional.map((i) => i.key));
        for (const i of conditional) {
          const current = stored[i.key] as { eTag?: string } | undefined;
          if (current && current.eTag !== i.eTag) throw new StorageETagConflictError(i.key);
        }
      }
    }
    for (const { key, item, value, eTag } of items) {
      await this.writeOne(key, value, eTag);
      // Written: the ETag read no longer describes it (a second save in the same turn is its own).
      if ((item as { [READ_ETAG]?: string })[READ_ETAG] !== undefined) (item as { [READ_ETAG]?: string })[READ_ETAG] = undefined;
    }
  }

  private async writeOne(key: string, value: Record<string, unknown>, eTag: string | undefined): Promise<void> {
    this.account.countTransactions(1);
    try {
      await this.blobs.write({ [key]: { ...value, eTag: eTag ?? '*' } });
      return;
    } catch (error) {
      if (!isConflict(error)) throw error;
    }
    // Refused: changed since it was read, or not stored at all. Then any eTag may write it, as on
    // the other stores, but only while it is still absent (If-None-Match: *, which Blob storage
    // refuses when the blob exists): two first writers of one key never overwrite each other.
    // https://learn.microsoft.com/rest/api/storageservices/specifying-conditional-headers-for-blob-service-operations
    const current = await this.read([key]);
    if (current[key]) throw new StorageETagConflictError(key);
    this.account.countTransactions(1);
    const serialized = JSON.stringify(value);
    try {
      await this.container.getBlockBlobClient(blobNameOf(key)).upload(serialized, Buffer.byteLength(serialized), {
        conditions: { ifNoneMatch: '*' },
        blobHTTPHeaders: { blobContentType: 'application/json' },
      });
    } catch (error) {
      const status = (error as { statusCode?: number }).statusCode;
      if (status === 409 || status === 412) throw new StorageETagConflictError(key);
      throw error;
    }
  }

  async delete(keys: string[]): Promise<void> {
    if (!keys) throw new ReferenceError('Keys are required when deleting.');
    if (keys.length === 0) return;
    this.account.countTransactions(keys.length);
    await this.blobs.delete(keys);
  }
}
