// Bundles one of tsc's output files with everything it imports into one file, as production's
// dist/src/main.js is bundled (scripts/bundle.mjs); the turn benchmark bundles its two bots the
// same way (scripts/bundle-bench.mjs). See scripts/bundle.mjs for what is left outside and why.
import fs from 'node:fs';
import path from 'node:path';
import { parse, tokTypes } from 'acorn';
import { build } from 'esbuild';

export const EXTERNAL = [
  'better-sqlite3',
  'dtrace-provider',
  '@azure/monitor-opentelemetry',
  '@opentelemetry/resources',
  '@opentelemetry/api',
  // Loaded only when configured (STORE=azure, DIRECTORY=graph), from node_modules: a demo or
  // SQLite start keeps their source out of memory. See scripts/bundle.mjs.
  '@azure/data-tables',
  '@azure/storage-blob',
  '@azure/storage-queue',
  'botbuilder-azure-blobs',
  '@microsoft/microsoft-graph-client',
];

/**
 * Bundles `file` into itself, or with `stdin` ({contents, resolveDir}) that source into `file`.
 * Returns esbuild's result (metafile included).
 */
export async function bundleFile({ file, banner, stdin }) {
  const result = await build({
    banner: { js: banner },
    ...(stdin ? { stdin: { contents: stdin.contents, resolveDir: stdin.resolveDir, sourcefile: path.basename(file), loader: 'js' } } : { entryPoints: [file] }),
    outfile: file,
    allowOverwrite: true,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: EXTERNAL,
    minifyWhitespace: true,
    minifySyntax: true,
    keepNames: false,
    legalComments: 'external',
    sourcemap: 'linked',
    logLevel: 'warning',
    metafile: true,
  });

  // esbuild writes ASCII (charset: 'ascii') except in regular expression literals and tagged
  // template literals, where it cannot escape without changing their meaning; @microsoft/recognizers-text
  // keeps fullwidth digits in its regular expressions. One such character makes Node decode the
  // whole file as two-byte UTF-16 and V8 scan it slower (about a tenth of a first start). In a
  // regular expression literal \uXXXX matches the same character (with or without the u flag,
  // surrogate pairs included), so those are escaped; found by parsing the bundle (acorn), never
  // by pattern. Anything else non-ASCII is left as it is: correct, only slower to load.
  const source = fs.readFileSync(file, 'utf8');
  const regexRanges = [];
  parse(source, {
    ecmaVersion: 'latest',
    sourceType: 'script',
    allowReturnOutsideFunction: true,
    onToken: (token) => {
      if (token.type === tokTypes.regexp && /[\u0080-\uffff]/.test(source.slice(token.start, token.end))) regexRanges.push([token.start, token.end]);
    },
  });
  let escaped = '';
  let at = 0;
  for (const [start, end] of regexRanges) {
    escaped += source.slice(at, start) + source.slice(start, end).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    at = end;
  }
  escaped += source.slice(at);
  if (escaped !== source) fs.writeFileSync(file, escaped);
  const leftOver = (escaped.match(/[\u0080-\uffff]/g) ?? []).length;
  if (leftOver > 0) console.warn(`bundle: ${leftOver} non-ASCII characters left outside regular expressions (the bundle loads a little slower)`);

  return result;
}
