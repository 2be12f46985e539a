import { randomUUID } from 'node:crypto';
import pino, { type Logger } from 'pino';
import { activeTraceIds } from './telemetry';

export type { Logger } from 'pino';

/**
 * Paths whose values never reach a log line. Bot Framework tokens travel in the
 * Authorization header; credentials can sit in config objects that someone logs by mistake.
 */
export const REDACTED_PATHS: readonly string[] = [
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  'request.headers.authorization',
  '*.authorization',
  '*.headers.authorization',
  'token',
  '*.token',
  'accessToken',
  '*.accessToken',
  'access_token',
  '*.access_token',
  'password',
  '*.password',
  'secret',
  '*.secret',
  'clientSecret',
  '*.clientSecret',
  'MicrosoftAppPassword',
  '*.MicrosoftAppPassword',
  'GRAPH_CLIENT_SECRET',
  '*.GRAPH_CLIENT_SECRET',
  'redeemUrl',
  '*.redeemUrl',
  'APPLICATIONINSIGHTS_CONNECTION_STRING',
  '*.APPLICATIONINSIGHTS_CONNECTION_STRING',
];

export interface LoggerOptions {
  level: string;
  /** Where JSON lines go; defaults to stdout. Tests pass a stream to read what was logged. */
  destination?: pino.DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'guest-onboarding-bot' },
      redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Inside a span (a turn, a Graph request, a bulk batch) each line carries trace_id and
      // span_id, so a log line leads to its trace in Application Insights and back.
      // (A fresh object each time: pino merges the line's fields into what the mixin returns.)
      mixin: () => activeTraceIds() ?? {},
    },
    options.destination ?? pino.destination({ sync: false }),
  );
}

/** Minimal view of an activity: enough to label a turn without reading its text. */
export interface TurnLabel {
  id?: string;
  type?: string;
  name?: string;
  channelId?: string;
  conversation?: { id?: string };
}

/** pino's level methods: a call at a level that is off writes nothing. */
const LEVEL_METHODS: ReadonlySet<string> = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal']);
const noop = (): void => undefined;

/**
 * A child logger for one turn. The activity text is deliberately not included: chat content
 * is personal data and only ever appears at debug level, if at all.
 *
 * The pino child is made only when the turn first logs at a level that is on (or uses the logger
 * otherwise): making one costs about 0.1 ms and 0.8 KB (its bindings are serialised, its level
 * methods set), on every turn, while at the usual levels most turns log nothing. What is logged,
 * and with which fields, is the same as from `logger.child(...)` made at the start.
 */
export function turnLogger(logger: Logger, activity: TurnLabel): Logger {
  // Fixed now, so every line of the turn carries the same id.
  const bindings = {
    turnId: activity.id ?? randomUUID(),
    activityType: activity.type,
    activityName: activity.name,
    channelId: activity.channelId,
    conversationId: activity.conversation?.id,
  };
  let child: Logger | undefined;
  const turn = (): Logger => (child ??= logger.child(bindings));
  return new Proxy(logger, {
    get(_parent, property) {
      if (child === undefined && typeof property === 'string' && LEVEL_METHODS.has(property) && !logger.isLevelEnabled(property)) return noop;
      const target = turn();
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
    set: (_parent, property, value) => Reflect.set(turn(), property, value),
    has: (_parent, property) => Reflect.has(turn(), property),
  });
}
