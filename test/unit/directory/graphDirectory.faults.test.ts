/**
 * GraphDirectory under Graph's bad days: throttling, 503/504, connection resets, lost answers.
 * The Graph-shaped test server injects seeded faults; its request log is the witness.
 */
import type { AccessToken, TokenCredential } from '@azure/identity';
import { GraphDirectory } from '../../../src/adapters/graph/GraphDirectory';
import { DirectoryError } from '../../../src/usecases/ports/Directory';
import type { FakeDirectory } from '../../../src/adapters/demo/FakeDirectory';
import { DEMO, demoDirectory, labGroup, partnerGuest } from '../../support/directory';
import { startGraphServer, type GraphServerOptions, type GraphTestServer, type LoggedRequest } from '../../support/graphServer';

const credential: TokenCredential = {
  getToken: async (): Promise<AccessToken> => ({ token: 'faults-test-token', expiresOnTimestamp: Date.now() + 3_600_000 }),
};
const SITE = DEMO.groups.projectFalcon.siteUrl;
const TIME_SCALE = 0.01; // server windows and Retry-After 100× shorter

let servers: GraphTestServer[] = [];
afterEach(async () => {
  jest.restoreAllMocks();
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

interface Harness {
  fake: FakeDirectory;
  server: GraphTestServer;
  directory: GraphDirectory;
  waits: number[];
}

/**
 * `frozenWindows`: the server's rate windows only move when the client sleeps (by what it slept),
 * so a loaded machine cannot end a window between two requests.
 */
async function harness(options: GraphServerOptions = {}, maxRetries = 4, frozenWindows = false): Promise<Harness> {
  const fake = demoDirectory();
  let serverTime = 1_000;
  const server = await startGraphServer(fake, {
    limits: { timeScale: TIME_SCALE },
    ...(frozenWindows ? { now: () => serverTime } : {}),
    ...options,
  });
  servers.push(server);
  const waits: number[] = [];
  const directory = new GraphDirectory({
    credential,
    baseUrl: server.baseUrl,
    maxRetries,
    retryDelaySeconds: 0.001,
    sleep: async (ms) => {
      waits.push(ms);
      serverTime += ms;
      await new Promise((resolve) => setTimeout(resolve, ms));
    },
  });
  return { fake, server, directory, waits };
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };
async function settle(promise: Promise<unknown>): Promise<Outcome> {
  try {
    return { ok: true, value: await promise };
  } catch (error) {
    return { ok: false, error };
  }
}

const isInvitationPost = (r: LoggedRequest) => !r.inBatch && r.method === 'POST' && r.path === '/v1.0/invitations';

/** Outer requests with the batch sub-requests that followed each in the log. */
function withParts(log: LoggedRequest[]): Array<{ request: LoggedRequest; parts: LoggedRequest[] }> {
  const groups: Array<{ request: LoggedRequest; parts: LoggedRequest[] }> = [];
  for (const entry of log) {
    if (!entry.inBatch) groups.push({ request: entry, parts: [] });
    else groups[groups.length - 1]?.parts.push(entry);
  }
  return groups;
}

describe('GraphDirectory under injected faults', () => {
  it.each([11, 23, 47])(
    'with 20%% 429/503/504/resets (seed %i) every call succeeds or fails typed, and no answered invitation is re-sent',
    async (seed) => {
      const { fake, server, directory } = await harness({ faults: { rate: 0.2, kinds: ['429', '503', '504', 'reset'], seed } });
      for (let n = 1; n <= 25; n++) fake.addUser(partnerGuest(n, { externalUserStateChangeDateTime: null }));
      for (let n = 1; n <= 7; n++) {
        fake.addGroup(labGroup(n, { siteUrl: `https://contoso.sharepoint.com/sites/Lab${n}`, owners: [DEMO.users.alex.id] }));
      }
      const invited = Array.from({ length: 8 }, (_, i) => `new.person${i}@outlook.com`);

      const outcomes: Array<[string, Outcome]> = [];
      const run = async (name: string, p: Promise<unknown>) => outcomes.push([name, await settle(p)]);
      for (const email of invited) {
        await run(`invite ${email}`, directory.invite({ email, displayName: 'New Person', redirectUrl: SITE, sendInvitationMessage: false }));
      }
      await run('findUsersByEmail', directory.findUsersByEmail(Array.from({ length: 25 }, (_, i) => `partner${i + 1}@northwind.example`)));
      await run('findUserByEmail', directory.findUserByEmail(DEMO.users.leeGu.mail));
      await run('readPolicies', directory.readPolicies());
      await run('listOwnedGroups', directory.listOwnedGroups(DEMO.users.alex.id));
      await run('addMembers', directory.addMembers(DEMO.groups.research.id, Array.from({ length: 25 }, (_, i) => partnerGuest(i + 1).id)));
      await run('isOwner', directory.isOwner(DEMO.groups.projectFalcon.id, DEMO.users.megan.id));
      await run('isMember', directory.isMember(DEMO.groups.projectFalcon.id, DEMO.users.jordan.id));
      await run('lookupExternalDomain', directory.lookupExternalDomain('fabrikam.com'));

      // Faults were really injected.
      expect(server.requestLog.filter((r) => r.fault).length).toBeGreaterThan(5);

      for (const [, outcome] of outcomes) {
        if (!outcome.ok) expect(outcome.error).toBeInstanceOf(DirectoryError);
      }
      const succeeded = outcomes.filter(([, o]) => o.ok).length;
      expect(succeeded).toBeGreaterThanOrEqual(outcomes.length - 3);

      // Successful answers are complete, not partial.
      for (const [name, outcome] of outcomes) {
        if (!outcome.ok) continue;
        if (name === 'findUsersByEmail') expect((outcome.value as Map<string, unknown>).size).toBe(25);
        if (name === 'listOwnedGroups') expect(outcome.value as unknown[]).toHaveLength(8);
        if (name === 'isOwner' || name === 'isMember') expect(outcome.value).toBe(true);
      }

      // An invitation POST that got an answer (other than "not processed": 429/503) is never sent again.
      for (const email of invited) {
        const posts = server.requestLog.filter(
          (r) => isInvitationPost(r) && (r.body as { invitedUserEmailAddress?: string }).invitedUserEmailAddress === email,
        );
        const answered = posts.findIndex((r) => r.status !== null && r.status !== 429 && r.status !== 503);
        if (answered >= 0) expect(posts.slice(answered + 1)).toEqual([]);
        expect(posts.filter((r) => r.status === 201).length).toBeLessThanOrEqual(1);
      }
      // And nobody was created twice.
      const mails = fake.snapshot().users.map((u) => u.mail?.toLowerCase());
      expect(new Set(mails).size).toBe(mails.length);
    },
  );

  it('honours a 429 Retry-After before sending the request again', async () => {
    const { server, directory, waits } = await harness({ limits: { invitationsPer5s: 1, timeScale: TIME_SCALE } }, 4, true);
    await directory.invite({ email: 'first@outlook.com', displayName: 'First', redirectUrl: SITE, sendInvitationMessage: false });
    const started = Date.now();
    const second = await directory.invite({ email: 'second@outlook.com', displayName: 'Second', redirectUrl: SITE, sendInvitationMessage: false });

    expect(second.userId).not.toBe('');
    const posts = server.requestLog.filter(isInvitationPost);
    expect(posts.map((r) => r.status)).toEqual([201, 429, 201]);
    expect(posts[2]?.headers['retry-attempt']).toBe('1');
    // The window is 5 s × 0.01 = 50 ms: the retry waited for (most of) it, as Graph asked.
    expect(waits).toHaveLength(1);
    expect(waits[0]).toBeGreaterThan(20);
    expect(Date.now() - started).toBeGreaterThanOrEqual((waits[0] ?? 0) - 1);
  });

  it('gives up after the retry bound with a throttled error carrying Retry-After', async () => {
    const { server, directory } = await harness({ faults: { rate: 1, kinds: ['429'], seed: 1 } }, 3);
    const error = await directory.getUser(DEMO.users.megan.id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DirectoryError);
    expect((error as DirectoryError).code).toBe('throttled');
    expect((error as DirectoryError).retryAfterMs).toBe(10);
    expect(server.requestLog).toHaveLength(4); // 1 + 3 retries
  });

  it('retries only the throttled parts of a $batch', async () => {
    const { fake, server, directory } = await harness({ faults: { rate: 0.3, kinds: ['429'], seed: 5 } });
    for (let n = 1; n <= 20; n++) fake.addUser(partnerGuest(n, { externalUserStateChangeDateTime: null }));
    const found = await directory.findUsersByEmail(Array.from({ length: 20 }, (_, i) => `partner${i + 1}@northwind.example`));
    expect(found.size).toBe(20);

    const answeredBatches = withParts(server.requestLog).filter((g) => g.request.path === '/v1.0/$batch' && g.request.status === 200);
    expect(answeredBatches.length).toBeGreaterThan(1);
    expect(answeredBatches[0]?.parts).toHaveLength(20);
    for (let i = 1; i < answeredBatches.length; i++) {
      const throttledBefore = (answeredBatches[i - 1]?.parts ?? []).filter((p) => p.status === 429).map((p) => p.query.$filter);
      const resent = (answeredBatches[i]?.parts ?? []).map((p) => p.query.$filter);
      expect(resent.sort()).toEqual(throttledBefore.sort());
    }
  });

  it('adds 45 members in 3 PATCH requests', async () => {
    const { fake, server, directory } = await harness();
    const ids = Array.from({ length: 45 }, (_, i) => partnerGuest(i + 1).id);
    for (let n = 1; n <= 45; n++) fake.addUser(partnerGuest(n, { externalUserStateChangeDateTime: null }));
    const result = await directory.addMembers(DEMO.groups.research.id, ids);
    expect(result.added).toHaveLength(45);
    expect(server.requestLog.filter((r) => r.method === 'PATCH')).toHaveLength(3);
  });

  it('follows paging to the end while pages are throttled and reset', async () => {
    const { fake, directory } = await harness({ faults: { rate: 0.25, kinds: ['429', 'reset'], seed: 3 }, pageSize: 2 });
    for (let n = 1; n <= 9; n++) {
      fake.addGroup(labGroup(n, { owners: [DEMO.users.alex.id] }));
    }
    const groups = await directory.listOwnedGroups(DEMO.users.alex.id);
    expect(groups.map((g) => g.displayName).sort()).toEqual(['Lab 1', 'Lab 2', 'Lab 3', 'Lab 4', 'Lab 5', 'Lab 6', 'Lab 7', 'Lab 8', 'Lab 9', 'Research']);
  });
});

describe('an invitation whose answer is lost', () => {
  const realFetch = globalThis.fetch;
  const input = { email: 'lost.answer@outlook.com', displayName: 'Lost Answer', redirectUrl: SITE, sendInvitationMessage: false };

  /** Makes the first POST /invitations behave as `fault` says; everything else goes through. */
  function interceptFirstInvitation(fault: 'processedThenReset' | 'resetBeforeSending' | 'gateway504') {
    let done = false;
    return jest.spyOn(globalThis, 'fetch').mockImplementation(async (resource, init) => {
      const url = typeof resource === 'string' ? resource : resource instanceof URL ? resource.href : resource.url;
      if (!done && init?.method === 'POST' && new URL(url).pathname.endsWith('/invitations')) {
        done = true;
        const reset = new TypeError('fetch failed', { cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }) });
        if (fault === 'resetBeforeSending') throw reset;
        if (fault === 'gateway504') {
          return new Response(JSON.stringify({ error: { code: 'GatewayTimeout', message: 'The gateway timed out.' } }), {
            status: 504,
            headers: { 'content-type': 'application/json' },
          });
        }
        await realFetch(resource, init); // Graph did the work…
        throw reset; // …and the answer never arrived.
      }
      return realFetch(resource, init);
    });
  }

  it('is not re-sent when the guest now exists: the result is rebuilt from the directory', async () => {
    const { fake, server, directory } = await harness();
    interceptFirstInvitation('processedThenReset');
    const result = await directory.invite(input);

    expect(server.requestLog.filter(isInvitationPost)).toHaveLength(1);
    const created = fake.snapshot().users.filter((u) => u.mail === input.email);
    expect(created).toHaveLength(1);
    expect(result).toMatchObject({ userId: created[0]?.id, recovered: true, status: 'PendingAcceptance' });
    expect(result.redeemUrl).toBe(`https://myapps.microsoft.com/?tenantid=${DEMO.tenantId}`);
  });

  it('is sent once more when the first POST never reached Graph and nobody has the address', async () => {
    const { fake, server, directory } = await harness();
    interceptFirstInvitation('resetBeforeSending');
    const result = await directory.invite(input);

    expect(server.requestLog.filter(isInvitationPost).map((r) => r.status)).toEqual([201]);
    expect(result.recovered).toBeUndefined();
    expect(result.redeemUrl).toMatch(/^https:\/\/login\.microsoftonline\.com\/redeem/);
    expect(fake.snapshot().users.filter((u) => u.mail === input.email)).toHaveLength(1);
  });

  it('after a 504 is not repeated: the caller gets a transient error to retry later', async () => {
    const { server, directory } = await harness();
    const spy = interceptFirstInvitation('gateway504');
    const error = await directory.invite(input).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(DirectoryError);
    expect((error as DirectoryError).code).toBe('transient');
    const invitationCalls = spy.mock.calls.filter(([resource, init]) => init?.method === 'POST' && String(resource).endsWith('/invitations'));
    expect(invitationCalls).toHaveLength(1);
    expect(server.requestLog.filter(isInvitationPost)).toHaveLength(0);
    expect(server.requestLog.map((r) => r.path)).toEqual(['/v1.0/users']); // the check, nothing else
  });

  it('when the check cannot be made either, fails transient without re-sending', async () => {
    const { server, directory } = await harness({ faults: { rate: 1, kinds: ['reset'], seed: 9 } }, 2);
    const error = await directory.invite(input).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(DirectoryError);
    expect((error as DirectoryError).code).toBe('transient');
    expect(server.requestLog.filter(isInvitationPost)).toHaveLength(1);
    expect(server.requestLog.filter((r) => r.path === '/v1.0/users')).toHaveLength(3); // 1 + 2 retries
  });
});
