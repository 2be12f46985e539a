import { startGraphServer, type GraphServerOptions, type GraphTestServer } from '../../support/graphServer';
import { DEMO, demoDirectory } from '../../support/directory';
import { directoryErrorFromGraph, parseRetryAfter } from '../../../src/adapters/graph/errors';
import type { FakeDirectory } from '../../../src/adapters/demo/FakeDirectory';

/** JSON read off the wire (JSON.parse's own type): the assertions check its shape, not the compiler. */
type Wire = ReturnType<typeof JSON.parse>;

interface Answer {
  status: number;
  headers: Headers;
  body: Wire;
}

let server: GraphTestServer | undefined;
let fake: FakeDirectory;

async function start(options: GraphServerOptions = {}): Promise<GraphTestServer> {
  fake = demoDirectory();
  server = await startGraphServer(fake, options);
  return server;
}

afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function call(method: string, path: string, body?: unknown, token: string | null = 'test-token'): Promise<Answer> {
  if (!server) throw new Error('server not started');
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${server.baseUrl}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : undefined) as Wire };
}

const invitation = (email: string) => ({
  invitedUserEmailAddress: email,
  inviteRedirectUrl: DEMO.groups.projectFalcon.siteUrl,
  sendInvitationMessage: false,
});

describe('Graph-shaped test server', () => {
  it('answers 401 without a bearer token and records the request', async () => {
    const { requestLog } = await start();
    const answer = await call('GET', '/v1.0/organization', undefined, null);
    expect(answer.status).toBe(401);
    expect(answer.body.error.code).toBe('InvalidAuthenticationToken');
    expect(requestLog).toMatchObject([{ method: 'GET', path: '/v1.0/organization', status: 401 }]);
  });

  it('throttles the 151st invitation in a 5-second window with Retry-After', async () => {
    // The window's clock stands still: however slow the machine, all 151 fall in one window.
    await start({ now: () => 1_000 });
    for (let i = 1; i <= 150; i++) {
      const ok = await call('POST', '/v1.0/invitations', invitation('lee.gu@fabrikam.com'));
      expect(ok.status).toBe(201);
    }
    const throttled = await call('POST', '/v1.0/invitations', invitation('lee.gu@fabrikam.com'));
    expect(throttled.status).toBe(429);
    expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(throttled.headers.get('retry-after'))).toBeLessThanOrEqual(5);
    expect(Number(throttled.headers.get('x-ms-retry-after-ms'))).toBeGreaterThan(0);
    expect(throttled.body.error.code).toBe('TooManyRequests');
    // A throttled invitation changes nothing.
    expect(fake.snapshot().invitations).toHaveLength(150);
  });

  it('under a time scale, answers a fractional Retry-After and lets the caller in once it has passed', async () => {
    let now = 1_000;
    await start({ limits: { invitationsPer5s: 2, timeScale: 0.01 }, now: () => now });
    await call('POST', '/v1.0/invitations', invitation('a@outlook.com'));
    await call('POST', '/v1.0/invitations', invitation('b@outlook.com'));
    const throttled = await call('POST', '/v1.0/invitations', invitation('c@outlook.com'));
    expect(throttled.status).toBe(429);
    const waitMs = parseRetryAfter(throttled.headers.get('retry-after'), throttled.headers.get('x-ms-retry-after-ms'));
    expect(waitMs).toBeGreaterThan(0);
    expect(waitMs).toBeLessThanOrEqual(50);
    expect(Number(throttled.headers.get('retry-after'))).toBeLessThan(1);
    now += (waitMs ?? 0) - 1;
    expect((await call('POST', '/v1.0/invitations', invitation('c@outlook.com'))).status).toBe(429);
    now += 1;
    expect((await call('POST', '/v1.0/invitations', invitation('c@outlook.com'))).status).toBe(201);
  });

  it('throttles directory writes past their limit', async () => {
    await start({ limits: { directoryWritesPer150s: 1, timeScale: 0.01 } });
    const ref = (id: string) => ({ '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${id}` });
    const path = `/v1.0/groups/${DEMO.groups.marketing.id}/members/$ref`;
    expect((await call('POST', path, ref(DEMO.users.adele.id))).status).toBe(204);
    expect((await call('POST', path, ref(DEMO.users.alex.id))).status).toBe(429);
  });

  it('produces the same faults for the same seed and request sequence', async () => {
    const run = async (seed: number) => {
      await start({ faults: { rate: 0.4, kinds: ['429', '503', '504', 'reset'], seed } });
      const statuses: string[] = [];
      for (let i = 0; i < 25; i++) {
        try {
          statuses.push(String((await call('GET', `/v1.0/groups/${DEMO.groups.research.id}`)).status));
        } catch {
          statuses.push('reset');
        }
      }
      await server?.close();
      server = undefined;
      return statuses;
    };
    const first = await run(42);
    expect(await run(42)).toEqual(first);
    expect(first).toEqual(expect.arrayContaining(['200']));
    expect(first.some((s) => s !== '200')).toBe(true);
    expect(await run(7)).not.toEqual(first);
  });

  it('records bodies, queries and headers with the token redacted', async () => {
    const { requestLog } = await start();
    await call('POST', '/v1.0/invitations', invitation('jane@outlook.com'), 'secret-token-value');
    await call('GET', `/v1.0/users?$filter=${encodeURIComponent("mail eq 'jane@outlook.com'")}`);
    expect(requestLog[0]).toMatchObject({
      method: 'POST',
      path: '/v1.0/invitations',
      body: invitation('jane@outlook.com'),
      status: 201,
    });
    expect(requestLog[0]?.headers.authorization).toBe('Bearer [redacted]');
    expect(JSON.stringify(requestLog)).not.toContain('secret-token-value');
    expect(requestLog[1]?.query.$filter).toBe("mail eq 'jane@outlook.com'");
  });

  it('answers the user filters Graph supports and 400 for others', async () => {
    await start();
    const find = (filter: string, select = 'id,externalUserState') =>
      call('GET', `/v1.0/users?$filter=${encodeURIComponent(filter)}&$select=${select}`);
    expect((await find("mail eq 'MEGAN.BOWEN@contoso.com'")).body.value).toEqual([{ '@odata.type': '#microsoft.graph.user', id: DEMO.users.megan.id, externalUserState: null }]);
    expect((await find("otherMails/any(x:x eq 'lee.gu@fabrikam.com')")).body.value[0].id).toBe(DEMO.users.leeGu.id);
    expect((await find("proxyAddresses/any(p:p eq 'smtp:jordan.lee@tailspintoys.com')")).body.value[0].id).toBe(
      DEMO.users.jordan.id,
    );
    expect(
      (await find("mail eq 'nobody@x.org' or userPrincipalName eq 'adele.vance@contoso.com'")).body.value[0].id,
    ).toBe(DEMO.users.adele.id);
    expect((await find("startswith(displayName,'Meg')")).status).toBe(400);
  });

  it('returns only the default user properties unless asked with $select', async () => {
    await start();
    const plain = await call('GET', `/v1.0/users/${DEMO.users.jordan.id}`);
    expect(plain.body.displayName).toBe('Jordan Lee');
    expect(plain.body).not.toHaveProperty('externalUserState');
    const selected = await call('GET', `/v1.0/users/${DEMO.users.jordan.id}?$select=externalUserState,identities,userType`);
    expect(selected.body).toMatchObject({ externalUserState: 'Accepted', userType: 'Guest' });
    expect(selected.body.identities[0].issuer).toBe('mail');
  });

  it('pages owned groups with @odata.nextLink', async () => {
    await start({ pageSize: 1 });
    const first = await call('GET', `/v1.0/users/${DEMO.users.megan.id}/ownedObjects/microsoft.graph.group?$select=id,displayName`);
    expect(first.body.value).toHaveLength(1);
    const next = new URL(String(first.body['@odata.nextLink']));
    const second = await call('GET', `${next.pathname}${next.search}`);
    expect(second.body.value).toHaveLength(1);
    expect(second.body['@odata.nextLink']).toBeUndefined();
    expect([first.body.value[0].displayName, second.body.value[0].displayName].sort()).toEqual(['Marketing', 'Project Falcon']);
  });

  it('pages group members cast to users, and a user\'s memberOf cast to groups; 404 when unknown', async () => {
    await start({ pageSize: 2 });
    const first = await call('GET', `/v1.0/groups/${DEMO.groups.projectFalcon.id}/members/microsoft.graph.user?$select=id,displayName`);
    expect(first.status).toBe(200);
    expect(first.body.value).toHaveLength(2);
    expect(Object.keys(first.body.value[0]).sort()).toEqual(['@odata.type', 'displayName', 'id']);
    const next = new URL(String(first.body['@odata.nextLink']));
    const second = await call('GET', `${next.pathname}${next.search}`);
    expect(second.body.value.map((u: { displayName: string }) => u.displayName)).toEqual(['Jordan Lee']);
    expect(second.body['@odata.nextLink']).toBeUndefined();

    const owners = await call('GET', `/v1.0/groups/${DEMO.groups.projectFalcon.id}/owners/microsoft.graph.user?$select=id,displayName`);
    expect(owners.body.value).toEqual([{ '@odata.type': '#microsoft.graph.user', id: DEMO.users.megan.id, displayName: 'Megan Bowen' }]);

    const memberOf = await call('GET', `/v1.0/users/${DEMO.users.alex.id}/memberOf/microsoft.graph.group?$select=id,displayName,mail`);
    expect(memberOf.body.value.map((g: { displayName: string }) => g.displayName)).toEqual(['Research', 'Guest Approvers']);

    expect((await call('GET', '/v1.0/groups/00000000-0000-4000-8000-0000000000ff/members/microsoft.graph.user')).status).toBe(404);
    expect((await call('GET', '/v1.0/users/00000000-0000-4000-8000-000000000000/memberOf/microsoft.graph.group')).status).toBe(404);
  });

  it('applies planned faults to the first requests in order: a hung request takes effect but is never answered', async () => {
    const { requestLog } = await start({ faults: { plan: ['hang', null] } });
    const hung = call('POST', '/v1.0/invitations', invitation('hung@outlook.com'));
    const outcome = await Promise.race([hung.then(() => 'answered', () => 'failed'), new Promise((r) => setTimeout(() => r('waiting'), 60))]);
    expect(outcome).toBe('waiting');
    // The invitation was processed all the same; the next request is served normally.
    const lookup = await call('GET', `/v1.0/users?$filter=${encodeURIComponent("mail eq 'hung@outlook.com'")}`);
    expect(lookup.body.value).toHaveLength(1);
    expect(requestLog.map((r) => [r.fault ?? null, r.status])).toEqual([
      ['hang', null],
      [null, 200],
    ]);
    await server?.close();
    server = undefined;
    expect(await hung.then(() => 'answered', () => 'failed')).toBe('failed');
  });

  it("answers Graph's 400 for an existing member and caps members@odata.bind at 20", async () => {
    await start();
    const answer = await call('POST', `/v1.0/groups/${DEMO.groups.projectFalcon.id}/members/$ref`, {
      '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${DEMO.users.adele.id}`,
    });
    expect(answer.status).toBe(400);
    expect(answer.body.error.message).toMatch(/One or more added object references already exist/);
    expect(directoryErrorFromGraph({ status: answer.status, body: answer.body, method: 'POST', path: '/groups/x/members/$ref' }).code).toBe(
      'alreadyExists',
    );
    const tooMany = Array.from({ length: 21 }, (_, i) => `https://graph.microsoft.com/v1.0/directoryObjects/${i}`);
    const patch = await call('PATCH', `/v1.0/groups/${DEMO.groups.projectFalcon.id}`, { 'members@odata.bind': tooMany });
    expect(patch.status).toBe(400);
  });

  it('runs each batch sub-request on its own, throttling inside the batch body', async () => {
    await start({ limits: { invitationsPer5s: 2 } });
    const requests = ['a', 'b', 'c'].map((n, i) => ({
      id: String(i + 1),
      method: 'POST',
      url: '/invitations',
      headers: { 'Content-Type': 'application/json' },
      body: invitation(`${n}@outlook.com`),
    }));
    const answer = await call('POST', '/v1.0/$batch', { requests });
    expect(answer.status).toBe(200);
    const responses = answer.body.responses as unknown as Array<{ id: string; status: number; headers: Record<string, string> }>;
    expect(responses.map((r) => r.status)).toEqual([201, 201, 429]);
    expect(Number(responses[2]?.headers['Retry-After'])).toBeGreaterThanOrEqual(1);
    expect(fake.snapshot().invitations.map((i) => i.email)).toEqual(['a@outlook.com', 'b@outlook.com']);

    const tooBig = Array.from({ length: 21 }, (_, i) => ({ id: String(i), method: 'GET', url: '/organization' }));
    expect((await call('POST', '/v1.0/$batch', { requests: tooBig })).status).toBe(400);
  });

  it('serves the policy surfaces in Graph shapes', async () => {
    await start();
    const b2b = await call('GET', '/beta/policies/b2bManagementPolicies');
    expect(JSON.parse(String(b2b.body.value[0].definition[0]))).toEqual({
      B2BManagementPolicy: { InvitationsAllowedAndBlockedDomainsPolicy: { BlockedDomains: ['litware.com'] } },
    });
    const saml = await call(
      'GET',
      '/v1.0/directory/federationConfigurations/graph.samlOrWsFedExternalDomainFederation?$expand=domains',
    );
    expect(saml.body.value[0]).toMatchObject({ issuerUri: DEMO.samlIssuer, domains: [{ id: 'wingtiptoys.com' }] });
    const tenant = await call('GET', "/v1.0/tenantRelationships/findTenantInformationByDomainName(domainName='fabrikam.com')");
    expect(tenant.body.tenantId).toBe(DEMO.externalTenants.fabrikam.tenantId);
    expect((await call('GET', "/v1.0/tenantRelationships/findTenantInformationByDomainName(domainName='outlook.com')")).status).toBe(404);
    const otp = await call('GET', '/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/email');
    expect(otp.body.allowExternalIdToUseEmailOtp).toBe('enabled');
    const blocked = await call('POST', '/v1.0/invitations', invitation('sam@litware.com'));
    expect(directoryErrorFromGraph({ status: blocked.status, body: blocked.body, method: 'POST', path: '/v1.0/invitations' }).code).toBe(
      'forbiddenByPolicy',
    );
    const internal = await call('POST', '/v1.0/invitations', invitation('new.hire@contoso.com'));
    expect(directoryErrorFromGraph({ status: internal.status, body: internal.body, method: 'POST', path: '/v1.0/invitations' }).code).toBe(
      'invalidInput',
    );
  });
});
