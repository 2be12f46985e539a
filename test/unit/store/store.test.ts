import type { Migration } from '../../../src/adapters/sqlite/database';
import { MigrationError } from '../../../src/adapters/sqlite/database';
import { openStore, storeMigrations } from '../../../src/adapters/sqlite/store';
import { memoryStore, tempDatabaseFile, tempStore } from '../../support/store';

const tableNames = (db: ReturnType<typeof memoryStore>['db']): string[] =>
  db
    .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    .all()
    .map((r) => r.name);

/** A test-only table, after the store's own. */
const featureMigration: Migration = {
  id: 'test/001-create',
  up: 'CREATE TABLE invitation_requests (id TEXT PRIMARY KEY, email TEXT NOT NULL)',
};

describe('openStore', () => {
  it('creates its own tables, every feature’s, and the extra ones it is given', () => {
    const store = memoryStore([featureMigration]);
    expect(tableNames(store.db)).toEqual(
      expect.arrayContaining([
        'bot_storage',
        'conversation_references',
        'personal_conversations',
        'audit_events',
        'leases',
        'channel_accounts',
        'invitations',
        'reset_requests',
        'bulk_jobs',
        'invitation_requests',
      ]),
    );
    expect(store.appliedMigrations.slice(0, 5)).toEqual([
      'core/001-bot-storage',
      'core/002-conversation-references',
      'core/003-audit-log',
      'core/004-holders-and-leases',
      'core/005-pacer-window',
    ]);
    expect(store.appliedMigrations).toEqual([...storeMigrations.map((m) => m.id), 'test/001-create']);
  });

  it('skips a migration it already has when it is passed again', () => {
    const store = memoryStore(storeMigrations);
    expect(store.appliedMigrations).toEqual(storeMigrations.map((m) => m.id));
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
    expect(second.appliedMigrations).toEqual(['test/001-create']);
  });

  it('rolls a failing migration back, names it, and leaves the earlier ones applied', () => {
    const file = tempDatabaseFile();
    const broken: Migration = {
      id: 'test/002-broken',
      up: `CREATE TABLE test_broken (id TEXT PRIMARY KEY);
           INSERT INTO no_such_table VALUES (1);`,
    };

    let thrown: unknown;
    try {
      openStore({ file, extraMigrations: [featureMigration, broken] });
    } catch (error) {
      thrown = error;
    }

    expect(thrown).toBeInstanceOf(MigrationError);
    expect((thrown as MigrationError).migrationId).toBe('test/002-broken');
    expect((thrown as Error).message).toMatch(/test\/002-broken.*rolled back/);
    const after = tempStore([featureMigration], { file });
    expect(tableNames(after.db)).toContain('invitation_requests');
    expect(tableNames(after.db)).not.toContain('test_broken');
    expect(after.db.prepare('SELECT id FROM schema_migrations').pluck().all()).not.toContain('test/002-broken');
  });

  it('refuses two migrations with the same id before changing anything', () => {
    const file = tempDatabaseFile();
    expect(() => openStore({ file, extraMigrations: [featureMigration, featureMigration] })).toThrow(
      'Duplicate migration id: test/001-create',
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
