/**
 * The bot's telemetry, as the rest of the code sees it: a handful of functions over the
 * OpenTelemetry API. Nothing here knows where the data goes. With no SDK registered (no
 * APPLICATIONINSIGHTS_CONNECTION_STRING, see ./setup.ts) every call lands on the API's no-op
 * tracer and meter; tests register in-memory exporters instead.
 *
 * Privacy rule: attributes carry operation names, kinds, counts, status codes and the bot's own
 * record ids, never addresses, names, message text, redeem links, group or site names, or URLs
 * as sent (see ./graphOperation.ts). Error messages are not recorded either (they can quote what
 * a user typed): only the error's class name, as `error.type`.
 */
import {
  context as otelContext,
  metrics,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type BatchObservableCallback,
  type Counter,
  type Histogram,
  type MeterProvider,
  type Span,
} from '@opentelemetry/api';
import { graphOperation } from './graphOperation';

/** Instrumentation scope of every span and metric. */
export const INSTRUMENTATION_SCOPE = 'guest-onboarding-bot';

export const SPAN_NAMES = {
  /** Followed by the turn's kind: "bot.turn message:invite". */
  turn: 'bot.turn',
  bulkBatch: 'bulk.batch',
  // Graph request spans are named by their operation, e.g. "GET /users/{id}".
} as const;

export const METRIC_NAMES = {
  turnDuration: 'bot.turn.duration',
  graphRequests: 'graph.requests',
  graphThrottled: 'graph.throttled',
  invitationsSent: 'invitations.sent',
  bulkJobsActive: 'bulk.jobs.active',
  bulkRowsWaiting: 'bulk.rows.waiting',
} as const;

export const ATTRIBUTES = {
  turnKind: 'bot.turn.kind',
  turnOutcome: 'bot.turn.outcome',
  activityType: 'bot.activity.type',
  channel: 'bot.channel',
  conversationType: 'bot.conversation.type',
  graphOperation: 'graph.operation',
  httpMethod: 'http.request.method',
  urlTemplate: 'url.template',
  statusCode: 'http.response.status_code',
  retryCount: 'graph.retry_count',
  throttled: 'graph.throttled',
  errorType: 'error.type',
  bulkJobId: 'bulk.job.id',
  bulkRows: 'bulk.batch.rows',
  bulkLookups: 'bulk.batch.lookups',
  bulkInvitations: 'bulk.batch.invitations',
  bulkExisting: 'bulk.batch.existing',
  invitationSource: 'invitation.source',
} as const;

/** ok; error (it threw, or answered with an error); refused (a guard stopped it before the bot ran). */
export type TurnOutcome = 'ok' | 'error' | 'refused';
export type InvitationSource = 'chat' | 'approval' | 'bulk';

/** Values that become attributes must be short identifiers, never free text. */
const SAFE_LABEL = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,79}$/;
export function safeLabel(value: string | undefined, fallback = 'other'): string {
  return value !== undefined && SAFE_LABEL.test(value) ? value : fallback;
}

function errorType(error: unknown): string {
  if (!(error instanceof Error)) return 'Error';
  // botbuilder-dialogs wraps what a dialog threw in a DialogContextError: name the original.
  const wrapped = (error as { error?: unknown }).error;
  if (error.name === 'DialogContextError' && wrapped instanceof Error) return errorType(wrapped);
  return safeLabel(error.name, 'Error');
}

// ---- instruments, created once per meter provider ----

interface Instruments {
  turnDuration: Histogram;
  graphRequests: Counter;
  graphThrottled: Counter;
  invitationsSent: Counter;
}

// The metrics API has no proxy provider: instruments made before an SDK registers stay no-ops,
// so they are made on first use and again if the global provider changes (tests swap it).
const instrumentsByProvider = new WeakMap<MeterProvider, Instruments>();

function instruments(): Instruments {
  const provider = metrics.getMeterProvider();
  let found = instrumentsByProvider.get(provider);
  if (!found) {
    const meter = provider.getMeter(INSTRUMENTATION_SCOPE);
    found = {
      turnDuration: meter.createHistogram(METRIC_NAMES.turnDuration, {
        description: 'Time the bot took to handle one incoming activity, by turn kind and outcome',
        unit: 's',
        advice: { explicitBucketBoundaries: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] },
      }),
      graphRequests: meter.createCounter(METRIC_NAMES.graphRequests, {
        description: 'Microsoft Graph requests (retries included in one request), by operation and final status',
        unit: '{request}',
      }),
      graphThrottled: meter.createCounter(METRIC_NAMES.graphThrottled, {
        description: 'Microsoft Graph answers with status 429 (each attempt, $batch parts included), by operation',
        unit: '{response}',
      }),
      invitationsSent: meter.createCounter(METRIC_NAMES.invitationsSent, {
        description: 'B2B invitations Graph accepted, by source (chat, approval, bulk); its rate is invitations per second',
        unit: '{invitation}',
      }),
    };
    instrumentsByProvider.set(provider, found);
  }
  return found;
}

function tracer() {
  return trace.getTracer(INSTRUMENTATION_SCOPE);
}

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

// ---- bulk jobs ----

export interface BulkBatchCounts {
  /** Rows whose address was looked up in the directory. */
  lookups: number;
  /** Invitations started. */
  invitations: number;
  /** Rows whose guest already existed (no invitation needed). */
  existing: number;
}

export interface BulkBatchTelemetry {
  /** Runs `fn` with this batch as the parent of the Graph requests it makes. */
  within<T>(fn: () => Promise<T>): Promise<T>;
  end(counts: BulkBatchCounts, error?: unknown): void;
}

/**
 * One page of a bulk job's rows (look-up, then invitations): a `bulk.batch` span (kind CONSUMER). Batches are
 * the roots of their own traces (a job outlives the turn that started it), labelled by job id.
 */
export function startBulkBatch(jobId: string, rows: number): BulkBatchTelemetry {
  const span = tracer().startSpan(SPAN_NAMES.bulkBatch, {
    root: true,
    // Work taken from the job queue: CONSUMER (Application Insights shows it as a request).
    kind: SpanKind.CONSUMER,
    attributes: { [ATTRIBUTES.bulkJobId]: safeLabel(jobId, 'unknown'), [ATTRIBUTES.bulkRows]: rows },
  });
  const spanContext = trace.setSpan(otelContext.active(), span);
  return {
    within: (fn) => otelContext.with(spanContext, fn),
    end: (counts, error) => {
      span.setAttributes({
        [ATTRIBUTES.bulkLookups]: counts.lookups,
        [ATTRIBUTES.bulkInvitations]: counts.invitations,
        [ATTRIBUTES.bulkExisting]: counts.existing,
      });
      if (error !== undefined) {
        span.setAttribute(ATTRIBUTES.errorType, errorType(error));
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end();
    },
  };
}

/**
 * Runs `fn` outside any span: background work started from a turn (a bulk job) must not join the
 * turn's trace, which would then last as long as the job.
 */
export function detached<T>(fn: () => T): T {
  return otelContext.with(ROOT_CONTEXT, fn);
}

export interface BulkQueueDepth {
  /** Jobs confirmed and not finished (queued, running, cancelling). */
  jobs: number;
  /** Rows of those jobs not yet finished. */
  rowsWaiting: number;
}

/**
 * Reports the bulk queue's depth as two observable gauges, read when metrics are collected.
 * Returns the function that stops reporting (call it on shutdown).
 */
export function observeBulkQueue(read: () => BulkQueueDepth | Promise<BulkQueueDepth>): () => void {
  const meter = metrics.getMeter(INSTRUMENTATION_SCOPE);
  const jobs = meter.createObservableGauge(METRIC_NAMES.bulkJobsActive, {
    description: 'Bulk invitation jobs confirmed and not finished',
    unit: '{job}',
  });
  const rows = meter.createObservableGauge(METRIC_NAMES.bulkRowsWaiting, {
    description: 'Rows of active bulk invitation jobs not yet finished',
    unit: '{row}',
  });
  const callback: BatchObservableCallback = async (result) => {
    let depth: BulkQueueDepth;
    try {
      depth = await read();
    } catch {
      return; // the store is closing: nothing to report this time
    }
    result.observe(jobs, depth.jobs);
    result.observe(rows, depth.rowsWaiting);
  };
  meter.addBatchObservableCallback(callback, [jobs, rows]);
  return () => meter.removeBatchObservableCallback(callback, [jobs, rows]);
}

/** The ids of the span active here, for log lines; undefined outside a recorded span. */
export function activeTraceIds(): { trace_id: string; span_id: string; trace_flags: string } | undefined {
  const span = trace.getSpan(otelContext.active());
  if (!span) return undefined;
  const ids = span.spanContext();
  if (!trace.isSpanContextValid(ids)) return undefined;
  return { trace_id: ids.traceId, span_id: ids.spanId, trace_flags: `0${ids.traceFlags.toString(16)}` };
}
