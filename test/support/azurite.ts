/**
 * Azurite for a test file: started once before its tests (on loopback, ports 0, in memory), and
 * stopped after them. Each call of `account()` gets its own name prefix, so tests in one file
 * never see each other's tables, containers or queues. If Azurite cannot start the file fails;
 * it is never skipped.
 */
import { AzureStorageAccount } from '../../src/adapters/azure/account';
import { startAzurite, type AzuriteInstance } from '../../src/tools/azurite';

let counter = 0;

/** A fresh prefix: letters and digits, unique in this process and across processes. */
export function uniquePrefix(): string {
  counter++;
  return `t${process.pid.toString(36)}${counter.toString(36)}${Math.floor(Math.random() * 36 ** 3).toString(36)}`.slice(0, 20);
}

export interface AzuriteHandle {
  /** The running emulator (valid inside tests). */
  readonly instance: AzuriteInstance;
  readonly connectionString: string;
  /** An account on it with a prefix of its own. */
  account(prefix?: string): AzureStorageAccount;
}

/** Starts Azurite in beforeAll and stops it in afterAll; returns a handle valid inside tests. */
export function useAzurite(): AzuriteHandle {
  let instance: AzuriteInstance | undefined;
  beforeAll(async () => {
    instance = await startAzurite();
  }, 60_000);
  afterAll(async () => {
    await instance?.stop();
  });
  const need = (): AzuriteInstance => {
    if (!instance) throw new Error('Azurite is not running (useAzurite() must be called at the top of the test file)');
    return instance;
  };
  return {
    get instance() {
      return need();
    },
    get connectionString() {
      return need().connectionString;
    },
    account: (prefix = uniquePrefix()) => new AzureStorageAccount({ connectionString: need().connectionString, prefix }),
  };
}
