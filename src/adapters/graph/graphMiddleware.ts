/**
 * The Graph client's middleware of our own (see GraphDirectory.ts for the chain and why):
 * authentication for exactly the configured origin, retries of idempotent requests that got no
 * answer, invitation pacing, and a timeout per attempt.
 */
import {
  type AuthenticationProvider,
  type Context,
  type Middleware,
  type MiddlewareOptions,
} from '@microsoft/microsoft-graph-client';
import { parseRetryAfter } from './errors';

// ---------------------------------------------------------------------------------------------
// Middleware.

/** Per-request marker read by ConnectionResetHandler. */
export class IdempotentRequest implements MiddlewareOptions {}

/** Per-request: asked by SendGuardHandler right before each attempt goes out (InvitationInput.maySend). */
export class SendGuard implements MiddlewareOptions {
  constructor(readonly maySend: () => boolean) {}
}

/** Raised by SendGuardHandler when the request's SendGuard said no: nothing was sent. */
export class NotSentError extends Error {
  constructor() {
    super('not sent: the caller no longer holds it');
    // GraphRequest turns thrown errors into GraphError with code = error.name (see NoResponseError).
    this.name = 'NotSent';
  }
}

/**
 * Under the pacer (so after its wait) and under the retries (so before every attempt): a
 * request carrying a SendGuard goes out only while the guard says yes.
 */
export class SendGuardHandler implements Middleware {
  private next: Middleware | undefined;

  async execute(context: Context): Promise<void> {
    const guard = context.middlewareControl?.getMiddlewareOptions(SendGuard) as SendGuard | undefined;
    if (guard && !guard.maySend()) throw new NotSentError();
    await this.next?.execute(context);
  }

  setNext(next: Middleware): void {
    this.next = next;
  }
}

/** Raised when a request got no HTTP answer (and was not, or could no longer be, retried). */
export class NoResponseError extends Error {
  constructor(readonly reason: unknown) {
    super(`no answer from Microsoft Graph: ${reason instanceof Error ? reason.message : String(reason)}`);
    // GraphRequest turns thrown errors into GraphError with code = error.name: this is how we recognise it.
    this.name = 'NoResponse';
  }
}

export class CredentialFailure extends Error {
  constructor(cause: unknown) {
    super(`could not get a token for Microsoft Graph: ${cause instanceof Error ? cause.name : 'unknown error'}`);
    this.name = 'CredentialFailure';
  }
}

export function requestUrl(context: Context): string {
  return typeof context.request === 'string' ? context.request : context.request.url;
}

function setHeader(context: Context, name: string, value: string | null): void {
  context.options = context.options ?? {};
  const headers = context.options.headers;
  if (headers instanceof Headers) {
    if (value === null) headers.delete(name);
    else headers.set(name, value);
    return;
  }
  const plain: Record<string, string> = { ...((headers as Record<string, string> | undefined) ?? {}) };
  for (const key of Object.keys(plain)) if (key.toLowerCase() === name.toLowerCase()) delete plain[key];
  if (value !== null) plain[name] = value;
  context.options.headers = plain;
}

export class BaseUrlAuthenticationHandler implements Middleware {
  private next: Middleware | undefined;
  constructor(
    private readonly provider: AuthenticationProvider,
    private readonly origin: string,
  ) {}

  async execute(context: Context): Promise<void> {
    if (new URL(requestUrl(context)).origin === this.origin) {
      let token: string;
      try {
        token = await this.provider.getAccessToken();
      } catch (e) {
        throw new CredentialFailure(e);
      }
      setHeader(context, 'Authorization', `Bearer ${token}`);
    } else {
      setHeader(context, 'Authorization', null);
    }
    await this.next?.execute(context);
  }

  setNext(next: Middleware): void {
    this.next = next;
  }
}

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
]);

function isNetworkFailure(e: unknown): boolean {
  // Duck-typed, not instanceof: fetch's errors can come from another realm (undici inside Node vs
  // a test runner's VM context), where `instanceof TypeError` is false.
  if (typeof e !== 'object' || e === null) return false;
  const { name, code, cause } = e as { name?: unknown; code?: unknown; cause?: { code?: unknown } };
  const causeCode = typeof cause === 'object' && cause !== null ? cause.code : undefined;
  // undici reports every transport failure as TypeError('fetch failed') with the socket error as cause.
  return (
    name === 'TypeError' ||
    (typeof code === 'string' && NETWORK_CODES.has(code)) ||
    (typeof causeCode === 'string' && NETWORK_CODES.has(causeCode))
  );
}

export class ConnectionResetHandler implements Middleware {
  private next: Middleware | undefined;
  constructor(
    private readonly maxRetries: number,
    private readonly wait: (attempt: number) => Promise<void>,
    private readonly onRetry: (context: Context, attempt: number) => void,
  ) {}

  async execute(context: Context): Promise<void> {
    const method = (context.options?.method ?? 'GET').toUpperCase();
    const idempotent =
      method === 'GET' || context.middlewareControl?.getMiddlewareOptions(IdempotentRequest) !== undefined;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.next?.execute(context);
        return;
      } catch (e) {
        if (!isNetworkFailure(e)) throw e;
        if (!idempotent || attempt >= this.maxRetries) throw new NoResponseError(e);
        this.onRetry(context, attempt + 1);
        await this.wait(attempt + 1);
      }
    }
  }

  setNext(next: Middleware): void {
    this.next = next;
  }
}

/**
 * Sits under the RetryHandler, so the first attempt and every retry of a POST /invitations wait
 * for the shared pacer, and a 429 answer makes every caller hold off for its Retry-After.
 */
export class InvitationPacingHandler implements Middleware {
  private next: Middleware | undefined;
  constructor(private readonly pacer: { acquire(): Promise<void>; holdOff(ms: number): void }) {}

  async execute(context: Context): Promise<void> {
    const method = (context.options?.method ?? 'GET').toUpperCase();
    const paced = method === 'POST' && /\/invitations$/.test(new URL(requestUrl(context)).pathname);
    if (paced) await this.pacer.acquire();
    await this.next?.execute(context);
    const response = context.response;
    if (paced && response?.status === 429) {
      this.pacer.holdOff(parseRetryAfter(response.headers.get('Retry-After'), response.headers.get('x-ms-retry-after-ms')) ?? 1000);
    }
  }

  setNext(next: Middleware): void {
    this.next = next;
  }
}

/** An attempt that got no answer in time. `code` makes it read as a network failure. */
class RequestTimeoutError extends Error {
  readonly code = 'ETIMEDOUT';
  constructor(readonly timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
    this.name = 'RequestTimeout';
  }
}

/** Statuses whose Response must be built with a null body. */
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

/**
 * Aborts an attempt that has not been answered, body included, within `timeoutMs`. The body is
 * read here, under the same deadline, because the SDK reads it after the middleware chain has
 * returned, where a stalled body would hang without limit. Graph's JSON answers are small.
 */
export class RequestTimeoutHandler implements Middleware {
  private next: Middleware | undefined;
  constructor(
    private readonly timeoutMs: number,
    private readonly onTimeout: (context: Context, timeoutMs: number) => void,
  ) {}

  async execute(context: Context): Promise<void> {
    const controller = new AbortController();
    // Built only when the deadline passes: an Error captures a stack, which is wasted work on
    // the many requests that are answered in time.
    let timeout: RequestTimeoutError | undefined;
    const timer = setTimeout(() => {
      timeout = new RequestTimeoutError(this.timeoutMs);
      controller.abort(timeout);
    }, this.timeoutMs);
    context.options = context.options ?? {};
    // A caller's own signal (none today) still cancels.
    const callerSignal = context.options.signal ?? undefined;
    const onCallerAbort = (): void => controller.abort(callerSignal?.reason);
    callerSignal?.addEventListener('abort', onCallerAbort, { once: true });
    context.options.signal = controller.signal;
    try {
      await this.next?.execute(context);
      if (context.response) context.response = await bufferedWithin(context.response, controller.signal);
    } catch (e) {
      if (timeout !== undefined && controller.signal.reason === timeout) {
        this.onTimeout(context, this.timeoutMs);
        throw timeout;
      }
      throw e;
    } finally {
      clearTimeout(timer);
      callerSignal?.removeEventListener('abort', onCallerAbort);
    }
  }

  setNext(next: Middleware): void {
    this.next = next;
  }
}

/** The response with its body read in full, or the signal's reason if it aborts first. */
async function bufferedWithin(response: Response, signal: AbortSignal): Promise<Response> {
  if (response.body === null) return response;
  const body = await new Promise<ArrayBuffer>((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    response.arrayBuffer().then(
      (buffer) => {
        signal.removeEventListener('abort', onAbort);
        resolve(buffer);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
  return new Response(NULL_BODY_STATUSES.has(response.status) ? null : body, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}
