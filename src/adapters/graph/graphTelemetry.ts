/**
 * Graph SDK middleware that reports each Graph request to telemetry (src/telemetry): a span per
 * request named by its route template, its final status, how many times it was sent again and
 * whether Graph throttled it. Two handlers share the work:
 *  - `request`, first in the chain: one span around everything the request costs (token, retries,
 *    back-off waits);
 *  - `attempt`, just before the HTTP handler: sees every attempt and its status (429s included,
 *    which the retry handler would otherwise hide).
 * They find each other through the SDK's Context object, which is the same for every attempt.
 */
import type { Context, Middleware } from '@microsoft/microsoft-graph-client';
import { traceGraphRequest, type GraphAttempts } from '../../shared/telemetry';

export interface GraphTelemetryHandlers {
  request: Middleware;
  attempt: Middleware;
}

function urlOf(context: Context): string {
  return typeof context.request === 'string' ? context.request : context.request.url;
}

/** `basePath`: the path prefix of GRAPH_BASE_URL ('' for graph.microsoft.com), left out of templates. */
export function graphTelemetryHandlers(basePath: string): GraphTelemetryHandlers {
  const inFlight = new WeakMap<Context, GraphAttempts>();

  class RequestTelemetryHandler implements Middleware {
    private next: Middleware | undefined;
    async execute(context: Context): Promise<void> {
      const url = urlOf(context);
      let serverAddress: string | undefined;
      try {
        serverAddress = new URL(url).hostname;
      } catch {
        serverAddress = undefined;
      }
      await traceGraphRequest({ method: context.options?.method, url, basePath, serverAddress }, async (attempts) => {
        inFlight.set(context, attempts);
        try {
          await this.next?.execute(context);
        } finally {
          inFlight.delete(context);
        }
        return context.response?.status;
      });
    }
    setNext(next: Middleware): void {
      this.next = next;
    }
  }

  class AttemptTelemetryHandler implements Middleware {
    private next: Middleware | undefined;
    async execute(context: Context): Promise<void> {
      const attempts = inFlight.get(context);
      try {
        await this.next?.execute(context);
      } catch (e) {
        attempts?.attempt(undefined);
        throw e;
      }
      attempts?.attempt(context.response?.status);
    }
    setNext(next: Middleware): void {
      this.next = next;
    }
  }

  return { request: new RequestTelemetryHandler(), attempt: new AttemptTelemetryHandler() };
}
