import type { AddressInfo } from 'node:net';
import { CloudAdapter, ConversationState, UserState } from 'botbuilder';
import type { Server } from 'restify';
import { createAdapter, type AuthOverrides } from './auth';
import type { AppConfig } from './config';
import { GuestOnboardingBot } from '../teams/bot/GuestOnboardingBot';
import type { BotFeature } from '../teams/bot/feature';
import { buildFeatures } from './features';
import { RootDialog } from '../teams/bot/RootDialog';
import { helpReaderLookup } from '../teams/bot/helpAudience';
import { ApprovalConfigError, approvalSettingsFromConfig } from './approvalSettings';
import { TenantGuard } from '../teams/bot/tenantGuard';
import { TurnTelemetry } from '../teams/bot/turnTelemetry';
import { IdentityGuard, identityProblemMessage } from '../teams/bot/identityGuard';
import { KnownPersonGuard } from '../teams/bot/knownPersonGuard';
import { DEMO } from '../adapters/demo/demoTenant';
import type { BotServices } from './services';
import { systemClock, type Clock } from '../domain/clock';
import { createDirectory } from './createDirectory';
import type { Directory } from '../usecases/ports/Directory';
import { createLogger, type Logger } from '../shared/logger';
import { createBotServer, type RouteRegistrar } from './server';
import type { Migration } from '../adapters/sqlite/database';
import { createStore } from './createStore';
import type { Store } from '../adapters/repositories';
import { SharedPacer } from '../usecases/ports/pacer';
import { isStoreUnavailable } from '../adapters/storeErrors';

/** What tests (and only tests) swap out when they start the app in-process. */
export interface AppOverrides {
  logger?: Logger;
  directory?: Directory;
  clock?: Clock;
  /** Replaces buildFeatures. */
  features?: BotFeature[] | ((services: BotServices) => BotFeature[]);
  /** Extra migrations for test-only tables, applied after the store's and the features' own. */
  migrations?: readonly Migration[];
  /** ':memory:' keeps a test off the disk. */
  databaseFile?: string;
  /** A store built by the test (e.g. openMemoryStore()); the app closes it. Replaces the SQLite store. */
  store?: Store;
  auth?: AuthOverrides;
  registerRoutes?: readonly RouteRegistrar[];
  /**
   * Records the demo tenant's guests at each lifecycle stage before the scheduler's first pass
   * (local mode: main passes it with the demo directory), so their reminders are due at once.
   */
  seedDemoGuests?: boolean;
  /** How long shutdown waits for in-flight turns. */
  shutdownTimeoutMs?: number;
}

export interface App {
  server: Server;
  adapter: CloudAdapter;
  bot: GuestOnboardingBot;
  services: BotServices;
  /** The store every repository lives in (the app closes it). */
  store: Store;
  /** Starts listening on config.host:config.port (port 0 picks a free one). */
  listen(): Promise<{ port: number; host: string }>;
  /** Stops accepting activities, waits for in-flight turns (bounded), closes the server and the store. */
  close(): Promise<void>;
}

const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;

/** The tenant whose users the bot serves: the Graph tenant, or the demo tenant in local mode. */
/** The approver group the help card asks about (none when approvals are not configured). */
function helpApproverGroup(config: AppConfig): string | null {
  try {
    return approvalSettingsFromConfig(config).approverGroupId;
  } catch (e) {
    if (e instanceof ApprovalConfigError) return null;
    throw e;
  }
}

function servedTenantId(config: AppConfig): string {
  return config.directory === 'graph' ? (config.env.GRAPH_TENANT_ID ?? '') : DEMO.tenantId;
}

export function createApp(config: AppConfig, overrides: AppOverrides = {}): App {
  const logger = overrides.logger ?? createLogger({ level: config.env.LOG_LEVEL });
  const clock = overrides.clock ?? systemClock;
  // The store: every repository, one adapter (SQLite, migrations owned by it).
  const store: Store =
    overrides.store ??
    createStore(config, {
      databaseFile: overrides.databaseFile,
      migrations: overrides.migrations,
      clock,
      onHeartbeatError: (error) => logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'could not write this process\'s heartbeat to the store'),
    });
  try {
    // This process as the holder of locks and leases: registered now, so that a process that died
    // is told apart from this one from the first turn on (a store over the network registers in
    // the background; listen() waits for it before any background work starts). Registrations of
    // processes dead for an hour or more are only history.
    const registered = (async () => {
      await store.holders.start();
      await store.holders.prune();
    })();
    // Awaited by listen(); a failure there is reported then, not as an unhandled rejection now.
    registered.catch(() => undefined);
    // One pacer for every invitation this process sends, its window in the store (see pacer.ts).
    const invitationPacer = new SharedPacer(store.pacerWindow, { limit: config.env.INVITES_PER_5S, windowMs: 5000 });
    const directoryPaces = !overrides.directory && config.directory === 'graph';
    const directory = overrides.directory ?? createDirectory(config, logger, { invitationPacer, clock });
    const conversationState = new ConversationState(store.botStorage);
    const userState = new UserState(store.botStorage);
    const adapter = createAdapter(config, overrides.auth);
    const services: BotServices = {
      config,
      logger,
      directory,
      repositories: store,
      conversationState,
      botStorage: store.botStorage,
      userState,
      adapter,
      botAppId: config.auth.kind === 'botFramework' ? config.auth.appId : '',
      clock,
      invitationPacer: directoryPaces ? null : invitationPacer,
    };
    const features =
      typeof overrides.features === 'function'
        ? overrides.features(services)
        : (overrides.features ?? buildFeatures(services, { seedDemoGuests: overrides.seedDemoGuests === true && config.directory === 'demo' }));
    const bot = new GuestOnboardingBot({
      conversationState,
      userState,
      rootDialog: new RootDialog(features, helpReaderLookup(directory, helpApproverGroup(config))),
      features,
      logger,
      conversationReferences: store.conversationReferences,
      onceClaims: { leases: store.leases, holderId: store.holders.holderId },
      isStoreUnavailable,
      audit: store.audit,
    });
    adapter.onTurnError = (context, error) => bot.handleTurnError(context, error);
    adapter.use(new TurnTelemetry());
    adapter.use(new TenantGuard(servedTenantId(config), logger));
    const identityGuard = new IdentityGuard(store.channelIdentities, logger);
    adapter.use(identityGuard);
    adapter.use(new KnownPersonGuard(directory, logger));

    const botServer = createBotServer({
      adapter,
      runTurn: (context) => bot.run(context),
      logger,
      loopbackOnly: config.auth.kind === 'local',
      // Local mode has no token to vouch for the activity: disagreeing identity fields get a 400.
      screenActivity:
        config.auth.kind === 'local'
          ? async (body) => {
              if (!body || typeof body !== 'object' || Array.isArray(body)) return null;
              const problem = await identityGuard.problem(body);
              return problem ? identityProblemMessage(problem) : null;
            }
          : undefined,
      isReady: () => store.ping(),
      registerRoutes: [
        ...features.flatMap((f) => (f.registerRoutes ? [f.registerRoutes.bind(f)] : [])),
        ...(overrides.registerRoutes ?? []),
      ],
    });
    const server = botServer.server;
    let closing: Promise<void> | undefined;
    const started: BotFeature[] = [];
    // Background work (job resumption, expiry sweeps) runs only once the bot can be reached.
    const startFeatures = async (): Promise<void> => {
      for (const feature of features) {
        if (!feature.start) continue;
        await feature.start();
        started.push(feature);
      }
    };

    return {
      server,
      adapter,
      bot,
      services,
      store,
      listen: () =>
        new Promise((resolve, reject) => {
          server.once('error', reject);
          server.listen(config.port, config.host, () => {
            server.removeListener('error', reject);
            const address = server.address() as AddressInfo;
            logger.info(
              {
                host: config.host,
                port: address.port,
                auth: config.auth.kind,
                directory: config.directory,
                telemetry: config.env.APPLICATIONINSIGHTS_CONNECTION_STRING ? 'azureMonitor' : 'off',
              },
              `bot listening on http://${config.host}:${address.port}/api/messages`,
            );
            registered.then(startFeatures).then(
              () => resolve({ port: address.port, host: config.host }),
              (error: unknown) => reject(error instanceof Error ? error : new Error(String(error))),
            );
          });
        }),
      close: () => {
        closing ??= (async () => {
          botServer.stopAccepting();
          const drained = await botServer.drain(overrides.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS);
          if (!drained) logger.warn({ inFlight: botServer.inFlight() }, 'shutting down with turns still in flight');
          await new Promise<void>((resolve) => {
            if (!server.server.listening) return resolve();
            server.close(() => resolve());
            // Keep-alive connections would hold close() open; nothing useful arrives on them now.
            server.server.closeAllConnections();
          });
          for (const feature of started.reverse()) {
            try {
              await feature.stop?.();
            } catch (error) {
              logger.warn({ err: error instanceof Error ? error.message : String(error), feature: feature.name }, 'feature did not stop cleanly');
            }
          }
          await store.close();
          logger.info('bot stopped');
          logger.flush();
        })();
        return closing;
      },
    };
  } catch (error) {
    void Promise.resolve(store.close()).catch(() => undefined);
    throw error;
  }
}
