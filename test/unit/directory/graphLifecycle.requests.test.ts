/**
 * The exact requests GraphDirectory sends for the guest lifecycle (Graph v1.0 reference shapes),
 * read from the Graph-shaped test server's request log: `$ref` on every link removal (without it
 * Graph deletes the object itself), only `accountEnabled` in the PATCH, no write when nothing
 * changes, never a write against a member, and retries that stay idempotent.
 */
import type { AccessToken, TokenCredential } from '@azure/identity';
import { GraphDirectory } from '../../../src/adapters/graph/GraphDirectory';
import { DirectoryError } from '../../../src/usecases/ports/Directory';
import { DEMO, demoDirectory } from '../../support/directory';
import { startGraphServer, type GraphServerOptions, type GraphTestServer, type LoggedRequest } from '../../support/graphServer';
import type { FakeDirectory } from '../../../src/adapters/demo/FakeDirectory';

const credential: TokenCredential = {
  getToken: async (): Promise<AccessToken> => ({ token: 'lifecycle-test-token', expiresOnTimestamp: Date.now() + 3_600_000 }),
};
const { megan, alex, jordan, leeGu } = DEMO.users;
const { projectFalcon } = DEMO.groups;

let fake: FakeDirectory;
let server: GraphTestServer;
let directory: GraphDirectory;

async function start(options: GraphServerOptions = {}, requestTimeoutMs?: number): Promise<void> {
  fake = demoDirectory();
  server = await startGraphServer(fake, options);
  directory = new GraphDirectory({ credential, baseUrl: server.baseUrl, maxRetries: 3, retryDelaySeconds: 0.001, requestTimeoutMs });
}
afterEach(async () => {
  await server.close();
});

const sent = (): Array<Pick<LoggedRequest, 'method' | 'path' | 'body'>> =>
  server.requestLog.map(({ method, path, body }) => ({ method, path, body }));

async function rejection(promise: Promise<unknown>): Promise<DirectoryError> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof DirectoryError) return e;
    throw e;
  }
  throw new Error('expected a DirectoryError');
}

describe('GraphDirectory lifecycle request shapes', () => {
  it('adds a sponsor by reference to the directory object, and removes the link, not the sponsor', async () => {
    await start();
    await directory.addSponsor(jordan.id, megan.id);
    await directory.removeSponsor(jordan.id, megan.id);
    expect(sent()).toEqual([
      {
        method: 'POST',
        path: `/v1.0/users/${jordan.id}/sponsors/$ref`,
        body: { '@odata.id': `${server.baseUrl}/v1.0/directoryObjects/${megan.id}` },
      },
      { method: 'DELETE', path: `/v1.0/users/${jordan.id}/sponsors/${megan.id}/$ref`, body: undefined },
    ]);
    expect(fake.snapshot().users.find((u) => u.id === megan.id)).toBeDefined();
  });

  it('lists sponsors selecting their sign-in state', async () => {
    await start();
    await directory.listSponsors(jordan.id);
    const [request] = server.requestLog;
    expect(request).toMatchObject({ method: 'GET', path: `/v1.0/users/${jordan.id}/sponsors` });
    expect(request?.query.$select?.split(',')).toEqual(['id', 'displayName', 'accountEnabled']);
  });

  it('sends the invitation with invitedUserSponsors as directory-object ids', async () => {
    await start();
    await directory.invite({
      email: 'jane.doe@outlook.com',
      displayName: 'Jane Doe',
      redirectUrl: projectFalcon.siteUrl,
      sendInvitationMessage: false,
      sponsorIds: [megan.id, megan.id.toUpperCase()],
    });
    expect(server.requestLog).toHaveLength(1);
    expect(server.requestLog[0]?.body).toMatchObject({ invitedUserSponsors: [{ id: megan.id }] });
  });

  it('sends the invitation again without sponsors when Graph refuses them, and only then', async () => {
    await start();
    const ghost = '00000000-0000-4000-8000-000000000000';
    const result = await directory.invite({
      email: 'jane.doe@outlook.com',
      displayName: 'Jane Doe',
      redirectUrl: projectFalcon.siteUrl,
      sendInvitationMessage: false,
      sponsorIds: [ghost],
    });
    expect(result.sponsorsSet).toBe(false);
    expect(server.requestLog.map((r) => [r.method, r.path, r.status])).toEqual([
      ['POST', '/v1.0/invitations', 404],
      ['POST', '/v1.0/invitations', 201],
    ]);
    expect(server.requestLog[1]?.body).not.toHaveProperty('invitedUserSponsors');
    // A refusal about the guest, not the sponsors, is not sent twice.
    server.requestLog.length = 0;
    const blocked = await rejection(
      directory.invite({ email: 'sam@litware.com', displayName: '', redirectUrl: projectFalcon.siteUrl, sendInvitationMessage: false, sponsorIds: [megan.id] }),
    );
    expect(blocked.code).toBe('forbiddenByPolicy');
    expect(server.requestLog).toHaveLength(1);
  });

  it('blocks sign-in with a PATCH of accountEnabled alone, after checking the user is a guest; no PATCH when already blocked', async () => {
    await start();
    await directory.setGuestSignIn(jordan.id, false);
    await directory.setGuestSignIn(jordan.id, false);
    expect(sent().map((r) => [r.method, r.path, r.body])).toEqual([
      ['GET', `/v1.0/users/${jordan.id}`, undefined],
      ['PATCH', `/v1.0/users/${jordan.id}`, { accountEnabled: false }],
      ['GET', `/v1.0/users/${jordan.id}`, undefined],
    ]);
    expect(server.requestLog[0]?.query.$select).toBe('id,userType,accountEnabled');
  });

  it('never sends a write against a member of the organisation', async () => {
    await start();
    await rejection(directory.setGuestSignIn(alex.id, false));
    await rejection(directory.deleteGuest(alex.id));
    expect(sent().map((r) => r.method)).toEqual(['GET', 'GET']);
  });

  it('deletes a guest with DELETE /users/{id} and leaves a group with the $ref form', async () => {
    await start();
    await directory.removeMember(projectFalcon.id, jordan.id);
    await directory.deleteGuest(leeGu.id);
    expect(sent().map((r) => [r.method, r.path])).toEqual([
      ['DELETE', `/v1.0/groups/${projectFalcon.id}/members/${jordan.id}/$ref`],
      ['GET', `/v1.0/users/${leeGu.id}`],
      ['DELETE', `/v1.0/users/${leeGu.id}`],
    ]);
  });

  it('refuses ids that are not GUIDs before calling Graph', async () => {
    await start();
    expect((await rejection(directory.deleteGuest('../groups/x'))).code).toBe('invalidInput');
    expect((await rejection(directory.addSponsor(jordan.id, 'megan'))).code).toBe('invalidInput');
    expect(server.requestLog).toHaveLength(0);
  });
});

describe('GraphDirectory lifecycle writes after a lost answer', () => {
  it('sends a link removal again after a reset, and it takes effect once', async () => {
    await start({ faults: { plan: ['reset'] } });
    expect(await directory.removeMember(projectFalcon.id, jordan.id)).toBe('removed');
    expect(server.requestLog.map((r) => r.fault ?? null)).toEqual(['reset', null]);
    expect(fake.snapshot().groups.find((g) => g.id === projectFalcon.id)?.members).not.toContain(jordan.id);
  });

  it('counts a deletion whose answer never came as done when the retry finds the guest gone', async () => {
    // GET answered, DELETE takes effect but hangs, the retry gets 404.
    await start({ faults: { plan: [null, 'hang'] } }, 300);
    expect(await directory.deleteGuest(leeGu.id)).toBe('alreadyGone');
    expect(server.requestLog.map((r) => [r.method, r.status])).toEqual([
      ['GET', 200],
      ['DELETE', null],
      ['DELETE', 404],
    ]);
    expect(fake.snapshot().users.find((u) => u.id === leeGu.id)).toBeUndefined();
  });

  it('counts a sponsor added by an unanswered first attempt as already there', async () => {
    await start({ faults: { plan: ['hang'] } }, 300);
    expect(await directory.addSponsor(jordan.id, megan.id)).toBe('alreadySponsor');
    expect((await directory.listSponsors(jordan.id)).map((s) => s.id)).toEqual([megan.id]);
  });
});
