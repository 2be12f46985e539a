/**
 * One Azure Storage account as the bot uses it: tables for records, blob containers for bot state
 * and results files, queues for work. Every name carries the configured prefix, so several bots
 * (or several test files) can share one account without seeing each other's data.
 *
 * Clients are made once per name and the table / container / queue is created on first use (one
 * create call per process, 409 "already exists" is fine). Every request through any client is
 * counted (`transactions`): Azure Storage bills per transaction, and the benchmark reports them.
 *
 * Naming rules (https://learn.microsoft.com/rest/api/storageservices/understanding-the-table-service-data-model,
 * .../naming-and-referencing-containers--blobs--and-metadata, .../naming-queues-and-metadata):
 * tables are 3–63 letters and digits starting with a letter; containers and queues 3–63
 * lowercase letters, digits and single hyphens.
 */
import { TableClient, TableServiceClient } from '@azure/data-tables';
import {
  AnonymousCredential,
  BlobServiceClient,
  newPipeline as newBlobPipeline,
  StorageSharedKeyCredential,
  type ContainerClient,
} from '@azure/storage-blob';
import {
  AnonymousCredential as QueueAnonymousCredential,
  newPipeline as newQueuePipeline,
  QueueServiceClient,
  StorageSharedKeyCredential as QueueSharedKeyCredential,
  type QueueClient,
} from '@azure/storage-queue';
import type { TokenCredential } from '@azure/core-auth';
import type { PipelinePolicy } from '@azure/core-rest-pipeline';

export interface AzureStorageOptions {
  /** A connection string (account key or SAS; Azurite's for tests). Wins over the URLs. */
  connectionString?: string;
  /** Service endpoints, with `credential` (managed identity, workload identity, certificate, secret). */
  tableUrl?: string;
  blobUrl?: string;
  queueUrl?: string;
  credential?: TokenCredential;
  /** Lowercase letters and digits, starting with a letter, at most 20 characters (default "guestbot"). */
  prefix?: string;
}

export class AzureStorageConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AzureStorageConfigError';
  }
}

const PREFIX = /^[a-z][a-z0-9]{0,19}$/;

/** The per-service endpoints of an account URL (https://<account>.blob.core.windows.net → table and queue too). */
export function serviceUrls(accountUrl: string): { tableUrl: string; blobUrl: string; queueUrl: string } {
  const url = new URL(accountUrl);
  const m = /^([a-z0-9]+)\.(blob|table|queue|dfs)\.(.+)$/.exec(url.hostname);
  if (m) {
    const at = (service: string): string => `${url.protocol}//${m[1]}.${service}.${m[3]}${url.port ? `:${url.port}` : ''}`;
    return { tableUrl: at('table'), blobUrl: at('blob'), queueUrl: at('queue') };
  }
  // An account name alone on a custom host (for example Azurite's http://127.0.0.1:10000/devstoreaccount1) cannot be split.
  throw new AzureStorageConfigError(
    `AZURE_STORAGE_ACCOUNT_URL: "${url.origin}" is not an account endpoint like https://<account>.blob.core.windows.net; give AZURE_STORAGE_TABLE_URL, AZURE_STORAGE_BLOB_URL and AZURE_STORAGE_QUEUE_URL instead`,
  );
}

export class AzureStorageAccount {
  readonly prefix: string;
  private requests = 0;
  private readonly counter: PipelinePolicy = {
    name: 'guestBotTransactionCounter',
    sendRequest: (request, next) => {
      this.requests++;
      return next(request);
    },
  };
  private readonly tableService: TableServiceClient;
  private readonly blobService: BlobServiceClient;
  private readonly queueService: QueueServiceClient;
  private readonly tables = new Map<string, Promise<TableClient>>();
  private readonly containers = new Map<string, Promise<ContainerClient>>();
  private readonly queues = new Map<string, Promise<QueueClient>>();
  private readonly makeTable: (name: string) => TableClient;

  constructor(private readonly options: AzureStorageOptions) {
    this.prefix = options.prefix ?? 'guestbot';
    if (!PREFIX.test(this.prefix)) {
      throw new AzureStorageConfigError(`AZURE_STORAGE_PREFIX: "${this.prefix}" must be lowercase letters and digits, starting with a letter, at most 20`);
    }
    const pipeline = { additionalPolicies: [{ policy: this.counter, position: 'perCall' as const }] };
    const cs = options.connectionString;
    if (cs) {
      const insecure = /DefaultEndpointsProtocol=http;|Endpoint=http:\/\//i.test(cs);
      const tableOptions = { ...pipeline, allowInsecureConnection: insecure };
      this.tableService = TableServiceClient.fromConnectionString(cs, tableOptions);
      this.makeTable = (name) => TableClient.fromConnectionString(cs, name, tableOptions);
      // The URLs (with a SAS when the string has one) from the SDK's own parser; the shared key, if any, from the string.
      const name = /(?:^|;)AccountName=([^;]+)/i.exec(cs)?.[1];
      const key = /(?:^|;)AccountKey=([^;]+)/i.exec(cs)?.[1];
      const blobUrl = BlobServiceClient.fromConnectionString(cs).url;
      const queueUrl = QueueServiceClient.fromConnectionString(cs).url;
      this.blobService = new BlobServiceClient(
        blobUrl,
        this.counted(newBlobPipeline(name && key ? new StorageSharedKeyCredential(name, key) : new AnonymousCredential())),
      );
      this.queueService = new QueueServiceClient(
        queueUrl,
        this.counted(newQueuePipeline(name && key ? new QueueSharedKeyCredential(name, key) : new QueueAnonymousCredential())),
      );
    } else {
      const { tableUrl, blobUrl, queueUrl, credential } = options;
      if (!tableUrl || !blobUrl || !queueUrl || !credential) {
        throw new AzureStorageConfigError(
          'AZURE_STORAGE_CONNECTION_STRING: required with STORE=azure, unless AZURE_STORAGE_ACCOUNT_URL (or the three AZURE_STORAGE_*_URL) and a credential are given',
        );
      }
      this.tableService = new TableServiceClient(tableUrl, credential, pipeline);
      this.makeTable = (name) => new TableClient(tableUrl, name, credential, pipeline);
      this.blobService = new BlobServiceClient(blobUrl, this.counted(newBlobPipeline(credential)));
      this.queueService = new QueueServiceClient(queueUrl, this.counted(newQueuePipeline(credential)));
    }
  }

  /** The blob and queue SDKs take request-policy factories: one more, in front, counts. */
  private counted<P extends { factories: { create(next: unknown, options: unknown): unknown }[] }>(pipeline: P): P {
    pipeline.factories.unshift({
      create: (next: unknown) => ({
        sendRequest: (request: unknown) => {
          this.requests++;
          return (next as { sendRequest(r: unknown): unknown }).sendRequest(request);
        },
      }),
    });
    return pipeline;
  }

  /** Requests sent so far through every client of this account (Azure bills per transaction). */
  get transactions(): number {
    return this.requests;
  }

  /** Counts requests sent by a client built outside this class (botbuilder-azure-blobs' own container client). */
  countTransactions(n: number): void {
    this.requests += n;
  }

  /** The token credential, when the account was opened with endpoints rather than a connection string. */
  get credential(): TokenCredential | undefined {
    return this.options.connectionString ? undefined : this.options.credential;
  }

  /** The full name of the container `name` (`<prefix>-<name>`), for clients that create it themselves. */
  containerName(name: string): string {
    return `${this.prefix}-${name}`;
  }

  /** The table `<prefix><Name>` (Name: letters and digits), created on first use. */
  table(name: string): Promise<TableClient> {
    const full = `${this.prefix}${name}`;
    if (!/^[A-Za-z][A-Za-z0-9]{2,62}$/.test(full)) throw new Error(`bad table name ${full}`);
    let client = this.tables.get(full);
    if (!client) {
      client = (async () => {
        const table = this.makeTable(full);
        await table.createTable(); // no error when it already exists
        return table;
      })();
      this.tables.set(full, client);
      client.catch(() => this.tables.delete(full));
    }
    return client;
  }

  /** The blob container `<prefix>-<name>`, created on first use. */
  container(name: string): Promise<ContainerClient> {
    const full = `${this.prefix}-${name}`;
    let client = this.containers.get(full);
    if (!client) {
      client = (async () => {
        const container = this.blobService.getContainerClient(full);
        await container.createIfNotExists();
        return container;
      })();
      this.containers.set(full, client);
      client.catch(() => this.containers.delete(full));
    }
    return client;
  }

  /** The queue `<prefix>-<name>`, created on first use. */
  queue(name: string): Promise<QueueClient> {
    const full = `${this.prefix}-${name}`;
    let client = this.queues.get(full);
    if (!client) {
      client = (async () => {
        const queue = this.queueService.getQueueClient(full);
        await queue.createIfNotExists();
        return queue;
      })();
      this.queues.set(full, client);
      client.catch(() => this.queues.delete(full));
    }
    return client;
  }

  /** The blob service (for botbuilder-azure-blobs, which takes a container name and a connection). */
  get blobs(): BlobServiceClient {
    return this.blobService;
  }

  /** The connection string, when the account was opened with one. */
  get connectionString(): string | undefined {
    return this.options.connectionString;
  }

  /** True when the table service answers (for /readyz). Never throws. */
  async ping(): Promise<boolean> {
    try {
      await this.tableService.getProperties({ abortSignal: AbortSignal.timeout(3000) });
      return true;
    } catch {
      return false;
    }
  }
}
