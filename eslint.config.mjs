// ESLint flat config: typescript-eslint's recommended rules over the TypeScript sources and tests,
// and the import-boundary rule that keeps the layers of docs/architecture.md pointing inward.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import regexp from 'eslint-plugin-regexp';
import boundaries from 'eslint-plugin-boundaries';

const rootDir = import.meta.dirname;

// ---------------------------------------------------------------------------------------------
// Layers (folder = layer; docs/architecture.md draws them). Dependencies point inward:
//   app + entry points  ->  teams, adapters  ->  usecases  ->  domain;   shared -> domain
// ---------------------------------------------------------------------------------------------
const LAYERS = [
  { type: 'domain', pattern: 'src/domain' },
  { type: 'usecases', pattern: 'src/usecases' },
  { type: 'adapters', pattern: 'src/adapters' },
  { type: 'teams', pattern: 'src/teams' },
  { type: 'app', pattern: 'src/app' },
  { type: 'entry', pattern: 'src/tools' },
  { type: 'shared', pattern: 'src/shared' },
];
// Files at the top of src/ (index.ts, ...) are entry points like src/tools (files, not a folder,
// so they are classified as a file category).
const ENTRY_FILES = ['src/*.ts'];
// The bot-state Storage implementations (botbuilder's own `Storage` interface), and the
// store's repository bundle that carries one: the only adapters allowed to import botbuilder.
// A new one (another store) is added here by name.
const BOT_STATE_STORAGE = [
  'src/adapters/sqlite/SqliteBotStorage.ts',
  'src/adapters/memory/botStorage.ts',
  'src/adapters/azure/botStorage.ts',
  'src/adapters/repositories.ts',
];

// The Bot Framework SDK: the Teams surface (and app, the composition root) only.
const BOT_FRAMEWORK = ['botbuilder', 'botbuilder-*', 'botframework-*'];
// Transport, storage, rendering and vendor SDKs: never in domain or use cases.
const SDKS_AND_IO = [
  ...BOT_FRAMEWORK,
  'restify',
  'better-sqlite3',
  'adaptivecards-templating',
  'adaptive-expressions',
  '@microsoft/microsoft-graph-client',
  '@azure/*',
];
// Node built-ins that do I/O: never in the domain (node:crypto's randomUUID and node:url are fine).
const NODE_IO = ['fs', 'net', 'http', 'https', 'http2', 'dns', 'tls', 'dgram', 'child_process', 'worker_threads', 'cluster', 'os']
  .flatMap((m) => [m, `${m}/*`, `node:${m}`, `node:${m}/*`]);

const layer = (...types) => ({ element: { types: { anyOf: types } } });
const pkg = (...sources) => ({ module: { origin: ['external', 'core'], source: sources } });
const SEE = 'see docs/architecture.md, "The rules"';
const refuse = (from, to, why) => ({
  from: layer(from),
  disallow: { to: layer(...to) },
  message: `Layer "${from}" may not import layer "{{to.element.type}}" ({{dependency.source}}): ${why}; ${SEE}.`,
});

const layeringRule = [
  'error',
  {
    // An import between local files is refused unless a policy below allows it; policies are
    // read top to bottom and the LAST one that matches decides.
    default: 'disallow',
    checkAllOrigins: true, // packages and node built-ins are checked too
    checkUnknownLocals: true, // so is a file outside every layer (test/, scripts/, the entry files)
    message: '"{{dependency.source}}" is not in a layer that this file may import (tests, scripts and entry points are never imported); ' + SEE + '.',
    policies: [
      // Packages and node built-ins: allowed unless refused further down.
      { allow: { to: { module: { origin: ['external', 'core'] } } } },
      // Who may import which layer.
      { from: layer('domain'), allow: { to: layer('domain') } },
      { from: layer('shared'), allow: { to: layer('domain', 'shared') } },
      { from: layer('usecases'), allow: { to: layer('domain', 'usecases', 'shared') } },
      { from: layer('adapters'), allow: { to: layer('domain', 'usecases', 'adapters', 'shared') } },
      { from: layer('teams'), allow: { to: layer('domain', 'usecases', 'teams', 'shared') } },
      {
        from: [layer('app', 'entry'), { file: { categories: 'entry' } }],
        allow: { to: [layer('domain', 'usecases', 'adapters', 'teams', 'app', 'entry', 'shared'), { file: { categories: 'entry' } }] },
      },
      // The wrong directions, each with its reason.
      refuse('domain', ['usecases', 'adapters', 'teams', 'app', 'entry', 'shared'], 'the domain is pure types and rules and imports only domain'),
      refuse('shared', ['usecases', 'adapters', 'teams', 'app', 'entry'], 'shared (logger, telemetry facades) imports only domain'),
      refuse('usecases', ['adapters', 'teams', 'app', 'entry'], 'use cases depend on domain, ports and shared only, and return data that the Teams layer renders'),
      refuse('adapters', ['teams', 'app', 'entry'], 'adapters implement use-case ports and import only domain, usecases and shared'),
      refuse('teams', ['adapters', 'app', 'entry'], 'the Teams surface reaches stores and Graph through use-case ports, wired in src/app'),
      // Packages that must not leak inward.
      {
        from: layer('domain', 'usecases'),
        disallow: { to: pkg(...SDKS_AND_IO) },
        message: 'Layer "{{from.element.type}}" may not import the package "{{dependency.source}}": Bot Framework, restify, SQLite, card templating, the Graph SDK and Azure SDKs belong in adapters, teams or app; ' + SEE + '.',
      },
      {
        from: layer('domain'),
        disallow: { to: pkg(...NODE_IO) },
        message: 'Layer "domain" may not import "{{dependency.source}}": the domain does no I/O; ' + SEE + '.',
      },
      {
        from: layer('adapters'),
        disallow: { to: pkg(...BOT_FRAMEWORK) },
        message: 'Layer "adapters" may not import the package "{{dependency.source}}": Bot Framework types stay in the Teams layer (only the bot-state Storage adapters, ' + BOT_STATE_STORAGE.join(' and ') + ', implement botbuilder Storage); ' + SEE + '.',
      },
      // The one exception: bot-state Storage adapters implement botbuilder's Storage.
      { from: { file: { categories: 'bot-state-storage' } }, allow: { to: pkg(...BOT_FRAMEWORK) } },
    ],
  },
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'appPackage/build/**', 'coverage/**', 'data/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // Import boundaries between the layers (eslint-plugin-boundaries; what may import what is in
    // docs/architecture.md). Only files under src/ belong to a layer; tests, benches and scripts
    // may import anything.
    files: ['src/**/*.ts'],
    plugins: { boundaries },
    settings: {
      'boundaries/root-path': rootDir,
      'boundaries/elements': LAYERS.map((l) => ({ ...l, partialMatch: false })),
      'boundaries/files': [
        { category: 'entry', pattern: ENTRY_FILES },
        { category: 'bot-state-storage', pattern: BOT_STATE_STORAGE },
      ],
      'boundaries/dependency-nodes': ['import', 'export', 'dynamic-import', 'require'],
      // TypeScript's `import x = require('...')` too.
      'boundaries/additional-dependency-nodes': [{ selector: 'TSExternalModuleReference > Literal', kind: 'value', name: 'import-equals' }],
      'import/resolver': { node: { extensions: ['.ts', '.js', '.json'] } },
    },
    rules: {
      'boundaries/dependencies': layeringRule,
      // Every file under src/ belongs to a layer (or is an entry point).
      'boundaries/no-unknown-files': 'error',
    },
  },
  {
    // Patterns that can backtrack super-linearly freeze the whole bot on one crafted message
    // (every conversation and /healthz wait). These catch the next one at lint time.
    plugins: { regexp },
    rules: {
      'regexp/no-super-linear-backtracking': 'error',
      'regexp/no-super-linear-move': 'error',
      'regexp/no-misleading-capturing-group': 'error',
      'regexp/no-useless-backreference': 'error',
      'regexp/no-empty-alternative': 'error',
      'regexp/no-dupe-disjunctions': 'error',
      'regexp/no-potentially-useless-backreference': 'error',
      'regexp/optimal-quantifier-concatenation': 'error',
    },
  },
  {
    rules: {
      // Unused parameters are fine when prefixed with _ (interface implementations, handlers).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: {
      globals: {
        console: 'readonly',
        process: 'readonly',
        Buffer: 'readonly',
        fetch: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        module: 'writable',
        require: 'readonly',
        __dirname: 'readonly',
      },
    },
  },
  {
    // Plain .js files here are CommonJS (jest.config.js, test helpers).
    files: ['**/*.js', '**/*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // Tests load JSON fixtures and optional modules with require().
      '@typescript-eslint/no-require-imports': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);
