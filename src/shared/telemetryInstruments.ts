/** The tracer and the metric instruments every span and metric of the bot is recorded with. */
import {
  metrics,
  trace,
  type Counter,
  type Histogram,
  type MeterProvider,
} from '@opentelemetry/api';
import { INSTRUMENTATION_SCOPE, METRIC_NAMES } from './telemetryNames';

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

export function instruments(): Instruments {
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

export function tracer() {
  return trace.getTracer(INSTRUMENTATION_SCOPE);
}
