import { createApp } from './app/app';
import { ConfigError, loadConfig, loadDotEnv } from './app/config';
import { startTelemetry, TELEMETRY_OFF } from './app/telemetrySetup';

/**
 * Composition root: configuration, the app, and a clean shutdown. No logic lives here. Started by
 * ./index.ts; `npm run build` bundles this file with everything it imports (scripts/bundle.mjs).
 */
async function main(): Promise<void> {
  loadDotEnv();
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`The bot cannot start: the configuration is invalid.\n  - ${error.problems.join('\n  - ')}\n`);
      process.exit(1);
    }
    throw error;
  }

  // Before anything else is built, so the SDK (when configured) is registered for every span.
  const telemetry = await startTelemetry(config).catch((error: unknown) => {
    process.stderr.write(`Telemetry is off: the Azure Monitor exporter could not start: ${error instanceof Error ? error.message : String(error)}\n`);
    return TELEMETRY_OFF;
  });
  // Local mode: the demo guests' reminders reach Megan Bowen right after start-up.
  const app = createApp(config, { seedDemoGuests: config.directory === 'demo' });
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      process.stderr.write(`${signal} again: exiting without waiting.\n`);
      process.exit(1);
    }
    stopping = true;
    app
      .close()
      // What telemetry still holds is sent once the last turn has ended.
      .then(() => telemetry.shutdown())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          process.stderr.write(`Shutdown failed: ${error instanceof Error ? error.message : String(error)}\n`);
          process.exit(1);
        },
      );
  };
  // Registered before listening: a stop that arrives while the features start still shuts down cleanly.
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  await app.listen();
}

main().catch((error: unknown) => {
  const message = error instanceof ConfigError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(`The bot could not start: ${message}\n`);
  process.exit(1);
});
