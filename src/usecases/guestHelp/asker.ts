/**
 * Who is asking a guest-help question: unknown (another tenant, no account), a member, or a
 * guest with how they redeemed and the advice for their address now.
 */
import type { Actor } from '../../domain/actor';
import type { DirectoryUser, TenantPolicies } from '../../domain/tenant';
import type { SignInAdvice, SignInMethod } from '../../domain/signInAdvice';
import { methodFromIdentities } from '../../domain/tenantSettingRules';
import { InvalidEmailError } from '../../domain/email';
import type { GuestHelpDependencies } from './ports';

export type Asker =
  | { kind: 'unknown'; policies: TenantPolicies }
  | { kind: 'member'; policies: TenantPolicies; user: DirectoryUser }
  | {
      kind: 'guest';
      policies: TenantPolicies;
      user: DirectoryUser;
      email: string | null;
      advice: SignInAdvice | null;
      /** How they redeemed; null while pending or unknown. */
      method: SignInMethod | null;
    };

export type GuestAsker = Extract<Asker, { kind: 'guest' }>;

function guestAddress(user: DirectoryUser): string | null {
  return user.mail ?? user.otherMails[0] ?? null;
}

/** The day of an ISO time, as answers show it. */
export function day(iso: string | null): string {
  return iso ? iso.slice(0, 10) : 'an earlier date';
}

/** `withAdvice: false` skips the sign-in advisor (answers that only need the account itself). */
export async function whoIsAsking(
  deps: Pick<GuestHelpDependencies, 'directory' | 'advisor'>,
  actor: Actor | null,
  options: { withAdvice?: boolean } = {},
): Promise<Asker> {
  const policies = await deps.directory.readPolicies();
  // The actor id is only meaningful in the tenant whose directory we read.
  if (!actor || actor.tenantId !== policies.tenantId) return { kind: 'unknown', policies };
  const user = await deps.directory.getUser(actor.userId);
  if (!user) return { kind: 'unknown', policies };
  if (user.kind === 'member') return { kind: 'member', policies, user };
  const email = guestAddress(user);
  let advice: SignInAdvice | null = null;
  if (email && options.withAdvice !== false) {
    try {
      advice = await deps.advisor.advise(email, { user });
    } catch (e) {
      if (!(e instanceof InvalidEmailError)) throw e;
    }
  }
  const method = user.externalUserState === 'Accepted' ? methodFromIdentities(user.identities, policies) : null;
  return { kind: 'guest', policies, user, email, advice, method };
}
