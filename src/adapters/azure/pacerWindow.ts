/**
 * The shared pacer window in Azure Table storage (the rules are in src/usecases/ports/pacerWindow.ts):
 * Graph limits invitations per tenant, so every instance counts the same window.
 *
 * Table `<prefix>Pacer`, one entity per window name (one compare-and-set cell):
 *   PartitionKey tableKey(name), RowKey 'window'; `starts` (JSON: the start times, epoch ms, still
 *   inside the window; at most `limit` of them, 150 for invitations) and `holdUntil` (epoch ms).
 *
 * Design, and what a start costs: each instance keeps the entity it last read or wrote, with its
 * ETag. A start is one replace conditional on that ETag (If-Match): **1 transaction** when no
 * other instance started since, and 3 when one did (the refused write, a read, the write again).
 * Other instances only ever add starts and lengthen hold-offs, so the copy an instance holds can
 * only under-count: when the copy already says "full" or "held off", the answer (wait) is given
 * from it with **no transaction** (the wait may be a little short; the caller then asks again).
 * Starts from this process are made one write at a time per name; tryStartSome records several
 * callers' starts in that one write (SharedPacer groups the callers waiting together).
 * The time of a start is read from the caller for every attempt, just before the write.
 * moveStart (a start that went out late) is one conditional write, 3 when another instance wrote since.
 * countSince and holdOff read the entity (1) and holdOff writes it (1, conditional).
 * ETag compare-and-set: https://learn.microsoft.com/azure/storage/tables/table-storage-design-patterns#concurrency
 */
import type { TableClient } from '@azure/data-tables';
import { startOne, type PacerWindowStore, type StartAnswer } from '../../usecases/ports/pacerWindow';
import type { AzureStorageAccount } from './account';
import { getOrNull, tableKey } from './tables';
import { KeyedQueue } from './keyedQueue';

interface WindowState {
  starts: number[];
  holdUntil: number;
  /** null: no entity yet (the first write is an insert). */
  etag: string | null;
}

const ROW = 'window';

export class AzurePacerWindowStore implements PacerWindowStore {
  private readonly cache = new Map<string, WindowState>();
  private readonly queue = new KeyedQueue();

  constructor(private readonly account: AzureStorageAccount) {}

  private table(): Promise<TableClient> {
    return this.account.table('Pacer');
  }

  private async read(name: string): Promise<WindowState> {
    const row = await getOrNull<{ starts: string; holdUntil: number }>(await this.table(), tableKey(name), ROW);
    const state: WindowState = row
      ? { starts: JSON.parse(row.starts) as number[], holdUntil: Number(row.holdUntil), etag: row.etag }
      : { starts: [], holdUntil: 0, etag: null };
    this.cache.set(name, state);
    return state;
  }

  /** Writes `next` if the entity is still as `state` was read; false when someone wrote since. */
  private async write(name: string, state: WindowState, next: { starts: number[]; holdUntil: number }): Promise<boolean> {
    const table = await this.table();
    const entity = { partitionKey: tableKey(name), rowKey: ROW, starts: JSON.stringify(next.starts), holdUntil: next.holdUntil };
    let etag: string | undefined;
    try {
      if (state.etag === null) {
        etag = (await table.createEntity(entity)).etag;
      } else {
        etag = (await table.updateEntity(entity, 'Replace', { etag: state.etag })).etag;
      }
    } catch (error) {
      const status = (error as { statusCode?: number }).statusCode;
      if (status === 409 || status === 412 || status === 404) {
        this.cache.delete(name);
        return false;
      }
      throw error;
    }
    if (etag) this.cache.set(name, { ...next, etag });
    else this.cache.delete(name);
    return true;
  }

  tryStart(name: string, limit: number, windowMs: number, at: () => number): Promise<number> {
    return startOne(this, name, limit, windowMs, at);
  }

  tryStartSome(name: string, limit: number, windowMs: number, at: () => number, count: number): Promise<StartAnswer> {
    return this.queue.run(name, async () => {
      for (;;) {
        const state = this.cache.get(name) ?? (await this.read(name));
        // Read for every attempt, after any read of the entity: a start decided after a refused
        // write (another instance started first) is recorded when it was decided, not when the
        // caller first asked.
        const now = at();
        if (state.holdUntil > now) return { started: 0, waitMs: state.holdUntil - now };
        const recent = state.starts.filter((at) => at > now - windowMs).sort((a, b) => a - b);
        if (recent.length >= limit) {
          // The oldest of the `limit` most recent starts frees the next slot.
          const oldestCounted = recent[recent.length - limit] ?? now;
          return { started: 0, waitMs: Math.max(1, oldestCounted + windowMs - now) };
        }
        const started = Math.max(1, Math.min(Math.floor(count), limit - recent.length));
        // Keep at most `limit` starts: older ones can no longer decide anything.
        const starts = [...recent, ...Array.from({ length: started }, () => now)].slice(-Math.max(limit, 1));
        if (await this.write(name, state, { starts, holdUntil: state.holdUntil })) return { started, waitMs: 0 };
        // Another instance wrote since: read it and decide again.
      }
    });
  }

  moveStart(name: string, from: number, to: number): Promise<void> {
    return this.queue.run(name, async () => {
      for (;;) {
        const state = this.cache.get(name) ?? (await this.read(name));
        const i = state.starts.indexOf(from);
        if (i < 0) return;
        const starts = [...state.starts];
        starts[i] = to;
        if (await this.write(name, state, { starts, holdUntil: state.holdUntil })) return;
      }
    });
  }

  holdOff(name: string, until: number): Promise<void> {
    return this.queue.run(name, async () => {
      for (;;) {
        const state = await this.read(name);
        if (state.holdUntil >= until) return;
        if (await this.write(name, state, { starts: state.starts, holdUntil: until })) return;
      }
    });
  }

  async countSince(name: string, since: number): Promise<number> {
    const state = await this.read(name);
    return state.starts.filter((at) => at > since).length;
  }
}
