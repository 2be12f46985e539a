import restify, { type Request, type Response, type Server } from 'restify';
import type { CloudAdapter, TurnContext } from 'botbuilder';
import { checkActivityEnvelope, isJsonContentType } from './activityEnvelope';
import type { Logger } from '../shared/logger';

/** Lets other modules add routes (e.g. a results-CSV download) without touching this file. */
export type RouteRegistrar = (server: Server) => void;

export interface BotServerOptions {
  adapter: CloudAdapter;
  /** Runs one turn: the bot's `run`. */
  runTurn: (context: TurnContext) => Promise<void>;
  logger: Logger;
  /**
   * Local mode accepts unauthenticated activities; config.ts already refuses a non-loopback
   * HOST, and the server also refuses non-loopback peers (a proxy or port forward could
   * otherwise expose it).
   */
  loopbackOnly: boolean;
  /** True when the store answers; drives /readyz. */
  isReady: () => Promise<boolean> | boolean;
  registerRoutes?: readonly RouteRegistrar[];
  /** Largest request body accepted, in bytes. */
  maxBodyBytes?: number;
  /**
   * Checks an activity before its turn runs; a returned reason is answered 400 and no turn runs.
   * Local mode uses it for disagreeing identity fields (IdentityGuard.problem).
   */
  screenActivity?: (activity: unknown) => Promise<string | null>;
}

export interface BotServer {
  server: Server;
  /** Turns being processed right now. */
  inFlight(): number;
  /** Refuses new activities with 503 from now on (health endpoints keep answering). */
  stopAccepting(): void;
  /** Resolves true when no turn is in flight, false if `timeoutMs` passed first. */
  drain(timeoutMs: number): Promise<boolean>;
}

const LOOPBACK_PEERS = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3})$/;

export function isLoopbackAddress(address: string | undefined): boolean {
  return address !== undefined && LOOPBACK_PEERS.test(address);
}

export function createBotServer(options: BotServerOptions): BotServer {
  const { adapter, runTurn, logger } = options;
  const server = restify.createServer({ name: 'guest-onboarding-bot', handleUncaughtExceptions: false });
  let inFlight = 0;
  let accepting = true;
  const idleWaiters = new Set<() => void>();

  server.pre((req: Request, res: Response, next: restify.Next) => {
    if (options.loopbackOnly && !isLoopbackAddress(req.socket.remoteAddress)) {
      logger.warn({ remoteAddress: req.socket.remoteAddress }, 'refused a non-loopback request in local mode');
      res.send(403, { error: 'Local mode only accepts requests from this machine (loopback).' });
      return next(false);
    }
    // Before the body parser: it would otherwise read a form or XML body as something else.
    if (req.method === 'POST' && req.getPath() === '/api/messages' && !isJsonContentType(req.header('content-type'))) {
      res.send(415, { error: 'Activities must be sent as application/json.' });
      return next(false);
    }
    return next();
  });
  server.use(restify.plugins.bodyParser({ mapParams: false, maxBodySize: options.maxBodyBytes ?? 4 * 1024 * 1024 }));

  server.post('/api/messages', async (req: Request, res: Response) => {
    if (!accepting) {
      res.header('Retry-After', '5');
      res.send(503, { error: 'The bot is shutting down.' });
      return;
    }
    const envelope = checkActivityEnvelope(req.body);
    if (!envelope.ok) {
      logger.info({ status: envelope.status, reason: envelope.reason }, 'refused a request that is not a valid activity');
      res.send(envelope.status, { error: envelope.reason });
      return;
    }
    // Counted from here: screening reads the store, and shutdown waits for it too.
    inFlight += 1;
    try {
      const refusal = (await options.screenActivity?.(req.body)) ?? null;
      if (refusal) {
        logger.warn({ reason: refusal }, 'activity refused before its turn');
        res.send(400, { error: refusal });
        return;
      }
      await adapter.process(req, res, runTurn);
    } catch (error) {
      // adapter.process answers the request itself; reaching here means the response was not written.
      logger.error({ err: error }, 'activity processing failed outside the turn');
      if (!res.headersSent) res.send(500, { error: 'The activity could not be processed.' });
    } finally {
      inFlight -= 1;
      if (inFlight === 0) for (const wake of [...idleWaiters]) wake();
    }
  });

  server.get('/healthz', async (_req: Request, res: Response) => {
    res.send(200, { status: 'ok' });
  });

  server.get('/readyz', async (_req: Request, res: Response) => {
    let ready = false;
    try {
      ready = accepting && (await options.isReady());
    } catch (error) {
      logger.warn({ err: error }, 'readiness check failed');
    }
    res.send(ready ? 200 : 503, { status: ready ? 'ready' : 'unavailable' });
  });

  for (const register of options.registerRoutes ?? []) register(server);

  return {
    server,
    inFlight: () => inFlight,
    stopAccepting: () => {
      accepting = false;
    },
    drain: (timeoutMs) =>
      new Promise<boolean>((resolve) => {
        if (inFlight === 0) return resolve(true);
        const wake = (): void => {
          clearTimeout(timer);
          idleWaiters.delete(wake);
          resolve(true);
        };
        const timer = setTimeout(() => {
          idleWaiters.delete(wake);
          resolve(false);
        }, timeoutMs);
        idleWaiters.add(wake);
      }),
  };
}
