import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Clock } from '../../src/domain/clock';
import type { Migration, SqliteDatabase } from '../../src/adapters/sqlite/database';
import { openStore, sqliteDatabaseOf, type SqliteStore } from '../../src/adapters/sqlite/store';
import { type Store } from '../../src/adapters/repositories';
import type { AzuriteHandle } from './azurite';

/**
 * Which store the bot suites run on: SQLite in memory (default), or with `TEST_STORE=azure` the
 * Azure Storage store on an Azurite started once for the test file (each store on a prefix of its
 * own). `TEST_STORE=azure npx jest test/bot` runs the bot suites on Azure Storage.
 */
export const TEST_STORE: 'sqlite' | 'azure' = process.env.TEST_STORE === 'azure' ? 'azure' : 'sqlite';

let azurite: AzuriteHandle | undefined;

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

/**
 * The store a bot suite runs on (see TEST_STORE): SQLite in memory, or Azure Storage on this
 * file's Azurite. Closed after the test file like the others.
 */
export function botTestStore(options: BuilderOptions = {}): Store {
  if (!azurite) return memoryStore([], options);
  const { openAzureStore } = require('../../src/adapters/azure/store') as typeof import('../../src/adapters/azure/store');
  return track(openAzureStore({ account: azurite.account(), clock: options.clock }));
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
export async function cleanupTempStores(): Promise<void> {
  for (const store of openedStores.splice(0)) await store.close();
  for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

function track<S extends Store>(store: S): S {
  openedStores.push(store);
  return store;
}

if (typeof afterAll === 'function') afterAll(cleanupTempStores);
// After the cleanup hook, so stores close while Azurite still runs. Loaded only when asked for, so
// the other test files neither start Azurite nor load its SDKs.
if (TEST_STORE === 'azure' && typeof beforeAll === 'function') azurite = (require('./azurite') as typeof import('./azurite')).useAzurite();
