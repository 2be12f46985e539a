/**
 * Runs one of the TypeScript test children (test/support/*Child.ts) as a plain `node` process,
 * without a build (bulkTsRegister.js transpiles on require), and collects what it prints.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(__dirname, '../..');

export interface TsChild {
  child: ChildProcess;
  /** Everything printed so far (stdout and stderr). */
  output(): string;
  /** Lines printed on stdout so far. */
  lines(): string[];
  exited: Promise<number | null>;
  /** When `line` was first printed on stdout (ms since the epoch), or null. */
  readyAt(line: string): number | null;
  /** SIGKILL, and wait for the exit. */
  kill(): Promise<void>;
}

export function startTsChild(script: string, env: Record<string, string>): TsChild {
  const child = spawn(process.execPath, ['-r', path.join(root, 'test/support/bulkTsRegister.js'), path.join(root, script)], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let stdout = '';
  const firstSeen = new Map<string, number>();
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
    stdout += d.toString();
    for (const line of d.toString().split('\n')) if (line && !firstSeen.has(line)) firstSeen.set(line, Date.now());
  });
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    output: () => out,
    lines: () => stdout.split('\n').filter((l) => l !== ''),
    readyAt: (line) => firstSeen.get(line) ?? null,
    exited,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

export async function until(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: () => string): Promise<void> {
  const start = Date.now();
  while (!(await condition())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
