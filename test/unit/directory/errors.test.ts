import { GRAPH_ERRORS, directoryErrorFromGraph, graphErrorBody, parseRetryAfter, permissionForRequest } from '../../../src/adapters/graph/errors';

const body = (e: { code: string; message: string }) => graphErrorBody(e.code, e.message);

describe('Graph failure → DirectoryError', () => {
  it('treats "already exist" on a membership add as alreadyExists', () => {
    const e = directoryErrorFromGraph({ status: 400, body: body(GRAPH_ERRORS.alreadyMember), method: 'POST', path: '/v1.0/groups/g/members/$ref' });
    expect(e.code).toBe('alreadyExists');
  });

  it('treats an invitation to a verified-domain address as invalid input', () => {
    const e = directoryErrorFromGraph({ status: 400, body: body(GRAPH_ERRORS.internalAddress), method: 'POST', path: '/v1.0/invitations' });
    expect(e.code).toBe('invalidInput');
    expect(e.userMessage).toMatch(/colleague/);
  });

  it('names the missing permission for insufficient privileges', () => {
    const e = directoryErrorFromGraph({ status: 403, body: body(GRAPH_ERRORS.insufficientPrivileges), method: 'POST', path: '/v1.0/invitations' });
    expect(e.code).toBe('permissionMissing');
    expect(e.permission).toBe('User.Invite.All');
    expect(e.userMessage).toContain('User.Invite.All');
    const write = directoryErrorFromGraph({ status: 403, body: body(GRAPH_ERRORS.insufficientPrivileges), method: 'POST', path: '/groups/g/members/$ref' });
    expect(write.permission).toBe('GroupMember.ReadWrite.All');
  });

  it('treats other invitation refusals (403) as forbidden by policy', () => {
    const e = directoryErrorFromGraph({ status: 403, body: body(GRAPH_ERRORS.invitesNotAllowed), method: 'POST', path: '/invitations' });
    expect(e.code).toBe('forbiddenByPolicy');
    expect(e.retryable).toBe(false);
  });

  it('maps 404, 429 with Retry-After and 5xx', () => {
    expect(directoryErrorFromGraph({ status: 404, body: body(GRAPH_ERRORS.notFound) }).code).toBe('notFound');
    const throttled = directoryErrorFromGraph({ status: 429, retryAfterMs: parseRetryAfter('3') });
    expect(throttled).toMatchObject({ code: 'throttled', retryAfterMs: 3000, retryable: true });
    for (const status of [500, 502, 503, 504]) expect(directoryErrorFromGraph({ status }).code).toBe('transient');
  });

  it('reads Retry-After as seconds, an HTTP date, or the precise test header', () => {
    expect(parseRetryAfter('2')).toBe(2000);
    expect(parseRetryAfter('0.037')).toBe(37);
    expect(parseRetryAfter('Wed, 15 Jan 2025 09:00:10 GMT', null, () => Date.parse('2025-01-15T09:00:00Z'))).toBe(10_000);
    expect(parseRetryAfter('1', '12')).toBe(12);
    expect(parseRetryAfter(null)).toBeUndefined();
  });

  it('knows the least-privileged permission of each policy surface', () => {
    expect(permissionForRequest('GET', '/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/email')).toBe(
      'Policy.Read.AuthenticationMethod',
    );
    expect(permissionForRequest('GET', "/v1.0/tenantRelationships/findTenantInformationByDomainName(domainName='x')")).toBe(
      'CrossTenantInformation.ReadBasic.All',
    );
    expect(permissionForRequest('GET', '/v1.0/admin/sharepoint/settings')).toBe('SharePointTenantSettings.Read.All');
  });

  it("knows the least-privileged permission of each guest-lifecycle call", () => {
    expect(permissionForRequest('POST', '/v1.0/users/u/sponsors/$ref')).toBe('User.ReadWrite.All');
    expect(permissionForRequest('DELETE', '/v1.0/users/u/sponsors/s/$ref')).toBe('User.ReadWrite.All');
    expect(permissionForRequest('GET', '/v1.0/users/u/sponsors?$select=id')).toBe('User.Read.All');
    expect(permissionForRequest('PATCH', '/v1.0/users/u')).toBe('User.EnableDisableAccount.All');
    expect(permissionForRequest('DELETE', '/v1.0/users/u')).toBe('User.ReadWrite.All');
    expect(permissionForRequest('GET', '/v1.0/users/u')).toBe('User.Read.All');
    expect(permissionForRequest('DELETE', '/v1.0/groups/g/members/u/$ref')).toBe('GroupMember.ReadWrite.All');
  });

  it('treats "already exist" on a sponsor add as alreadyExists, worded for sponsors', () => {
    const e = directoryErrorFromGraph({ status: 400, body: body(GRAPH_ERRORS.alreadySponsor), method: 'POST', path: '/v1.0/users/u/sponsors/$ref' });
    expect(e.code).toBe('alreadyExists');
    expect(e.userMessage).toMatch(/already a sponsor/);
  });
});
