import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Clock } from '../../src/domain/clock';
import type { Migration, SqliteDatabase } from '../../src/adapters/sqlite/database';
import { openStore, sqliteDatabaseOf, type SqliteStore } from '../../src/adapters/sqlite/store';
import { type Store } from '../../src/adapters/repositories';

export interface BuilderOptions {
  clock?: Clock;
}

const openedStores: Store[] = [];
const tempDirs: string[] = [];

/**
 * A fresh database file path in its own directory under the OS temp dir. The directory (with
 * the -wal/-shm files) is removed after the test file's tests, with every store opened here.
 */
export function tempDatabaseFile(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'guest-bot-store-'));
  tempDirs.push(dir);
  return path.join(dir, 'bot.sqlite');
}

/** A SQLite store as tests see it: with its database, for assertions on the file itself. */
export type TestStore = SqliteStore & { db: SqliteDatabase };

/** A store on a temp file (real WAL, real file locking), removed after the test file. */
export function tempStore(
  extraMigrations: readonly Migration[] = [],
  options: BuilderOptions & { file?: string } = {},
): TestStore & { file: string } {
  const file = options.file ?? tempDatabaseFile();
  const store = track(openStore({ file, extraMigrations, clock: options.clock }));
  return Object.assign(store, { file, db: sqliteDatabaseOf(store) });
}

/** An in-memory store: fastest, for tests that do not care about files or processes. */
export function memoryStore(extraMigrations: readonly Migration[] = [], options: BuilderOptions = {}): TestStore {
  const store = track(openStore({ file: ':memory:', extraMigrations, clock: options.clock }));
  return Object.assign(store, { db: sqliteDatabaseOf(store) });
}

/** A clock that only moves when told to. */
export type ManualClock = Clock & (() => Date) & { advance(ms: number): void; set(iso: string): void };

/** A clock that only moves when told to (callable as `() => Date` too, for modules still taking that). */
export function manualClock(start = '2025-03-01T09:00:00.000Z'): ManualClock {
  let now = new Date(start).getTime();
  const clock = (() => new Date(now)) as ManualClock;
  clock.now = () => new Date(now);
  clock.advance = (ms) => {
    now += ms;
  };
  clock.set = (iso) => {
    now = new Date(iso).getTime();
  };
  return clock;
}

/** Closes every store and deletes every temp file made through this module. Runs by itself after each test file. */
export function cleanupTempStores(): void {
  for (const store of openedStores.splice(0)) store.close();
  for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

function track<S extends Store>(store: S): S {
  openedStores.push(store);
  return store;
}

if (typeof afterAll === 'function') afterAll(cleanupTempStores);
