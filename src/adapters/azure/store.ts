/**
 * The Azure Storage store: every repository over one storage account (tables for records, blobs
 * for bot state, queues for work), so several instances of the bot share one set of records.
 *
 * What lives where (every name carries the account's prefix, AZURE_STORAGE_PREFIX):
 *   tables   Holders, Leases, Audit, ConversationRefs, ChannelAccounts, Pacer, Settings (this
 *            folder's small repositories; each file writes its keys at its top), and the records'
 *            tables of invitations.ts, approvalRequests.ts, resetRequests.ts, bulkJobs.ts,
 *            scheduledWork.ts (the durable scheduler) and guestAccess.ts (the guest lifecycle);
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
import { AzureInvitationRepository } from './invitations';
import { AzureApprovalRequestRepository } from './approvalRequests';
import { AzureResetRequestRepository } from './resetRequests';
import { AzureBulkJobRepository } from './bulkJobs';
import { AzureGuestAccessRepository } from './guestAccess';
import { AzureScheduledWorkRepository } from './scheduledWork';
import { AzureReviewRoundRepository } from './reviewRounds';

/** The Azure store: the bundle, with the Azure classes behind it (for their own tests, the bench). */
export interface AzureStore extends Store {
  readonly account: AzureStorageAccount;
  readonly audit: AzureAuditLog;
  readonly holders: AzureHolderRegistry;
  readonly leases: AzureLeaseStore;
  readonly botStorage: AzureBotStorage;
  readonly invitations: AzureInvitationRepository;
  readonly approvalRequests: AzureApprovalRequestRepository;
  readonly resetRequests: AzureResetRequestRepository;
  readonly bulkJobs: AzureBulkJobRepository;
  readonly resultsLinkSecret: AzureResultsLinkSecret;
  readonly scheduledWork: AzureScheduledWorkRepository;
  readonly guestAccess: AzureGuestAccessRepository;
  readonly reviewRounds: AzureReviewRoundRepository;
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
    invitations: new AzureInvitationRepository(account, { clock }),
    approvalRequests: new AzureApprovalRequestRepository(account, { audit, leases }),
    resetRequests: new AzureResetRequestRepository(account, { clock, audit }),
    bulkJobs: new AzureBulkJobRepository(account, { clock }),
    resultsLinkSecret: new AzureResultsLinkSecret(account, clock),
    workQueue: new AzureWorkQueue(account),
    scheduledWork: new AzureScheduledWorkRepository(account, holders, { clock }),
    guestAccess: new AzureGuestAccessRepository(account, { clock }),
    reviewRounds: new AzureReviewRoundRepository(account, { clock }),
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
