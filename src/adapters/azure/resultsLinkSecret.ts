/**
 * The results-link signing secret in Azure Table storage: made once by whichever instance asks
 * first (create-if-absent), then the same for every instance sharing the account, with nothing to
 * configure. Anyone who can read the table can mint links; the account already holds the redeem
 * links, so it is protected the same way (RBAC on the storage account).
 *
 * Table `<prefix>Settings`: PartitionKey 'secret', RowKey 'resultsLink'; value (base64), createdAt.
 * Transactions: 1 read the first time in a process (2 more when it is the first ever: the insert,
 * and the read that settles a race), none after (the secret never changes, so it is kept).
 */
import { randomBytes } from 'node:crypto';
import { systemClock, type Clock } from '../../domain/clock';
import type { ResultsLinkSecretStore } from '../../usecases/bulk/ports';
import type { AzureStorageAccount } from './account';
import { getOrNull, insertIfAbsent } from './tables';

const PARTITION = 'secret';
const ROW = 'resultsLink';

export class AzureResultsLinkSecret implements ResultsLinkSecretStore {
  private secret: Promise<Buffer> | undefined;

  constructor(
    private readonly account: AzureStorageAccount,
    private readonly clock: Clock = systemClock,
  ) {}

  async getOrCreate(): Promise<Buffer> {
    this.secret ??= this.load();
    this.secret.catch(() => (this.secret = undefined));
    return Buffer.from(await this.secret);
  }

  /**
   * Migration only (the SQLite-to-Azure tool; not a port method): takes another store's secret,
   * so results links handed out before the move keep working. Insert-if-absent: false when this
   * account has a secret already (made by a bot that ran here first, or an earlier import); it is
   * kept, as links signed with it may be out.
   */
  async importSecret(secret: Buffer): Promise<boolean> {
    const table = await this.account.table('Settings');
    const inserted = await insertIfAbsent(table, { partitionKey: PARTITION, rowKey: ROW, value: secret.toString('base64'), createdAt: this.clock.now().toISOString() });
    this.secret = undefined;
    return inserted;
  }

  private async load(): Promise<Buffer> {
    const table = await this.account.table('Settings');
    const stored = await getOrNull<{ value: string }>(table, PARTITION, ROW);
    if (stored) return Buffer.from(stored.value, 'base64');
    await insertIfAbsent(table, { partitionKey: PARTITION, rowKey: ROW, value: randomBytes(32).toString('base64'), createdAt: this.clock.now().toISOString() });
    // Whoever inserted first, this is the one every instance uses.
    const settled = await getOrNull<{ value: string }>(table, PARTITION, ROW);
    if (!settled) throw new Error('results link secret missing after insert');
    return Buffer.from(settled.value, 'base64');
  }
}
