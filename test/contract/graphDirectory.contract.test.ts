/**
 * GraphDirectory held to the same contract as FakeDirectory, over real HTTP: the fake's tenant
 * is served by the Graph-shaped test server and GraphDirectory talks to it through the Graph
 * JS client, with a fake TokenCredential.
 */
import type { AccessToken, TokenCredential } from '@azure/identity';
import { describeDirectoryContract } from './directoryContract';
import { describeLifecycleContract } from './directoryLifecycleContract';
import { demoDirectory } from '../support/directory';
import { startGraphServer } from '../support/graphServer';
import { GraphDirectory } from '../../src/adapters/graph/GraphDirectory';

const credential: TokenCredential = {
  getToken: async (): Promise<AccessToken> => ({ token: 'contract-test-token', expiresOnTimestamp: Date.now() + 3_600_000 }),
};

async function makeGraph() {
  const fake = demoDirectory();
  const server = await startGraphServer(fake);
  const directory = new GraphDirectory({ credential, baseUrl: server.baseUrl, maxRetries: 3, retryDelaySeconds: 0.01 });
  return { directory, fake, close: () => server.close() };
}

describeDirectoryContract('GraphDirectory over HTTP', makeGraph);
describeLifecycleContract('GraphDirectory over HTTP', makeGraph);
