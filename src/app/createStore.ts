/**
 * Chooses and opens the store the configuration asks for: the embedded SQLite file (STORE=sqlite,
 * the default) or Azure Storage (STORE=azure: a connection string, or the account's endpoints
 * with a credential chosen like Graph's, from @azure/identity).
 */
import type { TokenCredential } from '@azure/core-auth';
import type * as AzureAccountModule from '../adapters/azure/account';
import type { AzureStorageOptions } from '../adapters/azure/account';
import type * as AzureStoreModule from '../adapters/azure/store';
import { createGraphCredential, GraphCredentialError, type CredentialRuntime } from '../adapters/graph/credential';
import type { Store } from '../adapters/repositories';
import type { Migration } from '../adapters/sqlite/database';
import { openStore } from '../adapters/sqlite/store';
import type { Clock } from '../domain/clock';
import { ConfigError, type AppConfig, type Env } from './config';

export interface CreateStoreOptions {
  /** SQLite only: another database file (':memory:' keeps a test off the disk). */
  databaseFile?: string;
  /** SQLite only: test-only tables. */
  migrations?: readonly Migration[];
  clock?: Clock;
  onHeartbeatError?: (error: unknown) => void;
}

export function createStore(config: AppConfig, options: CreateStoreOptions = {}): Store {
  const env = config.env;
  if (env.STORE === 'azure') {
    // Loaded only for STORE=azure: the Azure SDKs stay out of an embedded (SQLite) start.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy on purpose (cold start)
    const { openAzureStore } = require('../adapters/azure/store') as typeof AzureStoreModule;
    return openAzureStore({
      account: azureStorageOptions(env),
      clock: options.clock,
      holderTtlMs: env.HOLDER_TTL_MS,
      onHeartbeatError: options.onHeartbeatError,
    });
  }
  return openStore({
    file: options.databaseFile ?? config.databaseFile,
    extraMigrations: options.migrations ?? [],
    clock: options.clock,
    holderTtlMs: env.HOLDER_TTL_MS,
  });
}

/**
 * The account settings STORE=azure describes. A connection string wins; otherwise the endpoints
 * (AZURE_STORAGE_ACCOUNT_URL split into its table, blob and queue endpoints, or the three URLs)
 * with the AZURE_STORAGE_CREDENTIAL credential. Problems stop start-up naming the variable.
 */
export function azureStorageOptions(env: Env, runtime: CredentialRuntime = {}): AzureStorageOptions {
  const prefix = env.AZURE_STORAGE_PREFIX;
  if (env.AZURE_STORAGE_CONNECTION_STRING) return { connectionString: env.AZURE_STORAGE_CONNECTION_STRING, prefix };
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy on purpose (cold start)
  const { AzureStorageConfigError, serviceUrls } = require('../adapters/azure/account') as typeof AzureAccountModule;
  let urls: { tableUrl?: string; blobUrl?: string; queueUrl?: string } = {};
  try {
    if (env.AZURE_STORAGE_ACCOUNT_URL) urls = serviceUrls(env.AZURE_STORAGE_ACCOUNT_URL);
  } catch (error) {
    if (!(error instanceof AzureStorageConfigError)) throw error;
    if (!(env.AZURE_STORAGE_TABLE_URL && env.AZURE_STORAGE_BLOB_URL && env.AZURE_STORAGE_QUEUE_URL)) throw new ConfigError([error.message]);
  }
  return {
    tableUrl: env.AZURE_STORAGE_TABLE_URL ?? urls.tableUrl,
    blobUrl: env.AZURE_STORAGE_BLOB_URL ?? urls.blobUrl,
    queueUrl: env.AZURE_STORAGE_QUEUE_URL ?? urls.queueUrl,
    credential: storageCredential(env, runtime),
    prefix,
  };
}

/**
 * The storage credential, built by the Graph credential's builder (same kinds, same checks of
 * files at run time) from the AZURE_STORAGE_* variables, each falling back to its GRAPH_*
 * counterpart; its problems are reported under the AZURE_STORAGE_* names. The identity needs the
 * Storage Table, Blob and Queue Data Contributor roles on the account
 * (https://learn.microsoft.com/azure/storage/common/authorize-data-access).
 */
export function storageCredential(env: Env, runtime: CredentialRuntime = {}): TokenCredential {
  try {
    return createGraphCredential(
      {
        kind: env.AZURE_STORAGE_CREDENTIAL,
        tenantId: env.AZURE_STORAGE_TENANT_ID ?? env.GRAPH_TENANT_ID,
        clientId: env.AZURE_STORAGE_CLIENT_ID ?? env.GRAPH_CLIENT_ID,
        clientSecret: env.AZURE_STORAGE_CLIENT_SECRET ?? env.GRAPH_CLIENT_SECRET,
        certificatePath: env.AZURE_STORAGE_CERTIFICATE_PATH ?? env.GRAPH_CERTIFICATE_PATH,
        managedIdentityClientId: env.AZURE_STORAGE_MANAGED_IDENTITY_CLIENT_ID,
      },
      runtime,
    );
  } catch (error) {
    if (error instanceof GraphCredentialError) {
      throw new ConfigError(error.problems.map((p) => p.replace(/\bGRAPH_/g, 'AZURE_STORAGE_')));
    }
    throw error;
  }
}
