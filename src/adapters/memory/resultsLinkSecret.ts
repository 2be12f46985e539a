import { randomBytes } from 'node:crypto';
import type { ResultsLinkSecretStore } from '../../usecases/bulk/ports';

/** Where memory secrets live: share one between instances to model processes sharing a store. */
export class MemorySecretCell {
  value: Buffer | null = null;
}

/** The results-link secret in memory: made on first use, then always the same. */
export class MemoryResultsLinkSecret implements ResultsLinkSecretStore {
  constructor(private readonly cell: MemorySecretCell = new MemorySecretCell()) {}

  async getOrCreate(): Promise<Buffer> {
    this.cell.value ??= randomBytes(32);
    return Buffer.from(this.cell.value);
  }
}
