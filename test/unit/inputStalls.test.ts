/**
 * No message stalls the bot: adversarial texts (the shapes that made backtracking patterns
 * quadratic) are answered within a CPU budget, and /healthz keeps answering meanwhile.
 * Runs the real app in-process.
 *
 * How the stall is measured so that it holds on a loaded 2-core machine: a /healthz request
 * waits for the event loop, and what the bot did meanwhile shows as this process's CPU time
 * during that wait; time the operating system gave to other processes does not. So each
 * /healthz wait is measured both ways: its CPU time (the bot's own stall) must stay under
 * 100 ms, and its wall time under a generous second. Before the patterns were made linear a
 * 28 KB message cost seconds of CPU, and 1 MB minutes.
 */
import type { Activity } from 'botbuilder';
import { MAX_MESSAGE_CHARS } from '../../src/teams/bot/messageLimits';
import { PASTE_TOO_LONG } from '../../src/teams/bulk/bulkInput';
import { messageFrom, replyTexts, startInProcessApp, type RunningApp } from '../support/e2e/inProcessApp';

const KB = 1024;
const MB = 1024 * KB;
/**
 * CPU the whole process may spend on one message (user + system). The process's CPU includes V8's
 * collector threads and the app's own timers: under a full test run on 2 cores the 28 KB pasted
 * CSV once measured 293 ms at best of five (about 50 ms alone). A quadratic pattern costs seconds
 * here, so 400 ms still tells one apart; the bot's own stall is the /healthz budget below.
 */
const CPU_BUDGET_MS = 400;
/** Most CPU this process may spend while one /healthz request waits (the bot's own stall). */
const HEALTHZ_BUDGET_MS = 100;
/** Longest wall-clock wait of one /healthz request, load included. */
const HEALTHZ_WALL_LIMIT_MS = 1_000;
const ATTEMPTS = 5;

function fill(unit: string, size: number, prefix = '', suffix = ''): string {
  const body = unit.repeat(Math.ceil((size - prefix.length - suffix.length) / unit.length));
  return prefix + body.slice(0, Math.max(0, size - prefix.length - suffix.length)) + suffix;
}

/** Each shape once at Teams' size and once at 1 MB. */
const SHAPES: Array<[string, (size: number) => string]> = [
  ['repeated "a "', (n) => fill('a ', n)],
  ['a guest question over repeated "a "', (n) => fill('a ', n, 'why did I get a code? ', ' a@')],
  ['"status of" and repeated "?"', (n) => fill('?', n, 'status of ', 'x')],
  ['"status of" and repeated "a "', (n) => fill('a ', n, 'status of ', '\u0000')],
  ['repeated "<"', (n) => fill('<', n)],
  ['repeated "<" after an @', (n) => fill('<', n, 'what sign-in will a@b.c get ')],
  ['repeated "@"', (n) => fill('@', n)],
  ['repeated "a@"', (n) => fill('a@', n, 'what sign-in will ')],
  ['mixed "<a @ ? . "', (n) => fill('<a @? .\t', n)],
  ['"invite" and repeated " to "', (n) => fill(' to', n, 'invite a@b.c')],
  ['"invite" and repeated " as "', (n) => fill(' as', n, 'invite jane ')],
  ['"invite" and an unclosed <', (n) => fill(' <', n, 'invite Jane ', ' a@b.c')],
  ['"bulk invite to" and repeated " "', (n) => fill(' x', n, 'bulk invite to ', '?')],
  ['repeated "what sign in "', (n) => fill('what sign in ', n)],
  ['repeated "lost "', (n) => fill('lost ', n)],
  ['repeated mailto links', (n) => fill('<a href="mailto:', n)],
  ['repeated HTML paragraph openings', (n) => fill('<p', n)],
  ['a pasted CSV of one address', (n) => fill('\nJane,jane@fabrikam.com', n, 'Name,Email')],
];

const SIZES: Array<[string, number]> = [
  ['28 KB (the most read)', MAX_MESSAGE_CHARS],
  ['1 MB', MB],
];

describe('no message stalls the bot', () => {
  let running: RunningApp;
  beforeAll(async () => {
    running = await startInProcessApp();
    // Warm up: the first turn loads the dialogs, the cards and the store statements.
    await (await running.post(messageFrom('help'))).json();
    await (await running.post(messageFrom('why did I get a code? a@b.c'))).json();
    await (await running.post(messageFrom('Name,Email\nJane,jane@fabrikam.com\nJohn,john@fabrikam.com'))).json();
    await (await running.post(messageFrom('status of jane@fabrikam.com'))).json();
    await (await running.post(messageFrom(fill('warm up ', MB)))).json();
    await fetch(`${running.baseUrl}/healthz`).then((r) => r.json());
  });
  afterAll(async () => {
    await running?.close();
  });

  interface Measured {
    cpuMs: number;
    /** CPU used by this process during the longest-CPU /healthz wait. */
    worstHealthzCpuMs: number;
    worstHealthzWallMs: number;
    status: number;
    replies: string[];
  }

  async function measure(activity: Partial<Activity>): Promise<Measured> {
    const body = JSON.stringify(activity);
    let polling = true;
    let worstHealthzCpuMs = 0;
    let worstHealthzWallMs = 0;
    const poll = (async () => {
      while (polling) {
        const started = performance.now();
        const cpuStarted = process.cpuUsage();
        await fetch(`${running.baseUrl}/healthz`).then((r) => r.arrayBuffer());
        const cpu = process.cpuUsage(cpuStarted);
        worstHealthzCpuMs = Math.max(worstHealthzCpuMs, (cpu.user + cpu.system) / 1000);
        worstHealthzWallMs = Math.max(worstHealthzWallMs, performance.now() - started);
        // A pause between polls keeps the poller's own CPU small beside the bot's; a stall over
        // 100 ms still holds up the request sent just before it.
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const cpuBefore = process.cpuUsage();
    const res = await fetch(`${running.baseUrl}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const json = (await res.json()) as unknown;
    const cpu = process.cpuUsage(cpuBefore);
    polling = false;
    await poll;
    return { cpuMs: (cpu.user + cpu.system) / 1000, worstHealthzCpuMs, worstHealthzWallMs, status: res.status, replies: replyTexts(json) };
  }

  for (const [sizeName, size] of SIZES) {
    for (const [shapeName, make] of SHAPES) {
      it(`answers a ${sizeName} message of ${shapeName} within ${CPU_BUDGET_MS} ms of CPU, /healthz waiting at most ${HEALTHZ_BUDGET_MS} ms`, async () => {
        // Best of a few attempts: a garbage collection or another process can take a moment,
        // but a message that really stalls the bot (seconds, before) fails every time.
        let best = { cpuMs: Infinity, worstHealthzCpuMs: Infinity, worstHealthzWallMs: Infinity };
        for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
          const result = await measure(messageFrom(make(size)));
          expect(result.status).toBe(200);
          expect(result.replies.length).toBeGreaterThan(0);
          best = {
            cpuMs: Math.min(best.cpuMs, result.cpuMs),
            worstHealthzCpuMs: Math.min(best.worstHealthzCpuMs, result.worstHealthzCpuMs),
            worstHealthzWallMs: Math.min(best.worstHealthzWallMs, result.worstHealthzWallMs),
          };
          if (best.cpuMs < CPU_BUDGET_MS && best.worstHealthzCpuMs < HEALTHZ_BUDGET_MS && best.worstHealthzWallMs < HEALTHZ_WALL_LIMIT_MS) break;
        }
        expect(best.cpuMs).toBeLessThan(CPU_BUDGET_MS);
        expect(best.worstHealthzCpuMs).toBeLessThan(HEALTHZ_BUDGET_MS);
        expect(best.worstHealthzWallMs).toBeLessThan(HEALTHZ_WALL_LIMIT_MS);
      });
    }
  }

  it(`tells the sender when a message is longer than ${MAX_MESSAGE_CHARS.toLocaleString('en-US')} characters and reads only the start`, async () => {
    const result = await measure(messageFrom(fill('a ', MB)));
    expect(result.replies.join('\n')).toContain(`longer than ${MAX_MESSAGE_CHARS.toLocaleString('en-US')} characters`);
  });

  it('refuses a pasted CSV that was cut rather than inviting the first part of it', async () => {
    const rows = Array.from({ length: 2_000 }, (_, i) => `Guest ${i},guest${i}@fabrikam.com`).join('\n');
    const result = await measure(messageFrom(`Name,Email\n${rows}\n${fill('\nJane,jane@fabrikam.com', MB)}`));
    const replies = result.replies.join('\n');
    expect(replies).toContain(PASTE_TOO_LONG);
    expect(replies).not.toContain('Confirm');
  });

  it('does not mention a cut for a message within the limit', async () => {
    const result = await measure(messageFrom('help'));
    expect(result.replies.join('\n')).not.toContain('characters');
  });
});
