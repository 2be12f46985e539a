import { graphOperation, graphPathTemplate } from '../../../src/shared/graphOperation';

const BASE = 'https://graph.microsoft.com';
const USER_ID = '6f1c2b3a-0001-4c5d-8e9f-0a1b2c3d4e01';
const GROUP_ID = '7a2e9d41-0001-4b6c-9d8e-1f2a3b4c5d01';

describe('Graph operation names for telemetry', () => {
  it.each([
    ['GET', `${BASE}/v1.0/users/${USER_ID}?$select=id,displayName`, 'GET /users/{id}'],
    ['GET', `${BASE}/v1.0/users?$filter=${encodeURIComponent("mail eq 'jane@fabrikam.com'")}`, 'GET /users'],
    ['POST', `${BASE}/v1.0/invitations`, 'POST /invitations'],
    ['POST', `${BASE}/v1.0/groups/${GROUP_ID}/members/$ref`, 'POST /groups/{id}/members/$ref'],
    ['patch', `${BASE}/v1.0/groups/${GROUP_ID}`, 'PATCH /groups/{id}'],
    ['POST', `${BASE}/v1.0/$batch`, 'POST /$batch'],
    ['GET', `${BASE}/beta/policies/b2bManagementPolicies`, 'GET /policies/b2bManagementPolicies'],
    ['GET', `${BASE}/v1.0/users/${USER_ID}/ownedObjects/microsoft.graph.group?$select=id`, 'GET /users/{id}/ownedObjects/microsoft.graph.group'],
    [
      'GET',
      `${BASE}/v1.0/tenantRelationships/findTenantInformationByDomainName(domainName='fabrikam.com')`,
      'GET /tenantRelationships/findTenantInformationByDomainName({domainName})',
    ],
    // Whatever is not a GUID but still not a known word (an address, a domain) is an id too.
    ['GET', `${BASE}/v1.0/users/jane@fabrikam.com`, 'GET /users/{id}'],
    ['GET', `${BASE}/v1.0/users/${encodeURIComponent('jane doe@fabrikam.com')}/memberOf`, 'GET /users/{id}/memberOf'],
    ['GET', `${BASE}/v1.0/domains/fabrikam.com`, 'GET /domains/{id}'],
    [undefined, `${BASE}/v1.0/organization?$select=id`, 'GET /organization'],
  ])('%s %s is "%s"', (method, url, expected) => {
    expect(graphOperation(method, url)).toBe(expected);
  });

  it('leaves out the base path of GRAPH_BASE_URL and the version, and reads paths relative to the version root', () => {
    expect(graphPathTemplate(`http://127.0.0.1:4000/graph-proxy/v1.0/groups/${GROUP_ID}/owners`, '/graph-proxy')).toBe('/groups/{id}/owners');
    expect(graphPathTemplate(`/users/${USER_ID}/sponsors`)).toBe('/users/{id}/sponsors');
  });

  it('never carries the query, an address or a domain, whatever the URL', () => {
    const hostile = `${BASE}/v1.0/users/${encodeURIComponent("x'); DROP")}/x%ZZ/${'a'.repeat(200)}?$filter=mail eq 'jane@fabrikam.com'`;
    const name = graphOperation('GET', hostile);
    expect(name).toBe('GET /users/{id}/{id}/{id}');
    expect(graphOperation('DROP TABLE', `${BASE}/v1.0/me`)).toBe('OTHER /me');
  });
});
