/** Graph's wire shapes (only the fields we read) and the small pure helpers that read and build them. */
import { DirectoryError, isDirectoryError, type InvitationResult } from '../../usecases/ports/Directory';
import type { DirectoryUser, UserIdentity } from '../../domain/tenant';
import { directoryErrorFromNetwork } from './errors';

export const USER_SELECT = [
  'id',
  'displayName',
  'mail',
  'userPrincipalName',
  'otherMails',
  'proxyAddresses',
  'userType',
  // Not returned by default: must be asked for.
  'externalUserState',
  'externalUserStateChangeDateTime',
  'identities',
].join(',');

export const GROUP_SELECT = 'id,displayName,mail,groupTypes';

/** A guest's lifecycle facts (GuestLifecycleFacts): none of these but id and displayName come back unless selected. */
export const LIFECYCLE_SELECT = [
  'id',
  'userType',
  'externalUserState',
  'externalUserStateChangeDateTime',
  'accountEnabled',
  'createdDateTime',
].join(',');


// ---------------------------------------------------------------------------------------------
// Graph wire shapes (only the fields we read).

export interface GraphUser {
  id: string;
  displayName?: string | null;
  mail?: string | null;
  userPrincipalName?: string | null;
  otherMails?: string[] | null;
  proxyAddresses?: string[] | null;
  userType?: string | null;
  externalUserState?: string | null;
  externalUserStateChangeDateTime?: string | null;
  accountEnabled?: boolean | null;
  createdDateTime?: string | null;
  identities?: Array<{ signInType?: string | null; issuer?: string | null; issuerAssignedId?: string | null }> | null;
  signInActivity?: {
    lastSignInDateTime?: string | null;
    lastNonInteractiveSignInDateTime?: string | null;
    lastSuccessfulSignInDateTime?: string | null;
  } | null;
}

export interface GraphUserSummary {
  id: string;
  displayName?: string | null;
  '@odata.type'?: string;
}

/** One entry of GET /users/{id}/sponsors: a user or a group. */
export interface GraphSponsor {
  id: string;
  displayName?: string | null;
  accountEnabled?: boolean | null;
  '@odata.type'?: string;
}

export interface GraphGroup {
  id: string;
  displayName?: string | null;
  mail?: string | null;
  groupTypes?: string[] | null;
  '@odata.type'?: string;
}

export interface GraphCollection<T> {
  value?: T[];
  '@odata.nextLink'?: string;
}

export interface GraphInvitation {
  id?: string;
  inviteRedeemUrl?: string;
  status?: string;
  invitedUser?: { id?: string };
}

export interface BatchResponseItem {
  id: string;
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';

export interface GraphCall {
  method: HttpMethod;
  /** Relative to the version root, e.g. "/users?$filter=…"; query values already encoded. */
  path: string;
  version?: 'v1.0' | 'beta';
  body?: unknown;
  headers?: Record<string, string>;
  /** Safe to send again when the first attempt got no answer at all. */
  idempotent?: boolean;
  /** Asked right before each attempt goes out (after pacing): false sends nothing (InvitationNotSent). */
  maySend?: () => boolean;
}

// ---------------------------------------------------------------------------------------------
// Small pure helpers.

/** OData string literal: single quotes doubled (O'Brien). */
export function odataString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** A query string with each value percent-encoded ('+' would otherwise read as a space, '&' split the query). */
export function query(params: Record<string, string | undefined>): string {
  const parts = Object.entries(params)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([k, v]) => `${k}=${encodeURIComponent(v)}`);
  return parts.length ? `?${parts.join('&')}` : '';
}

/**
 * Matches mail, userPrincipalName, otherMails and proxyAddresses. Graph compares these strings
 * without regard to case, so the lower-cased address finds "Jane@X.com", and 'smtp:' matches both
 * the primary ("SMTP:") and secondary ("smtp:") proxy addresses. All four are `eq` filters Graph
 * serves by default (no advanced query), which keeps the lookup read-after-write consistent:
 * invite() relies on that after a lost answer.
 */
export function userByEmailFilter(email: string): string {
  const v = odataString(email.toLowerCase());
  const smtp = odataString(`smtp:${email.toLowerCase()}`);
  return `mail eq ${v} or userPrincipalName eq ${v} or otherMails/any(x:x eq ${v}) or proxyAddresses/any(x:x eq ${smtp})`;
}

export function userByEmailPath(email: string): string {
  return `/users${query({ $filter: userByEmailFilter(email), $select: USER_SELECT })}`;
}

export function sameAddress(a: string | null | undefined, key: string): boolean {
  return typeof a === 'string' && a.toLowerCase() === key;
}

/** Whether a returned user really carries the address (guards against a loose server). */
export function userHasAddress(user: GraphUser, key: string): boolean {
  return (
    sameAddress(user.mail, key) ||
    sameAddress(user.userPrincipalName, key) ||
    (user.otherMails ?? []).some((m) => sameAddress(m, key)) ||
    (user.proxyAddresses ?? []).some((p) => /^smtp:/i.test(p) && sameAddress(p.slice(5), key)) ||
    // proxyAddresses is only present when selected and allowed: trust the filter then.
    user.proxyAddresses === undefined
  );
}

export function toDirectoryUser(u: GraphUser): DirectoryUser {
  const state = u.externalUserState;
  return {
    id: u.id,
    displayName: u.displayName ?? '',
    mail: u.mail ?? null,
    userPrincipalName: u.userPrincipalName ?? '',
    otherMails: u.otherMails ?? [],
    kind: (u.userType ?? '').toLowerCase() === 'guest' ? 'guest' : 'member',
    externalUserState: state === 'PendingAcceptance' || state === 'Accepted' ? state : null,
    externalUserStateChangeDateTime: u.externalUserStateChangeDateTime ?? null,
    identities: (u.identities ?? []).map(
      (i): UserIdentity => ({
        signInType: i.signInType ?? '',
        issuer: i.issuer ?? '',
        issuerAssignedId: i.issuerAssignedId ?? null,
      }),
    ),
  };
}

export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export function pathOnly(path: string): string {
  return path.split('?')[0] ?? path;
}

export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids go into URL paths: anything but a GUID is refused before a request is made. */
export function assertObjectId(id: string, what: string): string {
  if (!GUID.test(id)) {
    throw new DirectoryError('invalidInput', `That is not a valid ${what} id.`, { detail: 'refused before calling Graph' });
  }
  return id.toLowerCase();
}

export function assertRedirectUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new DirectoryError('invalidInput', 'The redirect address is not a valid URL.', { detail: 'refused before calling Graph' });
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new DirectoryError('invalidInput', 'The redirect address must be an http(s) URL.', { detail: 'refused before calling Graph' });
  }
  return parsed.toString();
}

/** 504 on an invitation or no answer at all: Graph may or may not have done the work. */
export function isOutcomeUnknown(e: DirectoryError): boolean {
  return e.graphCode === 'NoResponse' || (e.cause as { statusCode?: unknown } | undefined)?.statusCode === 504;
}

export function asDirectoryError(e: unknown): DirectoryError {
  if (isDirectoryError(e)) return e;
  return directoryErrorFromNetwork(e);
}

export function toInvitationResult(answer: GraphInvitation): InvitationResult {
  return {
    invitationId: answer.id ?? '',
    redeemUrl: answer.inviteRedeemUrl ?? '',
    userId: answer.invitedUser?.id ?? '',
    status: answer.status ?? 'PendingAcceptance',
  };
}

