/** The demo tenant's user records: Graph's address rules, the look-up index and the conversions to the port's types. */
import type { DirectoryUser, GroupInfo, UserSummary } from '../../domain/tenant';
import { type FixtureGroup, type FixtureUser } from './fixture';

/** Roughly an address: one '@', no spaces, a dot inside the domain (checked without a backtracking pattern). */
export function hasEmailShape(s: string): boolean {
  if (/\s/.test(s)) return false;
  const at = s.indexOf('@');
  if (at < 1 || s.indexOf('@', at + 1) !== -1) return false;
  const dot = s.indexOf('.', at + 2);
  return dot !== -1 && dot < s.length - 1;
}

export function lower(s: string): string {
  return s.trim().toLowerCase();
}

export function domainOf(email: string): string {
  return lower(email.slice(email.lastIndexOf('@') + 1));
}

export function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0').slice(-width);
}

export function toDirectoryUser(u: FixtureUser): DirectoryUser {
  return {
    id: u.id,
    displayName: u.displayName,
    mail: u.mail,
    userPrincipalName: u.userPrincipalName,
    otherMails: [...u.otherMails],
    kind: u.kind,
    externalUserState: u.externalUserState,
    externalUserStateChangeDateTime: u.externalUserStateChangeDateTime,
    identities: u.identities.map((i) => ({ ...i })),
  };
}

export function toUserSummary(u: FixtureUser): UserSummary {
  return { id: u.id, displayName: u.displayName };
}

export function toGroupInfo(g: FixtureGroup): GroupInfo {
  return { id: g.id, displayName: g.displayName, siteUrl: g.siteUrl, mail: g.mail };
}

/**
 * Address and id look-ups for the tenant's users, so a look-up or an invitation costs the same
 * with 5 users or 50,000 (bulk runs and the benchmark create thousands of guests). Keys are
 * loose (trimmed, lower-cased, with and without an `smtp:` prefix); callers confirm each
 * candidate with Graph's exact rule, so the index only narrows, never decides.
 *
 * Maintained by FakeTenantState's own writes; a change to `fixture.users` made behind its back
 * (a push, a removal, a new array) is noticed by length/identity and the index is rebuilt.
 */
export class UserIndex {
  private readonly byKey = new Map<string, FixtureUser[]>();
  private readonly byId = new Map<string, FixtureUser>();
  /** Position in `fixture.users`: results come back in the tenant's order, as a scan would give them. */
  private readonly position = new Map<FixtureUser, number>();
  /** Keys each user is filed under, so a changed address can be unfiled. */
  private readonly keysOf = new Map<FixtureUser, string[]>();
  private source: FixtureUser[] | null = null;
  private indexed = 0;

  /** Every key an address value may be looked up by. */
  static keys(value: string): string[] {
    const plain = lower(value);
    const keys = [plain, lower(value.replace(/^smtp:/i, '')), plain.replace(/^smtp:/, '')];
    return keys.filter((k, i) => keys.indexOf(k) === i);
  }

  private static addressesOf(u: FixtureUser): string[] {
    // The id too: GET /users/{id | userPrincipalName} and `id in (...)` filters find users through the same keys.
    const values = [u.id, u.userPrincipalName, ...u.otherMails, ...u.proxyAddresses];
    if (u.mail !== null) values.push(u.mail);
    return [...new Set(values.flatMap((v) => UserIndex.keys(v)))];
  }

  /** Brings the index up to date with `users` (appends are indexed incrementally). */
  sync(users: FixtureUser[]): void {
    if (this.source !== users || users.length < this.indexed) this.clear(users);
    while (this.indexed < users.length) {
      const u = users[this.indexed];
      if (u) this.file(u, this.indexed);
      this.indexed++;
    }
  }

  /** Re-files a user whose addresses changed. */
  refile(u: FixtureUser): void {
    const at = this.position.get(u);
    if (at === undefined) return;
    this.unfile(u);
    this.file(u, at);
  }

  /** Users filed under any key of `value`, in tenant order (a superset of the exact matches). */
  candidates(value: string): FixtureUser[] {
    const found = new Set<FixtureUser>();
    for (const key of UserIndex.keys(value)) for (const u of this.byKey.get(key) ?? []) found.add(u);
    return this.inOrder(found);
  }

  byUserId(id: string): FixtureUser | undefined {
    return this.byId.get(id);
  }

  inOrder(users: Iterable<FixtureUser>): FixtureUser[] {
    return [...users].sort((a, b) => (this.position.get(a) ?? 0) - (this.position.get(b) ?? 0));
  }

  private clear(users: FixtureUser[]): void {
    this.byKey.clear();
    this.byId.clear();
    this.position.clear();
    this.keysOf.clear();
    this.source = users;
    this.indexed = 0;
  }

  private file(u: FixtureUser, at: number): void {
    this.position.set(u, at);
    // A scan returns the first user with an id: keep the earliest.
    if (!this.byId.has(u.id)) this.byId.set(u.id, u);
    const keys = UserIndex.addressesOf(u);
    this.keysOf.set(u, keys);
    for (const key of keys) {
      const bucket = this.byKey.get(key);
      if (bucket) bucket.push(u);
      else this.byKey.set(key, [u]);
    }
  }

  private unfile(u: FixtureUser): void {
    for (const key of this.keysOf.get(u) ?? []) {
      const bucket = (this.byKey.get(key) ?? []).filter((x) => x !== u);
      if (bucket.length > 0) this.byKey.set(key, bucket);
      else this.byKey.delete(key);
    }
    this.keysOf.delete(u);
  }
}

/** Graph's address match: mail, userPrincipalName, otherMails, proxyAddresses (without the smtp: prefix), case-insensitive. */
export function hasAddress(u: FixtureUser, wanted: string): boolean {
  return (
    (u.mail !== null && lower(u.mail) === wanted) ||
    lower(u.userPrincipalName) === wanted ||
    u.otherMails.some((m) => lower(m) === wanted) ||
    u.proxyAddresses.some((p) => lower(p.replace(/^smtp:/i, '')) === wanted)
  );
}
