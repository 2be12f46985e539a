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

/**
 * A child logger for one turn. The activity text is deliberately not included: chat content
 * is personal data and only ever appears at debug level, if at all.
 */
export function turnLogger(logger: Logger, activity: TurnLabel): Logger {
  return logger.child({
    turnId: activity.id ?? randomUUID(),
    activityType: activity.type,
    activityName: activity.name,
    channelId: activity.channelId,
    conversationId: activity.conversation?.id,
  });
}
