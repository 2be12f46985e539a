#!/usr/bin/env node
// Opens one more Agents Playground against a bot that is already running (npm start or
// npm run start:bot), chatting as another demo person: `npm run playground -- "Alex Wilber"`.
// Each person gets their own Playground, like separate Teams clients, so proactive messages
// (approval cards, "your request was approved") reach whoever they are for.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import dotenv from 'dotenv';
import fs from 'node:fs';
import { demoPeople, writeConfigFor } from './playground-config.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
if (fs.existsSync(path.join(root, '.env'))) dotenv.config({ path: path.join(root, '.env'), quiet: true });
const require = createRequire(import.meta.url);

const personName = process.argv.slice(2).join(' ').trim();
if (!personName) {
  console.error(`Usage: npm run playground -- "<demo person>"  (one of: ${demoPeople(root).map((p) => p.name).join(', ')})`);
  process.exit(2);
}
let configFile;
try {
  configFile = writeConfigFor(root, personName);
} catch (error) {
  console.error(error.message);
  process.exit(2);
}

const botUrl = `http://${process.env.HOST || '127.0.0.1'}:${Number(process.env.PORT || 3978)}`;
const healthy = await fetch(`${botUrl}/healthz`).then((r) => r.ok, () => false);
if (!healthy) {
  console.error(`No bot answers at ${botUrl}/healthz. Start it first (npm start, or npm run start:bot), then run this again.`);
  process.exit(1);
}

const port = await new Promise((resolve, reject) => {
  const server = net.createServer();
  server.once('error', reject);
  server.listen(0, '127.0.0.1', () => {
    const { port: free } = server.address();
    server.close(() => resolve(free));
  });
});

const playground = spawn(
  process.execPath,
  [require.resolve('@microsoft/m365agentsplayground/cli.js'), '--app-endpoint', `${botUrl}/api/messages`, '--channel-id', 'msteams', '--port', String(port), '--disable-telemetry'],
  {
    cwd: path.dirname(configFile),
    env: {
      ...process.env,
      M365_AGENTS_PLAYGROUND_CONFIG_PATH: configFile,
      // Never let the Playground launch a browser itself (it dies where there is no xdg-open).
      TEAMSAPPTESTER_BROWSER: 'none',
      M365_AGENTS_PLAYGROUND_LOGFILE: path.join(path.dirname(configFile), 'playground.log'),
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  },
);
for (let i = 0; i < 60; i += 1) {
  if (await fetch(`http://127.0.0.1:${port}`).then((r) => r.ok, () => false)) break;
  await new Promise((r) => setTimeout(r, 500));
}
console.log(`Open http://localhost:${port} to chat with the bot as ${personName}. Ctrl-C to close this Playground.`);
const stop = () => playground.kill('SIGINT');
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
playground.on('exit', (code) => {
  fs.rmSync(path.dirname(configFile), { recursive: true, force: true });
  process.exit(code ?? 0);
});
