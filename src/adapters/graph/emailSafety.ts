/**
 * The last check before an address goes to Graph: anything the invitation API would refuse (or
 * that would change the meaning of an OData filter) is refused here, before any request, with a
 * DirectoryError('invalidInput') whose message names the problem.
 *
 * The rules themselves live in src/domain/email.ts (the app's one email parser); this module only
 * turns its verdict into the Directory port's error type.
 */
import { DirectoryError } from '../../usecases/ports/Directory';
import { parseEmail, type EmailAddress } from '../../domain/email';

/** Returns the normalised address (punycode domain) Graph should get, or throws DirectoryError('invalidInput'). */
export function assertInvitableEmail(email: string): EmailAddress {
  const parsed = parseEmail(email);
  if (parsed.ok) return parsed.email;
  // email.ts says "the character ',' is not allowed"; in chat the user needs to know where.
  const reason = /^the character .* is not allowed$/.test(parsed.reason)
    ? `${parsed.reason} in an email address`
    : parsed.reason;
  return refuse(reason);
}

function refuse(reason: string): never {
  const userMessage = reason.charAt(0).toUpperCase() + reason.slice(1) + '.';
  throw new DirectoryError('invalidInput', userMessage, { detail: 'refused before calling Graph' });
}

/**
 * The lower-cased form to look an address up by, or null when it cannot be anyone's address.
 * Looser than assertInvitableEmail on purpose: lookups must find what Entra stores, such as a
 * guest's "jane_x.com#EXT#@tenant.onmicrosoft.com" userPrincipalName. The value is quoted and
 * percent-encoded by the caller, so any character is safe in the filter.
 */
export function lookupAddress(email: string): string | null {
  const key = email.trim().toLowerCase();
  // eslint-disable-next-line no-control-regex
  if (!/^[^\s@\u0000-\u001f\u007f]+@[^\s@\u0000-\u001f\u007f]+$/u.test(key) || key.length > 320) return null;
  return key;
}
