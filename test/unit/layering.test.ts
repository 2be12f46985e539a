/**
 * The import-boundary rule (eslint.config.mjs; docs/architecture.md, "The rules"): `npm run lint`
 * fails when a lower layer imports a higher one or the Bot Framework leaks below the Teams
 * surface, and names the two layers in its message.
 *
 * Small snippets are linted with the project's own ESLint config as virtual files placed at layer
 * paths (ESLint's `lintText` with `filePath`). ESLint loads its flat config with a dynamic
 * `import()`, which Jest's module sandbox refuses, so the linting runs in one plain `node` child.
 * The import targets are real files picked from each layer at run time, so the cases hold while
 * files are renamed inside a layer.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '..', '..');

interface LintCase {
  filePath: string;
  code: string;
}
interface LintMessage {
  ruleId: string | null;
  message: string;
}

/** The first .ts file (sorted) under src/<dir>: a real import target in that layer. */
function fileIn(dir: string): string {
  const abs = path.join(root, 'src', dir);
  const files = (fs.readdirSync(abs, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .sort();
  if (files.length === 0) throw new Error(`no .ts file under src/${dir}`);
  return path.join('src', dir, files[0]!);
}

/** The import specifier from `fromFile` to `toFile` as the code would write it (no extension). */
function specifier(fromFile: string, toFile: string): string {
  const rel = path.relative(path.dirname(fromFile), toFile).replace(/\.ts$/, '').split(path.sep).join('/');
  return rel.startsWith('.') ? rel : `./${rel}`;
}

function importing(fromFile: string, target: string, typeOnly = false): LintCase {
  const source = target.startsWith('src/') ? specifier(fromFile, target) : target;
  const code = typeOnly
    ? `import type * as target from '${source}';\nexport type Used = typeof target;\n`
    : `import * as target from '${source}';\nexport const used = target;\n`;
  return { filePath: fromFile, code };
}

/** Lints every case in one child process with the repository's eslint.config.mjs. */
function lintAll(cases: LintCase[]): LintMessage[][] {
  const script = `
    import { ESLint } from 'eslint';
    let input = '';
    for await (const chunk of process.stdin) input += chunk;
    const eslint = new ESLint({ cwd: process.cwd() });
    const out = [];
    for (const c of JSON.parse(input)) {
      const [result] = await eslint.lintText(c.code, { filePath: c.filePath });
      out.push(result.messages.map((m) => ({ ruleId: m.ruleId, message: m.message })));
    }
    process.stdout.write(JSON.stringify(out));
  `;
  const stdout = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: root,
    input: JSON.stringify(cases),
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  return JSON.parse(stdout) as LintMessage[][];
}

// Virtual files at layer paths; the names are unique so that no real file's settings apply.
const at = {
  domain: 'src/domain/__layeringFixture.ts',
  usecases: 'src/usecases/invite/__layeringFixture.ts',
  adapters: 'src/adapters/sqlite/__layeringFixture.ts',
  memoryAdapter: 'src/adapters/memory/__layeringFixture.ts',
  teams: 'src/teams/invite/__layeringFixture.ts',
  shared: 'src/shared/__layeringFixture.ts',
  app: 'src/app/__layeringFixture.ts',
  sqliteBotStorage: 'src/adapters/sqlite/SqliteBotStorage.ts',
  memoryBotStorage: 'src/adapters/memory/botStorage.ts',
};

const target = {
  domain: fileIn('domain'),
  usecases: fileIn('usecases'),
  adapters: fileIn('adapters'),
  teams: fileIn('teams'),
  app: fileIn('app'),
  shared: fileIn('shared'),
};

/** [what, case, the layers the message must name (from, to)] */
const refused: Array<[string, LintCase, string, string]> = [
  ['a domain file importing use cases', importing(at.domain, target.usecases), 'domain', 'usecases'],
  ['a domain file importing the Teams layer', importing(at.domain, target.teams), 'domain', 'teams'],
  ['a domain file importing node:fs', importing(at.domain, 'node:fs'), 'domain', 'node:fs'],
  ['a use case importing botbuilder', importing(at.usecases, 'botbuilder'), 'usecases', 'botbuilder'],
  ['a use case importing botbuilder types only', importing(at.usecases, 'botbuilder', true), 'usecases', 'botbuilder'],
  ['a use case re-exporting the Teams layer', { filePath: at.usecases, code: `export * from '${specifier(at.usecases, target.teams)}';\n` }, 'usecases', 'teams'],
  ['a use case loading botbuilder with import = require', { filePath: at.usecases, code: "import bb = require('botbuilder');\nexport const used = bb;\n" }, 'usecases', 'botbuilder'],
  ['a use case importing botbuilder-dialogs', importing(at.usecases, 'botbuilder-dialogs'), 'usecases', 'botbuilder-dialogs'],
  ['a use case importing better-sqlite3', importing(at.usecases, 'better-sqlite3'), 'usecases', 'better-sqlite3'],
  ['a use case importing the Graph SDK', importing(at.usecases, '@microsoft/microsoft-graph-client'), 'usecases', '@microsoft/microsoft-graph-client'],
  ['a use case importing an Azure SDK', importing(at.usecases, '@azure/identity'), 'usecases', '@azure/identity'],
  ['a use case importing card templating', importing(at.usecases, 'adaptivecards-templating'), 'usecases', 'adaptivecards-templating'],
  ['a use case importing restify', importing(at.usecases, 'restify'), 'usecases', 'restify'],
  ['a use case importing src/teams', importing(at.usecases, target.teams), 'usecases', 'teams'],
  ['a use case importing src/adapters', importing(at.usecases, target.adapters), 'usecases', 'adapters'],
  ['a use case importing src/app', importing(at.usecases, target.app), 'usecases', 'app'],
  ['a domain file importing botbuilder', importing(at.domain, 'botbuilder'), 'domain', 'botbuilder'],
  ['an adapter importing src/teams', importing(at.adapters, target.teams), 'adapters', 'teams'],
  ['an adapter importing src/app', importing(at.adapters, target.app), 'adapters', 'app'],
  ['an adapter (not bot-state Storage) importing botbuilder', importing(at.memoryAdapter, 'botbuilder'), 'adapters', 'botbuilder'],
  ['another memory adapter named like a Storage importing botbuilder', importing('src/adapters/memory/otherBotStorage.ts', 'botbuilder'), 'adapters', 'botbuilder'],
  ['the Teams layer importing adapters', importing(at.teams, target.adapters), 'teams', 'adapters'],
  ['the Teams layer importing src/app', importing(at.teams, target.app), 'teams', 'app'],
  ['shared importing use cases', importing(at.shared, target.usecases), 'shared', 'usecases'],
];

const allowed: Array<[string, LintCase]> = [
  ['domain importing domain', importing(at.domain, target.domain)],
  ['domain importing node:crypto', importing(at.domain, 'node:crypto')],
  ['a use case importing domain', importing(at.usecases, target.domain)],
  ['a use case importing use cases (ports)', importing(at.usecases, target.usecases)],
  ['a use case importing shared', importing(at.usecases, target.shared)],
  ['an adapter importing use cases (ports)', importing(at.adapters, target.usecases)],
  ['an adapter importing domain', importing(at.adapters, target.domain)],
  ['an adapter importing better-sqlite3', importing(at.adapters, 'better-sqlite3')],
  ['the SQLite bot-state Storage importing botbuilder', importing(at.sqliteBotStorage, 'botbuilder')],
  ['the memory bot-state Storage importing botbuilder', importing(at.memoryBotStorage, 'botbuilder')],
  ['the repository bundle importing botbuilder types (its bot-state Storage)', importing('src/adapters/repositories.ts', 'botbuilder', true)],
  ['the Teams layer importing use cases', importing(at.teams, target.usecases)],
  ['the Teams layer importing domain', importing(at.teams, target.domain)],
  ['the Teams layer importing botbuilder', importing(at.teams, 'botbuilder')],
  ['shared importing domain', importing(at.shared, target.domain)],
  ['app importing adapters', importing(at.app, target.adapters)],
  ['app importing the Teams layer', importing(at.app, target.teams)],
];

let refusedResults: LintMessage[][];
let allowedResults: LintMessage[][];

beforeAll(() => {
  const results = lintAll([...refused.map(([, c]) => c), ...allowed.map(([, c]) => c)]);
  refusedResults = results.slice(0, refused.length);
  allowedResults = results.slice(refused.length);
}, 120_000);

describe('the layer import rule', () => {
  it.each(refused.map(([what, , from, to], i) => [what, i, from, to] as const))('refuses %s', (_what, i, from, to) => {
    const boundary = refusedResults[i]!.filter((m) => m.ruleId === 'boundaries/dependencies');
    expect(boundary).toHaveLength(1);
    // The message says which layer may not import which.
    expect(boundary[0]!.message).toContain(`Layer "${from}" may not import`);
    expect(boundary[0]!.message).toContain(to);
  });

  it.each(allowed.map(([what], i) => [what, i] as const))('allows %s', (_what, i) => {
    expect(allowedResults[i]).toEqual([]);
  });

  it('points its messages at a section that exists', () => {
    const doc = fs.readFileSync(path.join(root, 'docs', 'architecture.md'), 'utf8');
    expect(refusedResults[0]![0]!.message).toContain('see docs/architecture.md, "The rules"');
    expect(doc).toMatch(/^## The rules$/m);
  });
});
