/**
 * OpenTelemetry with in-memory exporters, registered globally for one test file, as the Azure
 * Monitor distro would register the real SDK: spans land in an InMemorySpanExporter, metrics are
 * read on demand through a MetricReader. Attribute checks read everything that would be exported.
 */
import { Writable } from 'node:stream';
import { context, metrics, trace, type Attributes } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { DataPointType, MeterProvider, MetricReader, type DataPoint, type MetricData } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { createLogger, type Logger } from '../../src/shared/logger';

/** Collects metrics only when a test asks. */
class OnDemandMetricReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

export interface MetricPoint {
  name: string;
  attributes: Attributes;
  /** Counter and gauge value, or histogram count. */
  value: number;
  /** Histogram sum. */
  sum?: number;
}

export interface TestTelemetry {
  exporter: InMemorySpanExporter;
  spans(): ReadableSpan[];
  /** Every data point collected now (cumulative since the start of the file). */
  metrics(): Promise<MetricPoint[]>;
  /** Every string a span or metric would carry to an exporter: names, attributes, event fields. */
  exportedText(): Promise<string>;
  reset(): void;
  stop(): Promise<void>;
}

function pointsOf(metric: MetricData): MetricPoint[] {
  const name = metric.descriptor.name;
  if (metric.dataPointType === DataPointType.HISTOGRAM) {
    return metric.dataPoints.map((p) => ({ name, attributes: p.attributes, value: p.value.count, sum: p.value.sum }));
  }
  return (metric.dataPoints as Array<DataPoint<number>>).map((p) => ({ name, attributes: p.attributes, value: p.value }));
}

export function startTestTelemetry(): TestTelemetry {
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  trace.setGlobalTracerProvider(tracerProvider);
  const reader = new OnDemandMetricReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  metrics.setGlobalMeterProvider(meterProvider);

  const collect = async (): Promise<MetricPoint[]> => {
    const { resourceMetrics } = await reader.collect();
    return resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics.flatMap(pointsOf));
  };

  return {
    exporter,
    spans: () => exporter.getFinishedSpans(),
    metrics: collect,
    exportedText: async () => {
      const spans = exporter.getFinishedSpans().map((s) => ({
        name: s.name,
        attributes: s.attributes,
        events: s.events.map((e) => ({ name: e.name, attributes: e.attributes })),
        links: s.links.map((l) => l.attributes),
        status: s.status,
      }));
      return JSON.stringify({ spans, metrics: await collect() });
    },
    reset: () => exporter.reset(),
    stop: async () => {
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
      trace.disable();
      metrics.disable();
      context.disable();
    },
  };
}

/** The data points of one metric whose attributes include `match`. */
export function pointsNamed(points: MetricPoint[], name: string, match: Attributes = {}): MetricPoint[] {
  return points.filter((p) => p.name === name && Object.entries(match).every(([k, v]) => p.attributes[k] === v));
}

/** The sum of a counter's (or the count of a histogram's) matching data points. */
export function total(points: MetricPoint[], name: string, match: Attributes = {}): number {
  return pointsNamed(points, name, match).reduce((sum, p) => sum + p.value, 0);
}

/** The real logger at debug level, writing to memory; `lines()` parses what it wrote. */
export function capturingLogger(): { logger: Logger; lines: () => Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  const logger = createLogger({ level: 'debug', destination });
  return {
    logger,
    lines: () => {
      logger.flush();
      return chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    },
  };
}
