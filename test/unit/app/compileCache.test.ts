/**
 * The start-up code cache (src/app/compileCache.ts): a file loads exactly as `require` would load
 * it, the compiled code a run wrote is taken by the next one, a rebuilt file never runs an older
 * build's code, a damaged cache only costs a compile, and a folder other users can write to is
 * never trusted.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import { compileCacheDir, loadWithCodeCache, preparePrivateDir, readSource } from '../../../src/app/compileCache';

let work: string;
let cacheDir: string;
let file: string;

function writeModule(answer: number): void {
  fs.writeFileSync(path.join(work, 'helper.js'), 'exports.twice = (n) => n * 2;\n');
  fs.writeFileSync(
    file,
    [
      "'use strict';",
      "const helper = require('./helper');",
      'let calls = 0;',
      `exports.answer = () => helper.twice(${answer}) + 0 * ++calls;`,
      'exports.where = { filename: __filename, dirname: __dirname, isModule: module.exports === exports };',
      "exports.strict = (function () { return this === undefined; })();",
      "exports.resolved = require.resolve('./helper');",
    ].join('\n'),
  );
}

const binFiles = (): string[] => (fs.existsSync(cacheDir) ? fs.readdirSync(cacheDir).filter((f) => f.endsWith('.bin')) : []);

beforeAll(() => {
  // V8 keeps compiled scripts in memory too and would serve a second load of the same source
  // from there without looking at the cache on disk; each load here must be like a new process.
  v8.setFlagsFromString('--no-compilation-cache');
});

beforeEach(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'compile-cache-test-'));
  cacheDir = path.join(work, 'cache');
  file = path.join(work, 'main.js');
  writeModule(21);
});

afterEach(() => {
  fs.rmSync(work, { recursive: true, force: true });
});

type Exported = { answer(): number; where: { filename: string; dirname: string; isModule: boolean }; strict: boolean; resolved: string };

describe('loadWithCodeCache', () => {
  it('loads a CommonJS file as require would: exports, relative require, __filename, __dirname, strict mode', () => {
    const loaded = loadWithCodeCache(file, cacheDir, { saveAtExit: false });
    const exported = loaded.exports as Exported;
    expect(exported.answer()).toBe(42);
    expect(exported.where).toEqual({ filename: file, dirname: work, isModule: true });
    expect(exported.strict).toBe(true);
    expect(exported.resolved).toBe(path.join(work, 'helper.js'));
  });

  it('writes the compiled code once, and the next load takes it', () => {
    const first = loadWithCodeCache(file, cacheDir, { saveAtExit: false });
    expect(first.cache).toBe('none');
    expect(binFiles()).toEqual([]);
    expect(first.save()).toBe(true);
    expect(binFiles()).toHaveLength(1);
    // Owner-only: the cache is code this user runs.
    expect(fs.statSync(path.join(cacheDir, binFiles()[0]!)).mode & 0o077).toBe(0);

    const second = loadWithCodeCache(file, cacheDir, { saveAtExit: false });
    expect(second.cache).toBe('accepted');
    expect((second.exports as Exported).answer()).toBe(42);
    // Nothing to write when the cache was taken.
    expect(second.save()).toBe(false);
  });

  it('a rebuilt file (same name) gets its own cache, never the old build’s code; the old cache is dropped', () => {
    loadWithCodeCache(file, cacheDir, { saveAtExit: false }).save();
    const oldCache = binFiles();
    // Same length of source, different code, and a different modification time.
    writeModule(22);
    fs.utimesSync(file, new Date(), new Date(Date.now() + 5_000));
    const rebuilt = loadWithCodeCache(file, cacheDir, { saveAtExit: false });
    expect(rebuilt.cache).toBe('none');
    expect((rebuilt.exports as Exported).answer()).toBe(44);
    rebuilt.save();
    expect(binFiles()).toHaveLength(1);
    expect(binFiles()).not.toEqual(oldCache);
  });

  it('a damaged cache is refused by V8: the file still loads and a good cache replaces it', () => {
    loadWithCodeCache(file, cacheDir, { saveAtExit: false }).save();
    const [name] = binFiles();
    fs.writeFileSync(path.join(cacheDir, name!), Buffer.from('not V8 code cache at all'));
    const damaged = loadWithCodeCache(file, cacheDir, { saveAtExit: false });
    expect(damaged.cache).toBe('rejected');
    expect((damaged.exports as Exported).answer()).toBe(42);
    expect(damaged.save()).toBe(true);
    expect(loadWithCodeCache(file, cacheDir, { saveAtExit: false }).cache).toBe('accepted');
  });

  it('never reads or writes a cache folder that group or others can write to', () => {
    fs.mkdirSync(cacheDir, { mode: 0o700 });
    fs.chmodSync(cacheDir, 0o777);
    expect(preparePrivateDir(cacheDir)).toBe(false);
    const loaded = loadWithCodeCache(file, cacheDir, { saveAtExit: false });
    expect(loaded.cache).toBe('none');
    expect((loaded.exports as Exported).answer()).toBe(42);
    expect(loaded.save()).toBe(false);
    expect(binFiles()).toEqual([]);
  });

  it('with no cache folder it only loads', () => {
    const loaded = loadWithCodeCache(file, null, { saveAtExit: false });
    expect(loaded.cache).toBe('none');
    expect((loaded.exports as Exported).answer()).toBe(42);
    expect(loaded.save()).toBe(false);
  });

  it('an error in the file surfaces with its file name and line', () => {
    fs.writeFileSync(file, "'use strict';\n\nthrow new Error('broken at start');\n");
    let stack = '';
    try {
      loadWithCodeCache(file, cacheDir, { saveAtExit: false });
    } catch (error) {
      stack = (error as Error).stack ?? '';
    }
    expect(stack).toContain('broken at start');
    expect(stack).toContain(`${file}:3`);
  });
});

describe('compileCacheDir', () => {
  it("follows Node's variables: NODE_COMPILE_CACHE chooses the folder, NODE_DISABLE_COMPILE_CACHE turns it off", () => {
    expect(compileCacheDir({ NODE_COMPILE_CACHE: 'some/where' })).toBe(path.resolve('some/where'));
    expect(compileCacheDir({ NODE_COMPILE_CACHE: '/x', NODE_DISABLE_COMPILE_CACHE: '1' })).toBeNull();
    const fallback = compileCacheDir({});
    expect(fallback).not.toBeNull();
    expect(path.dirname(fallback!)).toBe(os.tmpdir());
  });
});

describe('readSource', () => {
  it('reads an ASCII file and a UTF-8 file to the same text as a UTF-8 read', () => {
    const ascii = path.join(work, 'ascii.js');
    const utf8 = path.join(work, 'utf8.js');
    fs.writeFileSync(ascii, "exports.s = 'plain \\u00e9 text';\n");
    fs.writeFileSync(utf8, "exports.s = 'caf\u00e9 \u{1F600} \uFF11';\n", 'utf8');
    for (const f of [ascii, utf8]) expect(readSource(f)).toBe(fs.readFileSync(f, 'utf8'));
    expect(readSource(utf8)).toContain('caf\u00e9 \u{1F600} \uFF11');
  });
});
