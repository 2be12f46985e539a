import type { Migration } from '../../../src/adapters/sqlite/database';
import { MigrationError } from '../../../src/adapters/sqlite/database';
import { openStore } from '../../../src/adapters/sqlite/store';
import { memoryStore, tempDatabaseFile, tempStore } from '../../support/store';

const tableNames = (db: ReturnType<typeof memoryStore>['db']): string[] =>
  db
    .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    .all()
    .map((r) => r.name);

const featureMigration: Migration = {
  id: 'invitations/001-create',
  up: 'CREATE TABLE invitation_requests (id TEXT PRIMARY KEY, email TEXT NOT NULL)',
};

describe('openStore', () => {
  it('creates the core tables and the feature tables it is given', () => {
    const store = memoryStore([featureMigration]);
    expect(tableNames(store.db)).toEqual(
      expect.arrayContaining(['bot_storage', 'conversation_references', 'personal_conversations', 'audit_events', 'invitation_requests']),
    );
    expect(store.appliedMigrations).toEqual([
      'core/001-bot-storage',
      'core/002-conversation-references',
      'core/003-audit-log',
      'core/004-holders-and-leases',
      'core/005-pacer-window',
      'invitations/001-create',
    ]);
  });

  it('runs each migration once: opening the same file again applies nothing and keeps the data', async () => {
    const first = tempStore([featureMigration]);
    first.db.prepare("INSERT INTO invitation_requests VALUES ('r1', 'jane@fabrikam.com')").run();
    first.close();

    const second = tempStore([featureMigration], { file: first.file });

    expect(second.appliedMigrations).toEqual([]);
    expect(second.db.prepare('SELECT email FROM invitation_requests').pluck().all()).toEqual(['jane@fabrikam.com']);
  });

  it('applies only the migrations added since the last start', () => {
    const first = tempStore();
    first.close();
    const second = tempStore([featureMigration], { file: first.file });
    expect(second.appliedMigrations).toEqual(['invitations/001-create']);
  });

  it('rolls a failing migration back, names it, and leaves the earlier ones applied', () => {
    const file = tempDatabaseFile();
    const broken: Migration = {
      id: 'bulk/001-create',
      up: `CREATE TABLE bulk_jobs (id TEXT PRIMARY KEY);
           INSERT INTO no_such_table VALUES (1);`,
    };

    let thrown: unknown;
    try {
      openStore({ file, extraMigrations: [featureMigration, broken] });
    } catch (error) {
      thrown = error;
    }

    expect(thrown).toBeInstanceOf(MigrationError);
    expect((thrown as MigrationError).migrationId).toBe('bulk/001-create');
    expect((thrown as Error).message).toMatch(/bulk\/001-create.*rolled back/);
    const after = tempStore([featureMigration], { file });
    expect(tableNames(after.db)).toContain('invitation_requests');
    expect(tableNames(after.db)).not.toContain('bulk_jobs');
    expect(after.db.prepare('SELECT id FROM schema_migrations').pluck().all()).not.toContain('bulk/001-create');
  });

  it('refuses two migrations with the same id before changing anything', () => {
    const file = tempDatabaseFile();
    expect(() => openStore({ file, extraMigrations: [featureMigration, featureMigration] })).toThrow(
      'Duplicate migration id: invitations/001-create',
    );
  });

  it('answers ping while open, and not after close; close can be called twice', () => {
    const store = tempStore();
    expect(store.ping()).toBe(true);
    store.close();
    expect(store.ping()).toBe(false);
    expect(() => store.close()).not.toThrow();
  });

  it('uses WAL on a file so a second process can read while one writes', () => {
    const store = tempStore();
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
  });
});
