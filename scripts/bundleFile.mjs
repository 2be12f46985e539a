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
 * botbuilder-dialogs' choice recognizer loads @microsoft/recognizers-text-number (its number and
 * ordinal models, for ChoicePrompt and ConfirmPrompt) when the module loads, and every prompt
 * module loads it through the choices index, TextPrompt's included. The bot asks with
 * TextPrompt only, so the models (about 50 ms of a first start) are loaded at the first choice
 * recognition instead, which the bot never makes: the two calls go through a loader. The build
 * fails if the line is not found (a new botbuilder-dialogs version: check it again).
 */
const RECOGNIZE_CHOICES = /[\\/]botbuilder-dialogs[\\/]lib[\\/]choices[\\/]recognizeChoices\.js$/;
const EAGER_RECOGNIZERS = 'const Recognizers = __importStar(require("@microsoft/recognizers-text-number"));';
const LAZY_RECOGNIZERS = [
  'let loadedRecognizers;',
  'const numberRecognizers = () => (loadedRecognizers ??= __importStar(require("@microsoft/recognizers-text-number")));',
  'const Recognizers = {',
  '    recognizeOrdinal: (...args) => numberRecognizers().recognizeOrdinal(...args),',
  '    recognizeNumber: (...args) => numberRecognizers().recognizeNumber(...args),',
  '};',
].join(' ');

const lazyNumberRecognizers = {
  name: 'lazy-number-recognizers',
  setup(builder) {
    builder.onLoad({ filter: RECOGNIZE_CHOICES }, async (args) => {
      const source = await fs.promises.readFile(args.path, 'utf8');
      if (!source.includes(EAGER_RECOGNIZERS) || (source.match(/\bRecognizers\.(\w+)/g) ?? []).some((use) => !/\.(recognizeOrdinal|recognizeNumber)$/.test(use))) {
        throw new Error(`${args.path} is not the recognizeChoices.js the bundle knows (scripts/bundleFile.mjs, lazyNumberRecognizers)`);
      }
      return { contents: source.replace(EAGER_RECOGNIZERS, LAZY_RECOGNIZERS), loader: 'js' };
    });
  },
};

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
    plugins: [lazyNumberRecognizers],
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
