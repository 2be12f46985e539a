/**
 * One bot instance for the several-instances tests and the Azure bulk benchmark: the app exactly
 * as `node dist/src/index.js` builds it (loadConfig from the environment, createApp, the store the
 * configuration names: `STORE=sqlite` on a shared DATA_DIR, or `STORE=azure`), with two
 * differences a test needs:
 *
 * - DIRECTORY=graph talks to the Graph-shaped test server with a credential that hands out a
 *   fixed token (the server only checks that one is sent; no identity platform on loopback);
 * - CLOCK_OFFSET_MS shifts the app's clock (expiry tests start instances "days later").
 *
 * Run as a plain `node` process with test/support/bulkTsRegister.js (no build needed). Prints one
 * JSON line `{"listening": <port>}` on stdout once it answers; SIGTERM closes it as the bot does.
 */
import type { AccessToken } from '@azure/identity';
import { createApp } from '../../../src/app/app';
import { ConfigError, loadConfig } from '../../../src/app/config';
import { createDirectory } from '../../../src/app/createDirectory';
import type { Clock } from '../../../src/domain/clock';
import { createLogger } from '../../../src/shared/logger';
import type { Directory } from '../../../src/usecases/ports/Directory';

const fixedTokenCredential = {
  getToken: async (): Promise<AccessToken> => ({ token: 'instance-test-token', expiresOnTimestamp: Date.now() + 3_600_000 }),
};

async function main(): Promise<void> {
  // Port 0: the instance takes a free port and says which (the proxy is pointed at it).
  const config = { ...loadConfig(process.env), port: 0 };
  const logger = createLogger({ level: config.env.LOG_LEVEL });
  const offsetMs = Number(process.env.CLOCK_OFFSET_MS ?? '0');
  const clock: Clock | undefined = offsetMs ? { now: () => new Date(Date.now() + offsetMs) } : undefined;
  let directory: Directory | undefined;
  // Fast retries: the test server's Retry-After is honoured all the same.
  if (config.directory === 'graph') directory = createDirectory(config, logger, { credential: fixedTokenCredential, graph: { retryDelaySeconds: 0.05 } });
  const app = createApp(config, { logger, directory, clock });
  const { port } = await app.listen();
  process.stdout.write(`${JSON.stringify({ listening: port })}\n`);
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
