/**
 * Builds the Directory the app runs against, from AppConfig. The only place that chooses between
 * the embedded demo tenant and Microsoft Graph; nothing outside src/adapters/graph imports the Graph SDK.
 * GraphDirectory (and with it the Graph SDK) is loaded only for DIRECTORY=graph: a demo start
 * never holds it in memory (README "Performance", memory).
 */
import type { TokenCredential } from '@azure/identity';
import type { Logger } from 'pino';
import { ConfigError, type AppConfig, type Env } from './config';
import { systemClock, type Clock } from '../domain/clock';
import { CachingDirectory } from '../adapters/directory/CachingDirectory';
import type { Directory } from '../usecases/ports/Directory';
import { FakeDirectory } from '../adapters/demo/FakeDirectory';
import { demoTenantFixture } from '../adapters/demo/demoTenant';
import type * as GraphDirectoryModule from '../adapters/graph/GraphDirectory';
import type { GraphDirectoryOptions } from '../adapters/graph/graphTransport';
import {
  createGraphCredential,
  GraphCredentialError,
  type CredentialRuntime,
  type GraphCredentialOptions,
} from '../adapters/graph/credential';

/** The configuration variables the Graph credential is built from. */
export type CredentialEnv = Pick<
  Env,
  | 'GRAPH_CREDENTIAL'
  | 'GRAPH_TENANT_ID'
  | 'GRAPH_CLIENT_ID'
  | 'GRAPH_CLIENT_SECRET'
  | 'GRAPH_CERTIFICATE_PATH'
  | 'GRAPH_MANAGED_IDENTITY_CLIENT_ID'
>;

/** The credential's plain options, from the configuration. */
export function graphCredentialOptions(env: CredentialEnv): GraphCredentialOptions {
  return {
    kind: env.GRAPH_CREDENTIAL,
    tenantId: env.GRAPH_TENANT_ID,
    clientId: env.GRAPH_CLIENT_ID,
    clientSecret: env.GRAPH_CLIENT_SECRET,
    certificatePath: env.GRAPH_CERTIFICATE_PATH,
    managedIdentityClientId: env.GRAPH_MANAGED_IDENTITY_CLIENT_ID,
  };
}

/** Builds the Graph credential the configuration describes; problems found at run time stop start-up as a ConfigError. */
export function graphCredentialFromConfig(env: CredentialEnv, runtime?: CredentialRuntime): TokenCredential {
  try {
    return createGraphCredential(graphCredentialOptions(env), runtime);
  } catch (e) {
    if (e instanceof GraphCredentialError) throw new ConfigError(e.problems);
    throw e;
  }
}

export interface CreateDirectoryOptions {
  /** Use this credential instead of the one AppConfig describes (tests: a fake TokenCredential). */
  credential?: TokenCredential;
  /** Retry tuning for GraphDirectory (tests: small delay scale). */
  graph?: Pick<GraphDirectoryOptions, 'maxRetries' | 'retryDelaySeconds' | 'delayScale' | 'sleep'>;
  /** The process's shared invitation pacer: GraphDirectory paces every POST /invitations attempt with it. */
  invitationPacer?: GraphDirectoryOptions['invitationPacer'];
  /** The app's clock: the demo tenant's timestamps, and its lifecycle-stage guests dated from its start. */
  clock?: Clock;
}

export function createDirectory(config: AppConfig, logger?: Logger, options: CreateDirectoryOptions = {}): Directory {
  if (config.directory === 'demo') {
    logger?.info('directory: embedded demo tenant "Contoso (demo)"');
    // With guests at each stage of the guest lifecycle (DEMO_LIFECYCLE), dated from now.
    const clock = options.clock ?? systemClock;
    return new FakeDirectory(demoTenantFixture({ lifecycleStagesAt: clock.now() }), { clock });
  }
  const credential = options.credential ?? graphCredentialFromConfig(config.env);
  const baseUrl = config.env.GRAPH_BASE_URL;
  logger?.info({ baseUrl, credential: options.credential ? 'injected' : config.env.GRAPH_CREDENTIAL }, 'directory: Microsoft Graph');
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy on purpose (memory: see the header)
  const { GraphDirectory } = require('../adapters/graph/GraphDirectory') as typeof GraphDirectoryModule;
  const graph = new GraphDirectory({
    credential,
    baseUrl,
    tenantId: config.env.GRAPH_TENANT_ID,
    logger,
    invitationPacer: options.invitationPacer,
    ...options.graph,
  });
  // Turns read the same policies, people and sites again and again: see CachingDirectory.
  return new CachingDirectory(graph, { policyTtlMs: config.env.POLICY_CACHE_SECONDS * 1000, logger });
}
