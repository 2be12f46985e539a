#!/usr/bin/env node
// `npm run start:azure`: what `npm start` does (the bot in local mode on the demo tenant, and the
// Agents Playground pointed at it; scripts/start-local.mjs), with the store in Azure Storage
// (STORE=azure) instead of the SQLite file.
//
// - AZURE_STORAGE_CONNECTION_STRING (or AZURE_STORAGE_ACCOUNT_URL / the per-service URLs with a
//   credential), from the environment or .env: the bot uses that account as it is.
// - None given: an embedded Azurite (the Azure Storage emulator, a dev dependency) is started on
//   127.0.0.1 on free ports, its data kept in DATA_DIR/azurite so a restart finds it again, and
//   the bot gets its connection string. It stops after the bot and the Playground.
//
// Ctrl-C stops everything. Needs `npm run build` first (the npm script does it).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import dotenv from 'dotenv';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
if (fs.existsSync(path.join(root, '.env'))) dotenv.config({ path: path.join(root, '.env'), quiet: true });

/**
 * `--azurite <folder>`: this script as Azurite's keeper, in a process group of its own (so the
 * terminal's Ctrl-C does not stop the storage under a bot still shutting down): starts Azurite,
 * prints its connection string and ports as one JSON line, and stops it on SIGTERM.
 */
if (process.argv[2] === '--azurite') {
  const { startAzurite } = require(path.join(root, 'dist', 'src', 'tools', 'azurite.js'));
  const instance = await startAzurite({ location: process.argv[3] }).catch((error) => {
    process.stdout.write(`${JSON.stringify({ error: error.message })}\n`);
    process.exit(1);
  });
  process.stdout.write(`${JSON.stringify({ connectionString: instance.connectionString, ports: instance.ports })}\n`);
  const quit = () => instance.stop().then(() => process.exit(0));
  process.on('SIGTERM', quit);
  process.on('SIGINT', () => undefined);
  process.on('disconnect', quit);
  await new Promise(() => undefined);
}

/** Starts Azurite's keeper and resolves with what it printed. */
function startKeeper(location) {
  const keeper = spawn(process.execPath, [fileURLToPath(import.meta.url), '--azurite', location], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    detached: true,
  });
  return new Promise((resolve, reject) => {
    let out = '';
    keeper.stdout.on('data', (chunk) => {
      out += chunk.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (!line) return;
      const answer = JSON.parse(line);
      if (answer.error) reject(new Error(answer.error));
      else resolve({ ...answer, stop: () => new Promise((done) => (keeper.exitCode !== null ? done() : (keeper.once('exit', done), keeper.kill('SIGTERM')))) });
    });
    keeper.once('exit', (code) => reject(new Error(`exited with code ${code}`)));
  });
}

const given = ['AZURE_STORAGE_CONNECTION_STRING', 'AZURE_STORAGE_ACCOUNT_URL', 'AZURE_STORAGE_TABLE_URL'].some((name) => process.env[name]?.trim());
let azurite = null;
const env = { ...process.env, STORE: 'azure' };
if (!given) {
  const location = path.join(path.resolve(root, process.env.DATA_DIR || 'data'), 'azurite');
  fs.mkdirSync(location, { recursive: true });
  try {
    azurite = await startKeeper(location);
  } catch (error) {
    console.error(`Azurite (the local Azure Storage emulator) could not start: ${error.message}`);
    process.exit(1);
  }
  env.AZURE_STORAGE_CONNECTION_STRING = azurite.connectionString;
  console.log(
    `Azurite (local Azure Storage) on 127.0.0.1: tables ${azurite.ports.table}, blobs ${azurite.ports.blob}, queues ${azurite.ports.queue}; data in ${path.relative(root, location) || location}`,
  );
  // Azurite's development account key is public (the same in every Azurite): no secret printed.
  console.log(`A second instance on the same store: STORE=azure PORT=3979 AZURE_STORAGE_CONNECTION_STRING="${azurite.connectionString}" npm run start:bot`);
} else {
  console.log('Store: the Azure Storage account given in the environment.');
}

const local = spawn(process.execPath, [path.join(root, 'scripts', 'start-local.mjs')], { cwd: root, env, stdio: 'inherit' });
let stopping = false;
const stop = (signal) => {
  if (stopping) return;
  stopping = true;
  // start-local stops the bot and the Playground; Azurite goes once they are down.
  if (local.exitCode === null && local.signalCode === null) local.kill(signal);
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
local.on('exit', async (code, signal) => {
  await azurite?.stop();
  process.exit(code ?? (signal ? 1 : 0));
});
