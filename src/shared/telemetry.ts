/**
 * The bot's telemetry, as the rest of the code sees it: a handful of functions over the
 * OpenTelemetry API. Nothing here knows where the data goes. With no SDK registered (no
 * APPLICATIONINSIGHTS_CONNECTION_STRING, see src/app/telemetrySetup.ts) every call lands on the API's no-op
 * tracer and meter; tests register in-memory exporters instead.
 *
 * Privacy rule: attributes carry operation names, kinds, counts, status codes and the bot's own
 * record ids, never addresses, names, message text, redeem links, group or site names, or URLs
 * as sent (see ./graphOperation.ts). Error messages are not recorded either (they can quote what
 * a user typed): only the error's class name, as `error.type`.
 *
 * This file: turn spans, Graph request spans and counters, invitations sent, trace ids for logs.
 * The names and attribute keys are in ./telemetryNames.ts, the tracer and instruments in
 * ./telemetryInstruments.ts, bulk-job spans and gauges in ./bulkTelemetry.ts.
 */
import {
  context as otelContext,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Span,
} from '@opentelemetry/api';
import { graphOperation } from './graphOperation';
import { SPAN_NAMES, ATTRIBUTES, safeLabel, errorType, type TurnOutcome, type InvitationSource } from './telemetryNames';
import { instruments, tracer } from './telemetryInstruments';

// ---- turns ----

/** What the turn span needs from an activity: its type and name, never its text. */
export interface TurnActivity {
  type?: string;
  name?: string;
  channelId?: string;
  conversation?: { conversationType?: string };
}

/** Where a turn keeps its telemetry: the TurnContext's turnState. */
export interface TurnStateBag {
  get(key: unknown): unknown;
  set(key: unknown, value: unknown): unknown;
}

interface TurnRecord {
  kind: string;
  outcome: TurnOutcome;
  reachedBot: boolean;
  errorType?: string;
  span: Span;
}

const TURN_KEY = Symbol('turnTelemetry');

// What an activity says about itself is only used when it is one of the protocol's own words.
const ACTIVITY_TYPES = new Set([
  'message',
  'messageUpdate',
  'messageDelete',
  'messageReaction',
  'conversationUpdate',
  'installationUpdate',
  'contactRelationUpdate',
  'typing',
  'endOfConversation',
  'event',
  'invoke',
  'deleteUserData',
  'suggestion',
  'trace',
  'handoff',
  'command',
  'commandResult',
]);
const CHANNELS = new Set(['msteams', 'emulator', 'webchat', 'directline', 'test']);
const CONVERSATION_TYPES = new Set(['personal', 'groupChat', 'channel']);
/** Invoke names are protocol paths such as "adaptiveCard/action" or "task/fetch". */
const INVOKE_NAME = /^[A-Za-z]{1,40}(?:\/[A-Za-z]{1,40})?$/;

function known(values: Set<string>, value: string | undefined): string {
  if (value === undefined || value === '') return 'unknown';
  return values.has(value) ? value : 'other';
}

/** The kind a turn starts with, from the activity alone; features refine it (labelTurn). */
export function initialTurnKind(activity: TurnActivity): string {
  if (activity.type === 'invoke') return `invoke:${activity.name !== undefined && INVOKE_NAME.test(activity.name) ? activity.name : 'other'}`;
  return known(ACTIVITY_TYPES, activity.type);
}

/**
 * Runs one incoming turn inside a `bot.turn <kind>` span (kind SERVER) and records its duration in
 * `bot.turn.duration`. The kind starts from the activity and can be refined during the turn;
 * the outcome is "error" when the turn throws or a feature reports a failure (failTurn), and
 * "refused" when the bot never ran (a guard answered or dropped it).
 */
export function traceTurn<T>(turnState: TurnStateBag, activity: TurnActivity, run: () => Promise<T>): Promise<T> {
  const started = performance.now();
  return tracer().startActiveSpan(
    SPAN_NAMES.turn,
    {
      kind: SpanKind.SERVER,
      attributes: {
        [ATTRIBUTES.activityType]: known(ACTIVITY_TYPES, activity.type),
        [ATTRIBUTES.channel]: known(CHANNELS, activity.channelId),
        [ATTRIBUTES.conversationType]: known(CONVERSATION_TYPES, activity.conversation?.conversationType),
      },
    },
    async (span) => {
      const record: TurnRecord = { kind: initialTurnKind(activity), outcome: 'ok', reachedBot: false, span };
      turnState.set(TURN_KEY, record);
      try {
        return await run();
      } catch (error) {
        record.outcome = 'error';
        record.errorType = errorType(error);
        throw error;
      } finally {
        if (record.outcome === 'ok' && !record.reachedBot) record.outcome = 'refused';
        const attributes: Attributes = { [ATTRIBUTES.turnKind]: record.kind, [ATTRIBUTES.turnOutcome]: record.outcome };
        // Named by kind too: Application Insights groups requests (its Performance view) by name.
        span.updateName(`${SPAN_NAMES.turn} ${record.kind}`);
        span.setAttributes(attributes);
        if (record.outcome === 'error') {
          span.setAttribute(ATTRIBUTES.errorType, record.errorType ?? 'Error');
          span.setStatus({ code: SpanStatusCode.ERROR });
        }
        span.end();
        instruments().turnDuration.record((performance.now() - started) / 1000, attributes);
      }
    },
  );
}

/** The bot's own handling of this turn began (the guards let it through). */
export function turnReachedBot(turnState: TurnStateBag): void {
  const record = turnState.get(TURN_KEY) as TurnRecord | undefined;
  if (record) record.reachedBot = true;
}

/** Names what this turn turned out to be ("message:invite", "dialog:inviteGuest.confirm", "action:approval.approve"). */
export function labelTurn(turnState: TurnStateBag, kind: string): void {
  const record = turnState.get(TURN_KEY) as TurnRecord | undefined;
  if (record) record.kind = safeLabel(kind);
}

/** A failure the turn answered itself (an error card) still counts as an error outcome. */
export function failTurn(turnState: TurnStateBag, error: unknown): void {
  const record = turnState.get(TURN_KEY) as TurnRecord | undefined;
  if (!record) return;
  record.outcome = 'error';
  record.errorType = errorType(error);
}

/**
 * Runs `fn` inside the turn's span context even after the span ended, so the log lines of
 * adapter.onTurnError (which runs after the bot's run() has unwound) carry the turn's trace id.
 */
export function inTurnContext<T>(turnState: TurnStateBag, fn: () => T): T {
  const record = turnState.get(TURN_KEY) as TurnRecord | undefined;
  if (!record) return fn();
  return otelContext.with(trace.setSpan(otelContext.active(), record.span), fn);
}

// ---- Graph requests ----

/** Collects what the attempts of one Graph request saw (retries happen inside the SDK's chain). */
export interface GraphAttempts {
  /** One HTTP attempt answered with `status`, or got no answer (undefined). */
  attempt(status: number | undefined): void;
}

/**
 * Runs one Graph request (all its retries) inside a span named by its operation ("GET /users/{id}",
 * kind CLIENT) and counts it in `graph.requests`; each 429 answer is counted in `graph.throttled`.
 * `run` resolves with the final HTTP status.
 */
export function traceGraphRequest(
  request: { method: string | undefined; url: string; basePath?: string; serverAddress?: string },
  run: (attempts: GraphAttempts) => Promise<number | undefined>,
): Promise<number | undefined> {
  const operation = graphOperation(request.method, request.url, request.basePath);
  const [method = 'GET', template = '/'] = operation.split(' ');
  return tracer().startActiveSpan(
    operation,
    {
      kind: SpanKind.CLIENT,
      attributes: {
        [ATTRIBUTES.graphOperation]: operation,
        [ATTRIBUTES.httpMethod]: method,
        [ATTRIBUTES.urlTemplate]: template,
        ...(request.serverAddress ? { 'server.address': request.serverAddress } : {}),
      },
    },
    async (span) => {
      let tries = 0;
      let throttled = false;
      const attempts: GraphAttempts = {
        attempt: (status) => {
          tries++;
          if (status === 429) {
            throttled = true;
            instruments().graphThrottled.add(1, { [ATTRIBUTES.graphOperation]: operation });
          }
        },
      };
      let status: number | undefined;
      let failure: string | undefined;
      try {
        status = await run(attempts);
        return status;
      } catch (error) {
        failure = errorType(error);
        throw error;
      } finally {
        const attributes: Attributes = {
          [ATTRIBUTES.graphOperation]: operation,
          [ATTRIBUTES.throttled]: throttled,
          ...(status !== undefined ? { [ATTRIBUTES.statusCode]: status } : {}),
        };
        span.setAttributes({ ...attributes, [ATTRIBUTES.retryCount]: Math.max(0, tries - 1) });
        if (failure !== undefined || status === undefined || status >= 400) {
          const type = failure ?? (status !== undefined ? String(status) : 'NoResponse');
          span.setAttribute(ATTRIBUTES.errorType, type);
          span.setStatus({ code: SpanStatusCode.ERROR });
          attributes[ATTRIBUTES.errorType] = type;
        }
        span.end();
        instruments().graphRequests.add(1, attributes);
      }
    },
  );
}

/** A 429 on one part of a $batch (the HTTP request itself was answered 200). */
export function countThrottledBatchPart(method: string, url: string): void {
  instruments().graphThrottled.add(1, { [ATTRIBUTES.graphOperation]: graphOperation(method, url) });
}

// ---- invitations ----

/** One invitation Graph accepted (a new guest, or a fresh invitation for one who never redeemed). */
export function countInvitationSent(source: InvitationSource): void {
  instruments().invitationsSent.add(1, { [ATTRIBUTES.invitationSource]: source });
}

/** The ids of the span active here, for log lines; undefined outside a recorded span. */
export function activeTraceIds(): { trace_id: string; span_id: string; trace_flags: string } | undefined {
  const span = trace.getSpan(otelContext.active());
  if (!span) return undefined;
  const ids = span.spanContext();
  if (!trace.isSpanContextValid(ids)) return undefined;
  return { trace_id: ids.traceId, span_id: ids.spanId, trace_flags: `0${ids.traceFlags.toString(16)}` };
}
