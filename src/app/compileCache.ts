/**
 * Start-up with V8's compiled code kept on disk. After `npm run build`, dist/src/main.js is one
 * bundled file of several MB (scripts/bundle.mjs); parsing and compiling it is most of what a
 * start costs once module look-ups are gone. A restart reuses what the previous run compiled.
 *
 * Node 22.1+ does this itself: `module.enableCompileCache()`
 * (https://nodejs.org/api/module.html#moduleenablecompilecachecachedir). Node 20 has no such
 * call, so there the file is compiled with `vm.Script` and V8's code cache: `cachedData` in,
 * `script.createCachedData()` out (https://nodejs.org/api/vm.html#scriptcreatecacheddata), the
 * way Node's own cache works. The cache is written when the process exits, so it holds every
 * function compiled by then, not only the top level. V8 checks a cache against its own version
 * and flags and rejects a mismatch (`cachedDataRejected`); the file name is also keyed by the
 * source file's size, modification time and inode, so a rebuilt bundle never meets the code of
 * an older one. Anything going wrong with the cache only means compiling from source: the bot
 * starts either way.
 *
 * With `--enable-source-maps` on Node 20 the file is loaded without the cache (see
 * startWithCompileCache), so stack traces point into src/*.ts through the bundle's source map.
 *
 * Where: `NODE_COMPILE_CACHE` (Node's own variable) or a per-user folder in the temp directory;
 * `NODE_DISABLE_COMPILE_CACHE=1` turns it off. A folder another user could write to is never
 * used (cached code runs as the bot). `NODE_DEBUG=compile-cache` says what happened.
 */
import { isAscii } from 'node:buffer';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire, Module } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { debuglog } from 'node:util';
import vm from 'node:vm';

const debug = debuglog('compile-cache');

/** The folder for compiled code, or null when the cache is turned off. Not created here. */
export function compileCacheDir(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.NODE_DISABLE_COMPILE_CACHE) return null;
  if (env.NODE_COMPILE_CACHE) return path.resolve(env.NODE_COMPILE_CACHE);
  const user = typeof process.getuid === 'function' ? String(process.getuid()) : os.userInfo().username;
  return path.join(os.tmpdir(), `guest-onboarding-bot-compile-cache-${user}`);
}

/**
 * Creates the folder (owner-only) if needed and says whether it is safe to run code from:
 * a directory, owned by this user, that neither group nor others can write to.
 */
export function preparePrivateDir(dir: string): boolean {
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const stat = fs.lstatSync(dir);
    if (!stat.isDirectory()) return false;
    if (typeof process.getuid === 'function' && stat.uid !== process.getuid()) return false;
    return (stat.mode & 0o022) === 0;
  } catch {
    return false;
  }
}

const hash = (text: string): string => crypto.createHash('sha256').update(text).digest('hex').slice(0, 16);

/** `<which file>-<which build of it, on which Node>.bin`: a rebuilt file gets a new name. */
function cacheFileName(file: string, stat: fs.Stats): { name: string; prefix: string } {
  const prefix = hash(file);
  const build = hash([process.version, process.arch, stat.size, stat.mtimeMs, stat.ino].join('\0'));
  return { prefix, name: `${prefix}-${build}.bin` };
}

/** Writes atomically (temporary file, then rename: two processes may exit at once) and drops older builds' caches. */
function saveCache(dir: string, names: { name: string; prefix: string }, data: Buffer): void {
  const target = path.join(dir, names.name);
  const temporary = `${target}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(temporary, data, { mode: 0o600 });
    fs.renameSync(temporary, target);
    debug('wrote %d bytes to %s', data.length, target);
    for (const entry of fs.readdirSync(dir)) {
      if (entry.startsWith(`${names.prefix}-`) && entry.endsWith('.bin') && entry !== names.name) fs.rmSync(path.join(dir, entry), { force: true });
    }
  } catch (error) {
    debug('could not write %s: %s', target, error instanceof Error ? error.message : String(error));
    fs.rmSync(temporary, { force: true });
  }
}

export interface LoadResult {
  /** The module's exports. */
  exports: unknown;
  /** 'accepted': compiled code came from the cache; 'rejected': a cache was there but V8 refused it; 'none': no cache yet or none in use. */
  cache: 'accepted' | 'rejected' | 'none';
  /** Writes the cache now (normally done when the process exits); false when there is nothing to write. */
  save(): boolean;
}

type ModuleWrapper = (exports: unknown, require: NodeJS.Require, module: Module, filename: string, dirname: string) => void;

/**
 * The file's text. The bundle is kept ASCII (scripts/bundleFile.mjs), and ASCII read as latin1
 * is the same text without UTF-8 decoding: for the 8 MB bundle about 20 instead of 65 ms of a
 * start. A file with any other byte is decoded as UTF-8, as before.
 */
export function readSource(file: string): string {
  const bytes = fs.readFileSync(file);
  return isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8');
}

/**
 * Loads a CommonJS file as `require` would, compiling it with the code cache in `cacheDir`
 * (null: no cache). When the cache was missing or refused, a fresh one is written at exit.
 */
export function loadWithCodeCache(file: string, cacheDir: string | null, options: { saveAtExit?: boolean } = {}): LoadResult {
  const source = readSource(file);
  const dir = cacheDir !== null && preparePrivateDir(cacheDir) ? cacheDir : null;
  if (cacheDir !== null && dir === null) debug('not using %s: not a private folder of this user', cacheDir);
  const names = dir ? cacheFileName(file, fs.statSync(file)) : null;
  let cachedData: Buffer | undefined;
  if (dir && names) {
    try {
      cachedData = fs.readFileSync(path.join(dir, names.name));
    } catch {
      cachedData = undefined;
    }
  }
  // The same wrapper as Node's CommonJS loader, on the first line so line numbers stay true.
  const wrapped = `(function (exports, require, module, __filename, __dirname) { ${source}\n});`;
  const script = new vm.Script(wrapped, {
    filename: file,
    cachedData,
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const cache = cachedData === undefined ? 'none' : script.cachedDataRejected ? 'rejected' : 'accepted';
  debug('%s: cache %s', file, cache);

  const loaded = new Module(file, require.main);
  loaded.filename = file;
  const moduleRequire = createRequire(file);
  // Where a bare name would be looked up from this file (any bare name gives the same list).
  loaded.paths = moduleRequire.resolve.paths('a-package') ?? [];
  (script.runInThisContext() as ModuleWrapper).call(loaded.exports, loaded.exports, moduleRequire, loaded, file, path.dirname(file));
  loaded.loaded = true;

  let saved = false;
  const save = (): boolean => {
    if (!dir || !names || saved || cache === 'accepted') return false;
    saved = true;
    saveCache(dir, names, script.createCachedData());
    return true;
  };
  if (options.saveAtExit !== false && dir && cache !== 'accepted') process.once('exit', () => save());
  return { exports: loaded.exports, cache, save };
}

/**
 * Starts `file` (the composition root) with compiled code cached: Node's own cache where it
 * has one, else loadWithCodeCache.
 */
export function startWithCompileCache(file: string, env: NodeJS.ProcessEnv = process.env): void {
  const dir = compileCacheDir(env);
  const enableCompileCache = (Module as { enableCompileCache?: (cacheDir?: string) => unknown }).enableCompileCache;
  // Node 20 applies source maps (--enable-source-maps: stack traces in the TypeScript sources)
  // only to what its own loader compiles, so with them on the file is loaded the usual way.
  if (enableCompileCache || process.sourceMapsEnabled) {
    if (enableCompileCache && dir !== null && preparePrivateDir(dir)) enableCompileCache(dir);
    createRequire(file)(file);
    return;
  }
  loadWithCodeCache(file, dir);
}
