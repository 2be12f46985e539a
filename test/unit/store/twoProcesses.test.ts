import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import type { Migration } from '../../../src/adapters/sqlite/database';
import { projectRoot } from '../../../src/shared/projectRoot';
import { tempStore } from '../../support/store';

const counterMigration: Migration = {
  id: 'test/001-counters',
  up: "CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL); INSERT INTO counters VALUES ('shared', 0);",
};

/**
 * A second process on the same file, plain JS over the store's own connection (openDatabase: the
 * same SQLite driver as the parent, better-sqlite3 or node:sqlite, and the store's pragmas).
 * It waits for "go" on stdin so both processes write at the same time, then does N
 * read-modify-write increments of a shared counter plus N audit rows, one transaction each.
 */
const CHILD = `
const { openDatabase } = require('./src/adapters/sqlite/database.ts');
const [file, n] = process.argv.slice(1);
const db = openDatabase(file, []);
const read = db.prepare("SELECT value FROM counters WHERE name = 'shared'").pluck();
const write = db.prepare("UPDATE counters SET value = ? WHERE name = 'shared'");
const audit = db.prepare("INSERT INTO audit_events (at, actor_id, actor_name, action, subject_type, subject_id, details) VALUES (?, 'child', 'Child process', 'test.write', 'row', ?, '{}')");
const step = db.transaction((i) => { write.run(read.get() + 1); audit.run(new Date().toISOString(), 'child-' + i); });
process.stdout.write('ready\\n');
process.stdin.once('data', () => {
  for (let i = 0; i < Number(n); i++) step.immediate(i);
  db.close();
  process.stdout.write('done\\n');
  process.stdin.destroy();
});
`;

const N = 400;

describe('two processes on one database file', () => {
  let child: ChildProcess | undefined;
  // Never leave the child behind, whatever failed.
  afterEach(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill();
  });

  it('both finish, no update is lost, every row is present and the file passes integrity_check', async () => {
    const store = tempStore([counterMigration]);
    const spawned = spawn(process.execPath, ['-r', path.join(projectRoot(), 'test/support/bulkTsRegister.js'), '-e', CHILD, store.file, String(N)], {
      cwd: projectRoot(),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child = spawned;
    let stderr = '';
    spawned.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => spawned.on('exit', resolve));
    await new Promise<void>((resolve, reject) => {
      readline
        .createInterface({ input: spawned.stdout })
        .once('line', (line) => (line === 'ready' ? resolve() : reject(new Error(line))));
      spawned.once('exit', () => reject(new Error(`child exited early: ${stderr}`)));
    });

    spawned.stdin.end('go\n');
    const read = store.db.prepare<[], number>("SELECT value FROM counters WHERE name = 'shared'").pluck();
    const write = store.db.prepare("UPDATE counters SET value = ? WHERE name = 'shared'");
    const step = store.db.transaction((i: number) => {
      write.run((read.get() ?? 0) + 1);
      store.audit.appendSync({
        actorId: 'parent',
        actorName: 'Parent',
        action: 'test.write',
        subjectType: 'row',
        subjectId: `parent-${i}`,
      });
    });
    for (let i = 0; i < N; i++) {
      step.immediate(i);
      await store.botStorage.write({ [`parent/${i}`]: { i } });
    }

    expect(await exited).toBe(0);
    expect(stderr).toBe('');
    expect(read.get()).toBe(2 * N);
    const rows = store.db.prepare<[], { actor_id: string; n: number }>(
      'SELECT actor_id, count(*) AS n FROM audit_events GROUP BY actor_id ORDER BY actor_id',
    );
    expect(rows.all()).toEqual([
      { actor_id: 'child', n: N },
      { actor_id: 'parent', n: N },
    ]);
    const keys = Array.from({ length: N }, (_, i) => `parent/${i}`);
    expect(Object.keys(await store.botStorage.read(keys))).toHaveLength(N);
    expect(store.db.pragma('integrity_check', { simple: true })).toBe('ok');
  });
});
