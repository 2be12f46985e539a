import type { SqliteDatabase, SqliteRunResult, SqliteStatement, SqliteTransaction } from './database';

/**
 * The parts of Node's built-in `node:sqlite` used here (typed locally: @types/node 20 has none).
 * https://nodejs.org/docs/latest-v24.x/api/sqlite.html
 */
interface StatementSync {
  run(...params: unknown[]): { changes: number | bigint; lastInsertRowid: number | bigint };
  get(...params: unknown[]): Record<string, unknown> | unknown[] | undefined;
  all(...params: unknown[]): (Record<string, unknown> | unknown[])[];
  iterate(...params: unknown[]): IterableIterator<Record<string, unknown> | unknown[]>;
  /** v22.15 / v23.11: ignore named parameters the statement does not use (better-sqlite3 does). */
  setAllowUnknownNamedParameters?(enabled: boolean): void;
  /** v22.16 / v24.0: rows as arrays, for pluck. */
  setReturnArrays?(enabled: boolean): void;
}

interface DatabaseSync {
  prepare(sql: string): StatementSync;
  exec(sql: string): void;
  close(): void;
  /** v22.16 / v24.0: sqlite3_get_autocommit() negated. Needed for nested transactions. */
  readonly isTransaction?: boolean;
}

interface NodeSqliteModule {
  DatabaseSync: new (path: string, options?: { enableForeignKeyConstraints?: boolean; enableDoubleQuotedStringLiterals?: boolean }) => DatabaseSync;
}

let loaded: { module: NodeSqliteModule } | { failure: string } | undefined;

function isSqliteExperimentalWarning(warning: unknown, rest: unknown[]): boolean {
  const type = typeof rest[0] === 'string' ? rest[0] : (rest[0] as { type?: unknown } | undefined)?.type;
  const name = warning instanceof Error ? warning.name : type;
  const message = warning instanceof Error ? warning.message : String(warning);
  return name === 'ExperimentalWarning' && message.startsWith('SQLite is an experimental feature');
}

/**
 * `node:sqlite`, or why it cannot be used here. Loaded through process.getBuiltinModule so Jest's
 * module registry and the bundler leave it alone. On Node 22 loading it prints "ExperimentalWarning:
 * SQLite is an experimental feature" (Stability 1.1); that one warning, and only it, is dropped
 * while the module loads: an operator cannot act on it, and every other warning still prints.
 * Node 24.15+ marks the module release candidate and no longer warns.
 */
export function nodeSqlite(): { module: NodeSqliteModule } | { failure: string } {
  if (loaded) return loaded;
  // The process object itself: under Jest `process` is a per-test-file copy Node never calls.
  const realProcess = process.getBuiltinModule('node:process');
  const emitWarning = realProcess.emitWarning;
  realProcess.emitWarning = function (this: NodeJS.Process, warning: string | Error, ...rest: unknown[]): void {
    if (isSqliteExperimentalWarning(warning, rest)) return;
    (emitWarning as (...args: unknown[]) => void).call(this, warning, ...rest);
  } as NodeJS.Process['emitWarning'];
  try {
    const module = process.getBuiltinModule('node:sqlite') as NodeSqliteModule | undefined;
    if (!module) loaded = { failure: `node:sqlite is not available in Node ${process.versions.node}` };
    else {
      const probe = new module.DatabaseSync(':memory:');
      const hasIsTransaction = typeof probe.isTransaction === 'boolean';
      probe.close();
      loaded = hasIsTransaction ? { module } : { failure: `node:sqlite in Node ${process.versions.node} lacks isTransaction (Node 22.16 or 24 needed)` };
    }
  } catch (error) {
    loaded = { failure: `node:sqlite did not load: ${error instanceof Error ? error.message : String(error)}` };
  } finally {
    realProcess.emitWarning = emitWarning;
  }
  return loaded;
}

/**
 * better-sqlite3 binds `undefined` as NULL and takes the named-parameter object anywhere in the
 * arguments; node:sqlite wants the object first and rejects `undefined`. Same calls, same rows.
 */
function bindArguments(params: unknown[]): unknown[] {
  let named: Record<string, unknown> | undefined;
  const positional: unknown[] = [];
  for (const p of params) {
    if (p !== null && typeof p === 'object' && !(p instanceof Uint8Array) && !ArrayBuffer.isView(p)) {
      if (named) throw new TypeError('You cannot specify named parameters in two different objects');
      named = p as Record<string, unknown>;
    } else positional.push(p === undefined ? null : p);
  }
  if (!named) return positional;
  let object = named;
  for (const key in named) {
    if (named[key] === undefined) {
      object = Object.fromEntries(Object.entries(named).map(([k, v]) => [k, v === undefined ? null : v]));
      break;
    }
  }
  return [object, ...positional];
}

/** A row as better-sqlite3 gives it: a plain object (node:sqlite's have no prototype), BLOBs as Buffers. */
function plainRow(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key in row) {
    const value = row[key];
    out[key] = value instanceof Uint8Array && !Buffer.isBuffer(value) ? Buffer.from(value.buffer, value.byteOffset, value.byteLength) : value;
  }
  return out;
}

function firstColumn(row: Record<string, unknown> | unknown[]): unknown {
  const value = Array.isArray(row) ? row[0] : Object.values(row)[0];
  return value instanceof Uint8Array && !Buffer.isBuffer(value) ? Buffer.from(value.buffer, value.byteOffset, value.byteLength) : value;
}

class NodeSqliteStatement {
  private plucking = false;

  constructor(private readonly statement: StatementSync) {
    statement.setAllowUnknownNamedParameters?.(true);
  }

  run(...params: unknown[]): SqliteRunResult {
    const { changes, lastInsertRowid } = this.statement.run(...bindArguments(params));
    return { changes: Number(changes), lastInsertRowid };
  }

  get(...params: unknown[]): unknown {
    const row = this.statement.get(...bindArguments(params));
    if (row === undefined) return undefined;
    return this.plucking ? firstColumn(row) : plainRow(row as Record<string, unknown>);
  }

  all(...params: unknown[]): unknown[] {
    const rows = this.statement.all(...bindArguments(params));
    return this.plucking ? rows.map(firstColumn) : rows.map((row) => plainRow(row as Record<string, unknown>));
  }

  *iterate(...params: unknown[]): IterableIterator<unknown> {
    for (const row of this.statement.iterate(...bindArguments(params))) {
      yield this.plucking ? firstColumn(row) : plainRow(row as Record<string, unknown>);
    }
  }

  /** Only the first column of each row (better-sqlite3's pluck). */
  pluck(toggleState = true): this {
    this.plucking = toggleState;
    this.statement.setReturnArrays?.(toggleState);
    return this;
  }
}

const SAVEPOINT = '"_sqlite_nested_transaction"';

/**
 * node:sqlite's DatabaseSync behind the better-sqlite3 calls the adapters make (prepare, exec,
 * pragma, transaction with deferred/immediate/exclusive and nesting, open, inTransaction, close),
 * with better-sqlite3's semantics, so every repository runs unchanged on either.
 */
export class NodeSqliteDatabase implements SqliteDatabase {
  private readonly db: DatabaseSync;
  private isOpen = true;

  constructor(module: NodeSqliteModule, file: string) {
    // better-sqlite3 builds SQLite without double-quoted string literals and the store turns
    // foreign keys on itself; the same here, explicitly.
    this.db = new module.DatabaseSync(file, { enableForeignKeyConstraints: true, enableDoubleQuotedStringLiterals: false });
  }

  get open(): boolean {
    return this.isOpen;
  }

  get inTransaction(): boolean {
    return this.isOpen && this.db.isTransaction === true;
  }

  prepare<P extends unknown[] | object = unknown[], R = unknown>(source: string): SqliteStatement<P, R> {
    return new NodeSqliteStatement(this.db.prepare(source)) as unknown as SqliteStatement<P, R>;
  }

  exec(source: string): this {
    this.db.exec(source);
    return this;
  }

  /** Like better-sqlite3: the pragma's rows, or with `simple` the first column of the first row. */
  pragma(source: string, options?: { simple?: boolean }): unknown {
    const statement = this.prepare(`PRAGMA ${source}`);
    if (options?.simple) return statement.pluck().get();
    return statement.all();
  }

  /**
   * better-sqlite3's transaction(): BEGIN (DEFERRED/IMMEDIATE/EXCLUSIVE) ... COMMIT, rolled back
   * if the function throws; inside a transaction already, a savepoint instead, so a nested
   * failure undoes only its own part. A function returning a promise is refused (the
   * transaction would commit before the promise settled).
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the interface's bound (better-sqlite3's)
  transaction<F extends (...args: any[]) => unknown>(fn: F): SqliteTransaction<F> {
    const run =
      (begin: string) =>
      (...args: unknown[]): unknown => {
        const nested = this.inTransaction;
        this.db.exec(nested ? `SAVEPOINT ${SAVEPOINT}` : begin);
        try {
          const result = fn(...args);
          if (result !== null && typeof result === 'object' && typeof (result as { then?: unknown }).then === 'function') {
            throw new TypeError('Transaction function cannot return a promise');
          }
          this.db.exec(nested ? `RELEASE ${SAVEPOINT}` : 'COMMIT');
          return result;
        } catch (error) {
          // SQLite may have rolled back on its own (a failed COMMIT, SQLITE_FULL ...).
          if (this.inTransaction) {
            if (nested) this.db.exec(`ROLLBACK TO ${SAVEPOINT}; RELEASE ${SAVEPOINT}`);
            else this.db.exec('ROLLBACK');
          }
          throw error;
        }
      };
    return Object.assign(run('BEGIN'), {
      default: run('BEGIN'),
      deferred: run('BEGIN DEFERRED'),
      immediate: run('BEGIN IMMEDIATE'),
      exclusive: run('BEGIN EXCLUSIVE'),
    }) as SqliteTransaction<F>;
  }

  close(): this {
    if (this.isOpen) {
      this.isOpen = false;
      this.db.close();
    }
    return this;
  }
}
