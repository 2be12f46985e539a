/**
 * Child processes for end-to-end tests: the bot started as a user would (`node dist/src/index.js`)
 * and the Microsoft 365 Agents Playground pointed at it. Requires `npm run build` first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { playgroundConfig, type DemoPersonName } from './playgroundConfig';

export const PROJECT_ROOT = path.resolve(__dirname, '..', '..', '..');
const PLAYGROUND_CLI = require.resolve('@microsoft/m365agentsplayground/cli.js');

export interface ChildHandle {
  process: ChildProcess;
  /** Everything the child printed (stdout and stderr), for failure messages. */
  output(): string;
  /** SIGINT/SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function track(child: ChildProcess, signal: NodeJS.Signals): ChildHandle {
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
  return {
    process: child,
    output: () => output,
    stop: async (graceMs = 5_000) => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        const code = await exited;
        clearTimeout(timer);
        return code;
      }
      return exited;
    },
  };
}

export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, child?: ChildHandle): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child && child.process.exitCode !== null) {
      throw new Error(`${what}: the process exited with code ${child.process.exitCode}\n${child.output()}`);
    }
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what}: not ready after ${timeoutMs} ms\n${child?.output() ?? ''}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export interface BotProcess extends ChildHandle {
  port: number;
  url: string;
  dataDir: string;
}

/** Starts `node dist/src/index.js` on a free loopback port with a fresh DATA_DIR and waits for /healthz. */
export async function startBotProcess(
  options: { env?: Record<string, string>; dataDir?: string; readyTimeoutMs?: number } = {},
): Promise<BotProcess> {
  const port = await freePort();
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'gob-e2e-data-'));
  const child = spawn(process.execPath, [path.join(PROJECT_ROOT, 'dist', 'src', 'index.js')], {
    cwd: PROJECT_ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? os.tmpdir(),
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const handle = track(child, 'SIGTERM');
  const url = `http://127.0.0.1:${port}`;
  const stop = async (graceMs?: number): Promise<number | null> => {
    const code = await handle.stop(graceMs);
    if (!options.dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    return code;
  };
  try {
    await waitFor('bot /healthz', async () => (await fetch(`${url}/healthz`)).ok, options.readyTimeoutMs ?? 20_000, handle);
  } catch (error) {
    await stop();
    throw error;
  }
  return { ...handle, stop, port, url, dataDir };
}

export interface PlaygroundProcess extends ChildHandle {
  port: number;
  url: string;
}

/** Starts the Agents Playground against `botUrl`, chatting as `user` (default Megan Bowen). */
export async function startPlayground(botUrl: string, user: DemoPersonName = 'Megan Bowen'): Promise<PlaygroundProcess> {
  const port = await freePort();
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gob-e2e-playground-'));
  const configFile = path.join(workDir, '.m365agentsplayground.yml');
  // YAML is a superset of JSON, so the Playground reads this as is.
  fs.writeFileSync(configFile, JSON.stringify(playgroundConfig(user), null, 2));
  const child = spawn(
    process.execPath,
    [PLAYGROUND_CLI, '-e', `${botUrl}/api/messages`, '-c', 'msteams', '-p', String(port), '--dt'],
    {
      cwd: workDir,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? os.tmpdir(),
        M365_AGENTS_PLAYGROUND_CONFIG_PATH: configFile,
        TEAMSAPPTESTER_BROWSER: 'none',
        M365_AGENTS_PLAYGROUND_LOGFILE: path.join(workDir, 'playground.log'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  // The Playground flushes and exits on SIGINT.
  const handle = track(child, 'SIGINT');
  const url = `http://127.0.0.1:${port}`;
  const stop = async (graceMs?: number): Promise<number | null> => {
    const code = await handle.stop(graceMs);
    fs.rmSync(workDir, { recursive: true, force: true });
    return code;
  };
  try {
    await waitFor('Agents Playground', async () => (await fetch(url)).ok, 30_000, handle);
  } catch (error) {
    await stop();
    throw error;
  }
  return { ...handle, stop, port, url };
}
