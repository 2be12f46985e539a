/**
 * The two SQLite drivers behind SqliteDatabase: better-sqlite3 (its native add-on, built for one
 * Node ABI) and Node's built-in node:sqlite (Node 22.16+ and 24). Each runtime in .ci/run gets
 * the one it can run; here node:sqlite is forced wherever it exists, so its path is tested even
 * on a Node where better-sqlite3 loads too, and the same calls are checked on both.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import {
  availableSqliteDrivers,
  connectSqlite,
  defaultSqliteDriver,
  openDatabase,
  sqliteDriverOf,
  type SqliteDatabase,
  type SqliteDriver,
} from '../../../src/adapters/sqlite/database';
import { openStore } from '../../../src/adapters/sqlite/store';
import { projectRoot } from '../../../src/shared/projectRoot';
import { tempDatabaseFile } from '../../support/store';

const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
/** Where node:sqlite is unflagged and has what the adapter needs (isTransaction: 22.16, 24.0). */
const nodeSqliteExpected = major >= 24 || (major === 22 && minor >= 16) || (major === 23 && minor >= 11);
const drivers = availableSqliteDrivers();

describe('which SQLite driver this Node runs', () => {
  it(`node:sqlite is available exactly where Node ships it usable (Node ${process.versions.node})`, () => {
    expect(drivers.includes('node:sqlite')).toBe(nodeSqliteExpected);
  });

  it('better-sqlite3 is preferred when its add-on loads, node:sqlite otherwise', () => {
    expect(drivers.length).toBeGreaterThan(0);
    expect(defaultSqliteDriver()).toBe(drivers[0]);
    if (drivers.includes('better-sqlite3')) expect(drivers[0]).toBe('better-sqlite3');
    if (major === 20) expect(drivers).toEqual(['better-sqlite3']);
  });

  it('without better-sqlite3 (an optional dependency npm leaves out when its add-on cannot be built), node:sqlite runs the store, or the error names both', () => {
    jest.isolateModules(() => {
      jest.doMock('better-sqlite3', () => {
        throw new Error("Cannot find module 'better-sqlite3'");
      });
      const fresh = require('../../../src/adapters/sqlite/database') as typeof import('../../../src/adapters/sqlite/database');
      if (nodeSqliteExpected) {
        expect(fresh.availableSqliteDrivers()).toEqual(['node:sqlite']);
        const db = fresh.openDatabase(':memory:', []);
        expect(fresh.sqliteDriverOf(db)).toBe('node:sqlite');
        db.close();
      } else {
        expect(() => fresh.defaultSqliteDriver()).toThrow(/No SQLite driver in Node .*better-sqlite3 did not load: Cannot find module 'better-sqlite3'.*node:sqlite/);
      }
    });
  });

  it('a connection says which driver it runs on', () => {
    const db = openDatabase(':memory:', []);
    expect(sqliteDriverOf(db)).toBe(defaultSqliteDriver());
    db.close();
  });
});

const cases: SqliteDriver[] = drivers;

describe.each(cases)('SqliteDatabase on %s', (driver) => {
  const opened: SqliteDatabase[] = [];
  const open = (file = ':memory:'): SqliteDatabase => {
    const db = openDatabase(file, [{ id: 'test/001-t', up: 'CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, note TEXT, data BLOB)' }], { driver });
    opened.push(db);
    return db;
  };
  afterEach(() => {
    for (const db of opened.splice(0)) db.close();
  });

  it('opens a file in WAL mode with the busy timeout, foreign keys on and double-quoted strings refused', () => {
    const db = open(tempDatabaseFile());
    expect(sqliteDriverOf(db)).toBe(driver);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
    expect(() => db.prepare('SELECT "no such column"').get()).toThrow(/no such column/);
  });

  it('binds named parameters from an object (any prefix, extra keys ignored) and positional ones, undefined as NULL', () => {
    const db = open();
    const insert = db.prepare<{ name: string; note: string | null | undefined; extra?: number }>('INSERT INTO t (name, note) VALUES (@name, :note)');
    const first = insert.run({ name: 'a', note: 'x', extra: 1 });
    expect(first).toEqual({ changes: 1, lastInsertRowid: 1 });
    expect(insert.run({ name: 'b', note: undefined }).lastInsertRowid).toBe(2);
    expect(db.prepare('INSERT INTO t (name, note) VALUES (?, ?)').run('c', undefined).changes).toBe(1);
    expect(db.prepare('INSERT INTO t (id, name) VALUES (?, @name)').run(10, { name: 'd' }).lastInsertRowid).toBe(10);
    expect(db.prepare('UPDATE t SET note = ? WHERE note IS NULL').run('filled').changes).toBe(3);
    expect(db.prepare('SELECT id, name, note FROM t ORDER BY id').all()).toEqual([
      { id: 1, name: 'a', note: 'x' },
      { id: 2, name: 'b', note: 'filled' },
      { id: 3, name: 'c', note: 'filled' },
      { id: 10, name: 'd', note: 'filled' },
    ]);
  });

  it('gives rows as plain objects, BLOBs as Buffers, pluck and iterate as better-sqlite3 does', () => {
    const db = open();
    db.prepare('INSERT INTO t (name, data) VALUES (?, ?)').run('blob', Buffer.from('bytes'));
    const row = db.prepare<[string], { name: string; data: Buffer }>('SELECT name, data FROM t WHERE name = ?').get('blob');
    // An ordinary object (node:sqlite's own rows have no prototype: no hasOwnProperty, no toString).
    expect(typeof (row as object).hasOwnProperty).toBe('function');
    expect(Buffer.isBuffer(row?.data)).toBe(true);
    expect(row?.data.toString()).toBe('bytes');
    expect(db.prepare('SELECT name FROM t WHERE name = ?').get('none')).toBeUndefined();
    expect(db.prepare('SELECT count(*) FROM t').pluck().get()).toBe(1);
    expect(db.prepare('SELECT name, id FROM t').pluck().all()).toEqual(['blob']);
    expect([...db.prepare('SELECT name FROM t').iterate()]).toEqual([{ name: 'blob' }]);
  });

  it('a transaction commits, or rolls back everything when its function throws; a nested one undoes only its own part', () => {
    const db = open();
    const insert = db.prepare('INSERT INTO t (name) VALUES (?)');
    const names = (): unknown[] => db.prepare('SELECT name FROM t ORDER BY id').pluck().all();
    expect(db.transaction((n: string) => insert.run(n).changes)('one')).toBe(1);
    expect(() =>
      db.transaction(() => {
        insert.run('two');
        insert.run('one'); // UNIQUE
      }).immediate(),
    ).toThrow(/UNIQUE constraint failed/);
    expect(names()).toEqual(['one']);
    expect(db.inTransaction).toBe(false);

    const inner = db.transaction((n: string) => {
      insert.run(n);
      throw new Error('inner fails');
    });
    db.transaction(() => {
      insert.run('outer');
      expect(db.inTransaction).toBe(true);
      expect(() => inner('inner')).toThrow('inner fails');
      expect(db.inTransaction).toBe(true);
    }).immediate();
    expect(names()).toEqual(['one', 'outer']);
    expect(db.inTransaction).toBe(false);
  });

  it('refuses a transaction function that returns a promise, and keeps nothing it wrote', () => {
    const db = open();
    expect(() =>
      db.transaction(() => {
        db.prepare('INSERT INTO t (name) VALUES (?)').run('async');
        return Promise.resolve();
      })(),
    ).toThrow('Transaction function cannot return a promise');
    expect(db.prepare('SELECT count(*) FROM t').pluck().get()).toBe(0);
  });

  it('IMMEDIATE takes the write lock at BEGIN: a second connection waiting on it gets SQLITE_BUSY after its timeout, not a lost update', () => {
    const file = tempDatabaseFile();
    const a = open(file);
    const b = open(file);
    b.pragma('busy_timeout = 50');
    a.transaction(() => {
      a.prepare('INSERT INTO t (name) VALUES (?)').run('a');
      expect(() => b.transaction(() => b.prepare('INSERT INTO t (name) VALUES (?)').run('b')).immediate()).toThrow(/database is locked/);
    }).immediate();
    b.transaction(() => b.prepare('INSERT INTO t (name) VALUES (?)').run('b')).immediate();
    expect(a.prepare('SELECT name FROM t ORDER BY id').pluck().all()).toEqual(['a', 'b']);
  });

  it('close is idempotent and open says so', () => {
    const db = connectSqlite(':memory:', driver);
    expect(db.open).toBe(true);
    db.close();
    db.close();
    expect(db.open).toBe(false);
  });

  it('runs the whole store: migrations, repositories, ping', async () => {
    const store = openStore({ file: tempDatabaseFile(), driver });
    try {
      expect(store.ping()).toBe(true);
      expect(store.appliedMigrations.length).toBeGreaterThan(5);
      await store.botStorage.write({ 'conversation/1': { step: 2 } });
      expect(await store.botStorage.read(['conversation/1'])).toMatchObject({ 'conversation/1': { step: 2 } });
      const event = await store.audit.append({ actorId: 'u1', actorName: 'Megan', action: 'test.driver', subjectType: 'row', subjectId: driver });
      expect(await store.audit.list({ action: 'test.driver' })).toEqual([event]);
    } finally {
      store.close();
    }
    expect(store.ping()).toBe(false);
  });
});

describe('node:sqlite warnings', () => {
  const run = nodeSqliteExpected ? it : it.skip;
  run("loading node:sqlite drops only Node's SQLite ExperimentalWarning; other warnings still print", () => {
    const child = spawnSync(
      process.execPath,
      [
        '-r',
        path.join(projectRoot(), 'test/support/bulkTsRegister.js'),
        '-e',
        `const { connectSqlite } = require('./src/adapters/sqlite/database.ts');
         connectSqlite(':memory:', 'node:sqlite').close();
         process.emitWarning('still printed', 'ExperimentalWarning');`,
      ],
      { cwd: projectRoot(), encoding: 'utf8' },
    );
    expect(child.status).toBe(0);
    expect(child.stderr).toContain('ExperimentalWarning: still printed');
    expect(child.stderr).not.toMatch(/SQLite is an experimental feature/);
  });
});
