// Bundles the turn benchmark's two bots (dist/bench/turnsThisBot.js, dist/bench/turnsMinimalBot.js)
// the way production's dist/src/main.js is bundled (same esbuild settings, scripts/bundleFile.mjs),
// into dist/bench/bundled/{thisBot,minimalBot}.js: the load phases of `npm run bench:turns` run
// these, so this bot is measured as it runs in production and the minimal bot is measured built
// the same way. Run after tsc (part of `npm run bench:turns`).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleFile } from './bundleFile.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dir = path.join(root, 'dist', 'bench', 'bundled');
const BANNER = '// Bundled by scripts/bundle-bench.mjs from tsc\'s output; see bench/turns.bench.ts.';

for (const [name, module, run] of [
  ['thisBot', 'turnsThisBot', 'runThisBot'],
  ['minimalBot', 'turnsMinimalBot', 'runMinimalBot'],
]) {
  const file = path.join(dir, `${name}.js`);
  const result = await bundleFile({ file, banner: BANNER, stdin: { contents: `require('./${module}.js').${run}();\n`, resolveDir: path.dirname(dir) } });
  const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + (o.entryPoint ? o.bytes : 0), 0);
  console.log(`bundled dist/bench/bundled/${name}.js: ${Object.keys(result.metafile.inputs).length} modules, ${(bytes / 1e6).toFixed(1)} MB`);
}
