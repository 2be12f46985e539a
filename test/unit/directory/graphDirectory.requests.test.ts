/**
 * The exact requests GraphDirectory sends (Graph v1.0 reference shapes), read from the
 * Graph-shaped test server's request log.
 */
import type { AccessToken, TokenCredential } from '@azure/identity';
import { GraphDirectory } from '../../../src/adapters/graph/GraphDirectory';
import { DirectoryError } from '../../../src/usecases/ports/Directory';
import { DEMO, demoDirectory, labGroup } from '../../support/directory';
import { startGraphServer, type GraphTestServer, type LoggedRequest } from '../../support/graphServer';
import type { FakeDirectory } from '../../../src/adapters/demo/FakeDirectory';

const credential: TokenCredential = {
  getToken: async (): Promise<AccessToken> => ({ token: 'requests-test-token', expiresOnTimestamp: Date.now() + 3_600_000 }),
};
const SITE = DEMO.groups.projectFalcon.siteUrl;

let fake: FakeDirectory;
let server: GraphTestServer;
let directory: GraphDirectory;

beforeEach(async () => {
  fake = demoDirectory();
  server = await startGraphServer(fake);
  directory = new GraphDirectory({ credential, baseUrl: server.baseUrl, maxRetries: 3, retryDelaySeconds: 0.001 });
});
afterEach(async () => {
  await server.close();
});

const sent = (): LoggedRequest[] => server.requestLog.filter((r) => !r.inBatch);

async function rejection(promise: Promise<unknown>): Promise<DirectoryError> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof DirectoryError) return e;
    throw e;
  }
  throw new Error('expected a DirectoryError');
}

describe('GraphDirectory request shapes', () => {
  it('sends the bearer token to a plain-http base URL (the SDK alone would not)', async () => {
    await directory.getUser(DEMO.users.megan.id);
    expect(sent()[0]?.headers.authorization).toMatch(/^Bearer /);
    expect(sent()[0]?.status).toBe(200);
  });

  it('looks a user up by mail, userPrincipalName, otherMails and smtp: proxy address, selecting the guest fields', async () => {
    await directory.findUserByEmail("Sean.O'Brien@Fabrikam.com");
    const [request] = sent();
    expect(request).toMatchObject({ method: 'GET', path: '/v1.0/users' });
    expect(request?.query.$filter).toBe(
      "mail eq 'sean.o''brien@fabrikam.com' or userPrincipalName eq 'sean.o''brien@fabrikam.com' or " +
        "otherMails/any(x:x eq 'sean.o''brien@fabrikam.com') or proxyAddresses/any(x:x eq 'smtp:sean.o''brien@fabrikam.com')",
    );
    expect(request?.query.$select?.split(',')).toEqual(
      expect.arrayContaining(['id', 'userType', 'externalUserState', 'externalUserStateChangeDateTime', 'identities', 'otherMails']),
    );
    // Default (consistent) query: no advanced-query header, so a just-invited guest is found.
    expect(request?.headers.consistencylevel).toBeUndefined();
  });

  it("keeps '#' inside the filter value instead of letting it end the URL", async () => {
    const user = await directory.findUserByEmail('jordan.lee_tailspintoys.com#EXT#@contoso.onmicrosoft.com');
    expect(user?.id).toBe(DEMO.users.jordan.id);
    expect(sent()[0]?.query.$filter).toContain("userPrincipalName eq 'jordan.lee_tailspintoys.com#ext#@contoso.onmicrosoft.com'");
  });

  it('looks up many addresses through JSON $batch, at most 20 GETs per batch', async () => {
    const emails = Array.from({ length: 25 }, (_, i) => `someone${i}@example.org`);
    await directory.findUsersByEmail(emails);
    const batches = sent();
    expect(batches.map((r) => [r.method, r.path])).toEqual([
      ['POST', '/v1.0/$batch'],
      ['POST', '/v1.0/$batch'],
    ]);
    const parts = batches.map((b) => (b.body as { requests: Array<{ method: string; url: string }> }).requests);
    expect(parts.map((p) => p.length)).toEqual([20, 5]);
    expect(parts[0]?.[0]?.method).toBe('GET');
    expect(parts[0]?.[0]?.url).toMatch(/^\/users\?\$filter=mail%20eq%20'someone0%40example\.org'/);
  });

  it('invites with exactly the documented body, and no message info when there is no message', async () => {
    await directory.invite({ email: 'Jane.Doe@outlook.com', displayName: 'Jane Doe', redirectUrl: SITE, sendInvitationMessage: false });
    const [request] = sent();
    expect(request).toMatchObject({ method: 'POST', path: '/v1.0/invitations', status: 201 });
    expect(request?.body).toEqual({
      invitedUserEmailAddress: 'Jane.Doe@outlook.com',
      inviteRedirectUrl: SITE,
      invitedUserDisplayName: 'Jane Doe',
      sendInvitationMessage: false,
    });
  });

  it('adds invitedUserMessageInfo only when a message is given', async () => {
    await directory.invite({
      email: 'kim@fabrikam.com',
      displayName: 'Kim',
      redirectUrl: SITE,
      sendInvitationMessage: true,
      message: 'Welcome to Project Falcon',
    });
    expect(sent()[0]?.body).toMatchObject({
      sendInvitationMessage: true,
      invitedUserMessageInfo: { customizedMessageBody: 'Welcome to Project Falcon' },
    });
  });

  it('resets redemption with resetRedemption and the invited user id', async () => {
    await directory.resetRedemption(DEMO.users.jordan.id, DEMO.users.jordan.mail, SITE);
    expect(sent()[0]?.body).toEqual({
      invitedUserEmailAddress: DEMO.users.jordan.mail,
      inviteRedirectUrl: SITE,
      sendInvitationMessage: false,
      resetRedemption: true,
      invitedUser: { id: DEMO.users.jordan.id },
    });
  });

  it.each([
    ['jane,doe@fabrikam.com', "','"],
    ['jane+tag@fabrikam.com', "'+'"],
    ['jane(doe)@fabrikam.com', "'('"],
  ])('refuses %s before any request, naming the character %s', async (email, character) => {
    const error = await rejection(directory.invite({ email, displayName: 'Jane', redirectUrl: SITE, sendInvitationMessage: false }));
    expect(error.code).toBe('invalidInput');
    expect(error.userMessage).toBe(`The character ${character} is not allowed in an email address.`);
    expect(server.requestLog).toHaveLength(0);
  });

  it('adds one member with POST members/$ref pointing at the directory object', async () => {
    await directory.addMembers(DEMO.groups.marketing.id, [DEMO.users.adele.id]);
    const [request] = sent();
    expect(request).toMatchObject({ method: 'POST', path: `/v1.0/groups/${DEMO.groups.marketing.id}/members/$ref`, status: 204 });
    expect(request?.body).toEqual({ '@odata.id': `${server.baseUrl}/v1.0/directoryObjects/${DEMO.users.adele.id}` });
  });

  it('adds many members with PATCH members@odata.bind, 20 per request', async () => {
    const ids = Array.from({ length: 45 }, (_, n) => `c0ffee00-0000-4000-8000-${(n + 1).toString().padStart(12, '0')}`);
    ids.forEach((id, n) =>
      fake.addUser({
        id,
        displayName: `Partner ${n}`,
        mail: `p${n}@northwind.example`,
        userPrincipalName: `p${n}_northwind.example#EXT#@contoso.onmicrosoft.com`,
        otherMails: [],
        proxyAddresses: [],
        kind: 'guest',
        externalUserState: 'PendingAcceptance',
        externalUserStateChangeDateTime: null,
        identities: [],
      }),
    );
    const result = await directory.addMembers(DEMO.groups.research.id, ids);
    expect(result.added).toHaveLength(45);
    const patches = sent();
    expect(patches.every((r) => r.method === 'PATCH' && r.path === `/v1.0/groups/${DEMO.groups.research.id}`)).toBe(true);
    expect(patches.map((r) => (r.body as Record<string, string[]>)['members@odata.bind']?.length)).toEqual([20, 20, 5]);
  });

  it('reads policies from v1.0 surfaces, using beta only for b2bManagementPolicies', async () => {
    await directory.readPolicies();
    const paths = sent().map((r) => r.path).sort();
    expect(paths).toEqual(
      [
        '/beta/policies/b2bManagementPolicies',
        '/v1.0/admin/sharepoint/settings',
        '/v1.0/directory/federationConfigurations/graph.samlOrWsFedExternalDomainFederation',
        '/v1.0/identity/identityProviders',
        '/v1.0/organization',
        '/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/email',
        '/v1.0/policies/authorizationPolicy',
        '/v1.0/policies/crossTenantAccessPolicy/default',
      ].sort(),
    );
    const saml = sent().find((r) => r.path.includes('samlOrWsFed'));
    expect(saml?.query.$expand).toBe('domains');
  });

  it('looks a domain up with findTenantInformationByDomainName', async () => {
    await directory.lookupExternalDomain('Fabrikam.com');
    expect(sent()[0]?.path).toBe("/v1.0/tenantRelationships/findTenantInformationByDomainName(domainName='fabrikam.com')");
  });

  it('follows @odata.nextLink to the end of a paged collection', async () => {
    for (let n = 1; n <= 12; n++) {
      fake.addGroup(labGroup(n, { owners: [DEMO.users.alex.id] }));
    }
    const groups = await directory.listOwnedGroups(DEMO.users.alex.id);
    expect(groups).toHaveLength(13);
    const pages = sent().filter((r) => r.path.endsWith('/ownedObjects/microsoft.graph.group'));
    expect(pages).toHaveLength(3); // page size 5: 5 + 5 + 3
    expect(pages[1]?.query.$skiptoken ?? pages[1]?.query.$skipToken).toBeDefined();
  });

  it('lists members and owners cast to users, selecting id and displayName, as a default (consistent) query', async () => {
    await directory.listGroupMembers(DEMO.groups.projectFalcon.id);
    await directory.listGroupOwners(DEMO.groups.projectFalcon.id);
    const [members, owners] = sent();
    expect(members).toMatchObject({ method: 'GET', path: `/v1.0/groups/${DEMO.groups.projectFalcon.id}/members/microsoft.graph.user` });
    expect(owners).toMatchObject({ method: 'GET', path: `/v1.0/groups/${DEMO.groups.projectFalcon.id}/owners/microsoft.graph.user` });
    for (const request of [members, owners]) {
      expect(request?.query).toEqual({ $select: 'id,displayName' });
      expect(request?.headers.consistencylevel).toBeUndefined();
    }
  });

  it("lists a user's groups through memberOf cast to groups, with no site lookup per group", async () => {
    const groups = await directory.listMemberGroups(DEMO.users.alex.id);
    expect(groups.map((g) => g.displayName).sort()).toEqual(['Guest Approvers', 'Research']);
    expect(sent()).toHaveLength(1);
    expect(sent()[0]).toMatchObject({
      method: 'GET',
      path: `/v1.0/users/${DEMO.users.alex.id}/memberOf/microsoft.graph.group`,
      query: { $select: 'id,displayName,mail' },
    });
  });

  it('follows paging of group members to the last page', async () => {
    const ids = Array.from({ length: 11 }, (_, i) => `c0ffee00-0000-4000-8000-${(i + 1).toString().padStart(12, '0')}`);
    ids.forEach((id, i) =>
      fake.addUser({
        id,
        displayName: `Partner ${i + 1}`,
        mail: null,
        userPrincipalName: `partner${i + 1}_northwind.example#EXT#@contoso.onmicrosoft.com`,
        otherMails: [],
        proxyAddresses: [],
        kind: 'guest',
        externalUserState: 'PendingAcceptance',
        externalUserStateChangeDateTime: null,
        identities: [],
      }),
    );
    fake.addGroup({ id: 'd0d0d0d0-0000-4000-8000-0000000000bb', displayName: 'Partners', mail: null, siteUrl: null, owners: [], members: ids });
    const members = await directory.listGroupMembers('d0d0d0d0-0000-4000-8000-0000000000bb');
    expect(members.map((m) => m.id).sort()).toEqual([...ids].sort());
    expect(sent()).toHaveLength(3); // 5 + 5 + 1
  });

  it('refuses a malformed group or user id before calling Graph', async () => {
    expect((await rejection(directory.listGroupMembers('../users'))).code).toBe('invalidInput');
    expect((await rejection(directory.listMemberGroups("x' or 1 eq 1"))).code).toBe('invalidInput');
    expect(sent()).toHaveLength(0);
  });
});
