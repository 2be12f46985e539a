/**
 * The two bots the turn benchmark (turns.bench.ts) starts, each in its own process, unbundled
 * (tsc's output; the load phases run the bundles scripts/bundle-bench.mjs makes of the same files):
 *
 *   node dist/bench/turnsBots.js bot       this bot (turnsThisBot.ts)
 *   node dist/bench/turnsBots.js minimal   the minimal bot (turnsMinimalBot.ts)
 *
 * Each module is loaded only for its own kind, so the minimal bot's process holds botbuilder and
 * restify alone.
 */
export type { UsageReport, MemoryBreakdown } from './turnsBotControl';

const kind = process.argv[2];
if (kind === 'minimal') void import('./turnsMinimalBot').then((m) => m.runMinimalBot());
else if (kind === 'bot') void import('./turnsThisBot').then((m) => m.runThisBot());
else {
  process.stderr.write('usage: turnsBots.js bot|minimal\n');
  process.exit(1);
}
