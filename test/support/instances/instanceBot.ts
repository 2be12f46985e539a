/**
 * One bot instance for the several-instances tests and the Azure bulk benchmark: the app exactly
 * as `node dist/src/index.js` builds it (loadConfig from the environment, createApp, the store the
 * configuration names: `STORE=sqlite` on a shared DATA_DIR, or `STORE=azure`), with two
 * differences a test needs:
 *
 * - DIRECTORY=graph talks to the Graph-shaped test server with a credential that hands out a
 *   fixed token (the server only checks that one is sent; no identity platform on loopback);
 * - CLOCK_OFFSET_MS shifts the app's clock (expiry tests start instances "days later");
 * - INSTANCE_FILES_DIR stands in for SharePoint: a Teams file attachment whose downloadUrl is
 *   `https://files.instances.test/<name>` is read from that folder (any other URL goes to the real
 *   download, with its checks), so a test can attach a CSV larger than a message.
 *
 * SIGUSR2 prints `{"usage": {cpuMs, peakRssMb, storageTransactions}}` (the Azure Storage requests
 * this process made, when STORE=azure), for the benchmark.
 *
 * Run as a plain `node` process with test/support/bulkTsRegister.js (no build needed). Prints one
 * JSON line `{"listening": <port>}` on stdout once it answers; SIGTERM closes it as the bot does.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { AccessToken } from '@azure/identity';
import * as teamsFileDownload from '../../../src/adapters/files/teamsFileDownload';
import { createApp } from '../../../src/app/app';
import { ConfigError, loadConfig } from '../../../src/app/config';
import { createDirectory } from '../../../src/app/createDirectory';
import type { Clock } from '../../../src/domain/clock';
import { createLogger } from '../../../src/shared/logger';
import { TEST_FILES_HOST } from './testFiles';
import type { Directory } from '../../../src/usecases/ports/Directory';

const fixedTokenCredential = {
  getToken: async (): Promise<AccessToken> => ({ token: 'instance-test-token', expiresOnTimestamp: Date.now() + 3_600_000 }),
};


/** The download the bulk wiring calls, with TEST_FILES_HOST served from INSTANCE_FILES_DIR. */
function serveTestFiles(folder: string): void {
  const real = teamsFileDownload.downloadTeamsFile;
  // The compiled module's export is a plain property, read at each call by the bulk wiring.
  (teamsFileDownload as { downloadTeamsFile: typeof real }).downloadTeamsFile = async (url, maxBytes, options) => {
    const parsed = new URL(url);
    if (parsed.hostname !== TEST_FILES_HOST) return real(url, maxBytes, options);
    return fs.createReadStream(path.join(folder, path.basename(parsed.pathname)));
  };
}

async function main(): Promise<void> {
  if (process.env.INSTANCE_FILES_DIR) serveTestFiles(process.env.INSTANCE_FILES_DIR);
  // Port 0: the instance takes a free port and says which (the proxy is pointed at it).
  const config = { ...loadConfig(process.env), port: 0 };
  // A build without the Azure store would quietly run on SQLite instead: refuse.
  if (process.env.STORE === 'azure' && (config.env as { STORE?: string }).STORE !== 'azure') throw new Error('STORE=azure is not known to this build');
  const logger = createLogger({ level: config.env.LOG_LEVEL });
  const offsetMs = Number(process.env.CLOCK_OFFSET_MS ?? '0');
  const clock: Clock | undefined = offsetMs ? { now: () => new Date(Date.now() + offsetMs) } : undefined;
  let directory: Directory | undefined;
  // Fast retries: the test server's Retry-After is honoured all the same.
  if (config.directory === 'graph') directory = createDirectory(config, logger, { credential: fixedTokenCredential, graph: { retryDelaySeconds: 0.05 } });
  const app = createApp(config, { logger, directory, clock });
  const { port } = await app.listen();
  process.stdout.write(`${JSON.stringify({ listening: port })}\n`);
  process.on('SIGUSR2', () => {
    const cpu = process.cpuUsage();
    const account = (app.store as { account?: { transactions?: number } }).account;
    const usage = { cpuMs: (cpu.user + cpu.system) / 1000, peakRssMb: process.resourceUsage().maxRSS / 1024, storageTransactions: account?.transactions ?? null };
    process.stdout.write(`${JSON.stringify({ usage })}\n`);
  });
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((e: unknown) => {
  const message = e instanceof ConfigError ? e.message : e instanceof Error ? (e.stack ?? e.message) : String(e);
  process.stderr.write(`instance could not start: ${message}\n`);
  process.exit(1);
});
