// Bundles the bot's composition root (dist/src/main.js, from tsc) with everything it imports into
// that one file, so a start reads and compiles one file instead of resolving ~2,000 modules.
// Part of `npm run build`, after tsc. Run again on tsc's output only: tsc rewrites main.js
// unbundled, which still works (slower to start), never stale.
//
// Left outside the bundle and loaded from node_modules as before:
// - better-sqlite3, dtrace-provider (restify's optional one): native add-ons;
// - @azure/monitor-opentelemetry and @opentelemetry/resources: loaded only when Application
//   Insights is configured; the distro hooks the module loader;
// - @opentelemetry/api: one copy shared by our spans and the distro's SDK.
// The bundle's semantics are tsc's (esbuild only joins tsc's CommonJS output); identifiers keep
// their names, so stack traces stay readable (linked source map: node --enable-source-maps).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, tokTypes } from 'acorn';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const file = path.join(root, 'dist', 'src', 'main.js');

const EXTERNAL = [
  'better-sqlite3',
  'dtrace-provider',
  '@azure/monitor-opentelemetry',
  '@opentelemetry/resources',
  '@opentelemetry/api',
];

const BANNER = '// Bundled by scripts/bundle.mjs from tsc\'s output; see src/index.ts.';
if (fs.readFileSync(file, 'utf8').startsWith(BANNER)) {
  console.log('dist/src/main.js is bundled already (npm run build runs tsc first)');
  process.exit(0);
}

const result = await build({
  banner: { js: BANNER },
  entryPoints: [file],
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

const output = result.metafile.outputs[path.relative(process.cwd(), file)] ?? Object.values(result.metafile.outputs).find((o) => o.entryPoint);
const modules = Object.keys(result.metafile.inputs).length;
console.log(`bundled dist/src/main.js: ${modules} modules, ${((output?.bytes ?? 0) / 1e6).toFixed(1)} MB`);
