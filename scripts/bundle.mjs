// Bundles the bot's composition root (dist/src/main.js, from tsc) with everything it imports into
// that one file, so a start reads and compiles one file instead of resolving ~2,000 modules.
// Part of `npm run build`, after tsc. Run again on tsc's output only: tsc rewrites main.js
// unbundled, which still works (slower to start), never stale.
//
// Left outside the bundle and loaded from node_modules as before:
// - better-sqlite3, dtrace-provider (restify's optional one): native add-ons;
// - @azure/monitor-opentelemetry and @opentelemetry/resources: loaded only when Application
//   Insights is configured; the distro hooks the module loader;
// - @opentelemetry/api: one copy shared by our spans and the distro's SDK;
// - the Azure Storage SDKs (@azure/data-tables, @azure/storage-blob, @azure/storage-queue,
//   botbuilder-azure-blobs) and the Graph SDK (@microsoft/microsoft-graph-client): loaded only
//   with STORE=azure or DIRECTORY=graph (src/app/createStore.ts, src/app/createDirectory.ts
//   require their adapters when configured). Inside the bundle they would cost memory in every
//   process even unused: V8 keeps the whole bundle's source text (about a quarter less without
//   them). Their own dependencies shared with the bundle (@azure/core-rest-pipeline, ...) are
//   then a second copy, so nothing here tests their classes with instanceof (see
//   src/adapters/azure/tables.ts).
// The bundle's semantics are tsc's (esbuild only joins tsc's CommonJS output); identifiers keep
// their names, so stack traces stay readable (linked source map: node --enable-source-maps).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleFile } from './bundleFile.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const file = path.join(root, 'dist', 'src', 'main.js');

const BANNER = '// Bundled by scripts/bundle.mjs from tsc\'s output; see src/index.ts.';
if (fs.readFileSync(file, 'utf8').startsWith(BANNER)) {
  console.log('dist/src/main.js is bundled already (npm run build runs tsc first)');
  process.exit(0);
}

const result = await bundleFile({ file, banner: BANNER });
const output = result.metafile.outputs[path.relative(process.cwd(), file)] ?? Object.values(result.metafile.outputs).find((o) => o.entryPoint);
const modules = Object.keys(result.metafile.inputs).length;
console.log(`bundled dist/src/main.js: ${modules} modules, ${((output?.bytes ?? 0) / 1e6).toFixed(1)} MB`);
