import { systemClock, type Clock } from '../../domain/clock';
import { type Directory, isDirectoryError } from '../ports/Directory';
import type { DirectoryUser, TenantPolicies } from '../../domain/tenant';
import { InvalidEmailError, parseEmail, type EmailAddress, type EmailParseResult } from '../../domain/email';
import type { SignInAdvice } from '../../domain/signInAdvice';
import { decideSignIn } from '../../domain/signInRules';
import { blockingSettings } from '../../domain/tenantSettingRules';
import { type ManagedTenantFact } from '../../domain/newGuestPrediction';

/** What other use cases depend on: advice for one address, or many at once (bulk). */
export interface SignInAdvisorPort {
  /**
   * Never fails for a directory fault on the domain or user lookup: the advice degrades to
   * confidence 'likely' with a reason. Throws `InvalidEmailError` when the address itself is
   * unusable, and a DirectoryError only when the tenant's policies have never been readable.
   */
  advise(email: string, known?: KnownUser): Promise<SignInAdvice>;
  /** Advice per input address, in input order; an unusable address yields an `InvalidEmailAdvice`. */
  adviseMany(emails: readonly string[]): Promise<Array<SignInAdvice | InvalidEmailAdvice>>;
}

/**
 * The directory record of the person the address belongs to, when the caller has just read it
 * (a guest asking about themselves): the advisor then does not look the address up again.
 */
export interface KnownUser {
  user: DirectoryUser;
}

/** Result entry of adviseMany for an address that could not be parsed. */
export interface InvalidEmailAdvice {
  email: string;
  invalid: true;
  /** Plain-words reason, e.g. "that address has a space in it". */
  reason: string;
}

export function isInvalidEmailAdvice(a: SignInAdvice | InvalidEmailAdvice): a is InvalidEmailAdvice {
  return 'invalid' in a && a.invalid === true;
}

export interface SignInAdvisorOptions {
  /** Injected in tests. */
  clock?: Clock;
  /** How long a domain lookup (managed tenant or not) is trusted. Default 1 hour. */
  domainTtlMs?: number;
  /** How long tenant policies are trusted. Default 5 minutes. */
  policyTtlMs?: number;
  /** How long a failed domain lookup is remembered before trying again. Default 30 seconds. */
  failedLookupTtlMs?: number;
  /** Domain lookups run at once in adviseMany. Default 8. */
  lookupConcurrency?: number;
}

interface Cached<T> {
  value: T;
  expiresAt: number;
}

const DEFAULT_DOMAIN_TTL_MS = 60 * 60 * 1000;
const DEFAULT_POLICY_TTL_MS = 5 * 60 * 1000;
const DEFAULT_FAILED_LOOKUP_TTL_MS = 30 * 1000;

export class SignInAdvisor implements SignInAdvisorPort {
  private readonly domains = new Map<string, Cached<ManagedTenantFact>>();
  private readonly domainsInFlight = new Map<string, Promise<ManagedTenantFact>>();
  private policies: (Cached<TenantPolicies> & { readAt: number }) | null = null;
  private policiesInFlight: Promise<{ policies: TenantPolicies; stale: boolean }> | null = null;
  private readonly domainTtlMs: number;
  private readonly policyTtlMs: number;
  private readonly failedLookupTtlMs: number;
  private readonly lookupConcurrency: number;

  constructor(
    private readonly directory: Directory,
    private readonly opts: SignInAdvisorOptions = {},
  ) {
    this.domainTtlMs = opts.domainTtlMs ?? DEFAULT_DOMAIN_TTL_MS;
    this.policyTtlMs = opts.policyTtlMs ?? DEFAULT_POLICY_TTL_MS;
    this.failedLookupTtlMs = opts.failedLookupTtlMs ?? DEFAULT_FAILED_LOOKUP_TTL_MS;
    this.lookupConcurrency = Math.max(1, opts.lookupConcurrency ?? 8);
  }

  async advise(email: string, known?: KnownUser): Promise<SignInAdvice> {
    const parsed = parseEmail(email);
    if (!parsed.ok) throw new InvalidEmailError(email, parsed.reason);
    const address = parsed.email;
    const { policies, stale } = await this.readPolicies();
    let existingUser: DirectoryUser | null = null;
    let userLookupFailed = false;
    if (known && carriesAddress(known.user, address.key)) {
      existingUser = known.user;
    } else {
      try {
        existingUser = await this.directory.findUserByEmail(address.address);
      } catch (e) {
        if (!isRecoverable(e)) throw e;
        userLookupFailed = true;
      }
    }
    const managedTenant = this.needsDomainLookup(address, policies, existingUser)
      ? await this.managedTenantOf(address.domain)
      : null;
    return this.decide(address, policies, managedTenant, existingUser, { stale, userLookupFailed });
  }

  async adviseMany(emails: readonly string[]): Promise<Array<SignInAdvice | InvalidEmailAdvice>> {
    const parsed = emails.map((raw) => ({ raw, result: parseEmail(raw) }));
    const valid = parsed.flatMap((p) => (p.result.ok ? [p.result.email] : []));
    if (valid.length === 0) return parsed.map((p) => invalidAdvice(p.raw, p.result));
    const { policies, stale } = await this.readPolicies();

    let users = new Map<string, DirectoryUser>();
    let userLookupFailed = false;
    try {
      users = await this.directory.findUsersByEmail([...new Set(valid.map((e) => e.address))]);
    } catch (e) {
      if (!isRecoverable(e)) throw e;
      userLookupFailed = true;
    }
    const userOf = (e: EmailAddress): DirectoryUser | null => users.get(e.key) ?? null;

    const domains = [
      ...new Set(valid.filter((e) => this.needsDomainLookup(e, policies, userOf(e))).map((e) => e.domain)),
    ];
    const tenants = new Map<string, ManagedTenantFact>();
    await forEachLimited(domains, this.lookupConcurrency, async (domain) => {
      tenants.set(domain, await this.managedTenantOf(domain));
    });

    return parsed.map((p) => {
      if (!p.result.ok) return invalidAdvice(p.raw, p.result);
      const e = p.result.email;
      return this.decide(e, policies, tenants.get(e.domain) ?? null, userOf(e), { stale, userLookupFailed });
    });
  }

  /** Forgets cached policies and domain lookups (e.g. after an admin changed settings). */
  clearCache(): void {
    this.domains.clear();
    this.policies = null;
  }

  private decide(
    email: EmailAddress,
    policies: TenantPolicies,
    managedTenant: ManagedTenantFact,
    existingUser: DirectoryUser | null,
    faults: { stale: boolean; userLookupFailed: boolean },
  ): SignInAdvice {
    const advice = decideSignIn({ email, policies, managedTenant, existingUser });
    if (faults.userLookupFailed) {
      degrade(advice, `We could not check whether ${email.display} is already in the directory; this assumes they are not.`);
    }
    if (faults.stale && this.policies) {
      degrade(
        advice,
        `The tenant's settings could not be re-read just now; this uses the ones read at ${new Date(this.policies.readAt).toISOString()}.`,
      );
    }
    return advice;
  }

  /** A domain lookup matters unless the address is internal, or a new guest blocked anyway. */
  private needsDomainLookup(email: EmailAddress, policies: TenantPolicies, user: DirectoryUser | null): boolean {
    if (policies.verifiedDomains.some((d) => d.toLowerCase() === email.domain)) return false;
    if (user?.kind === 'member') return false;
    if (!user && blockingSettings(email.domain, policies).length > 0) return false;
    return true;
  }

  private now(): number {
    return (this.opts.clock ?? systemClock).now().getTime();
  }

  /** Cached with a TTL; concurrent callers for one domain share one lookup; failures become 'lookupFailed'. */
  private managedTenantOf(domain: string): Promise<ManagedTenantFact> {
    const cached = this.domains.get(domain);
    if (cached && cached.expiresAt > this.now()) return Promise.resolve(cached.value);
    const inFlight = this.domainsInFlight.get(domain);
    if (inFlight) return inFlight;
    const lookup = (async (): Promise<ManagedTenantFact> => {
      try {
        const info = await this.directory.lookupExternalDomain(domain);
        const value = info.managedTenant ? { ...info.managedTenant } : null;
        this.domains.set(domain, { value, expiresAt: this.now() + this.domainTtlMs });
        return value;
      } catch {
        // Remembered briefly, so a bulk run over a failing domain does not hammer Graph.
        this.domains.set(domain, { value: 'lookupFailed', expiresAt: this.now() + this.failedLookupTtlMs });
        return 'lookupFailed';
      } finally {
        this.domainsInFlight.delete(domain);
      }
    })();
    this.domainsInFlight.set(domain, lookup);
    return lookup;
  }

  /** Cached with a (shorter) TTL. When a re-read fails, the last good copy is used and flagged stale. */
  private readPolicies(): Promise<{ policies: TenantPolicies; stale: boolean }> {
    const cached = this.policies;
    if (cached && cached.expiresAt > this.now()) return Promise.resolve({ policies: cached.value, stale: false });
    if (this.policiesInFlight) return this.policiesInFlight;
    const read = (async () => {
      try {
        const policies = await this.directory.readPolicies();
        const now = this.now();
        this.policies = { value: policies, expiresAt: now + this.policyTtlMs, readAt: now };
        return { policies, stale: false };
      } catch (e) {
        if (this.policies && isRecoverable(e)) return { policies: this.policies.value, stale: true };
        throw e;
      } finally {
        this.policiesInFlight = null;
      }
    })();
    this.policiesInFlight = read;
    return read;
  }
}

/** Whether a directory record is the one a look-up of `key` (a lower-cased address) would find. */
function carriesAddress(user: DirectoryUser, key: string): boolean {
  return [user.mail, user.userPrincipalName, ...user.otherMails].some((a) => typeof a === 'string' && a.toLowerCase() === key);
}

/** Directory faults we can advise around; programming errors still surface. */
function isRecoverable(e: unknown): boolean {
  return isDirectoryError(e) || (e instanceof Error && !(e instanceof TypeError) && !(e instanceof RangeError));
}

function invalidAdvice(email: string, result: EmailParseResult): InvalidEmailAdvice {
  return { email, invalid: true, reason: result.ok ? 'unexpectedly valid' : result.reason };
}

function degrade(advice: SignInAdvice, reason: string): void {
  advice.reasons.unshift(reason);
  if (advice.confidence === 'certain' || advice.confidence === 'depends') advice.confidence = 'likely';
}

async function forEachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  });
  await Promise.all(workers);
}
