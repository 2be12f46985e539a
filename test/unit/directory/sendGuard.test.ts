/**
 * An invitation goes out only while its sender still holds it: `maySend` is asked right before
 * each attempt of the POST, after the pacer's wait, by GraphDirectory (through its middleware)
 * and by the demo directory alike. When it says no, nothing reaches Graph and the caller gets
 * InvitationNotSent, which is never retried.
 */
import type { AccessToken } from '@azure/identity';
import { GraphDirectory } from '../../../src/adapters/graph/GraphDirectory';
import { InvitationNotSent } from '../../../src/usecases/ports/Directory';
import { demoDirectory, DEMO } from '../../support/directory';
import { startGraphServer, type GraphTestServer } from '../../support/graphServer';

const credential = { getToken: async (): Promise<AccessToken> => ({ token: 'test-token', expiresOnTimestamp: Date.now() + 3_600_000 }) };
const invitation = { email: 'held@example.org', displayName: 'Held Guest', redirectUrl: DEMO.groups.projectFalcon.siteUrl, sendInvitationMessage: false };

describe('an invitation sent only while its sender holds it', () => {
  let server: GraphTestServer | null = null;
  afterEach(async () => {
    await server?.close();
    server = null;
  });

  const posts = (): number => server?.requestLog.filter((r) => r.method === 'POST' && r.path === '/v1.0/invitations').length ?? 0;

  it('the hold lapses while the request waits for the pacer: nothing reaches Graph, and the caller is told InvitationNotSent', async () => {
    const fake = demoDirectory();
    server = await startGraphServer(fake);
    let letThrough: () => void = () => undefined;
    const pacer = {
      acquire: () => new Promise<void>((resolve) => (letThrough = resolve)),
      holdOff: () => undefined,
    };
    const graph = new GraphDirectory({ credential, baseUrl: server.baseUrl, retryDelaySeconds: 0.001, invitationPacer: pacer });
    let held = true;
    const sent = graph.invite({ ...invitation, maySend: () => held });
    await new Promise((resolve) => setTimeout(resolve, 50));
    held = false;
    letThrough();
    await expect(sent).rejects.toBeInstanceOf(InvitationNotSent);
    expect(posts()).toBe(0);
    expect(fake.state.invitations).toHaveLength(0);
  });

  it('while it holds, the invitation goes as before', async () => {
    const fake = demoDirectory();
    server = await startGraphServer(fake);
    const graph = new GraphDirectory({ credential, baseUrl: server.baseUrl, retryDelaySeconds: 0.001 });
    const result = await graph.invite({ ...invitation, maySend: () => true });
    expect(result.userId).toBeTruthy();
    expect(posts()).toBe(1);
  });

  it('the demo directory asks too', async () => {
    const fake = demoDirectory();
    await expect(fake.invite({ ...invitation, maySend: () => false })).rejects.toBeInstanceOf(InvitationNotSent);
    expect(fake.state.invitations).toHaveLength(0);
  });
});
