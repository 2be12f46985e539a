/**
 * A Graph-shaped HTTP server (node:http, no framework) backed by a FakeDirectory's tenant, so
 * GraphDirectory is tested over real HTTP against the same state and the same contract suite as
 * FakeDirectory. Served paths and options: src/adapters/graph/README.md.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DirectoryError } from '../../src/usecases/ports/Directory';
import { graphAnswerFor, type FakeDirectory } from '../../src/adapters/demo/FakeDirectory';
import { type FakeTenantState } from '../../src/adapters/demo/FakeTenantState';
import { GRAPH_ERRORS, graphErrorBody, permissionForRequest } from '../../src/adapters/graph/errors';
import type { FixtureGroup, FixtureUser } from '../../src/adapters/demo/fixture';

export type FaultKind = '429' | '503' | '504' | 'reset' | 'slow' | 'hang';

export interface GraphServerOptions {
  limits?: { invitationsPer5s?: number; directoryWritesPer150s?: number; timeScale?: number };
  /** Added to every request. */
  latencyMs?: number;
  /**
   * `plan`: the faults of the first requests (batch sub-requests included), in arrival order,
   * `null` for none; the seeded draw (`rate`, `kinds`, `seed`) takes over after it.
   */
  faults?: { rate?: number; kinds?: FaultKind[]; seed?: number; slowMs?: number; plan?: Array<FaultKind | null> };
  /** Items per page of paged collections (small, so paging is exercised). */
  pageSize?: number;
  /**
   * The clock of the rate windows, in ms (default performance.now). Tests that depend on a window
   * not ending early freeze it and move it themselves: a loaded machine cannot then end it.
   */
  now?: () => number;
}

export interface LoggedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  /** Lower-cased names; the Authorization value is redacted. */
  headers: Record<string, string>;
  body: unknown;
  /** Null until answered (or when the connection was reset). */
  status: number | null;
  inBatch: boolean;
  fault?: FaultKind;
}

export interface GraphTestServer {
  baseUrl: string;
  requestLog: LoggedRequest[];
  close(): Promise<void>;
  /**
   * While on, POST /invitations takes effect but is never answered (as a process killed after its
   * POST reached Graph and before the answer came back sees it).
   */
  holdInvitationAnswers(on: boolean): void;
}

interface GraphResponse {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

const JSON_TYPE = 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';
const GRAPH_ROOT = 'https://graph.microsoft.com/v1.0';
/** Graph's default user properties when no $select is given. */
const DEFAULT_USER_PROPERTIES = [
  'businessPhones',
  'displayName',
  'givenName',
  'jobTitle',
  'mail',
  'mobilePhone',
  'officeLocation',
  'preferredLanguage',
  'surname',
  'userPrincipalName',
  'id',
];
const DEFAULT_REDEMPTION_ORDER = {
  primaryIdentityProviderPrecedenceOrder: ['azureActiveDirectory', 'externalFederation', 'socialIdentityProviders'],
  fallbackIdentityProvider: 'defaultConfiguredIdp',
};

/** Deterministic PRNG (mulberry32): the same seed gives the same faults. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A fixed window: at most `limit` requests per `windowMs`, counted from the window's first request. */
class RateWindow {
  private start = 0;
  private count = 0;
  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /** Null when allowed; otherwise the milliseconds until the window ends. */
  take(now: number): number | null {
    if (this.count === 0 || now - this.start >= this.windowMs) {
      this.start = now;
      this.count = 0;
    }
    if (this.count < this.limit) {
      this.count++;
      return null;
    }
    return Math.max(1, this.start + this.windowMs - now);
  }
}

function error(status: number, code: string, message: string, headers?: Record<string, string>): GraphResponse {
  return { status, body: graphErrorBody(code, message), headers };
}

function fromDirectoryError(e: unknown): GraphResponse {
  if (e instanceof DirectoryError) {
    const answer = graphAnswerFor(e);
    return { status: answer.status, body: answer.body };
  }
  throw e;
}

function select<T extends Record<string, unknown>>(entity: T, selectParam: string | undefined, defaults?: string[]) {
  const fields = selectParam
    ? selectParam.split(',').map((f) => f.trim()).filter(Boolean)
    : defaults;
  if (!fields) return entity;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(entity)) {
    if (key.startsWith('@odata.') || fields.some((f) => f.toLowerCase() === key.toLowerCase())) out[key] = entity[key];
  }
  return out;
}

function userJson(u: FixtureUser): Record<string, unknown> {
  return {
    '@odata.type': '#microsoft.graph.user',
    id: u.id,
    businessPhones: [],
    displayName: u.displayName,
    givenName: null,
    jobTitle: null,
    mail: u.mail,
    mobilePhone: null,
    officeLocation: null,
    preferredLanguage: null,
    surname: null,
    userPrincipalName: u.userPrincipalName,
    otherMails: u.otherMails,
    proxyAddresses: u.proxyAddresses,
    userType: u.kind === 'guest' ? 'Guest' : 'Member',
    creationType: u.kind === 'guest' ? 'Invitation' : null,
    externalUserState: u.externalUserState,
    externalUserStateChangeDateTime: u.externalUserStateChangeDateTime,
    identities: u.identities,
    accountEnabled: u.accountEnabled !== false,
    createdDateTime: u.createdDateTime ?? null,
    // Only ever returned when $select names it (never among the defaults), as Graph does.
    signInActivity: u.signInActivity
      ? { '@odata.type': '#microsoft.graph.signInActivity', lastSignInRequestId: null, lastNonInteractiveSignInRequestId: null, ...u.signInActivity }
      : null,
  };
}

function groupJson(g: FixtureGroup): Record<string, unknown> {
  return {
    '@odata.type': '#microsoft.graph.group',
    id: g.id,
    displayName: g.displayName,
    mail: g.mail,
    mailEnabled: g.mail !== null,
    securityEnabled: g.siteUrl === null,
    groupTypes: g.siteUrl ? ['Unified'] : [],
    visibility: g.siteUrl ? 'Private' : null,
  };
}

type UserPredicate = (u: FixtureUser) => boolean;

/**
 * A parsed user $filter: the exact predicate, and the values its clauses compare with, so the
 * server can fetch candidates from the tenant's index instead of testing every user.
 */
export interface UserQuery {
  matches: UserPredicate;
  /** Each clause's literal (addresses, ids), as written. */
  values: string[];
}

/** Parses the user filters GraphDirectory needs, joined with `or`; null for anything else. */
export function parseUserQuery(filter: string): UserQuery | null {
  const literal = `'((?:[^']|'')*)'`;
  const unquote = (s: string) => s.replace(/''/g, "'").toLowerCase();
  const values: string[] = [];
  const clauses: Array<{ re: RegExp; build: (m: RegExpExecArray) => UserPredicate }> = [
    {
      re: new RegExp(`^\\s*(mail|userPrincipalName)\\s+eq\\s+${literal}\\s*`, 'i'),
      build: (m) => {
        const field = (m[1] ?? '').toLowerCase();
        const value = unquote(m[2] ?? '');
        values.push(value);
        return field === 'mail'
          ? (u) => (u.mail ?? '').toLowerCase() === value
          : (u) => u.userPrincipalName.toLowerCase() === value;
      },
    },
    {
      re: new RegExp(`^\\s*(otherMails|proxyAddresses)/any\\(\\s*(\\w+)\\s*:\\s*(\\w+)\\s+eq\\s+${literal}\\s*\\)\\s*`, 'i'),
      build: (m) => {
        if (m[2] !== m[3]) return () => false;
        const value = unquote(m[4] ?? '');
        values.push(value);
        return (m[1] ?? '').toLowerCase() === 'othermails'
          ? (u) => u.otherMails.some((x) => x.toLowerCase() === value)
          : (u) => u.proxyAddresses.some((x) => x.toLowerCase() === value);
      },
    },
    {
      re: /^\s*id\s+in\s+\(([^)]*)\)\s*/i,
      build: (m) => {
        const ids = [...(m[1] ?? '').matchAll(/'((?:[^']|'')*)'/g)].map((x) => unquote(x[1] ?? ''));
        values.push(...ids);
        return (u) => ids.includes(u.id.toLowerCase());
      },
    },
  ];
  const predicates: UserPredicate[] = [];
  let rest = filter;
  for (;;) {
    let matched = false;
    for (const clause of clauses) {
      const m = clause.re.exec(rest);
      if (m) {
        predicates.push(clause.build(m));
        rest = rest.slice(m[0].length);
        matched = true;
        break;
      }
    }
    if (!matched) return null;
    if (rest.trim() === '') break;
    const or = /^or\s+/i.exec(rest);
    if (!or) return null;
    rest = rest.slice(or[0].length);
  }
  return { matches: (u) => predicates.some((p) => p(u)), values };
}

/** Parses the user filters GraphDirectory needs, joined with `or`; null for anything else. */
export function parseUserFilter(filter: string): UserPredicate | null {
  return parseUserQuery(filter)?.matches ?? null;
}

export class GraphServer {
  readonly requestLog: LoggedRequest[] = [];
  private readonly state: FakeTenantState;
  private readonly timeScale: number;
  private readonly invitations: RateWindow;
  private readonly directoryWrites: RateWindow;
  private readonly random: () => number;
  private readonly faultPlan: Array<FaultKind | null>;
  private readonly pageSize: number;
  private server: http.Server | null = null;
  private baseUrl = '';
  private holdingInvitations = false;

  constructor(
    fake: FakeDirectory,
    private readonly options: GraphServerOptions = {},
  ) {
    this.state = fake.state;
    this.timeScale = options.limits?.timeScale ?? 1;
    this.invitations = new RateWindow(options.limits?.invitationsPer5s ?? 150, 5000 * this.timeScale);
    this.directoryWrites = new RateWindow(options.limits?.directoryWritesPer150s ?? 3000, 150_000 * this.timeScale);
    this.random = seededRandom(options.faults?.seed ?? 1);
    this.faultPlan = [...(options.faults?.plan ?? [])];
    this.pageSize = options.pageSize ?? 5;
  }

  async start(): Promise<GraphTestServer> {
    const server = http.createServer((req, res) => {
      this.onRequest(req, res).catch((e: unknown) => {
        if (!res.headersSent) {
          res.writeHead(500, { 'content-type': JSON_TYPE });
          res.end(JSON.stringify(graphErrorBody('InternalServerError', String(e))));
        }
      });
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    this.baseUrl = `http://127.0.0.1:${port}`;
    return {
      baseUrl: this.baseUrl,
      requestLog: this.requestLog,
      close: () => this.close(),
      holdInvitationAnswers: (on) => {
        this.holdingInvitations = on;
      },
    };
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown = undefined;
    if (text !== '') {
      try {
        body = JSON.parse(text) as unknown;
      } catch {
        body = text;
      }
    }
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = (req.method ?? 'GET').toUpperCase();
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined) continue;
      headers[name.toLowerCase()] = name.toLowerCase() === 'authorization' ? redact(String(value)) : String(value);
    }
    const entry: LoggedRequest = {
      method,
      path: decodeURIComponent(url.pathname),
      query: Object.fromEntries(url.searchParams),
      headers,
      body,
      status: null,
      inBatch: false,
    };
    this.requestLog.push(entry);

    if (this.options.latencyMs) await sleep(this.options.latencyMs);

    const send = (response: GraphResponse) => {
      entry.status = response.status;
      const outHeaders: Record<string, string> = { 'request-id': `req-${this.requestLog.length}`, ...response.headers };
      if (response.body === undefined) {
        res.writeHead(response.status, outHeaders);
        res.end();
      } else {
        res.writeHead(response.status, { 'content-type': JSON_TYPE, ...outHeaders });
        res.end(JSON.stringify(response.body));
      }
    };

    if (!/^Bearer\s+\S+/i.test(String(req.headers.authorization ?? ''))) {
      send(error(401, GRAPH_ERRORS.unauthenticated.code, GRAPH_ERRORS.unauthenticated.message));
      return;
    }

    const fault = this.drawFault();
    if (fault) entry.fault = fault;
    if (fault === 'reset') {
      req.socket.destroy();
      return;
    }
    if (fault === 'slow') await sleep(this.options.faults?.slowMs ?? Math.max(1, 100 * this.timeScale));
    const faulted = fault ? this.faultResponse(fault) : null;
    if (faulted) {
      send(faulted);
      return;
    }

    const { version, path } = splitVersion(entry.path);
    const response =
      version === 'v1.0' && method === 'POST' && path === '/$batch'
        ? this.batch(version, body)
        : this.execute(method, version, path, url.searchParams, body);
    // 'hang': the request took effect, but no answer ever comes (no reset either) until the
    // client gives up or the server closes.
    if (fault === 'hang') return;
    if (this.holdingInvitations && method === 'POST' && path === '/invitations' && response.status < 300) return;
    send(response);
  }

  private drawFault(): FaultKind | null {
    if (this.faultPlan.length > 0) return this.faultPlan.shift() ?? null;
    const faults = this.options.faults;
    const kinds = faults?.kinds ?? [];
    const rate = faults?.rate ?? 0;
    if (kinds.length === 0 || rate <= 0) return null;
    if (this.random() >= rate) return null;
    return kinds[Math.floor(this.random() * kinds.length)] ?? null;
  }

  private faultResponse(kind: FaultKind): GraphResponse | null {
    switch (kind) {
      case '429':
        return this.throttled(1000 * this.timeScale);
      case '503':
        return error(503, GRAPH_ERRORS.unavailable.code, GRAPH_ERRORS.unavailable.message);
      case '504':
        return error(504, GRAPH_ERRORS.gatewayTimeout.code, GRAPH_ERRORS.gatewayTimeout.message);
      default:
        return null;
    }
  }

  /** Retry-After is integer seconds in HTTP; under a time scale it is sent fractional (see README). */
  private throttled(retryAfterMs: number): GraphResponse {
    const seconds = retryAfterMs / 1000;
    const retryAfter = this.timeScale === 1 ? String(Math.max(1, Math.ceil(seconds))) : seconds.toFixed(3);
    return error(429, GRAPH_ERRORS.throttled.code, GRAPH_ERRORS.throttled.message, {
      'Retry-After': retryAfter,
      'x-ms-retry-after-ms': String(Math.ceil(retryAfterMs)),
    });
  }

  private batch(version: string, body: unknown): GraphResponse {
    const requests = (body as { requests?: unknown } | undefined)?.requests;
    if (!Array.isArray(requests)) return error(400, 'BadRequest', 'Invalid batch payload: requests is required.');
    if (requests.length > 20) {
      return error(400, GRAPH_ERRORS.tooManyBatchRequests.code, GRAPH_ERRORS.tooManyBatchRequests.message);
    }
    const responses = requests.map((raw: unknown) => {
      const sub = (raw ?? {}) as { id?: unknown; method?: unknown; url?: unknown; body?: unknown; headers?: unknown };
      const id = String(sub.id ?? '');
      const method = String(sub.method ?? 'GET').toUpperCase();
      const relative = String(sub.url ?? '');
      const url = new URL(`/${version}/${relative.replace(/^\//, '')}`, 'http://127.0.0.1');
      const subHeaders: Record<string, string> = {};
      if (sub.headers && typeof sub.headers === 'object') {
        for (const [k, v] of Object.entries(sub.headers as Record<string, unknown>)) subHeaders[k.toLowerCase()] = String(v);
      }
      const entry: LoggedRequest = {
        method,
        path: decodeURIComponent(url.pathname),
        query: Object.fromEntries(url.searchParams),
        headers: subHeaders,
        body: sub.body,
        status: null,
        inBatch: true,
      };
      this.requestLog.push(entry);
      const fault = this.drawFault();
      // Connection-level faults cannot hit one sub-request: the draw is spent, the request runs.
      const faulted = fault ? this.faultResponse(fault) : null;
      if (faulted) entry.fault = fault ?? undefined;
      const response =
        faulted ?? this.execute(method, version, splitVersion(entry.path).path, url.searchParams, sub.body);
      entry.status = response.status;
      return {
        id,
        status: response.status,
        headers: { 'Content-Type': 'application/json', ...response.headers },
        body: response.body ?? null,
      };
    });
    return { status: 200, body: { responses } };
  }

  /** Limits, then the route. */
  private execute(method: string, version: string, path: string, query: URLSearchParams, body: unknown): GraphResponse {
    const now = (this.options.now ?? performance.now.bind(performance))();
    if (version === 'v1.0' && method === 'POST' && path === '/invitations') {
      const wait = this.invitations.take(now);
      if (wait !== null) return this.throttled(wait);
    }
    // Graph checks the app's permissions before anything else: a denied one is a 403 whatever the target.
    if (this.state.deniedPermissions.has(permissionForRequest(method, `/${version}${path}`))) {
      return error(403, GRAPH_ERRORS.insufficientPrivileges.code, GRAPH_ERRORS.insufficientPrivileges.message);
    }
    const isWrite =
      version === 'v1.0' &&
      ((method === 'POST' && /^\/groups\/[^/]+\/members\/\$ref$/.test(path)) ||
        (method === 'PATCH' && /^\/groups\/[^/]+$/.test(path)) ||
        (method === 'DELETE' && /^\/groups\/[^/]+\/members\/[^/]+\/\$ref$/.test(path)) ||
        (method !== 'GET' && /^\/users\/[^/]+(\/sponsors(\/[^/]+)?\/\$ref)?$/.test(path)));
    if (isWrite) {
      const wait = this.directoryWrites.take(now);
      if (wait !== null) return this.throttled(wait);
    }
    try {
      return this.route(method, version, path, query, body);
    } catch (e) {
      return fromDirectoryError(e);
    }
  }

  private route(method: string, version: string, path: string, query: URLSearchParams, body: unknown): GraphResponse {
    const $select = query.get('$select') ?? undefined;
    const seg = path.split('/').filter(Boolean);
    const s = this.state;
    const policies = s.fixture.policies;
    const context = (what: string) => `${GRAPH_ROOT}/$metadata#${what}`;

    if (version === 'beta') {
      if (method === 'GET' && path === '/policies/b2bManagementPolicies') return this.b2bPolicies();
      return unknownSegment(path);
    }
    if (version !== 'v1.0') return unknownSegment(path);

    // ---- users ----
    if (seg[0] === 'users' && seg.length === 1 && method === 'GET') {
      const filter = query.get('$filter');
      let users = s.fixture.users;
      if (filter !== null) {
        const parsed = parseUserQuery(filter);
        if (!parsed) return error(400, 'Request_UnsupportedQuery', `Unsupported or invalid query filter clause: ${filter}`);
        // The index narrows to users carrying one of the literals; an empty literal (mail eq '' matches
        // users without mail) has no key, so that rare filter still tests everyone.
        const candidates = parsed.values.some((v) => v.trim() === '')
          ? users
          : s.inTenantOrder(new Set(parsed.values.flatMap((v) => s.userCandidates(v))));
        users = candidates.filter(parsed.matches);
      }
      return ok({
        '@odata.context': context('users'),
        value: users.map((u) => select(userJson(u), $select, DEFAULT_USER_PROPERTIES)),
      });
    }
    if (seg[0] === 'users' && method === 'GET' && /(^|,)\s*signInActivity\s*(,|$)/i.test($select ?? '')) {
      // signInActivity needs AuditLog.Read.All and Entra ID P1/P2, checked before the user is looked up.
      if (s.deniedPermissions.has('AuditLog.Read.All')) {
        return error(403, GRAPH_ERRORS.insufficientPrivileges.code, GRAPH_ERRORS.insufficientPrivileges.message);
      }
      if (s.fixture.entraIdPremium === false) {
        return error(403, GRAPH_ERRORS.nonPremiumTenant.code, GRAPH_ERRORS.nonPremiumTenant.message);
      }
    }
    if (seg[0] === 'users' && seg.length === 2 && method === 'GET') {
      const key = (seg[1] ?? '').toLowerCase();
      const user = (key.trim() === '' ? s.fixture.users : s.userCandidates(key)).find(
        (u) => u.id === key || u.userPrincipalName.toLowerCase() === key,
      );
      if (!user) return notFound(seg[1] ?? '');
      return ok({ '@odata.context': context('users/$entity'), ...select(userJson(user), $select, DEFAULT_USER_PROPERTIES) });
    }
    if (seg[0] === 'users' && seg.length === 2 && method === 'PATCH') {
      // Only accountEnabled is served (what the bot changes); anything else would be a bug in the bot.
      const patch = (body ?? {}) as Record<string, unknown>;
      const keys = Object.keys(patch);
      if (keys.length !== 1 || typeof patch.accountEnabled !== 'boolean') {
        return error(400, 'Request_BadRequest', 'Only { "accountEnabled": true|false } is served here.');
      }
      s.setAccountEnabled(seg[1] ?? '', patch.accountEnabled);
      return { status: 204 };
    }
    if (seg[0] === 'users' && seg.length === 2 && method === 'DELETE') {
      s.deleteUser(seg[1] ?? '');
      return { status: 204 };
    }
    // Sponsors: users or groups, paged like the other relationship lists.
    if (seg[0] === 'users' && seg[2] === 'sponsors' && seg.length === 3) {
      if (method !== 'GET') return methodNotAllowed();
      const sponsors = s.sponsorsOf(seg[1] ?? '').map((x) =>
        x.kind === 'user' ? select(userJson(x.user), $select, DEFAULT_USER_PROPERTIES) : select(groupJson(x.group), $select),
      );
      return this.page(path, query, sponsors, context('directoryObjects'));
    }
    if (seg[0] === 'users' && seg[2] === 'sponsors' && seg[3] === '$ref' && seg.length === 4) {
      if (method !== 'POST') return methodNotAllowed();
      const ref = (body as Record<string, unknown> | undefined)?.['@odata.id'];
      if (typeof ref !== 'string' || ref === '') {
        return error(400, 'Request_BadRequest', 'The @odata.id of the reference is missing.');
      }
      s.addSponsor(seg[1] ?? '', lastSegment(ref));
      return { status: 204 };
    }
    if (seg[0] === 'users' && seg[2] === 'sponsors' && seg[4] === '$ref' && seg.length === 5) {
      if (method !== 'DELETE') return methodNotAllowed();
      s.removeSponsor(seg[1] ?? '', seg[3] ?? '');
      return { status: 204 };
    }
    if (seg[0] === 'users' && seg[2] === 'ownedObjects' && seg[3] === 'microsoft.graph.group' && seg.length === 4) {
      if (method !== 'GET') return methodNotAllowed();
      const userId = seg[1] ?? '';
      if (!s.user(userId)) return notFound(userId);
      const groups = s.ownedGroups(userId).map((g) => select(groupJson(g), $select));
      return this.page(path, query, groups, context('groups'));
    }
    // memberOf, with or without the cast (the fixture has no directory roles or administrative units).
    if (seg[0] === 'users' && seg[2] === 'memberOf' && (seg.length === 3 || (seg.length === 4 && seg[3] === 'microsoft.graph.group'))) {
      if (method !== 'GET') return methodNotAllowed();
      const userId = seg[1] ?? '';
      if (!s.user(userId)) return notFound(userId);
      const groups = s.memberGroups(userId).map((g) => select(groupJson(g), $select));
      return this.page(path, query, groups, context(seg.length === 4 ? 'groups' : 'directoryObjects'));
    }
    if ((seg[0] === 'users' || seg[0] === 'directoryObjects') && seg[2] === 'checkMemberGroups' && seg.length === 3) {
      if (method !== 'POST') return methodNotAllowed();
      const userId = seg[1] ?? '';
      const groupIds = (body as { groupIds?: unknown } | undefined)?.groupIds;
      if (!Array.isArray(groupIds) || groupIds.length > 20) {
        return error(400, 'Request_BadRequest', 'groupIds must be an array of at most 20 group ids.');
      }
      if (!s.user(userId)) return notFound(userId);
      const value = groupIds
        .map(String)
        .filter((id) => s.group(id)?.members.includes(userId) ?? false);
      return ok({ '@odata.context': context('Collection(Edm.String)'), value });
    }

    // ---- invitations ----
    if (seg[0] === 'invitations' && seg.length === 1) {
      if (method !== 'POST') return methodNotAllowed();
      return this.invite(body);
    }

    // ---- groups ----
    if (seg[0] === 'groups' && seg.length === 2) {
      const group = s.group(seg[1] ?? '');
      if (method === 'GET') {
        if (!group) return notFound(seg[1] ?? '');
        return ok({ '@odata.context': context('groups/$entity'), ...select(groupJson(group), $select) });
      }
      if (method === 'PATCH') return this.patchGroup(seg[1] ?? '', body);
      return methodNotAllowed();
    }
    if (seg[0] === 'groups' && seg[2] === 'members' && seg[4] === '$ref' && seg.length === 5) {
      if (method !== 'DELETE') return methodNotAllowed();
      s.removeMember(seg[1] ?? '', seg[3] ?? '');
      return { status: 204 };
    }
    if (seg[0] === 'groups' && seg[2] === 'members' && seg[3] === '$ref' && seg.length === 4) {
      if (method !== 'POST') return methodNotAllowed();
      const ref = (body as Record<string, unknown> | undefined)?.['@odata.id'];
      if (typeof ref !== 'string' || ref === '') {
        return error(400, 'Request_BadRequest', 'The @odata.id of the reference is missing.');
      }
      s.addMember(seg[1] ?? '', lastSegment(ref));
      return { status: 204 };
    }
    // members / owners, with or without the cast to users (the fixture's members are all users).
    if (
      seg[0] === 'groups' &&
      (seg[2] === 'members' || seg[2] === 'owners') &&
      (seg.length === 3 || (seg.length === 4 && seg[3] === 'microsoft.graph.user'))
    ) {
      if (method !== 'GET') return methodNotAllowed();
      if (query.has('$filter')) {
        return error(400, 'Request_UnsupportedQuery', 'This $filter needs advanced query parameters; not served here.');
      }
      const group = s.group(seg[1] ?? '');
      if (!group) return notFound(seg[1] ?? '');
      const ids = seg[2] === 'members' ? group.members : group.owners;
      const objects = s.usersAmong(ids).map((u) => select(userJson(u), $select, DEFAULT_USER_PROPERTIES));
      return this.page(path, query, objects, context(seg.length === 4 ? 'users' : 'directoryObjects'));
    }
    if (seg[0] === 'groups' && seg[2] === 'sites' && seg[3] === 'root' && seg.length === 4 && method === 'GET') {
      const group = s.group(seg[1] ?? '');
      if (!group) return notFound(seg[1] ?? '');
      if (!group.siteUrl) return error(404, 'itemNotFound', 'Requested site could not be found');
      const name = group.siteUrl.split('/').pop() ?? '';
      return ok({
        '@odata.context': context('sites/$entity'),
        ...select(
          {
            id: `contoso.sharepoint.com,${group.id},${group.id}`,
            webUrl: group.siteUrl,
            displayName: group.displayName,
            name,
          },
          $select,
        ),
      });
    }

    if (method !== 'GET') return methodNotAllowed();

    // ---- tenant and policies ----
    switch (path) {
      case '/organization':
        return ok({
          '@odata.context': context('organization'),
          value: [
            {
              id: s.fixture.tenantId,
              displayName: s.fixture.displayName,
              verifiedDomains: s.fixture.verifiedDomains.map((name) => ({
                capabilities: 'Email, OfficeCommunicationsOnline',
                isDefault: name === this.defaultDomain(),
                isInitial: name === s.fixture.initialDomain,
                name,
                type: 'Managed',
              })),
            },
          ],
        });
      case '/domains':
        return ok({
          '@odata.context': context('domains'),
          value: s.fixture.verifiedDomains.map((id) => ({
            id,
            authenticationType: 'Managed',
            isDefault: id === this.defaultDomain(),
            isInitial: id === s.fixture.initialDomain,
            isVerified: true,
          })),
        });
      case '/policies/authorizationPolicy':
        return ok({
          '@odata.context': context('policies/authorizationPolicy/$entity'),
          id: 'authorizationPolicy',
          displayName: 'Authorization Policy',
          description: 'Used to manage authorization related settings across the company.',
          allowInvitesFrom: policies.allowInvitesFrom,
          allowedToSignUpEmailBasedSubscriptions: true,
          allowedToUseSSPR: true,
          allowEmailVerifiedUsersToJoinOrganization: false,
          blockMsolPowerShell: false,
          guestUserRoleId: '10dae51f-b6af-4016-8d66-8c2a99b929b3',
          defaultUserRolePermissions: {
            allowedToCreateApps: true,
            allowedToCreateSecurityGroups: true,
            allowedToReadOtherUsers: true,
          },
        });
      case '/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/email':
        return ok({
          '@odata.context': context('policies/authenticationMethodsPolicy/authenticationMethodConfigurations/$entity'),
          '@odata.type': '#microsoft.graph.emailAuthenticationMethodConfiguration',
          id: 'Email',
          state: policies.emailOtp === 'disabled' ? 'disabled' : 'enabled',
          allowExternalIdToUseEmailOtp: policies.emailOtp,
          includeTargets: [],
          excludeTargets: [],
        });
      case '/identity/identityProviders':
        return ok({ '@odata.context': context('identity/identityProviders'), value: this.identityProviders() });
      case '/directory/federationConfigurations/graph.samlOrWsFedExternalDomainFederation':
      case '/directory/federationConfigurations/microsoft.graph.samlOrWsFedExternalDomainFederation':
        return this.federations(query);
      case '/policies/crossTenantAccessPolicy/default':
        return ok({
          '@odata.context': context('policies/crossTenantAccessPolicy/default/$entity'),
          id: s.fixture.tenantId,
          isServiceDefault: policies.redemptionPrecedence === null,
          b2bCollaborationInbound: {
            usersAndGroups: { accessType: 'allowed', targets: [{ target: 'AllUsers', targetType: 'user' }] },
            applications: { accessType: 'allowed', targets: [{ target: 'AllApplications', targetType: 'application' }] },
          },
          invitationRedemptionIdentityProviderConfiguration: policies.redemptionPrecedence ?? DEFAULT_REDEMPTION_ORDER,
        });
      case '/admin/sharepoint/settings':
        return ok({
          '@odata.context': context('admin/sharepoint/settings/$entity'),
          ...policies.sharePoint,
          isResharingByExternalUsersEnabled: false,
          isRequireAcceptingUserToMatchInvitedUserEnabled: true,
        });
    }
    const tenantLookup = /^\/tenantRelationships\/findTenantInformationByDomainName\(domainName='((?:[^']|'')*)'\)$/.exec(path);
    if (tenantLookup) {
      const domain = (tenantLookup[1] ?? '').replace(/''/g, "'");
      const info = s.externalDomain(domain);
      if (!info.managedTenant) return notFound(domain);
      return ok({
        '@odata.context': context('microsoft.graph.tenantInformation'),
        tenantId: info.managedTenant.tenantId,
        displayName: info.managedTenant.displayName,
        defaultDomainName: info.domain,
        federationBrandName: null,
      });
    }
    return unknownSegment(path);
  }

  private defaultDomain(): string {
    const { verifiedDomains, initialDomain } = this.state.fixture;
    return verifiedDomains.find((d) => d !== initialDomain) ?? initialDomain;
  }

  private invite(body: unknown): GraphResponse {
    const b = (body ?? {}) as Record<string, unknown>;
    const email = b.invitedUserEmailAddress;
    const redirectUrl = b.inviteRedirectUrl;
    if (typeof email !== 'string' || email.trim() === '' || typeof redirectUrl !== 'string' || redirectUrl === '') {
      return error(400, 'BadRequest', 'invitedUserEmailAddress and inviteRedirectUrl are required.');
    }
    const reset = b.resetRedemption === true;
    const displayName = typeof b.invitedUserDisplayName === 'string' ? b.invitedUserDisplayName : '';
    const sendInvitationMessage = b.sendInvitationMessage === true;
    let result;
    if (reset) {
      const invitedUser = b.invitedUser as { id?: unknown } | undefined;
      if (typeof invitedUser?.id !== 'string') {
        return error(400, 'BadRequest', 'resetRedemption requires invitedUser.id.');
      }
      result = this.state.resetRedemption(invitedUser.id, email, redirectUrl);
    } else {
      const sponsors = b.invitedUserSponsors;
      if (sponsors !== undefined && !Array.isArray(sponsors)) {
        return error(400, 'BadRequest', 'invitedUserSponsors must be a collection of directory objects.');
      }
      const sponsorIds = sponsors?.map((x: unknown) => String((x as { id?: unknown } | null)?.id ?? ''));
      result = this.state.invite({ email, displayName, redirectUrl, sendInvitationMessage, sponsorIds });
    }
    const user = this.state.user(result.userId);
    return {
      status: 201,
      body: {
        '@odata.context': `${GRAPH_ROOT}/$metadata#invitations/$entity`,
        id: result.invitationId,
        inviteRedeemUrl: result.redeemUrl,
        invitedUserDisplayName: user?.displayName ?? displayName,
        invitedUserType: 'Guest',
        invitedUserEmailAddress: email,
        sendInvitationMessage,
        resetRedemption: reset,
        inviteRedirectUrl: redirectUrl,
        status: result.status,
        invitedUserMessageInfo: b.invitedUserMessageInfo ?? {
          messageLanguage: null,
          ccRecipients: [],
          customizedMessageBody: null,
        },
        invitedUser: { id: result.userId },
      },
    };
  }

  /** PATCH with members@odata.bind: at most 20, all or nothing. */
  private patchGroup(groupId: string, body: unknown): GraphResponse {
    const group = this.state.group(groupId);
    if (!group) return notFound(groupId);
    const binds = (body as Record<string, unknown> | undefined)?.['members@odata.bind'];
    if (binds === undefined) return { status: 204 };
    if (!Array.isArray(binds)) return error(400, 'BadRequest', 'members@odata.bind must be an array.');
    if (binds.length > 20) {
      return error(400, GRAPH_ERRORS.tooManyMemberBinds.code, GRAPH_ERRORS.tooManyMemberBinds.message);
    }
    const ids = binds.map((b) => lastSegment(String(b)));
    const unknown = ids.find((id) => !this.state.user(id));
    if (unknown) return notFound(unknown);
    if (ids.some((id) => group.members.includes(id)) || new Set(ids).size !== ids.length) {
      return error(400, GRAPH_ERRORS.alreadyMember.code, GRAPH_ERRORS.alreadyMember.message);
    }
    group.members.push(...ids);
    return { status: 204 };
  }

  private page(path: string, query: URLSearchParams, items: unknown[], odataContext: string): GraphResponse {
    const skip = Number(query.get('$skiptoken') ?? '0') || 0;
    const top = Number(query.get('$top') ?? '0');
    const size = top > 0 ? Math.min(top, this.pageSize) : this.pageSize;
    const value = items.slice(skip, skip + size);
    const response: Record<string, unknown> = { '@odata.context': odataContext, value };
    if (skip + size < items.length) {
      const next = new URLSearchParams(query);
      next.set('$skiptoken', String(skip + size));
      response['@odata.nextLink'] = `${this.baseUrl}/v1.0${path}?${next.toString()}`;
    }
    return ok(response);
  }

  private identityProviders(): unknown[] {
    const builtIn = (id: string, displayName: string, identityProviderType: string) => ({
      '@odata.type': '#microsoft.graph.builtInIdentityProvider',
      id,
      displayName,
      identityProviderType,
    });
    const providers: unknown[] = [
      builtIn('AADSignup-OAUTH', 'Azure Active Directory Sign up', 'AADSignup'),
      builtIn('EmailOtpSignup-OAUTH', 'Email One Time Passcode', 'EmailOTP'),
      builtIn('MSASignup-OAUTH', 'Microsoft Account', 'MicrosoftAccount'),
    ];
    if (this.state.fixture.policies.googleFederation) {
      providers.push({
        '@odata.type': '#microsoft.graph.socialIdentityProvider',
        id: 'Google-OAUTH',
        displayName: 'Google',
        identityProviderType: 'Google',
        clientId: '000000000000-demo.apps.googleusercontent.com',
        clientSecret: '******',
      });
    }
    return providers;
  }

  private federations(query: URLSearchParams): GraphResponse {
    const expandDomains = (query.get('$expand') ?? '').split(',').some((e) => e.trim().toLowerCase() === 'domains');
    const value = this.state.fixture.policies.federatedDomains.map((f, i) => ({
      '@odata.type': '#microsoft.graph.samlOrWsFedExternalDomainFederation',
      id: `5e1f0c2a-0000-4000-8000-${String(i + 1).padStart(12, '0')}`,
      displayName: f.displayName,
      issuerUri: f.issuerUri,
      metadataExchangeUri: null,
      passiveSignInUri: f.issuerUri ? `${new URL(f.issuerUri).origin}/adfs/ls/` : null,
      preferredAuthenticationProtocol: 'saml',
      signingCertificate: 'MIIDemoCertificateNotReal==',
      ...(expandDomains
        ? { domains: [{ '@odata.type': '#microsoft.graph.externalDomainName', id: f.domain, name: f.domain }] }
        : {}),
    }));
    return ok({ '@odata.context': `${GRAPH_ROOT}/$metadata#directory/federationConfigurations/graph.samlOrWsFedExternalDomainFederation`, value });
  }

  private b2bPolicies(): GraphResponse {
    const policy = this.state.fixture.policies.b2bDomainPolicy;
    const domainsPolicy =
      policy.mode === 'blockList'
        ? { BlockedDomains: policy.domains }
        : policy.mode === 'allowList'
          ? { AllowedDomains: policy.domains }
          : {};
    return ok({
      '@odata.context': 'https://graph.microsoft.com/beta/$metadata#policies/b2bManagementPolicies',
      value: [
        {
          id: '3c2b1a09-0000-4000-8000-000000000001',
          displayName: 'B2BManagementPolicy',
          isOrganizationDefault: true,
          definition: [JSON.stringify({ B2BManagementPolicy: { InvitationsAllowedAndBlockedDomainsPolicy: domainsPolicy } })],
        },
      ],
    });
  }
}

/** Starts a GraphServer for `fake` on 127.0.0.1 (ephemeral port). */
export async function startGraphServer(fake: FakeDirectory, options: GraphServerOptions = {}): Promise<GraphTestServer> {
  return new GraphServer(fake, options).start();
}

function ok(body: unknown): GraphResponse {
  return { status: 200, body };
}

function notFound(id: string): GraphResponse {
  return error(404, GRAPH_ERRORS.notFound.code, GRAPH_ERRORS.notFound.message.replace('{id}', id));
}

function methodNotAllowed(): GraphResponse {
  return error(405, 'Request_BadRequest', 'Specified HTTP method is not allowed for the request target.');
}

function unknownSegment(path: string): GraphResponse {
  return error(400, 'BadRequest', `Resource not found for the segment '${path.split('/').filter(Boolean)[0] ?? ''}'.`);
}

function splitVersion(path: string): { version: string; path: string } {
  const m = /^\/(v1\.0|beta)(\/.*)?$/.exec(path);
  return m ? { version: m[1] ?? '', path: m[2] ?? '/' } : { version: '', path };
}

function lastSegment(ref: string): string {
  return ref.split('?')[0]?.split('/').filter(Boolean).pop() ?? '';
}

function redact(authorization: string): string {
  const scheme = authorization.split(/\s+/)[0] ?? '';
  return `${scheme} [redacted]`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
