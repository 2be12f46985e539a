import { systemClock, type Clock } from '../../domain/clock';
import { SqliteAuditLog } from './audit';
import { SqliteConversationReferenceRepository } from './conversationReferences';
import { coreMigrations } from './coreMigrations';
import { applyMigrations, openDatabase, type Migration, type SqliteDatabase } from './database';
import { pacerWindowMigrations, SqlitePacerWindowStore } from './pacerWindow';
import { leaseMigrations, SqliteHolderRegistry, SqliteLeaseStore } from './leases';
import { SqliteBotStorage } from './SqliteBotStorage';

export interface StoreOptions {
  /** Database file (created with its directory if missing), or ':memory:' for tests. */
  file: string;
  /** Every feature's migrations, in order; they run after the core ones. */
  extraMigrations?: readonly Migration[];
  /** Clock for timestamps written by the store (audit events, updated_at). */
  clock?: Clock;
  /** A process whose heartbeat is older than this is dead and its leases are free (HOLDER_TTL_MS; default 10 s). */
  holderTtlMs?: number;
}

/** The embedded store: one SQLite database shared by every module. */
export interface Store {
  /** For modules that own tables (through their migrations). */
  readonly db: SqliteDatabase;
  /** botbuilder Storage for ConversationState / UserState. */
  readonly botStorage: SqliteBotStorage;
  readonly conversationReferences: SqliteConversationReferenceRepository;
  readonly audit: SqliteAuditLog;
  /** This process as a lease holder (call holders.start() once the app runs; close() stops it). */
  readonly holders: SqliteHolderRegistry;
  /** Owned leases and once-claims (see leases.ts). */
  readonly leases: SqliteLeaseStore;
  /** The shared window of invitation starts (see pacerWindow.ts). */
  readonly pacerWindow: SqlitePacerWindowStore;
  /** Runs `work` in one transaction: every store write inside commits together or not at all. */
  atomically<T>(work: () => T): T;
  /** Migration ids applied by this open (empty when the schema was already current). */
  readonly appliedMigrations: readonly string[];
  /** True when the database answers a query (for /readyz). Never throws. */
  ping(): boolean;
  /** Closes the database. Safe to call more than once. */
  close(): void;
}

/**
 * Opens the store and brings its schema up to date (core migrations, then `extraMigrations`).
 * Throws MigrationError (naming the migration) if one fails; the database is closed again then.
 */
export function openStore(options: StoreOptions): Store {
  const clock = options.clock ?? systemClock;
  const db = openDatabase(options.file, []);
  let appliedMigrations: string[];
  try {
    appliedMigrations = applyMigrations(db, [...coreMigrations, ...leaseMigrations, ...pacerWindowMigrations, ...(options.extraMigrations ?? [])]);
  } catch (error) {
    db.close();
    throw error;
  }
  // Reads the file itself (not just `SELECT 1`), so a missing or unreadable database shows.
  const probe = db.prepare('SELECT count(*) AS n FROM schema_migrations');
  const holders = new SqliteHolderRegistry(db, { ttlMs: options.holderTtlMs });
  return {
    db,
    botStorage: new SqliteBotStorage(db, clock),
    conversationReferences: new SqliteConversationReferenceRepository(db, clock),
    audit: new SqliteAuditLog(db, clock),
    holders,
    leases: new SqliteLeaseStore(db, holders),
    pacerWindow: new SqlitePacerWindowStore(db),
    atomically: <T>(work: () => T): T => db.transaction(work).immediate(),
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
}
