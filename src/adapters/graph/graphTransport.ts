/**
 * HTTP to Microsoft Graph for the Directory adapter: the SDK client with our middleware chain,
 * one call, paging, $batch with per-part retries, and Graph failures turned into DirectoryErrors.
 */
import type { TokenCredential } from '@azure/identity';
import {
  Client,
  HTTPMessageHandler,
  RetryHandler,
  RetryHandlerOptions,
  type GraphError,
  type MiddlewareOptions,
} from '@microsoft/microsoft-graph-client';
import { TokenCredentialAuthenticationProvider } from '@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials';
import type { Logger } from 'pino';
import { DirectoryError, InvitationNotSent, isDirectoryError } from '../../usecases/ports/Directory';
import { directoryErrorFromGraph, directoryErrorFromNetwork, parseRetryAfter, USER_MESSAGES } from './errors';
import { graphTelemetryHandlers } from './graphTelemetry';
import { countThrottledBatchPart } from '../../shared/telemetry';
import { SharedTokenCredential } from './sharedTokenCredential';
import { trimEndChars } from '../../domain/text';
import {
  BaseUrlAuthenticationHandler,
  ConnectionResetHandler,
  IdempotentRequest,
  InvitationPacingHandler,
  RequestTimeoutHandler,
  SendGuard,
  SendGuardHandler,
  requestUrl,
} from './graphMiddleware';
import { type BatchResponseItem, type GraphCall, type GraphCollection, pathOnly } from './graphWire';

export const GRAPH_SCOPES = ['https://graph.microsoft.com/.default'];
export const DEFAULT_GRAPH_BASE_URL = 'https://graph.microsoft.com';

/** $batch and members@odata.bind both take at most 20 items per request. */
export const GRAPH_BATCH_LIMIT = 20;

export interface GraphDirectoryOptions {
  credential: TokenCredential;
  /** GRAPH_BASE_URL: scheme + host (+ optional path prefix), without the version segment. */
  baseUrl?: string;
  /** The tenant invited into (GRAPH_TENANT_ID): used for tenant-context sign-in links. */
  tenantId?: string;
  logger?: Logger;
  /** Retry bound for throttling/transient answers and for resets on idempotent requests (3–5 in production). */
  maxRetries?: number;
  /** Base back-off in seconds when Graph gives no Retry-After (the SDK's default is 3). */
  retryDelaySeconds?: number;
  /** Multiplies every wait (Retry-After included): tests run with e.g. 0.001. */
  delayScale?: number;
  /** Injected sleep (tests). */
  sleep?: (ms: number) => Promise<void>;
  /**
   * How long one HTTP attempt may take, answer body included, before it is abandoned as "no
   * answer" (default 30 s). Each retry gets the same again, so a Graph that never answers is
   * given up on after about (maxRetries + 1) × this, plus back-off.
   */
  requestTimeoutMs?: number;
  /**
   * Paces every POST /invitations HTTP attempt, the Graph client's own retries included (the
   * process's one shared pacer: Graph allows 150 per 5 s per tenant, all apps together, see
   * https://learn.microsoft.com/graph/throttling-limits#invitation-manager-service-limits).
   * A 429 on an invitation holds every caller off for its Retry-After.
   */
  invitationPacer?: { acquire(): Promise<void>; holdOff(ms: number): void };
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** The Graph client and what every Graph call needs. */
export class GraphTransport {
  private readonly client: Client;
  readonly origin: string;
  /** Base URL path prefix ('' for graph.microsoft.com). */
  readonly basePath: string;
  readonly baseUrl: string;
  readonly log: Logger | undefined;
  private readonly maxRetries: number;
  private readonly retryDelaySeconds: number;
  private readonly delayScale: number;
  private readonly sleepMs: (ms: number) => Promise<void>;

  constructor(options: GraphDirectoryOptions) {
    const base = new URL(options.baseUrl ?? DEFAULT_GRAPH_BASE_URL);
    this.origin = base.origin;
    this.basePath = trimEndChars(base.pathname, '/');
    this.baseUrl = `${this.origin}${this.basePath}`;
    this.log = options.logger?.child({ component: 'GraphDirectory' });
    this.maxRetries = Math.min(Math.max(options.maxRetries ?? 4, 0), 10);
    this.retryDelaySeconds = options.retryDelaySeconds ?? 3;
    this.delayScale = options.delayScale ?? 1;
    this.sleepMs = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    const requestTimeoutMs = Math.max(1, options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS);

    // One token request at a time for this credential, however many Graph requests start at once.
    const provider = new TokenCredentialAuthenticationProvider(new SharedTokenCredential(options.credential), { scopes: GRAPH_SCOPES });
    const retryOptions = new RetryHandlerOptions(this.retryDelaySeconds, this.maxRetries, (_delay, attempt, request, fetchOptions, response) => {
      const method = (fetchOptions?.method ?? 'GET').toUpperCase();
      const url = typeof request === 'string' ? request : request.url;
      // A 504 on an invitation may hide a processed invitation: invite() decides, not the retry loop.
      if (response.status === 504 && method === 'POST' && /\/invitations(\?|$)/.test(new URL(url).pathname)) return false;
      this.log?.warn({ status: response.status, method, path: new URL(url).pathname, attempt: attempt + 1 }, 'Graph asked us to retry');
      return true;
    });
    const retryHandler = new RetryHandler(retryOptions);
    // Two private hooks of the SDK's RetryHandler (3.0.7) are replaced on this instance:
    // - getDelay: Graph's Retry-After (or the precise x-ms-retry-after-ms) is honoured as given;
    //   only our own back-off, used when Graph names no wait, is scaled (tests run it ~1000× faster).
    //   The SDK's version adds up to 1 s of unscalable jitter and rounds fractional waits.
    // - sleep: through the injectable clock.
    const patchable = retryHandler as unknown as {
      getDelay: (response: Response, attempt: number, delaySeconds: number) => number;
      sleep: (seconds: number) => Promise<void>;
    };
    patchable.getDelay = (response, attempt) => this.retryDelayMs(response.headers, attempt) / 1000;
    patchable.sleep = (seconds) => this.sleepMs(Math.max(0, seconds) * 1000);

    const resetHandler = new ConnectionResetHandler(
      this.maxRetries,
      (attempt) => this.sleepMs(this.backoffMs(attempt)),
      (context, attempt) =>
        this.log?.warn({ method: context.options?.method, path: new URL(requestUrl(context)).pathname, attempt }, 'connection lost, retrying idempotent request'),
    );

    const timeoutHandler = new RequestTimeoutHandler(requestTimeoutMs, (context, timeoutMs) =>
      this.log?.warn({ method: context.options?.method ?? 'GET', path: new URL(requestUrl(context)).pathname, timeoutMs }, 'Graph did not answer in time'),
    );

    // Telemetry: a span per request around the whole chain, and a look at every attempt (./graphTelemetry.ts).
    const telemetry = graphTelemetryHandlers(this.basePath);
    this.client = Client.initWithMiddleware({
      baseUrl: this.baseUrl,
      defaultVersion: 'v1.0',
      middleware: [
        telemetry.request,
        new BaseUrlAuthenticationHandler(provider, this.origin),
        retryHandler,
        resetHandler,
        ...(options.invitationPacer ? [new InvitationPacingHandler(options.invitationPacer)] : []),
        new SendGuardHandler(),
        timeoutHandler,
        telemetry.attempt,
        new HTTPMessageHandler(),
      ],
    });
  }

  async call<T = unknown>(spec: GraphCall): Promise<T> {
    const version = spec.version ?? 'v1.0';
    let request = this.client.api(spec.path).version(version);
    if (spec.headers) request = request.headers(spec.headers);
    const markers: MiddlewareOptions[] = [];
    if (spec.idempotent) markers.push(new IdempotentRequest());
    if (spec.maySend) markers.push(new SendGuard(spec.maySend));
    if (markers.length) request = request.middlewareOptions(markers);
    try {
      switch (spec.method) {
        case 'GET':
          return (await request.get()) as T;
        case 'POST':
          return (await request.post(spec.body ?? {})) as T;
        case 'PATCH':
          return (await request.patch(spec.body ?? {})) as T;
        case 'DELETE':
          return (await request.delete()) as T;
      }
    } catch (e) {
      throw this.toDirectoryError(e, spec.method, `/${version}${pathOnly(spec.path)}`);
    }
  }

  /** Follows @odata.nextLink to the end (same origin only: a link elsewhere would not get our token anyway). */
  async listAll<T>(path: string, version: 'v1.0' | 'beta' = 'v1.0', headers?: Record<string, string>): Promise<T[]> {
    const items: T[] = [];
    let next: { path: string; version: 'v1.0' | 'beta' } | null = { path, version };
    for (let page = 0; next; page++) {
      if (page >= 10_000) throw new DirectoryError('transient', USER_MESSAGES.transient, { detail: 'paging did not end' });
      const answer: GraphCollection<T> = await this.call<GraphCollection<T>>({ method: 'GET', path: next.path, version: next.version, headers });
      items.push(...(answer.value ?? []));
      next = answer['@odata.nextLink'] ? this.relativeLink(answer['@odata.nextLink']) : null;
    }
    return items;
  }

  private relativeLink(link: string): { path: string; version: 'v1.0' | 'beta' } {
    const url = new URL(link, `${this.baseUrl}/`);
    const prefix = `${this.basePath}/`;
    const match = url.origin === this.origin && url.pathname.startsWith(prefix) ? /^(v1\.0|beta)(\/.*)$/.exec(url.pathname.slice(prefix.length)) : null;
    if (!match) {
      throw new DirectoryError('transient', USER_MESSAGES.transient, { detail: `refusing to follow a nextLink outside ${this.baseUrl}` });
    }
    return { version: match[1] as 'v1.0' | 'beta', path: `${match[2]}${url.search}` };
  }

  /**
   * JSON batching: up to 20 GETs per POST /$batch. Each part is throttled on its own and the SDK
   * does not retry inside a batch, so parts answered 429/503/504 are sent again (and only they),
   * after the longest Retry-After among them, up to maxRetries times.
   */
  async batch(requests: Array<{ id: string; method: string; url: string; headers?: Record<string, string> }>): Promise<Map<string, unknown>> {
    const answers = new Map<string, unknown>();
    let pending = requests;
    for (let attempt = 0; pending.length; attempt++) {
      const envelope = await this.call<{ responses?: BatchResponseItem[] }>({
        method: 'POST',
        path: '/$batch',
        body: { requests: pending },
        idempotent: pending.every((r) => r.method === 'GET'),
      });
      const byId = new Map((envelope.responses ?? []).map((r) => [String(r.id), r]));
      const retry: typeof pending = [];
      let waitMs = 0;
      for (const req of pending) {
        const part = byId.get(req.id);
        if (!part) {
          retry.push(req);
          continue;
        }
        if (part.status >= 200 && part.status < 300) {
          answers.set(req.id, part.body);
          continue;
        }
        if (part.status === 429) countThrottledBatchPart(req.method, req.url);
        const headers = lowerKeys(part.headers);
        const retryAfterMs = parseRetryAfter(headers['retry-after'], headers['x-ms-retry-after-ms']);
        const error = directoryErrorFromGraph({ status: part.status, body: part.body, retryAfterMs, method: req.method, path: `/v1.0${pathOnly(req.url)}` });
        if (!error.retryable) throw error;
        if (attempt >= this.maxRetries) throw error;
        retry.push(req);
        waitMs = Math.max(waitMs, retryAfterMs ?? this.backoffMs(attempt + 1));
      }
      if (retry.length) {
        if (attempt >= this.maxRetries) {
          throw new DirectoryError('transient', USER_MESSAGES.transient, { detail: 'batch parts missing from the answer' });
        }
        this.log?.warn({ parts: retry.length, attempt: attempt + 1 }, 'retrying throttled batch parts');
        await this.sleepMs(Math.min(waitMs, MAX_WAIT_MS));
      }
      pending = retry;
    }
    return answers;
  }

  /** How long to wait before retrying a throttled/unavailable answer: Graph's word, else our back-off. */
  private retryDelayMs(headers: Headers | undefined, attempt: number): number {
    const retryAfterMs = parseRetryAfter(headers?.get('Retry-After'), headers?.get('x-ms-retry-after-ms'));
    return Math.min(retryAfterMs ?? this.backoffMs(attempt), MAX_WAIT_MS);
  }

  /** Exponential back-off with a little jitter, scaled by delayScale. */
  private backoffMs(attempt: number): number {
    const seconds = this.retryDelaySeconds * 2 ** Math.max(0, attempt - 1) * (1 + Math.random() * 0.1);
    return seconds * 1000 * this.delayScale;
  }

  private toDirectoryError(e: unknown, method: string, path: string): DirectoryError {
    if (isDirectoryError(e)) return e;
    const graphError = e as Partial<GraphError> & Error;
    if (graphError.code === 'NotSent' || graphError.name === 'NotSent') return new InvitationNotSent();
    if (graphError.code === 'NoResponse' || graphError.statusCode === -1 && graphError.code === 'TypeError') {
      const error = directoryErrorFromNetwork(e);
      return new DirectoryError(error.code, error.userMessage, { cause: e, graphCode: 'NoResponse', detail: `${method} ${path}: no answer` });
    }
    if (graphError.code === 'CredentialFailure') {
      return new DirectoryError('permissionMissing', USER_MESSAGES.unauthenticated, { cause: e, graphCode: 'CredentialFailure', detail: graphError.message });
    }
    const status = typeof graphError.statusCode === 'number' ? graphError.statusCode : -1;
    if (status < 100) return directoryErrorFromNetwork(e);
    const headers = graphError.headers;
    const retryAfterMs = parseRetryAfter(headers?.get('Retry-After'), headers?.get('x-ms-retry-after-ms'));
    const body = { error: { code: graphError.code ?? '', message: graphError.message ?? '' } };
    return directoryErrorFromGraph({ status, body, retryAfterMs, method, path }, e);
  }
}

/** The SDK's own ceiling for one wait. */
const MAX_WAIT_MS = 180_000;

function lowerKeys(headers: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) out[k.toLowerCase()] = v;
  return out;
}
