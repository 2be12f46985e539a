/** Telemetry of bulk jobs: one span per batch of rows, and the queue-depth gauges (privacy rule: see ./telemetry.ts). */
import {
  context as otelContext,
  metrics,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type BatchObservableCallback,
} from '@opentelemetry/api';
import { INSTRUMENTATION_SCOPE, SPAN_NAMES, METRIC_NAMES, ATTRIBUTES, safeLabel, errorType } from './telemetryNames';
import { tracer } from './telemetryInstruments';

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
