import type { Storage } from 'botbuilder';
import type { AuditLog } from '../usecases/ports/auditLog';
import type { ChannelIdentityRepository } from '../usecases/ports/channelIdentities';
import type { ConversationReferenceRepository } from '../usecases/ports/conversationReferences';
import type { InvitationRepository } from '../usecases/ports/invitations';
import type { HolderRegistry, LeaseStore } from '../usecases/ports/leases';
import type { PacerWindowStore } from '../usecases/ports/pacerWindow';
import type { ScheduledWorkRepository } from '../usecases/ports/scheduler';
import type { GuestAccessRepository } from '../usecases/lifecycle/ports';
import type { ReviewRoundRepository } from '../usecases/reviews/ports';
import type { WorkQueue } from '../usecases/ports/workQueue';
import type { BulkJobRepository, ResultsLinkSecretStore } from '../usecases/bulk/ports';
import type { ApprovalRequestRepository, ResetRequestRepository } from '../usecases/approvals/ports';

/**
 * This process as a lease holder: registered while the app runs. The embedded stores answer at
 * once; a store over the network (Azure Storage) returns promises, which the app awaits.
 */
export interface ProcessHolder extends HolderRegistry {
  /** Registers this process and keeps its heartbeat going until stop(). */
  start(): void | Promise<void>;
  /** Stops the heartbeat and removes the registration (everything this process held is free). */
  stop(): void | Promise<void>;
  /** Removes registrations long dead (housekeeping); returns how many. */
  prune(): number | Promise<number>;
}

/**
 * Every persistent thing the bot keeps, as one typed bundle: what the composition root hands to
 * the features. Built by an adapter (openStore for SQLite, openAzureStore for Azure Storage,
 * openMemoryStore for tests).
 */
export interface Repositories {
  readonly audit: AuditLog;
  readonly holders: ProcessHolder;
  readonly leases: LeaseStore;
  readonly conversationReferences: ConversationReferenceRepository;
  readonly channelIdentities: ChannelIdentityRepository;
  /** The shared window of invitation starts (see usecases/ports/pacerWindow.ts). */
  readonly pacerWindow: PacerWindowStore;
  readonly invitations: InvitationRepository;
  readonly approvalRequests: ApprovalRequestRepository;
  readonly resetRequests: ResetRequestRepository;
  readonly bulkJobs: BulkJobRepository;
  /** The secret results links are signed with: made once, then the same on every instance sharing the store. */
  readonly resultsLinkSecret: ResultsLinkSecretStore;
  /** Durable due work (reminders, expiries), claimed once across instances (usecases/ports/scheduler.ts). */
  readonly scheduledWork: ScheduledWorkRepository;
  /** Each guest's access to a site: sponsor, dates, end (usecases/lifecycle/ports.ts). */
  readonly guestAccess: GuestAccessRepository;
  /** Access review rounds with their decisions and deliveries (usecases/reviews/ports.ts). */
  readonly reviewRounds: ReviewRoundRepository;
  /** Work handed between instances (bulk rows): leased messages, see usecases/ports/workQueue.ts. */
  readonly workQueue: WorkQueue;
}

/** The repositories with the bot's own state and the store's lifecycle. */
export interface Store extends Repositories {
  /** botbuilder Storage for ConversationState / UserState. */
  readonly botStorage: Storage;
  /** Migration ids applied by this open (empty when the schema was already current). */
  readonly appliedMigrations: readonly string[];
  /** True when the store answers (for /readyz). Never throws (a store over the network resolves false). */
  ping(): boolean | Promise<boolean>;
  /** Closes the store (stops this process's holder registration). Safe to call more than once; never rejects. */
  close(): void | Promise<void>;
}
