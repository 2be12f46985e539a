/**
 * The Azure Storage store: every repository over one storage account (tables for records, blobs
 * for bot state, queues for work), so several instances of the bot share one set of records.
 *
 * What lives where (every name carries the account's prefix, AZURE_STORAGE_PREFIX):
 *   tables   Holders, Leases, Audit, ConversationRefs, ChannelAccounts, Pacer, Settings (this
 *            folder's small repositories; each file writes its keys at its top), and the records'
 *            tables of invitations.ts, approvalRequests.ts, resetRequests.ts, bulkJobs.ts;
 *   blobs    `<prefix>-botstate` (conversation and user state);
 *   queues   `<prefix>-<name>` per work queue (workQueue.ts; bulk rows).
 * Nothing is created up front: each table, container and queue is created on first use.
 */
import { systemClock, type Clock } from '../../domain/clock';
import type { Store } from '../repositories';
import { AzureStorageAccount, type AzureStorageOptions } from './account';
import { AzureAuditLog } from './audit';
import { AzureBotStorage } from './botStorage';
import { AzureChannelIdentityRepository } from './channelIdentities';
import { AzureConversationReferenceRepository } from './conversationReferences';
import { AzureHolderRegistry, AzureLeaseStore } from './leases';
import { AzurePacerWindowStore } from './pacerWindow';
import { AzureResultsLinkSecret } from './resultsLinkSecret';
import { AzureWorkQueue } from './workQueue';
// TEMPORARY until azure-records lands: the four record repositories below are the in-memory ones,
// so STORE=azure does NOT yet share invitations, approvals, reset requests or bulk jobs between
// instances (nor keep them across a restart). The swap, in openAzureStore (and delete
// `recordCompanions` and these memory imports):
//   invitations: new AzureInvitationRepository(account, { clock }),
//   approvalRequests: new AzureApprovalRequestRepository(account, { audit, leases }),
//   resetRequests: new AzureResetRequestRepository(account, { clock, audit }),
//   bulkJobs: new AzureBulkJobRepository(account, { clock }),
import { MemoryApprovalRequestRepository } from '../memory/approvalRequests';
import { MemoryBulkJobRepository } from '../memory/bulkJobs';
import { MemoryInvitationRepository } from '../memory/invitations';
import { MemoryResetRequestRepository } from '../memory/resetRequests';
import type { AuditEventInput } from '../../usecases/ports/auditLog';

/** The Azure store: the bundle, with the Azure classes behind it (for their own tests, the bench). */
export interface AzureStore extends Store {
  readonly account: AzureStorageAccount;
  readonly audit: AzureAuditLog;
  readonly holders: AzureHolderRegistry;
  readonly leases: AzureLeaseStore;
  readonly botStorage: AzureBotStorage;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export interface AzureStoreOptions {
  /** The account (tests hand one in), or what to open it with. */
  account: AzureStorageAccount | AzureStorageOptions;
  clock?: Clock;
  /** A process whose heartbeat is older than this is dead and its leases are free (HOLDER_TTL_MS; default 10 s). */
  holderTtlMs?: number;
  /** Told when a heartbeat could not be written (storage unreachable for a moment). */
  onHeartbeatError?: (error: unknown) => void;
}

/**
 * Builds every repository over the storage account. Opening sends nothing: the first request
 * creates what it needs, and ping() (for /readyz) tells whether the account answers.
 */
export function openAzureStore(options: AzureStoreOptions): AzureStore {
  const clock = options.clock ?? systemClock;
  const account = options.account instanceof AzureStorageAccount ? options.account : new AzureStorageAccount(options.account);
  const holders = new AzureHolderRegistry(account, { ttlMs: options.holderTtlMs, clock, onBeatError: options.onHeartbeatError });
  const audit = new AzureAuditLog(account, clock);
  const leases = new AzureLeaseStore(account, holders, { clock });
  const conversationReferences = new AzureConversationReferenceRepository(account, clock);
  // TEMPORARY until azure-records lands: the memory record repositories write their companions
  // synchronously (appendSync / acquireSync); here they go to the Azure audit log and leases in
  // the background, so the audit and the carry-out lease are where the rest of the bot looks.
  const recordCompanions = {
    audit: { appendSync: (event: AuditEventInput): void => void audit.append(event).catch(() => undefined) },
    leases: {
      acquireSync: (key: string, holderId: string, ttlMs: number): boolean => {
        void leases.acquire(key, holderId, ttlMs).catch(() => undefined);
        return true;
      },
    },
  };
  let closed = false;
  let closing: Promise<void> | undefined;
  return {
    account,
    botStorage: new AzureBotStorage(account),
    audit,
    holders,
    leases,
    conversationReferences,
    channelIdentities: new AzureChannelIdentityRepository(account, conversationReferences, clock),
    pacerWindow: new AzurePacerWindowStore(account),
    // TEMPORARY until azure-records lands (see the import above).
    invitations: new MemoryInvitationRepository({ clock }),
    approvalRequests: new MemoryApprovalRequestRepository(recordCompanions),
    resetRequests: new MemoryResetRequestRepository(clock, recordCompanions.audit),
    bulkJobs: new MemoryBulkJobRepository({ clock }),
    resultsLinkSecret: new AzureResultsLinkSecret(account, clock),
    workQueue: new AzureWorkQueue(account),
    appliedMigrations: [],
    async ping(): Promise<boolean> {
      return !closed && (await account.ping());
    },
    close(): Promise<void> {
      closing ??= (async () => {
        closed = true;
        await holders.stop();
      })();
      return closing;
    },
  };
}
