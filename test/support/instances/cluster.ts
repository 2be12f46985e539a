/**
 * Several bot instances as a service runs them: N processes (instanceBot.ts, the app as
 * production builds it) sharing one store, a round-robin proxy in front of them (the load
 * balancer), the Graph-shaped test server behind them (one tenant for all, counting what it is
 * asked) and a Bot Connector stand-in receiving their replies. Teams users talk to the proxy
 * through `teamsUser` (teamsClient.ts).
 *
 * The store: `{ kind: 'sqlite' }` shares one DATA_DIR between the processes (one machine);
 * `{ kind: 'azure', env }` passes the STORE=azure settings (Azurite's connection string).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FakeDirectory } from '../../../src/adapters/demo/FakeDirectory';
import { DEMO, demoDirectory } from '../directory';
import { startGraphServer, type GraphServerOptions, type GraphTestServer } from '../graphServer';
import { startRoundRobinProxy, type RoundRobinProxy } from '../roundRobinProxy';
import { startConnectorStandIn, type ConnectorStandIn } from './connector';

/** The project folder (this file runs from test/support/instances, or from dist/ when a bench is built). */
function projectRoot(from: string): string {
  for (let dir = from; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'test', 'support', 'bulkTsRegister.js'))) return dir;
  }
  throw new Error(`no project folder above ${from}`);
}

const ROOT = projectRoot(__dirname);

export type StoreChoice = { kind: 'sqlite'; dataDir?: string } | { kind: 'azure'; env: Record<string, string> };

export interface Instance {
  readonly index: number;
  readonly url: string;
  readonly pid: number;
  /** Everything it printed (JSON logs on stdout, errors on stderr). */
  output(): string;
  /** Its JSON log lines (stdout), parsed. */
  logs(): Array<Record<string, unknown>>;
  exited: Promise<number | null>;
  /** SIGTERM (the bot's clean shutdown), SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<number | null>;
  /** SIGKILL: the instance dies at once, mid-whatever. */
  kill(): Promise<void>;
  /** CPU time, peak RSS and (STORE=azure) the storage transactions it made so far. */
  usage(): Promise<InstanceUsage>;
}

export interface InstanceUsage {
  cpuMs: number;
  peakRssMb: number;
  storageTransactions: number | null;
}

export interface ClusterOptions {
  instances?: number;
  store: StoreChoice;
  /** Extra environment for every instance (INVITES_PER_5S, APPROVAL_EXPIRY_DAYS …). */
  env?: Record<string, string>;
  graph?: GraphServerOptions;
  /** How long an instance may take to listen (first start transpiles the sources). */
  startTimeoutMs?: number;
  /** Files a Teams user can attach (teamsUser().attach): served to the instances from this folder. */
  filesDir?: string;
}

export interface Cluster {
  /** The proxy's /api/messages: where Teams (the tests) sends activities. */
  readonly messagesUrl: string;
  readonly proxy: RoundRobinProxy;
  readonly connector: ConnectorStandIn;
  readonly graph: GraphTestServer;
  /** The tenant behind the Graph-shaped server. */
  readonly tenant: FakeDirectory;
  readonly instances: Instance[];
  /** Starts one more instance (same store and settings, `env` added) and puts it in rotation. */
  addInstance(env?: Record<string, string>): Promise<Instance>;
  /** Takes instances out of rotation (they are not stopped). */
  rotate(instances: readonly Instance[]): void;
  /** Stops every instance, the proxy, the connector and the Graph server; removes a temporary DATA_DIR. */
  close(): Promise<void>;
}

/** The environment every instance gets: local mode on loopback, Graph through the test server. */
export function instanceEnv(graphUrl: string, store: StoreChoice, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? os.tmpdir(),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    NODE_DISABLE_COMPILE_CACHE: '1',
    DIRECTORY: 'graph',
    GRAPH_TENANT_ID: DEMO.tenantId,
    GRAPH_CLIENT_ID: '00000000-0000-4000-8000-000000000001',
    GRAPH_CLIENT_SECRET: 'unused: the instance injects a fixed-token credential',
    GRAPH_BASE_URL: graphUrl,
    APPROVER_GROUP_ID: DEMO.groups.guestApprovers.id,
    // A dead instance's locks are free soon, and the survivors look for orphaned work often.
    HOLDER_TTL_MS: '3000',
    RECOVERY_INTERVAL_MS: '1000',
    ...(store.kind === 'sqlite' ? { STORE: 'sqlite', DATA_DIR: store.dataDir ?? '' } : { STORE: 'azure', ...store.env }),
    ...extra,
  };
}

/** Starts one instance process and waits until it listens. */
export function startInstance(index: number, env: Record<string, string>, timeoutMs = 90_000): Promise<Instance> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['-r', path.join(ROOT, 'test/support/bulkTsRegister.js'), path.join(ROOT, 'test/support/instances/instanceBot.ts')],
    { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let stdout = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
    stdout += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const logs = (): Array<Record<string, unknown>> =>
    stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as Record<string, unknown>];
        } catch {
          return [];
        }
      });
  return new Promise<Instance>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`instance ${index} did not start within ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`instance ${index} exited with ${code} before listening:\n${out}`));
    });
    const poll = setInterval(() => {
      const port = logs().find((l) => typeof l.listening === 'number')?.listening as number | undefined;
      if (port === undefined) return;
      clearInterval(poll);
      clearTimeout(timer);
      resolve({
        index,
        url: `http://127.0.0.1:${port}`,
        pid: child.pid ?? -1,
        output: () => out,
        logs,
        exited,
        stop: async (graceMs = 15_000) => {
          if (child.exitCode === null && child.signalCode === null) {
            child.kill('SIGTERM');
            const hard = setTimeout(() => child.kill('SIGKILL'), graceMs);
            const code = await exited;
            clearTimeout(hard);
            return code;
          }
          return exited;
        },
        kill: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
          await exited;
        },
        usage: async () => {
          const seen = logs().filter((l) => l.usage).length;
          child.kill('SIGUSR2');
          const deadline = Date.now() + 10_000;
          for (;;) {
            const reports = logs().filter((l) => l.usage);
            if (reports.length > seen) return reports[reports.length - 1]?.usage as InstanceUsage;
            if (Date.now() > deadline) throw new Error(`instance ${index} did not report its usage`);
            await new Promise((r) => setTimeout(r, 20));
          }
        },
      });
    }, 20);
    void exited.then(() => clearInterval(poll));
  });
}

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const tenant = demoDirectory();
  const graph = await startGraphServer(tenant, { pageSize: 100, ...options.graph });
  const connector = await startConnectorStandIn();
  const ownDataDir = options.store.kind === 'sqlite' && !options.store.dataDir ? fs.mkdtempSync(path.join(os.tmpdir(), 'gob-instances-')) : null;
  const store: StoreChoice = ownDataDir ? { kind: 'sqlite', dataDir: ownDataDir } : options.store;
  const files: Record<string, string> = options.filesDir ? { INSTANCE_FILES_DIR: options.filesDir } : {};
  const env = (extra: Record<string, string> = {}): Record<string, string> => instanceEnv(graph.baseUrl, store, { ...files, ...options.env, ...extra });
  const instances: Instance[] = [];
  let proxy: RoundRobinProxy | undefined;
  let inRotation: Instance[] = [];
  const close = async (): Promise<void> => {
    await Promise.all(instances.map((i) => i.stop()));
    await proxy?.close();
    await connector.close();
    await graph.close();
    if (ownDataDir) fs.rmSync(ownDataDir, { recursive: true, force: true });
  };
  try {
    // The first one alone (it creates the schema or the tables), then the others together.
    const count = options.instances ?? 2;
    instances.push(await startInstance(0, env(), options.startTimeoutMs));
    instances.push(...(await Promise.all(Array.from({ length: count - 1 }, (_, i) => startInstance(i + 1, env(), options.startTimeoutMs)))));
    inRotation = [...instances];
    proxy = await startRoundRobinProxy(inRotation.map((i) => i.url));
  } catch (error) {
    await close();
    throw error;
  }
  const theProxy = proxy;
  return {
    messagesUrl: `${theProxy.url}/api/messages`,
    proxy: theProxy,
    connector,
    graph,
    tenant,
    instances,
    addInstance: async (extra) => {
      const instance = await startInstance(instances.length, env(extra), options.startTimeoutMs);
      instances.push(instance);
      inRotation.push(instance);
      theProxy.setUpstreams(inRotation.map((i) => i.url));
      return instance;
    },
    rotate: (only) => {
      inRotation = [...only];
      theProxy.setUpstreams(inRotation.map((i) => i.url));
    },
    close,
  };
}

/** How many POST /invitations each address got on the Graph-shaped server (answered or not). */
export function invitationsPerAddress(tenant: FakeDirectory): Map<string, number> {
  const counts = new Map<string, number>();
  for (const inv of tenant.state.invitations) counts.set(inv.email.toLowerCase(), (counts.get(inv.email.toLowerCase()) ?? 0) + 1);
  return counts;
}

/** What the Graph-shaped server saw of a bulk run over `emails` (lower case), counted from its log and its tenant. */
export interface GraphCounts {
  /** Addresses with no guest in the group at the end. */
  lost: number;
  /** Addresses invited more than once (POST /invitations that took effect). */
  duplicateInvitations: number;
  /** Guests added to the group by more than one successful request, or listed twice among its members. */
  duplicateMemberships: number;
  /** Membership adds answered "already a member" (harmless, but work done twice). */
  alreadyMemberAnswers: number;
  /** 429 answers, batch parts included. */
  throttled: number;
  /** Requests on the wire ($batch counted once). */
  requests: number;
  /**
   * Of those, the ones that are not a guest's own work (an invitation, a look-up $batch, a
   * membership add): made per job or per instance, whatever the file's size. The Confirm click's
   * rights checks (is the clicker an approver, an owner of the site), and what the instance the
   * click reached did not know yet about the clicker (their profile, the sites they own).
   */
  perJob: number;
}

/** A guest's own requests: its invitation, its share of a look-up $batch and of a membership add. */
function isGuestWork(entry: { method: string; path: string; body?: unknown }): boolean {
  const path = entry.path.split('?')[0] ?? '';
  if (entry.method === 'POST') return /\/(invitations|\$batch|members\/\$ref)$/.test(path);
  return entry.method === 'PATCH' && /\/groups\/[^/]+$/.test(path) && Array.isArray((entry.body as Record<string, unknown> | undefined)?.['members@odata.bind']);
}

const lastSegment = (url: string): string => url.split('/').filter(Boolean).pop() ?? '';

export function graphCounts(cluster: Pick<Cluster, 'graph' | 'tenant'>, groupId: string, emails: readonly string[], fromRequest = 0): GraphCounts {
  const wanted = new Set(emails.map((e) => e.toLowerCase()));
  const invitations = invitationsPerAddress(cluster.tenant);
  const userOf = new Map<string, string>();
  for (const user of cluster.tenant.state.fixture.users) {
    const mail = user.mail?.toLowerCase();
    if (mail && wanted.has(mail)) userOf.set(mail, user.id);
  }
  const members = cluster.tenant.state.group(groupId)?.members ?? [];
  const memberCount = new Map<string, number>();
  for (const id of members) memberCount.set(id, (memberCount.get(id) ?? 0) + 1);
  const adds = new Map<string, number>();
  let alreadyMemberAnswers = 0;
  const log = cluster.graph.requestLog.slice(fromRequest);
  for (const entry of log) {
    const body = (entry.body ?? {}) as Record<string, unknown>;
    let ids: string[] = [];
    if (entry.method === 'POST' && entry.path.endsWith(`/groups/${groupId}/members/$ref`)) ids = [lastSegment(String(body['@odata.id'] ?? ''))];
    else if (entry.method === 'PATCH' && entry.path.endsWith(`/groups/${groupId}`) && Array.isArray(body['members@odata.bind'])) {
      ids = (body['members@odata.bind'] as unknown[]).map((b) => lastSegment(String(b)));
    }
    if (ids.length === 0) continue;
    if (entry.status === 204) for (const id of ids) adds.set(id, (adds.get(id) ?? 0) + 1);
    else if (entry.status === 400) alreadyMemberAnswers++;
  }
  let lost = 0;
  let duplicateInvitations = 0;
  let duplicateMemberships = 0;
  for (const email of wanted) {
    if ((invitations.get(email) ?? 0) > 1) duplicateInvitations++;
    const id = userOf.get(email);
    if (!id || !memberCount.has(id)) lost++;
    if (id && ((adds.get(id) ?? 0) > 1 || (memberCount.get(id) ?? 0) > 1)) duplicateMemberships++;
  }
  return {
    lost,
    duplicateInvitations,
    duplicateMemberships,
    alreadyMemberAnswers,
    throttled: log.filter((r) => r.status === 429).length,
    requests: log.filter((r) => !r.inBatch).length,
    perJob: log.filter((r) => !r.inBatch && !isGuestWork(r)).length,
  };
}
