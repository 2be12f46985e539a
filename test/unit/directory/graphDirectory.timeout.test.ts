/**
 * GraphDirectory when Graph does not answer: no response and no reset. Each attempt gets
 * `requestTimeoutMs`; a timed-out read is sent again like a reset one, and a timed-out
 * invitation is recovered by the same "lost answer" rules. The Graph-shaped test server's
 * 'hang' (the request takes effect, no answer ever comes) and 'slow' (the answer, and the
 * effect, come late) faults, planned per request, are the witnesses.
 */
import type { AccessToken, TokenCredential } from '@azure/identity';
import { GraphDirectory } from '../../../src/adapters/graph/GraphDirectory';
import { DirectoryError } from '../../../src/usecases/ports/Directory';
import type { FakeDirectory } from '../../../src/adapters/demo/FakeDirectory';
import { DEMO, demoDirectory } from '../../support/directory';
import { startGraphServer, type GraphServerOptions, type GraphTestServer, type LoggedRequest } from '../../support/graphServer';

const credential: TokenCredential = {
  getToken: async (): Promise<AccessToken> => ({ token: 'timeout-test-token', expiresOnTimestamp: Date.now() + 3_600_000 }),
};
const SITE = DEMO.groups.projectFalcon.siteUrl;
// Wide enough that an ordinary loopback answer never times out on a busy 2-core machine.
const TIMEOUT_MS = 150;

let servers: GraphTestServer[] = [];
afterEach(async () => {
  jest.restoreAllMocks();
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

async function harness(
  options: GraphServerOptions = {},
  { maxRetries = 3, requestTimeoutMs = TIMEOUT_MS }: { maxRetries?: number; requestTimeoutMs?: number } = {},
): Promise<{ fake: FakeDirectory; server: GraphTestServer; directory: GraphDirectory }> {
  const fake = demoDirectory();
  const server = await startGraphServer(fake, options);
  servers.push(server);
  const directory = new GraphDirectory({
    credential,
    baseUrl: server.baseUrl,
    tenantId: DEMO.tenantId,
    maxRetries,
    retryDelaySeconds: 0.001,
    requestTimeoutMs,
  });
  return { fake, server, directory };
}

const isInvitationPost = (r: LoggedRequest) => !r.inBatch && r.method === 'POST' && r.path === '/v1.0/invitations';

async function until(condition: () => boolean, withinMs = 2000): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('GraphDirectory request timeout: reads', () => {
  it('abandons a GET that hangs after the timeout and answers from the retry', async () => {
    const { server, directory } = await harness({ faults: { plan: ['hang'] } });
    const started = Date.now();
    const user = await directory.getUser(DEMO.users.megan.id);

    expect(user?.displayName).toBe('Megan Bowen');
    const gets = server.requestLog.filter((r) => r.path === `/v1.0/users/${DEMO.users.megan.id}`);
    expect(gets.map((r) => r.status)).toEqual([null, 200]);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('retries a page that answers too slowly and still lists every member', async () => {
    const { server, directory } = await harness({ pageSize: 1, faults: { plan: [null, 'slow'], slowMs: 600 } });
    const members = await directory.listGroupMembers(DEMO.groups.projectFalcon.id);

    expect(members.map((m) => m.displayName).sort()).toEqual(['Adele Vance', 'Jordan Lee', 'Megan Bowen']);
    const pages = server.requestLog.filter((r) => r.path.endsWith('/members/microsoft.graph.user'));
    expect(pages).toHaveLength(4); // page 1, page 2 (too slow), page 2 again, page 3
    expect(pages[1]?.fault).toBe('slow');
    expect(pages[2]?.query).toEqual(pages[1]?.query);
  });

  it('waits for an answer that is slow but within the timeout, without sending it again', async () => {
    const { server, directory } = await harness({ latencyMs: 30 }, { requestTimeoutMs: 1000 });
    expect(await directory.listGroupOwners(DEMO.groups.research.id)).toEqual([{ id: DEMO.users.alex.id, displayName: 'Alex Wilber' }]);
    expect(server.requestLog).toHaveLength(1);
  });

  it('gives up on a Graph that never answers after the retry bound, with a transient error', async () => {
    const { server, directory } = await harness({ faults: { rate: 1, kinds: ['hang'], seed: 1 } }, { maxRetries: 2 });
    const started = Date.now();
    const error = await directory.listMemberGroups(DEMO.users.jordan.id).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(DirectoryError);
    expect((error as DirectoryError).code).toBe('transient');
    expect((error as DirectoryError).retryable).toBe(true);
    expect((error as DirectoryError).graphCode).toBe('NoResponse');
    expect(server.requestLog).toHaveLength(3); // 1 + 2 retries
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('abandons an answer whose body stalls after the headers', async () => {
    const { directory } = await harness();
    const realFetch = globalThis.fetch;
    let stalled = 0;
    jest.spyOn(globalThis, 'fetch').mockImplementation(async (resource, init) => {
      if (stalled === 0) {
        stalled++;
        const body = new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(new TextEncoder().encode('{"id":"')); // …and nothing more, ever
          },
        });
        return new Response(body, { status: 200, headers: { 'content-type': 'application/json' } });
      }
      return realFetch(resource, init);
    });

    const user = await directory.getUser(DEMO.users.adele.id);
    expect(user?.displayName).toBe('Adele Vance');
    expect(stalled).toBe(1);
  });
});

describe('GraphDirectory request timeout: an invitation with no answer', () => {
  const input = { email: 'no.answer@outlook.com', displayName: 'No Answer', redirectUrl: SITE, sendInvitationMessage: false };

  it('is not re-sent when Graph did the work: the result is rebuilt from the directory', async () => {
    const { fake, server, directory } = await harness({ faults: { plan: ['hang'] } });
    const result = await directory.invite(input);

    expect(server.requestLog.filter(isInvitationPost)).toHaveLength(1);
    const created = fake.snapshot().users.filter((u) => u.mail === input.email);
    expect(created).toHaveLength(1);
    expect(result).toMatchObject({ userId: created[0]?.id, recovered: true, invitationId: '' });
    expect(result.redeemUrl).toBe(`https://myapps.microsoft.com/?tenantid=${DEMO.tenantId}`);
  });

  it('is sent once more when nobody has the address yet, and the late first attempt creates no second guest', async () => {
    const { fake, server, directory } = await harness({ faults: { plan: ['slow'], slowMs: 600 } });
    const result = await directory.invite(input);

    expect(result.recovered).toBeUndefined();
    expect(result.redeemUrl).toMatch(/^https:\/\/login\.microsoftonline\.com\/redeem/);
    const posts = server.requestLog.filter(isInvitationPost);
    expect(posts).toHaveLength(2);
    expect(posts[1]?.status).toBe(201);
    // The check in between found nobody.
    expect(server.requestLog.filter((r) => r.path === '/v1.0/users')).toHaveLength(1);

    // The first, slow attempt lands later: Graph answers it with the same guest.
    await until(() => posts[0]?.status !== null);
    const guests = fake.snapshot().users.filter((u) => u.mail === input.email);
    expect(guests).toHaveLength(1);
    expect(guests[0]?.id).toBe(result.userId);
  });

  it('fails transient, without a third attempt, when the second attempt gets no answer either', async () => {
    const { server, directory } = await harness({ faults: { plan: ['slow', null, 'slow'], slowMs: 600 } });
    const error = await directory.invite(input).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(DirectoryError);
    expect((error as DirectoryError).code).toBe('transient');
    expect((error as DirectoryError).userMessage).toMatch(/will not be sent twice/);
    expect(server.requestLog.filter(isInvitationPost)).toHaveLength(2);
  });
});
