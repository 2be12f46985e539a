import { systemClock, type Clock } from '../../domain/clock';
import type { Store } from '../repositories';
import { MemoryBulkJobRepository } from './bulkJobs';
import { MemoryResultsLinkSecret } from './resultsLinkSecret';
import { MemoryApprovalRequestRepository } from './approvalRequests';
import { MemoryAuditLog } from './audit';
import { MemoryResetRequestRepository } from './resetRequests';
import { MemoryBotStorage } from './botStorage';
import { MemoryChannelIdentityRepository } from './channelIdentities';
import { MemoryConversationReferenceRepository } from './conversationReferences';
import { MemoryInvitationRepository } from './invitations';
import { MemoryHolderRegistry, MemoryHolderTable, MemoryLeaseStore } from './leases';
import { MemoryPacerWindowStore } from './pacerWindow';
import { MemoryScheduledWorkRepository } from './scheduledWork';
import { MemoryGuestAccessRepository } from './guestAccess';
import { MemoryReviewRoundRepository } from './reviewRounds';
import { MemoryWorkQueue } from './workQueue';

/** The memory store: the bundle, with the memory classes behind it. */
export interface MemoryStore extends Store {
  readonly audit: MemoryAuditLog;
  readonly holders: MemoryHolderRegistry;
  readonly leases: MemoryLeaseStore;
  readonly botStorage: MemoryBotStorage;
}

/**
 * Every repository in memory, for tests (and a throwaway demo): the same bundle openStore builds,
 * nothing on disk, nothing shared between processes. Each call is a fresh, empty store.
 */
export function openMemoryStore(options: { clock?: Clock; holderTtlMs?: number } = {}): MemoryStore {
  const clock = options.clock ?? systemClock;
  const holders = new MemoryHolderRegistry(new MemoryHolderTable(), { ttlMs: options.holderTtlMs });
  const audit = new MemoryAuditLog(clock);
  const conversationReferences = new MemoryConversationReferenceRepository(clock);
  const leases = new MemoryLeaseStore(holders);
  let open = true;
  return {
    botStorage: new MemoryBotStorage(),
    audit,
    holders,
    leases,
    conversationReferences,
    channelIdentities: new MemoryChannelIdentityRepository(conversationReferences, clock),
    pacerWindow: new MemoryPacerWindowStore(),
    invitations: new MemoryInvitationRepository({ clock }),
    approvalRequests: new MemoryApprovalRequestRepository({ audit, leases }),
    resetRequests: new MemoryResetRequestRepository(clock, audit),
    bulkJobs: new MemoryBulkJobRepository({ clock }),
    resultsLinkSecret: new MemoryResultsLinkSecret(),
    scheduledWork: new MemoryScheduledWorkRepository(holders, { clock }),
    guestAccess: new MemoryGuestAccessRepository({ clock }),
    reviewRounds: new MemoryReviewRoundRepository({ clock }),
    workQueue: new MemoryWorkQueue(clock),
    appliedMigrations: [],
    ping: () => open,
    close(): void {
      holders.stop();
      open = false;
    },
  };
}
