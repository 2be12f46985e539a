import { systemClock, type Clock } from '../../domain/clock';
import type { Store } from '../repositories';
import { SqliteApprovalRequestRepository } from './approvalRequests';
import { approvalMigrations } from './approvalSchema';
import { auditMigrations, SqliteAuditLog } from './audit';
import { bulkMigrations, SqliteBulkJobRepository } from './bulkJobs';
import { SqliteResultsLinkSecret } from './resultsLinkSecret';
import { channelIdentityMigrations, SqliteChannelIdentityRepository } from './channelIdentities';
import { SqliteConversationReferenceRepository } from './conversationReferences';
import { coreMigrations } from './coreMigrations';
import { applyMigrations, openDatabase, type Migration, type SqliteDatabase, type SqliteDriver } from './database';
import { invitationMigrations, SqliteInvitationRepository } from './invitations';
import { leaseMigrations, SqliteHolderRegistry, SqliteLeaseStore } from './leases';
import { pacerWindowMigrations, SqlitePacerWindowStore } from './pacerWindow';
import { resetRequestMigrations, SqliteResetRequestRepository } from './resetRequests';
import { scheduledWorkMigrations, SqliteScheduledWorkRepository } from './scheduledWork';
import { guestAccessMigrations, SqliteGuestAccessRepository } from './guestAccess';
import { reviewRoundMigrations, SqliteReviewRoundRepository } from './reviewRounds';
import { SqliteBotStorage } from './SqliteBotStorage';
import { SqliteWorkQueue, workQueueMigrations } from './workQueue';

/** The SQLite store: the bundle, with the SQLite classes behind it (for the SQLite adapters' own tests). */
export interface SqliteStore extends Store {
  readonly audit: SqliteAuditLog;
  readonly holders: SqliteHolderRegistry;
  readonly leases: SqliteLeaseStore;
  readonly botStorage: SqliteBotStorage;
}

export interface StoreOptions {
  /** Database file (created with its directory if missing), or ':memory:' for tests. */
  file: string;
  /** Test-only tables, applied after the store's own (a migration the store already has is skipped). */
  extraMigrations?: readonly Migration[];
  /** Clock for timestamps written by the store (audit events, updated_at). */
  clock?: Clock;
  /** A process whose heartbeat is older than this is dead and its leases are free (HOLDER_TTL_MS; default 10 s). */
  holderTtlMs?: number;
  /** The SQLite binding (default: better-sqlite3 when its add-on loads, else node:sqlite; see database.ts). */
  driver?: SqliteDriver;
}

/**
 * Every table of the bot, in order: the store's own, then each feature's. Ids are never reused
 * or edited once released (see database.ts).
 */
export const storeMigrations: readonly Migration[] = [
  ...coreMigrations,
  ...leaseMigrations,
  ...pacerWindowMigrations,
  ...auditMigrations,
  ...channelIdentityMigrations,
  ...invitationMigrations,
  ...resetRequestMigrations,
  ...approvalMigrations,
  ...bulkMigrations,
  ...workQueueMigrations,
  ...scheduledWorkMigrations,
  ...guestAccessMigrations,
  ...reviewRoundMigrations,
];

const databases = new WeakMap<Store, SqliteDatabase>();

/**
 * The database under a store opened here, for tests and tools that look at the file itself
 * (migrations, triggers, two processes). Nothing in the app uses it: features get repositories.
 */
export function sqliteDatabaseOf(store: Store): SqliteDatabase {
  const db = databases.get(store);
  if (!db) throw new Error('not a SQLite store');
  return db;
}

/**
 * Opens the embedded store (one SQLite database for every repository), brings its schema up to
 * date and builds every SQLite repository over it. Throws MigrationError (naming the migration)
 * if one fails; the database is closed again then.
 */
export function openStore(options: StoreOptions): SqliteStore {
  const clock = options.clock ?? systemClock;
  const db = openDatabase(options.file, [], { driver: options.driver });
  let appliedMigrations: string[];
  try {
    const extra = (options.extraMigrations ?? []).filter((m) => !storeMigrations.includes(m));
    appliedMigrations = applyMigrations(db, [...storeMigrations, ...extra]);
  } catch (error) {
    db.close();
    throw error;
  }
  // Reads the file itself (not just `SELECT 1`), so a missing or unreadable database shows.
  const probe = db.prepare('SELECT count(*) AS n FROM schema_migrations');
  const holders = new SqliteHolderRegistry(db, { ttlMs: options.holderTtlMs });
  const audit = new SqliteAuditLog(db, clock);
  const conversationReferences = new SqliteConversationReferenceRepository(db, clock);
  const leases = new SqliteLeaseStore(db, holders);
  const store: SqliteStore = {
    botStorage: new SqliteBotStorage(db, clock),
    audit,
    holders,
    leases,
    conversationReferences,
    channelIdentities: new SqliteChannelIdentityRepository(db, conversationReferences, clock),
    pacerWindow: new SqlitePacerWindowStore(db),
    invitations: new SqliteInvitationRepository(db, { clock }),
    approvalRequests: new SqliteApprovalRequestRepository(db, { audit, leases }),
    resetRequests: new SqliteResetRequestRepository(db, clock, audit),
    bulkJobs: new SqliteBulkJobRepository(db, { clock }),
    resultsLinkSecret: new SqliteResultsLinkSecret(db, clock),
    scheduledWork: new SqliteScheduledWorkRepository(db, holders, { clock }),
    guestAccess: new SqliteGuestAccessRepository(db, { clock }),
    reviewRounds: new SqliteReviewRoundRepository(db, { clock }),
    workQueue: new SqliteWorkQueue(db, clock),
    appliedMigrations,
    ping(): boolean {
      if (!db.open) return false;
      try {
        probe.get();
        return true;
      } catch {
        return false;
      }
    },
    close(): void {
      try {
        holders.stop();
      } catch {
        // Closing anyway.
      }
      if (db.open) db.close();
    },
  };
  databases.set(store, db);
  return store;
}
