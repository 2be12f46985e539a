/**
 * Staging a large file never holds the event loop: duplicates are found in memory, and the
 * validator yields between batches. Measured as the CPU this process used between two ticks of
 * a 5 ms timer, so another process taking the core does not count against the bot; before,
 * one 10,000-row file repeating an address took over ten seconds in a single block.
 */
import { bulkTestEnv } from '../../support/bulkEnv';

/** Most CPU the bot may use without letting a timer run. */
const STALL_LIMIT_MS = 100;

async function longestCpuStall(work: () => Promise<unknown>): Promise<{ longestMs: number; ticks: number }> {
  let longestMs = 0;
  let ticks = 0;
  let last = process.cpuUsage();
  const ticker = setInterval(() => {
    const used = process.cpuUsage(last);
    longestMs = Math.max(longestMs, (used.user + used.system) / 1000);
    ticks++;
    last = process.cpuUsage();
  }, 5);
  try {
    await work();
  } finally {
    clearInterval(ticker);
  }
  const tail = process.cpuUsage(last);
  return { longestMs: Math.max(longestMs, (tail.user + tail.system) / 1000), ticks };
}

function csvOf(rows: number, address: (i: number) => string): string {
  const lines = ['Name,Email'];
  for (let i = 1; i <= rows; i++) lines.push(`Partner ${i},${address(i)}`);
  return `${lines.join('\n')}\n`;
}

/** Attempts per case: a garbage collection on V8's helper threads counts as this process's CPU; a real stall fails every time. */
const ATTEMPTS = 3;

/** Stages `csv` in a fresh environment up to ATTEMPTS times; the least stalled attempt counts. */
async function stageMeasured(csv: string): Promise<{ env: ReturnType<typeof bulkTestEnv>; staged: Awaited<ReturnType<ReturnType<typeof bulkTestEnv>['stage']>>; longestMs: number; ticks: number }> {
  let best: Awaited<ReturnType<typeof stageMeasured>> | undefined;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const env = bulkTestEnv();
    // Warm the parser and the validator so the measurement is of the staging itself.
    await env.stage(csvOf(50, (i) => `warm${i}@example.org`));
    let staged: Awaited<ReturnType<typeof env.stage>> | undefined;
    const { longestMs, ticks } = await longestCpuStall(async () => {
      staged = await env.stage(csv);
    });
    if (!best || longestMs < best.longestMs) best = { env, staged: staged!, longestMs, ticks };
    if (longestMs < STALL_LIMIT_MS) break;
  }
  return best!;
}

describe('staging a large duplicate-heavy file', () => {
  it('keeps the event loop responsive for 10,000 rows of one address, and reports each as a duplicate of the first', async () => {
    const { env, staged, longestMs, ticks } = await stageMeasured(csvOf(10_000, () => 'same.partner@example.org'));
    expect(staged.summary).toMatchObject({ rows: 10_000, valid: 1, duplicates: 9_999 });
    const rows = env.db.prepare("SELECT COUNT(*) AS n FROM bulk_rows WHERE job_id = ? AND state = 'duplicate' AND error = 'duplicate of row 2'").get(staged.job.id) as { n: number };
    expect(rows.n).toBe(9_999);
    expect(ticks).toBeGreaterThan(1);
    expect(longestMs).toBeLessThan(STALL_LIMIT_MS);
  });

  it('keeps the event loop responsive for 10,000 rows where every other row repeats an earlier one', async () => {
    const { staged, longestMs } = await stageMeasured(csvOf(10_000, (i) => `partner${Math.ceil(i / 2)}@example.org`));
    expect(staged.summary).toMatchObject({ rows: 10_000, valid: 5_000, duplicates: 5_000 });
    expect(longestMs).toBeLessThan(STALL_LIMIT_MS);
  });
});
