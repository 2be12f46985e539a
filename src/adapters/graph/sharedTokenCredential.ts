/**
 * One token request in flight at a time per credential. When many Graph requests start together
 * (the first turns after start-up, a policy read of eight surfaces at once), each would otherwise
 * ask the credential for a token, and until its cache is filled each of those goes to Entra ID.
 * The token is then reused until shortly before it expires (or before the platform's suggested
 * refresh time, `refreshAfterTimestamp`).
 */
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/identity';

/** Fetch a new token this long before the current one expires. */
const EXPIRY_MARGIN_MS = 5 * 60_000;

export class SharedTokenCredential implements TokenCredential {
  private readonly tokens = new Map<string, AccessToken>();
  private readonly inFlight = new Map<string, Promise<AccessToken | null>>();

  constructor(
    private readonly inner: TokenCredential,
    private readonly now: () => number = Date.now,
  ) {}

  getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
    const key = (Array.isArray(scopes) ? scopes : [scopes]).join(' ');
    const cached = this.tokens.get(key);
    if (cached && this.now() < refreshAt(cached)) return Promise.resolve(cached);
    const running = this.inFlight.get(key);
    if (running) return running;
    const request = this.inner
      .getToken(scopes, options)
      .then((token) => {
        if (token) this.tokens.set(key, token);
        else this.tokens.delete(key);
        return token;
      })
      .finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, request);
    return request;
  }
}

function refreshAt(token: AccessToken): number {
  const beforeExpiry = token.expiresOnTimestamp - EXPIRY_MARGIN_MS;
  return token.refreshAfterTimestamp !== undefined ? Math.min(token.refreshAfterTimestamp, beforeExpiry) : beforeExpiry;
}
