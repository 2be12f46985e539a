/**
 * What both bots of the turn benchmark share (turnsMinimalBot.ts, turnsThisBot.ts): the IPC
 * protocol with the benchmark (turns.bench.ts) and the memory they report, measured the same
 * way in both. {ready, port} once listening; on {usage} they answer with CPU time and memory;
 * {stop} ends them.
 */
import fs from 'node:fs';
export interface UsageReport {
  usage: true;
  /** CPU time (user + system) since the process started, in milliseconds. */
  cpuMs: number;
  /** Peak resident set size so far, in MB. */
  peakRssMb: number;
  rssMb: number;
  /** process.memoryUsage() (MB) when the sampled RSS was highest: where the peak went. */
  atPeak: MemoryBreakdown;
}

export interface MemoryBreakdown {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  /**
   * Linux only (else 0): the RSS in anonymous memory (V8's heap, malloc) and in pages of files
   * (the node binary's code and its ICU data, native add-ons), from /proc/self/status.
   */
  rssAnon: number;
  rssFile: number;
}

const MB = 1024 * 1024;
let atPeak: MemoryBreakdown = { rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0, rssAnon: 0, rssFile: 0 };

/** RssAnon and RssFile (MB) from /proc/self/status, or zeros where there is none. */
function rssKinds(): { rssAnon: number; rssFile: number } {
  try {
    const status = fs.readFileSync('/proc/self/status', 'utf8');
    const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? '0') / 1024;
    return { rssAnon: kb('RssAnon'), rssFile: kb('RssFile') };
  } catch {
    return { rssAnon: 0, rssFile: 0 };
  }
}

/** Samples memory every 250 ms in both bots alike, keeping the breakdown of the highest RSS. */
function samplePeak(): void {
  const m = process.memoryUsage();
  if (m.rss / MB >= atPeak.rss) {
    atPeak = {
      rss: m.rss / MB,
      heapTotal: m.heapTotal / MB,
      heapUsed: m.heapUsed / MB,
      external: m.external / MB,
      arrayBuffers: m.arrayBuffers / MB,
      ...rssKinds(),
    };
  }
}
setInterval(samplePeak, 250).unref();

export function send(message: unknown): void {
  process.send?.(message);
}

function usage(): UsageReport {
  samplePeak();
  const cpu = process.cpuUsage();
  return {
    usage: true,
    cpuMs: (cpu.user + cpu.system) / 1000,
    // resourceUsage().maxRSS is the peak resident set size in kilobytes.
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    rssMb: process.memoryUsage.rss() / MB,
    atPeak,
  };
}

export function serveControl(stop: () => Promise<void>): void {
  process.on('message', (message: unknown) => {
    const command = (message as { command?: string } | null)?.command;
    if (command === 'usage') send(usage());
    if (command === 'stop') void stop().finally(() => process.exit(0));
  });
  process.on('disconnect', () => process.exit(0));
}

