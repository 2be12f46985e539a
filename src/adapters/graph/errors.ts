/**
 * The one place that turns a Graph failure into a DirectoryError, shared by GraphDirectory
 * (real answers), FakeDirectory (same classification, same user messages) and the Graph-shaped
 * test server (the same Graph error bodies).
 */
import { DirectoryError } from '../../usecases/ports/Directory';

/** Graph's error envelope: `{ "error": { "code", "message", "innerError" } }`. */
export interface GraphErrorBody {
  error: { code: string; message: string; innerError?: Record<string, unknown> };
}

/**
 * Graph error codes and messages as Graph words them (observed answers). The test server sends
 * exactly these; the classifier below recognises them.
 */
export const GRAPH_ERRORS = {
  alreadyMember: {
    status: 400,
    code: 'Request_BadRequest',
    message: "One or more added object references already exist for the following modified properties: 'members'.",
  },
  /** The same Graph wording as for members, naming the sponsors property. */
  alreadySponsor: {
    status: 400,
    code: 'Request_BadRequest',
    message: "One or more added object references already exist for the following modified properties: 'sponsors'.",
  },
  internalAddress: {
    status: 400,
    code: 'BadRequest',
    message:
      "This user cannot be invited because the domain of the user's email address is a verified domain of this directory.",
  },
  invitesNotAllowed: {
    status: 403,
    code: 'Forbidden',
    message: 'Guest invitations not allowed for your company. Contact your company administrator for more details.',
  },
  domainBlocked: {
    status: 403,
    code: 'Forbidden',
    message: 'The invitation is blocked by the B2B collaboration policy of this organization (domain not allowed).',
  },
  insufficientPrivileges: {
    status: 403,
    code: 'Authorization_RequestDenied',
    message: 'Insufficient privileges to complete the operation.',
  },
  /**
   * signInActivity (and the sign-in logs) in a tenant without Microsoft Entra ID P1/P2:
   * https://learn.microsoft.com/entra/identity/monitoring-health/howto-configure-prerequisites-for-reporting-api
   */
  nonPremiumTenant: {
    status: 403,
    code: 'Authentication_RequestFromNonPremiumTenantOrB2CTenant',
    message: "Neither tenant is B2C or tenant doesn't have premium license",
  },
  notFound: {
    status: 404,
    code: 'Request_ResourceNotFound',
    message: "Resource '{id}' does not exist or one of its queried reference-property objects are not present.",
  },
  tooManyBatchRequests: {
    status: 400,
    code: 'BadRequest',
    message: 'Too many requests in the batch. The maximum is 20.',
  },
  tooManyMemberBinds: {
    status: 400,
    code: 'Request_BadRequest',
    message: 'The maximum number of members that can be added in one request is 20.',
  },
  throttled: {
    status: 429,
    code: 'TooManyRequests',
    message: 'Too many requests. Retry after the time given in the Retry-After header.',
  },
  unavailable: { status: 503, code: 'serviceNotAvailable', message: 'The service is temporarily unavailable.' },
  gatewayTimeout: { status: 504, code: 'GatewayTimeout', message: 'The gateway timed out.' },
  unauthenticated: {
    status: 401,
    code: 'InvalidAuthenticationToken',
    message: 'Access token is empty.',
  },
} as const satisfies Record<string, { status: number; code: string; message: string }>;

export function graphErrorBody(code: string, message: string): GraphErrorBody {
  return { error: { code, message } };
}

/** The least-privilege application permission each Graph path needs (DESIGN §3.6). */
export function permissionForRequest(method: string, path: string): string {
  const p = path.replace(/^https?:\/\/[^/]+/, '').replace(/^\/(v1\.0|beta)/, '').split('?')[0] ?? '';
  const m = method.toUpperCase();
  if (p.startsWith('/invitations')) return 'User.Invite.All';
  // Sponsors: adding and removing need User.ReadWrite.All (nothing narrower exists); listing, User.Read.All.
  // https://learn.microsoft.com/graph/api/user-post-sponsors, .../user-delete-sponsors, .../user-list-sponsors
  if (/^\/users\/[^/]+\/sponsors/.test(p)) return m === 'GET' ? 'User.Read.All' : 'User.ReadWrite.All';
  // accountEnabled alone: User.EnableDisableAccount.All (with User.Read.All) is the least privileged
  // choice, https://learn.microsoft.com/graph/api/user-update (properties needing special permissions).
  if (/^\/users\/[^/]+$/.test(p) && m === 'PATCH') return 'User.EnableDisableAccount.All';
  // https://learn.microsoft.com/graph/api/user-delete: User.ReadWrite.All is the least privileged.
  if (/^\/users\/[^/]+$/.test(p) && m === 'DELETE') return 'User.ReadWrite.All';
  if (/^\/groups\/[^/]+\/members/.test(p) && m !== 'GET') return 'GroupMember.ReadWrite.All';
  if (/^\/groups\/[^/]+$/.test(p) && m === 'PATCH') return 'GroupMember.ReadWrite.All';
  if (/^\/groups\/[^/]+\/(sites|drive)/.test(p)) return 'Sites.Read.All';
  if (p.startsWith('/groups') || /^\/users\/[^/]+\/ownedObjects/.test(p)) return 'GroupMember.Read.All';
  if (/\/checkMemberGroups$/.test(p)) return 'GroupMember.Read.All';
  if (p.startsWith('/users')) return 'User.Read.All';
  if (p.startsWith('/policies/authenticationMethodsPolicy')) return 'Policy.Read.AuthenticationMethod';
  if (p.startsWith('/policies/b2bManagementPolicies')) return 'Policy.Read.B2BManagementPolicy';
  if (p.startsWith('/policies')) return 'Policy.Read.All';
  if (p.startsWith('/identity/identityProviders')) return 'IdentityProvider.Read.All';
  // The List samlOrWsFedExternalDomainFederations reference names Domain.Read.All as least privileged.
  if (p.startsWith('/directory/federationConfigurations')) return 'Domain.Read.All';
  if (p.startsWith('/admin/sharepoint')) return 'SharePointTenantSettings.Read.All';
  if (p.startsWith('/tenantRelationships')) return 'CrossTenantInformation.ReadBasic.All';
  if (p.startsWith('/organization')) return 'Organization.Read.All';
  if (p.startsWith('/domains')) return 'Domain.Read.All';
  return 'Directory.Read.All';
}

/**
 * Retry-After as milliseconds: integer seconds or an HTTP date (RFC 9110). The test server also
 * sends `x-ms-retry-after-ms` (fractional waits under a time scale); callers pass it as `preciseMs`.
 */
export function parseRetryAfter(
  retryAfter: string | null | undefined,
  preciseMs?: string | null,
  now: () => number = Date.now,
): number | undefined {
  if (preciseMs != null && preciseMs.trim() !== '') {
    const ms = Number(preciseMs);
    if (Number.isFinite(ms) && ms >= 0) return ms;
  }
  if (retryAfter == null || retryAfter.trim() === '') return undefined;
  const seconds = Number(retryAfter);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(retryAfter);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now());
}

/** A failed Graph response, as much as the caller knows of it. */
export interface GraphFailure {
  status: number;
  /** Parsed JSON body (Graph's envelope) or raw text. */
  body?: unknown;
  retryAfterMs?: number;
  /** The request, to name the missing permission and to tell invitation refusals apart. */
  method?: string;
  path?: string;
  /** Overrides the permission named for a 403, e.g. 'User.ReadWrite.All' for a redemption reset. */
  permission?: string;
}

function graphCodeAndMessage(body: unknown): { code: string | undefined; message: string } {
  if (typeof body === 'string') {
    try {
      return graphCodeAndMessage(JSON.parse(body) as unknown);
    } catch {
      return { code: undefined, message: body };
    }
  }
  if (body && typeof body === 'object' && 'error' in body) {
    const error = (body as { error: unknown }).error;
    if (error && typeof error === 'object') {
      const { code, message } = error as { code?: unknown; message?: unknown };
      return {
        code: typeof code === 'string' ? code : undefined,
        message: typeof message === 'string' ? message : '',
      };
    }
  }
  return { code: undefined, message: '' };
}

// User-facing wording, shared so the fake and the real implementation say the same thing.
export const USER_MESSAGES = {
  alreadyMember: 'They are already a member.',
  alreadySponsor: 'They are already a sponsor of this guest.',
  memberNotGuest: 'Only guest accounts can be blocked or deleted by the bot; this is a member of the organisation.',
  internalAddress: "That address belongs to one of this organisation's own domains: it is a colleague, not a guest.",
  invitesNotAllowed:
    'This organisation does not let apps invite guests (external collaboration settings). An administrator can change that.',
  domainBlocked: (domain?: string): string =>
    domain
      ? `Invitations to ${domain} are not allowed by this organisation's B2B collaboration settings.`
      : "This invitation is not allowed by this organisation's B2B collaboration settings.",
  notFound: 'The user or group was not found in the directory.',
  permissionMissing: (permission: string): string =>
    `The bot is missing the Microsoft Graph permission ${permission}. An administrator must grant it.`,
  unauthenticated: "Microsoft Graph did not accept the bot's credentials.",
  throttled: 'Microsoft Graph is busy (throttling). The bot will try again shortly.',
  transient: 'Microsoft Graph had a temporary problem. Please try again.',
  invalidInput: 'Microsoft Graph refused the request as invalid.',
} as const;

/**
 * Classifies a Graph failure:
 * 400 "already exist" on members → alreadyExists; 400 verified-domain invitation → invalidInput;
 * 403 Authorization_RequestDenied / insufficient privileges → permissionMissing (naming the
 * permission); other 403 on /invitations → forbiddenByPolicy; 404 → notFound; 409 → alreadyExists;
 * 429 → throttled; 500/502/503/504 → transient.
 */
export function directoryErrorFromGraph(failure: GraphFailure, cause?: unknown): DirectoryError {
  const { status, method = 'GET', path = '' } = failure;
  const { code: graphCode, message } = graphCodeAndMessage(failure.body);
  const detail = `Graph ${status}${graphCode ? ` ${graphCode}` : ''}${message ? `: ${message}` : ''}`;
  const base = { cause, graphCode, detail };
  const isInvitation = /\/invitations\b/.test(path);
  const isMembership = /\/members\b/.test(path) || /members@odata\.bind/.test(message) || /'members'/.test(message);

  if (status === 429) {
    return new DirectoryError('throttled', USER_MESSAGES.throttled, { ...base, retryAfterMs: failure.retryAfterMs });
  }
  if (status >= 500) {
    return new DirectoryError('transient', USER_MESSAGES.transient, { ...base, retryAfterMs: failure.retryAfterMs });
  }
  if (status === 401) {
    return new DirectoryError('permissionMissing', USER_MESSAGES.unauthenticated, base);
  }
  if (status === 403) {
    const denied = graphCode === 'Authorization_RequestDenied' || /insufficient privileges/i.test(message);
    if (isInvitation && !denied) {
      return new DirectoryError('forbiddenByPolicy', policyMessage(message), base);
    }
    const permission = failure.permission ?? permissionForRequest(method, path);
    return new DirectoryError('permissionMissing', USER_MESSAGES.permissionMissing(permission), { ...base, permission });
  }
  if (status === 404) return new DirectoryError('notFound', USER_MESSAGES.notFound, base);
  if (status === 409) return new DirectoryError('alreadyExists', USER_MESSAGES.alreadyMember, base);
  if (status === 400) {
    if (/already exist/i.test(message) && /\/sponsors\b|'sponsors'/.test(`${path} ${message}`)) {
      return new DirectoryError('alreadyExists', USER_MESSAGES.alreadySponsor, base);
    }
    if (/already exist/i.test(message) && (isMembership || !isInvitation)) {
      return new DirectoryError('alreadyExists', USER_MESSAGES.alreadyMember, base);
    }
    if (isInvitation && /verified domain/i.test(message)) {
      return new DirectoryError('invalidInput', USER_MESSAGES.internalAddress, base);
    }
    if (isInvitation && /blocked|not allowed/i.test(message)) {
      return new DirectoryError('forbiddenByPolicy', policyMessage(message), base);
    }
  }
  return new DirectoryError('invalidInput', USER_MESSAGES.invalidInput, base);
}

function policyMessage(graphMessage: string): string {
  return /guest invitations not allowed/i.test(graphMessage)
    ? USER_MESSAGES.invitesNotAllowed
    : USER_MESSAGES.domainBlocked();
}

/** A request that never got an HTTP answer (connection reset, timeout): worth retrying. */
export function directoryErrorFromNetwork(cause: unknown): DirectoryError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new DirectoryError('transient', USER_MESSAGES.transient, { cause, detail });
}
