/**
 * The Directory port over Microsoft Graph (v1.0; beta only for b2bManagementPolicies).
 *
 * HTTP goes through @microsoft/microsoft-graph-client with a middleware chain of our own:
 *   telemetry (request span) → BaseUrlAuthenticationHandler → RetryHandler (SDK) → ConnectionResetHandler
 *   → RequestTimeoutHandler → telemetry (each attempt) → HTTPMessageHandler
 * - The SDK's AuthenticationHandler only attaches the token to the public Graph hosts, or to
 *   `customHosts` — and then only for https URLs. A configured GRAPH_BASE_URL (national cloud,
 *   the http test server) would silently get no Authorization header, so our handler attaches
 *   it to exactly the configured origin, and to nothing else (a nextLink elsewhere gets no token).
 * - RetryHandler retries 429/503/504 honouring Retry-After, with a bound (maxRetries) and a
 *   scalable clock for tests. It also retries POSTs: a 429 or 503 means Graph did not process the
 *   request, so repeating it is safe. A 504 does not mean that (the gateway gave up, the work may
 *   have been done), so an invitation POST is never repeated after a 504; see invite().
 * - ConnectionResetHandler retries a request that got no answer at all (connection reset,
 *   socket closed) only when it is idempotent: GETs, a $batch of GETs, and membership adds
 *   (adding an existing member is answered "already exist", which we count as success).
 *   Anything else surfaces as a NoResponse failure the caller decides about.
 * - RequestTimeoutHandler gives each attempt `requestTimeoutMs` to answer, body included (an
 *   AbortController on the fetch): a request that hangs, with neither answer nor reset, then
 *   counts as "no answer", so it is retried like a reset, and a lost invitation answer is
 *   recovered the same way (see invite()).
 */
import type { TokenCredential } from '@azure/identity';
import {
  Client,
  HTTPMessageHandler,
  RetryHandler,
  RetryHandlerOptions,
  type AuthenticationProvider,
  type Context,
  type GraphError,
  type Middleware,
  type MiddlewareOptions,
} from '@microsoft/microsoft-graph-client';
import { TokenCredentialAuthenticationProvider } from '@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials';
import type { Logger } from 'pino';
import {
  DirectoryError,
  isDirectoryError,
  type AddMembersResult,
  type Directory,
  type InvitationInput,
  type InvitationResult,
} from '../../usecases/ports/Directory';
import type {
  AllowInvitesFrom,
  B2bDomainPolicy,
  DirectoryUser,
  EmailOtpSetting,
  ExternalDomainInfo,
  FallbackIdentityProvider,
  FederatedDomain,
  GroupInfo,
  PrimaryIdentityProvider,
  RedemptionPrecedence,
  SharePointSharingSettings,
  SharingCapability,
  TenantPolicies,
  UserIdentity,
  UserSummary,
} from '../../domain/tenant';
import { directoryErrorFromGraph, directoryErrorFromNetwork, parseRetryAfter, USER_MESSAGES } from './errors';
import { graphTelemetryHandlers } from './graphTelemetry';
import { countThrottledBatchPart } from '../../shared/telemetry';
import { assertInvitableEmail, lookupAddress } from './emailSafety';
import { SharedTokenCredential } from './sharedTokenCredential';
import { normaliseDomain } from '../../domain/email';
import { trimEndChars } from '../../domain/text';

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

const USER_SELECT = [
  'id',
  'displayName',
  'mail',
  'userPrincipalName',
  'otherMails',
  'proxyAddresses',
  'userType',
  // Not returned by default: must be asked for.
  'externalUserState',
  'externalUserStateChangeDateTime',
  'identities',
].join(',');

const GROUP_SELECT = 'id,displayName,mail,groupTypes';

/** Microsoft's default redemption order: a tenant "keeps the default" when it says exactly this. */
const DEFAULT_PRECEDENCE: RedemptionPrecedence = {
  primaryIdentityProviderPrecedenceOrder: ['azureActiveDirectory', 'externalFederation', 'socialIdentityProviders'],
  fallbackIdentityProvider: 'defaultConfiguredIdp',
};

// ---------------------------------------------------------------------------------------------
// Graph wire shapes (only the fields we read).

interface GraphUser {
  id: string;
  displayName?: string | null;
  mail?: string | null;
  userPrincipalName?: string | null;
  otherMails?: string[] | null;
  proxyAddresses?: string[] | null;
  userType?: string | null;
  externalUserState?: string | null;
  externalUserStateChangeDateTime?: string | null;
  identities?: Array<{ signInType?: string | null; issuer?: string | null; issuerAssignedId?: string | null }> | null;
}

interface GraphUserSummary {
  id: string;
  displayName?: string | null;
  '@odata.type'?: string;
}

interface GraphGroup {
  id: string;
  displayName?: string | null;
  mail?: string | null;
  groupTypes?: string[] | null;
  '@odata.type'?: string;
}

interface GraphCollection<T> {
  value?: T[];
  '@odata.nextLink'?: string;
}

interface GraphInvitation {
  id?: string;
  inviteRedeemUrl?: string;
  status?: string;
  invitedUser?: { id?: string };
}

interface BatchResponseItem {
  id: string;
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

type HttpMethod = 'GET' | 'POST' | 'PATCH';

interface GraphCall {
  method: HttpMethod;
  /** Relative to the version root, e.g. "/users?$filter=…"; query values already encoded. */
  path: string;
  version?: 'v1.0' | 'beta';
  body?: unknown;
  headers?: Record<string, string>;
  /** Safe to send again when the first attempt got no answer at all. */
  idempotent?: boolean;
}

// ---------------------------------------------------------------------------------------------
// Middleware.

/** Per-request marker read by ConnectionResetHandler. */
class IdempotentRequest implements MiddlewareOptions {}

/** Raised when a request got no HTTP answer (and was not, or could no longer be, retried). */
class NoResponseError extends Error {
  constructor(readonly reason: unknown) {
    super(`no answer from Microsoft Graph: ${reason instanceof Error ? reason.message : String(reason)}`);
    // GraphRequest turns thrown errors into GraphError with code = error.name: this is how we recognise it.
    this.name = 'NoResponse';
  }
}

class CredentialFailure extends Error {
  constructor(cause: unknown) {
    super(`could not get a token for Microsoft Graph: ${cause instanceof Error ? cause.name : 'unknown error'}`);
    this.name = 'CredentialFailure';
  }
}

function requestUrl(context: Context): string {
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

class BaseUrlAuthenticationHandler implements Middleware {
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

class ConnectionResetHandler implements Middleware {
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
class InvitationPacingHandler implements Middleware {
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
class RequestTimeoutHandler implements Middleware {
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

// ---------------------------------------------------------------------------------------------
// Small pure helpers.

/** OData string literal: single quotes doubled (O'Brien). */
function odataString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** A query string with each value percent-encoded ('+' would otherwise read as a space, '&' split the query). */
function query(params: Record<string, string | undefined>): string {
  const parts = Object.entries(params)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([k, v]) => `${k}=${encodeURIComponent(v)}`);
  return parts.length ? `?${parts.join('&')}` : '';
}

/**
 * Matches mail, userPrincipalName, otherMails and proxyAddresses. Graph compares these strings
 * without regard to case, so the lower-cased address finds "Jane@X.com", and 'smtp:' matches both
 * the primary ("SMTP:") and secondary ("smtp:") proxy addresses. All four are `eq` filters Graph
 * serves by default (no advanced query), which keeps the lookup read-after-write consistent:
 * invite() relies on that after a lost answer.
 */
export function userByEmailFilter(email: string): string {
  const v = odataString(email.toLowerCase());
  const smtp = odataString(`smtp:${email.toLowerCase()}`);
  return `mail eq ${v} or userPrincipalName eq ${v} or otherMails/any(x:x eq ${v}) or proxyAddresses/any(x:x eq ${smtp})`;
}

function userByEmailPath(email: string): string {
  return `/users${query({ $filter: userByEmailFilter(email), $select: USER_SELECT })}`;
}

function sameAddress(a: string | null | undefined, key: string): boolean {
  return typeof a === 'string' && a.toLowerCase() === key;
}

/** Whether a returned user really carries the address (guards against a loose server). */
function userHasAddress(user: GraphUser, key: string): boolean {
  return (
    sameAddress(user.mail, key) ||
    sameAddress(user.userPrincipalName, key) ||
    (user.otherMails ?? []).some((m) => sameAddress(m, key)) ||
    (user.proxyAddresses ?? []).some((p) => /^smtp:/i.test(p) && sameAddress(p.slice(5), key)) ||
    // proxyAddresses is only present when selected and allowed: trust the filter then.
    user.proxyAddresses === undefined
  );
}

function toDirectoryUser(u: GraphUser): DirectoryUser {
  const state = u.externalUserState;
  return {
    id: u.id,
    displayName: u.displayName ?? '',
    mail: u.mail ?? null,
    userPrincipalName: u.userPrincipalName ?? '',
    otherMails: u.otherMails ?? [],
    kind: (u.userType ?? '').toLowerCase() === 'guest' ? 'guest' : 'member',
    externalUserState: state === 'PendingAcceptance' || state === 'Accepted' ? state : null,
    externalUserStateChangeDateTime: u.externalUserStateChangeDateTime ?? null,
    identities: (u.identities ?? []).map(
      (i): UserIdentity => ({
        signInType: i.signInType ?? '',
        issuer: i.issuer ?? '',
        issuerAssignedId: i.issuerAssignedId ?? null,
      }),
    ),
  };
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function pathOnly(path: string): string {
  return path.split('?')[0] ?? path;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids go into URL paths: anything but a GUID is refused before a request is made. */
function assertObjectId(id: string, what: string): string {
  if (!GUID.test(id)) {
    throw new DirectoryError('invalidInput', `That is not a valid ${what} id.`, { detail: 'refused before calling Graph' });
  }
  return id.toLowerCase();
}

function assertRedirectUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new DirectoryError('invalidInput', 'The redirect address is not a valid URL.', { detail: 'refused before calling Graph' });
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new DirectoryError('invalidInput', 'The redirect address must be an http(s) URL.', { detail: 'refused before calling Graph' });
  }
  return parsed.toString();
}

// ---------------------------------------------------------------------------------------------

export class GraphDirectory implements Directory {
  private readonly client: Client;
  private readonly origin: string;
  /** Base URL path prefix ('' for graph.microsoft.com). */
  private readonly basePath: string;
  private readonly baseUrl: string;
  private readonly log: Logger | undefined;
  private readonly maxRetries: number;
  private readonly retryDelaySeconds: number;
  private readonly delayScale: number;
  private readonly sleepMs: (ms: number) => Promise<void>;
  private tenantId: string | undefined;

  constructor(options: GraphDirectoryOptions) {
    const base = new URL(options.baseUrl ?? DEFAULT_GRAPH_BASE_URL);
    this.origin = base.origin;
    this.basePath = trimEndChars(base.pathname, '/');
    this.baseUrl = `${this.origin}${this.basePath}`;
    this.tenantId = options.tenantId;
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
        timeoutHandler,
        telemetry.attempt,
        new HTTPMessageHandler(),
      ],
    });
  }

  // ------------------------------------------------------------------------------------------
  // Users.

  async findUserByEmail(email: string): Promise<DirectoryUser | null> {
    const key = lookupAddress(email);
    if (key === null) return null;
    const page = await this.call<GraphCollection<GraphUser>>({ method: 'GET', path: userByEmailPath(key) });
    return this.pickUser(page.value ?? [], key);
  }

  async findUsersByEmail(emails: readonly string[]): Promise<Map<string, DirectoryUser>> {
    const keys = [...new Set(emails.map(lookupAddress).filter((k): k is string => k !== null))];
    const found = new Map<string, DirectoryUser>();
    for (const group of chunks(keys, GRAPH_BATCH_LIMIT)) {
      const requests = group.map((key, i) => ({ id: String(i + 1), method: 'GET', url: userByEmailPath(key) }));
      const answers = await this.batch(requests);
      group.forEach((key, i) => {
        const body = answers.get(String(i + 1)) as GraphCollection<GraphUser> | undefined;
        const user = this.pickUser(body?.value ?? [], key);
        if (user) found.set(key, user);
      });
    }
    return found;
  }

  async getUser(userId: string): Promise<DirectoryUser | null> {
    const id = assertObjectId(userId, 'user');
    try {
      const user = await this.call<GraphUser>({ method: 'GET', path: `/users/${id}${query({ $select: USER_SELECT })}` });
      return toDirectoryUser(user);
    } catch (e) {
      if (isDirectoryError(e) && e.code === 'notFound') return null;
      throw e;
    }
  }

  private pickUser(users: GraphUser[], key: string): DirectoryUser | null {
    const match = users.find((u) => userHasAddress(u, key));
    return match ? toDirectoryUser(match) : null;
  }

  // ------------------------------------------------------------------------------------------
  // Invitations.

  async invite(input: InvitationInput): Promise<InvitationResult> {
    const email = assertInvitableEmail(input.email);
    const redirectUrl = assertRedirectUrl(input.redirectUrl);
    const displayName = input.displayName.trim();
    const body: Record<string, unknown> = {
      invitedUserEmailAddress: email.address,
      inviteRedirectUrl: redirectUrl,
      sendInvitationMessage: input.sendInvitationMessage,
    };
    if (displayName) body.invitedUserDisplayName = displayName;
    if (input.message !== undefined && input.message.trim() !== '') {
      body.invitedUserMessageInfo = { customizedMessageBody: input.message };
    }

    try {
      return toInvitationResult(
        await this.call<GraphInvitation>({ method: 'POST', path: '/invitations', body }),
      );
    } catch (e) {
      if (!isDirectoryError(e) || !isOutcomeUnknown(e)) throw e;
      return this.recoverInvitation(email.key, body, e);
    }
  }

  /**
   * The invitation POST's answer was lost (connection reset) or was a 504, so we do not know
   * whether Graph created the guest. Never re-POST blindly:
   * 1. look the address up (a default, consistent query);
   * 2. found → the invitation went through (or the guest already existed, which POST would also
   *    have accepted): return a result built from the user, `recovered: true`. The personal
   *    redeem URL only ever came in the lost answer, so redeemUrl is the tenant-context My Apps
   *    link, through which a guest can also redeem (Microsoft documents direct-link redemption);
   * 3. not found and the POST got no answer at all → Graph did not create the user; one new POST
   *    is safe (and Graph keys invitations by address, so even a late-replicating first attempt
   *    would be answered with the same user, not a second one);
   * 4. not found after a 504 → that POST got an answer, so it is not repeated: the caller gets a
   *    transient error and its idempotency key makes a later retry safe.
   */
  private async recoverInvitation(key: string, body: Record<string, unknown>, failure: DirectoryError): Promise<InvitationResult> {
    this.log?.warn({ domain: key.split('@')[1], graphCode: failure.graphCode }, 'invitation outcome unknown; checking the directory');
    const existing = await this.findUserByEmail(key);
    if (existing) {
      return {
        invitationId: '',
        redeemUrl: await this.tenantSignInUrl(),
        userId: existing.id,
        status: existing.externalUserState ?? 'PendingAcceptance',
        recovered: true,
      };
    }
    if (failure.graphCode !== 'NoResponse') throw failure;
    try {
      return toInvitationResult(
        await this.call<GraphInvitation>({ method: 'POST', path: '/invitations', body }),
      );
    } catch (e) {
      if (isDirectoryError(e) && isOutcomeUnknown(e)) {
        throw new DirectoryError(
          'transient',
          'Microsoft Graph did not confirm the invitation. Please try again in a moment: it will not be sent twice.',
          { cause: e, graphCode: e.graphCode, detail: 'second invitation attempt also unanswered' },
        );
      }
      throw e;
    }
  }

  async resetRedemption(userId: string, email: string, redirectUrl: string): Promise<InvitationResult> {
    const id = assertObjectId(userId, 'user');
    const address = assertInvitableEmail(email).address;
    const body = {
      invitedUserEmailAddress: address,
      inviteRedirectUrl: assertRedirectUrl(redirectUrl),
      sendInvitationMessage: false,
      resetRedemption: true,
      invitedUser: { id },
    };
    try {
      return toInvitationResult(
        await this.call<GraphInvitation>({ method: 'POST', path: '/invitations', body }),
      );
    } catch (e) {
      if (isDirectoryError(e) && e.code === 'permissionMissing' && e.permission) {
        // Resetting redemption needs more than inviting: name the permission an admin must add.
        throw new DirectoryError('permissionMissing', USER_MESSAGES.permissionMissing('User.ReadWrite.All'), {
          cause: e,
          permission: 'User.ReadWrite.All',
          graphCode: e.graphCode,
        });
      }
      if (isDirectoryError(e) && isOutcomeUnknown(e)) {
        throw new DirectoryError(
          'transient',
          'Microsoft Graph did not confirm the reset. Check the guest in a moment before trying again.',
          { cause: e, graphCode: e.graphCode },
        );
      }
      throw e;
    }
  }

  private async tenantSignInUrl(): Promise<string> {
    if (!this.tenantId) {
      const org = await this.call<GraphCollection<{ id: string }>>({ method: 'GET', path: `/organization${query({ $select: 'id' })}` });
      this.tenantId = org.value?.[0]?.id;
    }
    return this.tenantId ? `https://myapps.microsoft.com/?tenantid=${this.tenantId}` : 'https://myapps.microsoft.com/';
  }

  // ------------------------------------------------------------------------------------------
  // Groups.

  async addMembers(groupId: string, userIds: readonly string[]): Promise<AddMembersResult> {
    const gid = assertObjectId(groupId, 'group');
    const ids = [...new Set(userIds.map((u) => assertObjectId(u, 'user')))];
    const result: AddMembersResult = { added: [], alreadyMembers: [], failed: [] };
    if (ids.length === 1) {
      await this.addOneMember(gid, ids[0] as string, result);
      return result;
    }
    for (const chunk of chunks(ids, GRAPH_BATCH_LIMIT)) {
      try {
        await this.call({
          method: 'PATCH',
          path: `/groups/${gid}`,
          body: { 'members@odata.bind': chunk.map((id) => this.directoryObjectRef(id)) },
          idempotent: true,
        });
        result.added.push(...chunk);
      } catch (e) {
        const error = asDirectoryError(e);
        // The PATCH is all-or-nothing: one existing (or unknown) member fails the chunk. Add that
        // chunk one by one so already-members are reported as such and only real failures fail.
        if (error.code === 'alreadyExists' || error.code === 'notFound' || error.code === 'invalidInput') {
          for (const id of chunk) await this.addOneMember(gid, id, result);
        } else {
          for (const id of chunk) result.failed.push({ userId: id, error });
        }
      }
    }
    return result;
  }

  private async addOneMember(groupId: string, userId: string, result: AddMembersResult): Promise<void> {
    try {
      await this.call({
        method: 'POST',
        path: `/groups/${groupId}/members/$ref`,
        body: { '@odata.id': this.directoryObjectRef(userId) },
        idempotent: true,
      });
      result.added.push(userId);
    } catch (e) {
      const error = asDirectoryError(e);
      if (error.code === 'alreadyExists') result.alreadyMembers.push(userId);
      else result.failed.push({ userId, error });
    }
  }

  private directoryObjectRef(id: string): string {
    return `${this.baseUrl}/v1.0/directoryObjects/${id}`;
  }

  async listOwnedGroups(userId: string): Promise<GroupInfo[]> {
    const id = assertObjectId(userId, 'user');
    // The cast keeps only groups (a user can also own applications, devices, service principals).
    const owned = await this.listAll<GraphGroup>(`/users/${id}/ownedObjects/microsoft.graph.group${query({ $select: GROUP_SELECT })}`);
    const groups = owned.filter((o) => o['@odata.type'] === undefined || o['@odata.type'] === '#microsoft.graph.group');
    return Promise.all(groups.map((g) => this.toGroupInfo(g)));
  }

  async getGroup(groupId: string): Promise<GroupInfo | null> {
    const id = assertObjectId(groupId, 'group');
    try {
      const group = await this.call<GraphGroup>({ method: 'GET', path: `/groups/${id}${query({ $select: GROUP_SELECT })}` });
      return await this.toGroupInfo(group);
    } catch (e) {
      if (isDirectoryError(e) && e.code === 'notFound') return null;
      throw e;
    }
  }

  /**
   * Owners lists are short (at most 100), so reading them is cheap and, unlike a `$filter` on the
   * owners link (an advanced, eventually consistent query), reflects a change at once: this
   * answers rights checks.
   */
  async isOwner(groupId: string, userId: string): Promise<boolean> {
    const gid = assertObjectId(groupId, 'group');
    const uid = assertObjectId(userId, 'user');
    try {
      const owners = await this.listAll<{ id: string }>(`/groups/${gid}/owners${query({ $select: 'id' })}`);
      return owners.some((o) => o.id.toLowerCase() === uid);
    } catch (e) {
      if (isDirectoryError(e) && e.code === 'notFound') return false;
      throw e;
    }
  }

  /** Member lists can be huge: ask the directory about this one user (a read, though sent as POST). */
  async isMember(groupId: string, userId: string): Promise<boolean> {
    const gid = assertObjectId(groupId, 'group');
    const uid = assertObjectId(userId, 'user');
    try {
      const answer = await this.call<{ value?: string[] }>({
        method: 'POST',
        path: `/users/${uid}/checkMemberGroups`,
        body: { groupIds: [gid] },
        idempotent: true,
      });
      return (answer.value ?? []).some((id) => id.toLowerCase() === gid);
    } catch (e) {
      if (isDirectoryError(e) && e.code === 'notFound') return false;
      throw e;
    }
  }

  /**
   * The cast to microsoft.graph.user keeps only users (and pages over users only). Direct
   * members/owners with a cast are a default query, not an advanced one: no ConsistencyLevel,
   * so a member added a moment ago is listed.
   */
  async listGroupMembers(groupId: string): Promise<UserSummary[]> {
    const id = assertObjectId(groupId, 'group');
    return this.listUsersOf(`/groups/${id}/members/microsoft.graph.user`);
  }

  async listGroupOwners(groupId: string): Promise<UserSummary[]> {
    const id = assertObjectId(groupId, 'group');
    return this.listUsersOf(`/groups/${id}/owners/microsoft.graph.user`);
  }

  private async listUsersOf(path: string): Promise<UserSummary[]> {
    const users = await this.listAll<GraphUserSummary>(`${path}${query({ $select: 'id,displayName' })}`);
    const summaries = users
      .filter((u) => u['@odata.type'] === undefined || u['@odata.type'] === '#microsoft.graph.user')
      .map((u): UserSummary => ({ id: u.id, displayName: u.displayName ?? '' }));
    // Graph answers with ids only (other properties null) for objects the app may not read.
    if (users.some((u) => u.displayName == null)) {
      this.log?.warn({ permission: 'User.Read.All' }, 'Graph returned users without names: the app cannot read users');
    }
    return summaries;
  }

  /** Direct memberships, cast to groups (roles and administrative units left out); no site lookups. */
  async listMemberGroups(userId: string): Promise<GroupInfo[]> {
    const id = assertObjectId(userId, 'user');
    const groups = await this.listAll<GraphGroup>(`/users/${id}/memberOf/microsoft.graph.group${query({ $select: 'id,displayName,mail' })}`);
    if (groups.some((g) => g.displayName == null)) {
      this.log?.warn({ permission: 'GroupMember.Read.All' }, 'Graph returned groups without names: the app cannot read groups');
    }
    return groups
      .filter((g) => g['@odata.type'] === undefined || g['@odata.type'] === '#microsoft.graph.group')
      .map((g): GroupInfo => ({ id: g.id, displayName: g.displayName ?? '', mail: g.mail ?? null, siteUrl: null }));
  }

  private async toGroupInfo(group: GraphGroup): Promise<GroupInfo> {
    return {
      id: group.id,
      displayName: group.displayName ?? '',
      mail: group.mail ?? null,
      siteUrl: (group.groupTypes ?? []).includes('Unified') ? await this.groupSiteUrl(group.id) : null,
    };
  }

  /** The team site of a Microsoft 365 group; null when it has none yet or Sites.Read.All is not granted. */
  private async groupSiteUrl(groupId: string): Promise<string | null> {
    try {
      const site = await this.call<{ webUrl?: string }>({ method: 'GET', path: `/groups/${groupId}/sites/root${query({ $select: 'webUrl' })}` });
      return site.webUrl ?? null;
    } catch (e) {
      if (isDirectoryError(e) && (e.code === 'notFound' || e.code === 'permissionMissing')) {
        if (e.code === 'permissionMissing') this.log?.warn({ permission: e.permission }, 'cannot read group sites; site URLs unknown');
        return null;
      }
      throw e;
    }
  }

  // ------------------------------------------------------------------------------------------
  // Policies.

  /**
   * Required surfaces (organization, authorizationPolicy) throw: without the tenant's domains
   * and who may invite, no advice is honest. Every other surface is optional: a 403 (permission
   * not granted) or 404 (feature absent) degrades to Microsoft's default for that setting, is
   * logged as a warning, and is named in `unreadable`, so advice can say "probably".
   * Throttling and transient faults are never hidden as a default: they throw.
   */
  async readPolicies(): Promise<TenantPolicies> {
    const unreadable: string[] = [];
    const optional = async <T>(surface: string, fallback: T, read: () => Promise<T>): Promise<T> => {
      try {
        return await read();
      } catch (e) {
        if (isDirectoryError(e) && (e.code === 'permissionMissing' || e.code === 'notFound')) {
          this.log?.warn({ surface, code: e.code, permission: e.permission }, 'policy surface unreadable; assuming the default');
          unreadable.push(surface);
          return fallback;
        }
        throw e;
      }
    };

    const [organization, allowInvitesFrom, emailOtp, googleFederation, federatedDomains, redemptionPrecedence, b2bDomainPolicy, sharePoint] =
      await Promise.all([
        this.readOrganization(),
        this.readAllowInvitesFrom(),
        optional<EmailOtpSetting>('emailOtp', 'default', () => this.readEmailOtp()),
        optional('googleFederation', false, () => this.readGoogleFederation()),
        optional<FederatedDomain[]>('federatedDomains', [], () => this.readFederatedDomains()),
        optional<RedemptionPrecedence | null>('redemptionPrecedence', null, () => this.readRedemptionPrecedence()),
        optional<B2bDomainPolicy>('b2bDomainPolicy', { mode: 'none' }, () => this.readB2bDomainPolicy()),
        optional<SharePointSharingSettings>('sharePoint', SHAREPOINT_DEFAULT, () => this.readSharePoint()),
      ]);
    this.tenantId = organization.tenantId;
    const policies: TenantPolicies = {
      tenantId: organization.tenantId,
      tenantDisplayName: organization.displayName,
      verifiedDomains: organization.verifiedDomains,
      allowInvitesFrom,
      emailOtp,
      googleFederation,
      federatedDomains,
      redemptionPrecedence,
      b2bDomainPolicy,
      sharePoint,
    };
    if (unreadable.length) policies.unreadable = unreadable.sort();
    return policies;
  }

  private async readOrganization(): Promise<{ tenantId: string; displayName: string; verifiedDomains: string[] }> {
    const page = await this.call<GraphCollection<{ id: string; displayName?: string; verifiedDomains?: Array<{ name?: string }> }>>({
      method: 'GET',
      path: `/organization${query({ $select: 'id,displayName,verifiedDomains' })}`,
    });
    const org = page.value?.[0];
    if (!org) throw new DirectoryError('notFound', USER_MESSAGES.notFound, { detail: 'GET /organization returned no tenant' });
    return {
      tenantId: org.id,
      displayName: org.displayName ?? '',
      verifiedDomains: (org.verifiedDomains ?? []).map((d) => (d.name ?? '').toLowerCase()).filter(Boolean),
    };
  }

  private async readAllowInvitesFrom(): Promise<AllowInvitesFrom> {
    const policy = await this.call<{ allowInvitesFrom?: string }>({
      method: 'GET',
      path: `/policies/authorizationPolicy${query({ $select: 'allowInvitesFrom' })}`,
    });
    const value = policy.allowInvitesFrom;
    return value === 'none' || value === 'adminsAndGuestInviters' || value === 'adminsGuestInvitersAndAllMembers' || value === 'everyone'
      ? value
      : 'none'; // an unknown future value: assume the most restrictive
  }

  private async readEmailOtp(): Promise<EmailOtpSetting> {
    const config = await this.call<{ state?: string; allowExternalIdToUseEmailOtp?: string }>({
      method: 'GET',
      path: '/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/email',
    });
    const value = config.allowExternalIdToUseEmailOtp;
    return value === 'enabled' || value === 'disabled' ? value : 'default';
  }

  private async readGoogleFederation(): Promise<boolean> {
    const providers = await this.listAll<{ '@odata.type'?: string; identityProviderType?: string }>('/identity/identityProviders');
    return providers.some((p) => (p.identityProviderType ?? '').toLowerCase() === 'google');
  }

  private async readFederatedDomains(): Promise<FederatedDomain[]> {
    const root = '/directory/federationConfigurations/graph.samlOrWsFedExternalDomainFederation';
    // `domains` is a navigation property: asked for with $expand.
    const federations = await this.listAll<{ id: string; displayName?: string | null; issuerUri?: string | null; domains?: Array<{ id?: string }> }>(
      `${root}${query({ $expand: 'domains' })}`,
    );
    const out: FederatedDomain[] = [];
    for (const federation of federations) {
      // The list answer normally carries `domains`; fetch them when it does not.
      const domains = federation.domains ?? (await this.listAll<{ id?: string }>(`${root}/${encodeURIComponent(federation.id)}/domains`));
      for (const d of domains) {
        if (!d.id) continue;
        out.push({ domain: d.id.toLowerCase(), issuerUri: federation.issuerUri ?? null, displayName: federation.displayName ?? null });
      }
    }
    return out;
  }

  private async readRedemptionPrecedence(): Promise<RedemptionPrecedence | null> {
    const policy = await this.call<{
      invitationRedemptionIdentityProviderConfiguration?: {
        primaryIdentityProviderPrecedenceOrder?: string[];
        fallbackIdentityProvider?: string;
      } | null;
    }>({ method: 'GET', path: `/policies/crossTenantAccessPolicy/default${query({ $select: 'invitationRedemptionIdentityProviderConfiguration' })}` });
    const config = policy.invitationRedemptionIdentityProviderConfiguration;
    if (!config) return null;
    const order = (config.primaryIdentityProviderPrecedenceOrder ?? []).filter((p): p is PrimaryIdentityProvider =>
      ['azureActiveDirectory', 'externalFederation', 'socialIdentityProviders'].includes(p),
    );
    const fallback = config.fallbackIdentityProvider;
    const precedence: RedemptionPrecedence = {
      primaryIdentityProviderPrecedenceOrder: order,
      fallbackIdentityProvider: (['defaultConfiguredIdp', 'emailOneTimePasscode', 'microsoftAccount'].includes(fallback ?? '')
        ? fallback
        : 'defaultConfiguredIdp') as FallbackIdentityProvider,
    };
    const isDefault =
      precedence.fallbackIdentityProvider === DEFAULT_PRECEDENCE.fallbackIdentityProvider &&
      precedence.primaryIdentityProviderPrecedenceOrder.join() === DEFAULT_PRECEDENCE.primaryIdentityProviderPrecedenceOrder.join();
    return isDefault ? null : precedence;
  }

  private async readB2bDomainPolicy(): Promise<B2bDomainPolicy> {
    const policies = await this.listAll<{ definition?: string[]; isOrganizationDefault?: boolean }>('/policies/b2bManagementPolicies', 'beta');
    const policy = policies.find((p) => p.isOrganizationDefault) ?? policies[0];
    return parseB2bDomainPolicy(policy?.definition ?? []);
  }

  private async readSharePoint(): Promise<SharePointSharingSettings> {
    const s = await this.call<{
      sharingCapability?: string;
      sharingDomainRestrictionMode?: string;
      sharingAllowedDomainList?: string[] | null;
      sharingBlockedDomainList?: string[] | null;
    }>({
      method: 'GET',
      path: `/admin/sharepoint/settings${query({ $select: 'sharingCapability,sharingDomainRestrictionMode,sharingAllowedDomainList,sharingBlockedDomainList' })}`,
    });
    const capability = SHARING_CAPABILITIES.includes(s.sharingCapability as SharingCapability)
      ? (s.sharingCapability as SharingCapability)
      : 'disabled'; // unknown future value: the most restrictive reading
    const mode = s.sharingDomainRestrictionMode;
    return {
      sharingCapability: capability,
      sharingDomainRestrictionMode: mode === 'allowList' || mode === 'blockList' ? mode : 'none',
      sharingAllowedDomainList: (s.sharingAllowedDomainList ?? []).map((d) => d.toLowerCase()),
      sharingBlockedDomainList: (s.sharingBlockedDomainList ?? []).map((d) => d.toLowerCase()),
    };
  }

  async lookupExternalDomain(domain: string): Promise<ExternalDomainInfo> {
    const name = normaliseDomain(domain).toLowerCase();
    if (!/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$/.test(name)) {
      throw new DirectoryError('invalidInput', `'${domain}' is not a valid domain name.`, { detail: 'refused before calling Graph' });
    }
    try {
      const info = await this.call<{ tenantId?: string; displayName?: string }>({
        method: 'GET',
        path: `/tenantRelationships/findTenantInformationByDomainName(domainName=${encodeURIComponent(odataString(name))})`,
      });
      return info.tenantId
        ? { domain: name, managedTenant: { tenantId: info.tenantId, displayName: info.displayName ?? '' } }
        : { domain: name, managedTenant: null };
    } catch (e) {
      // 404: no Entra tenant owns the domain.
      if (isDirectoryError(e) && e.code === 'notFound') return { domain: name, managedTenant: null };
      throw e;
    }
  }

  // ------------------------------------------------------------------------------------------
  // Transport.

  private async call<T = unknown>(spec: GraphCall): Promise<T> {
    const version = spec.version ?? 'v1.0';
    let request = this.client.api(spec.path).version(version);
    if (spec.headers) request = request.headers(spec.headers);
    const markers: MiddlewareOptions[] = [];
    if (spec.idempotent) markers.push(new IdempotentRequest());
    if (markers.length) request = request.middlewareOptions(markers);
    try {
      switch (spec.method) {
        case 'GET':
          return (await request.get()) as T;
        case 'POST':
          return (await request.post(spec.body ?? {})) as T;
        case 'PATCH':
          return (await request.patch(spec.body ?? {})) as T;
      }
    } catch (e) {
      throw this.toDirectoryError(e, spec.method, `/${version}${pathOnly(spec.path)}`);
    }
  }

  /** Follows @odata.nextLink to the end (same origin only: a link elsewhere would not get our token anyway). */
  private async listAll<T>(path: string, version: 'v1.0' | 'beta' = 'v1.0', headers?: Record<string, string>): Promise<T[]> {
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
  private async batch(requests: Array<{ id: string; method: string; url: string; headers?: Record<string, string> }>): Promise<Map<string, unknown>> {
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

// ---------------------------------------------------------------------------------------------

const SHARING_CAPABILITIES: readonly SharingCapability[] = [
  'disabled',
  'existingExternalUserSharingOnly',
  'externalUserSharingOnly',
  'externalUserAndGuestSharing',
];

/** SharePoint's out-of-the-box tenant setting, assumed when the settings cannot be read. */
const SHAREPOINT_DEFAULT: SharePointSharingSettings = {
  sharingCapability: 'externalUserAndGuestSharing',
  sharingDomainRestrictionMode: 'none',
  sharingAllowedDomainList: [],
  sharingBlockedDomainList: [],
};

/** 504 on an invitation or no answer at all: Graph may or may not have done the work. */
function isOutcomeUnknown(e: DirectoryError): boolean {
  return e.graphCode === 'NoResponse' || (e.cause as { statusCode?: unknown } | undefined)?.statusCode === 504;
}

function asDirectoryError(e: unknown): DirectoryError {
  if (isDirectoryError(e)) return e;
  return directoryErrorFromNetwork(e);
}

function toInvitationResult(answer: GraphInvitation): InvitationResult {
  return {
    invitationId: answer.id ?? '',
    redeemUrl: answer.inviteRedeemUrl ?? '',
    userId: answer.invitedUser?.id ?? '',
    status: answer.status ?? 'PendingAcceptance',
  };
}

/** The SDK's own ceiling for one wait. */
const MAX_WAIT_MS = 180_000;

function lowerKeys(headers: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) out[k.toLowerCase()] = v;
  return out;
}

/**
 * The B2B allow/deny list from the policy's JSON definition string, e.g.
 * {"B2BManagementPolicy":{"InvitationsAllowedAndBlockedDomainsPolicy":{"BlockedDomains":["x.com"]}}}.
 * A tenant has one list or the other; an unparseable definition reads as no list.
 */
export function parseB2bDomainPolicy(definition: readonly string[]): B2bDomainPolicy {
  for (const json of definition) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch {
      continue;
    }
    const inner = (parsed as { B2BManagementPolicy?: { InvitationsAllowedAndBlockedDomainsPolicy?: { AllowedDomains?: unknown; BlockedDomains?: unknown } } })
      ?.B2BManagementPolicy?.InvitationsAllowedAndBlockedDomainsPolicy;
    if (!inner) continue;
    const list = (v: unknown): string[] | null =>
      Array.isArray(v) ? v.filter((d): d is string => typeof d === 'string').map((d) => d.toLowerCase()) : null;
    const allowed = list(inner.AllowedDomains);
    const blocked = list(inner.BlockedDomains);
    // A tenant has one list or the other; an empty list means no restriction of that kind.
    if (allowed !== null && allowed.length > 0) return { mode: 'allowList', domains: allowed };
    if (blocked !== null && blocked.length > 0) return { mode: 'blockList', domains: blocked };
  }
  return { mode: 'none' };
}
