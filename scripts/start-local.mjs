#!/usr/bin/env node
// `npm start`: the bot on the embedded default (local mode, demo tenant, SQLite in DATA_DIR) plus the
// Microsoft 365 Agents Playground pointed at it. Ctrl-C stops both.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import dotenv from 'dotenv';
import { writeConfigFor } from './playground-config.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
if (fs.existsSync(path.join(root, '.env'))) dotenv.config({ path: path.join(root, '.env'), quiet: true });

const botPort = Number(process.env.PORT || 3978);
const botHost = process.env.HOST || '127.0.0.1';
const playgroundPort = Number(process.env.PLAYGROUND_PORT || 56150);
const dataDir = path.resolve(root, process.env.DATA_DIR || 'data');
const botUrl = `http://${botHost.includes(':') ? `[${botHost}]` : botHost}:${botPort}`;

// Children get their own process group, so Ctrl-C reaches them once, from us, not twice.
const bot = spawn(process.execPath, [path.join(root, 'dist', 'src', 'index.js')], {
  cwd: root,
  env: process.env,
  stdio: 'inherit',
  detached: true,
});
let playground = null;
let stopping = false;
const running = new Set([bot]);

function stopAll(exitCode) {
  if (stopping) return;
  stopping = true;
  process.exitCode = exitCode;
  for (const child of running) child.kill(child === playground ? 'SIGINT' : 'SIGTERM');
  // Last resort: anything still alive after 15 s is killed.
  setTimeout(() => {
    for (const child of running) child.kill('SIGKILL');
  }, 15_000).unref();
}

function watch(child, name) {
  child.on('exit', (code, signal) => {
    running.delete(child);
    if (!stopping) {
      console.error(`${name} stopped unexpectedly (${signal ?? `exit code ${code}`}); stopping the rest.`);
      stopAll(code || 1);
    }
    if (running.size === 0) process.exit(process.exitCode ?? 0);
  });
}
watch(bot, 'The bot');

process.on('SIGINT', () => stopAll(0));
process.on('SIGTERM', () => stopAll(0));

async function waitForHealth(deadlineMs) {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline && !stopping) {
    try {
      if ((await fetch(`${botUrl}/healthz`)).ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return false;
}

/** The command that opens a URL on this desktop, or null where there is no desktop to open it on. */
function browserCommand(url) {
  if (process.env.BROWSER === 'none') return null;
  if (process.platform === 'darwin') return ['open', [url]];
  if (process.platform === 'win32') return ['cmd', ['/c', 'start', '""', url]];
  if (!process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return null;
  const found = (process.env.PATH ?? '')
    .split(path.delimiter)
    .filter(Boolean)
    .map((dir) => path.join(dir, 'xdg-open'))
    .find((file) => {
      try {
        fs.accessSync(file, fs.constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
  return found ? [found, [url]] : null;
}

/** Opens the Playground in a browser when this machine has a desktop; a failure changes nothing. */
function openBrowser(url) {
  const command = browserCommand(url);
  if (!command) return;
  try {
    const opener = spawn(command[0], command[1], { stdio: 'ignore', detached: true });
    opener.on('error', () => {});
    opener.unref();
  } catch {
    // No browser: the address printed above is enough.
  }
}

if (!(await waitForHealth(30_000))) {
  if (!stopping) {
    console.error(`The bot did not answer ${botUrl}/healthz within 30 s.`);
    stopAll(1);
  }
} else {
  fs.mkdirSync(dataDir, { recursive: true });
  const cli = require.resolve('@microsoft/m365agentsplayground/cli.js');
  // PLAYGROUND_USER chats as another demo person (default: the committed file's current user).
  let configPath = process.env.M365_AGENTS_PLAYGROUND_CONFIG_PATH;
  if (process.env.PLAYGROUND_USER) {
    try {
      configPath = writeConfigFor(root, process.env.PLAYGROUND_USER);
    } catch (error) {
      console.error(`PLAYGROUND_USER: ${error.message}`);
      stopAll(2);
    }
  }
  playground = spawn(
    process.execPath,
    [cli, '--app-endpoint', `${botUrl}/api/messages`, '--channel-id', 'msteams', '--port', String(playgroundPort), '--disable-telemetry'],
    {
      cwd: root,
      env: {
        ...process.env,
        // The Playground never opens a browser itself: where there is no xdg-open (a server, a
        // container, WSL) its attempt kills it. This script opens one when it can (below).
        TEAMSAPPTESTER_BROWSER: 'none',
        // Otherwise the Playground writes ./devTools/m365agentsplayground.log into the project.
        M365_AGENTS_PLAYGROUND_LOGFILE: process.env.M365_AGENTS_PLAYGROUND_LOGFILE || path.join(dataDir, 'playground.log'),
        ...(configPath ? { M365_AGENTS_PLAYGROUND_CONFIG_PATH: configPath } : {}),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
      detached: true,
    },
  );
  running.add(playground);
  watch(playground, 'The Agents Playground');
  let announced = false;
  playground.stdout.on('data', (chunk) => {
    const text = chunk.toString();
    process.stdout.write(text);
    // The Playground picks another port when the default is taken, and says which.
    const listening = /Listening on (\d+)/.exec(text);
    if (listening && !announced) {
      announced = true;
      const url = `http://localhost:${listening[1]}`;
      console.log(`\nOpen ${url} to chat with the bot (bot: ${botUrl}/api/messages). Ctrl-C stops both.\n`);
      openBrowser(url);
    }
  });
}
