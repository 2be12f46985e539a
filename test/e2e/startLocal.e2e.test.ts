/**
 * `npm start` on a machine without a desktop: no xdg-open on the PATH and no DISPLAY. The
 * Playground must not try to open a browser (it died of that before, and took the bot down
 * with it); both processes stay up, the address is printed, and the Playground answers.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, PROJECT_ROOT, waitFor } from '../support/e2e/processes';

jest.setTimeout(120_000);

describe('npm start on a machine without a desktop', () => {
  it('keeps the bot and the Playground running, prints the address and serves the Playground', async () => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'gob-headless-'));
    const emptyPath = path.join(work, 'bin');
    fs.mkdirSync(emptyPath);
    const botPort = await freePort();
    const playgroundPort = await freePort();
    const child = spawn(process.execPath, [path.join(PROJECT_ROOT, 'scripts', 'start-local.mjs')], {
      cwd: PROJECT_ROOT,
      // Only what a headless server would have: a PATH without xdg-open, no DISPLAY.
      env: {
        PATH: emptyPath,
        HOME: work,
        PORT: String(botPort),
        PLAYGROUND_PORT: String(playgroundPort),
        DATA_DIR: path.join(work, 'data'),
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const handle = { process: child, output: () => output, stop: async () => null };
    try {
      const playgroundUrl = `http://127.0.0.1:${playgroundPort}`;
      await waitFor('the Playground', async () => (await fetch(playgroundUrl)).ok, 60_000, handle);
      await waitFor('the address', async () => output.includes(`Open http://localhost:${playgroundPort}`), 10_000, handle);
      // The Playground tried to open a browser right after it started listening: give a crash time to show.
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      expect({ exitCode: child.exitCode, output: child.exitCode === null ? '' : output }).toEqual({ exitCode: null, output: '' });
      expect((await fetch(`http://127.0.0.1:${botPort}/healthz`)).status).toBe(200);
      expect((await fetch(playgroundUrl)).status).toBe(200);
    } finally {
      if (child.exitCode === null) child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
      fs.rmSync(work, { recursive: true, force: true });
    }
    expect(await exited).toBe(0);
  });
});
