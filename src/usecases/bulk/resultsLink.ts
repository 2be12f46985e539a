import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { systemClock, type Clock } from '../../domain/clock';
import type { ResultsLinkSecretStore } from './ports';
import { trimEndChars } from '../../domain/text';

/**
 * Links to a job's results file. The token is signed (HMAC-SHA256) and carries the job, the
 * user it was issued to and an expiry; the route re-checks that this user may still see the
 * job. Tokens are only minted after the bot has checked who clicked, and are delivered to that
 * person in a personal chat; they expire (RESULTS_LINK_TTL_MINUTES, 15 minutes by default).
 * Whoever holds a link can use it until then: it is a secret, and the card says so.
 */

export interface ResultsLinkClaims {
  jobId: string;
  /** Entra object id of the person the link was issued to. */
  userId: string;
  tenantId: string;
  /** Issued to an approver/admin (checked when minted) rather than the requester. */
  approver: boolean;
  /** ms since epoch. */
  expiresAt: number;
}

export type ResultsLinkRefusal = 'malformed' | 'forged' | 'expired';

export class ResultsLinkError extends Error {
  constructor(
    readonly reason: ResultsLinkRefusal,
    readonly userMessage: string,
  ) {
    super(userMessage);
    this.name = 'ResultsLinkError';
  }
}

interface Payload {
  j: string;
  u: string;
  t: string;
  a: 0 | 1;
  e: number;
}

export class ResultsLinkSigner {
  private readonly secret: Buffer;

  /**
   * @param secret at least 32 bytes (the bot passes the stored one, storedResultsLinkSigner). Without one a
   *   random secret is made: links then stop working when the process restarts and are not valid
   *   on another instance (fine for tests).
   */
  constructor(
    secret?: Buffer | string,
    private readonly clock: Clock = systemClock,
  ) {
    const key = secret === undefined ? randomBytes(32) : Buffer.isBuffer(secret) ? secret : Buffer.from(secret, 'utf8');
    if (key.length < 32) throw new RangeError('results link secret must be at least 32 bytes');
    this.secret = key;
  }

  sign(claims: Omit<ResultsLinkClaims, 'expiresAt'>, ttlMs: number): string {
    const payload: Payload = { j: claims.jobId, u: claims.userId, t: claims.tenantId, a: claims.approver ? 1 : 0, e: this.clock.now().getTime() + ttlMs };
    const body = Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
    return `${body}.${this.mac(body)}`;
  }

  /** Throws ResultsLinkError when the token is malformed, not ours, or expired. */
  verify(token: string): ResultsLinkClaims {
    const [body, mac, extra] = token.split('.');
    if (!body || !mac || extra !== undefined || !/^[A-Za-z0-9_-]+$/.test(body) || !/^[A-Za-z0-9_-]+$/.test(mac)) {
      throw new ResultsLinkError('malformed', 'This results link is not valid.');
    }
    const expected = Buffer.from(this.mac(body), 'base64url');
    const given = Buffer.from(mac, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new ResultsLinkError('forged', 'This results link is not valid.');
    }
    let payload: Payload;
    try {
      payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Payload;
    } catch {
      throw new ResultsLinkError('malformed', 'This results link is not valid.');
    }
    if (typeof payload.j !== 'string' || typeof payload.u !== 'string' || typeof payload.e !== 'number') {
      throw new ResultsLinkError('malformed', 'This results link is not valid.');
    }
    if (payload.e <= this.clock.now().getTime()) {
      throw new ResultsLinkError('expired', 'This results link has expired. Ask the bot for the results again to get a fresh link.');
    }
    return { jobId: payload.j, userId: payload.u, tenantId: payload.t, approver: payload.a === 1, expiresAt: payload.e };
  }

  private mac(body: string): string {
    return createHmac('sha256', this.secret).update(body).digest('base64url');
  }
}

/**
 * The signer made from the stored secret (ResultsLinkSecretStore), fetched once on first use:
 * links survive a restart and are valid on every instance sharing the store.
 */
export function storedResultsLinkSigner(secrets: ResultsLinkSecretStore, clock: Clock = systemClock): () => Promise<ResultsLinkSigner> {
  let signer: Promise<ResultsLinkSigner> | null = null;
  return () => {
    if (!signer) {
      const made = secrets.getOrCreate().then((secret) => new ResultsLinkSigner(secret, clock));
      // A store that failed once is asked again next time.
      made.catch(() => {
        if (signer === made) signer = null;
      });
      signer = made;
    }
    return signer;
  };
}

/** The link the bot shows: `<base>/bulk/results?t=<token>`. */
export function resultsUrl(publicBaseUrl: string, token: string): string {
  return `${trimEndChars(publicBaseUrl, '/')}/bulk/results?t=${encodeURIComponent(token)}`;
}
