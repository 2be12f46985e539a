/** What every part of the invite use case shares: its dependencies with their defaults, retries and the audit trail. */
import type { Actor } from '../../domain/actor';
import { systemClock, type Clock } from '../../domain/clock';
import type { JsonValue } from '../ports/auditLog';
import { soloHolders, type HolderRegistry } from '../ports/leases';
import { InvitationNotSent, isDirectoryError } from '../ports/Directory';
import type { InviteGuestDependencies } from './ports';

export class InviteContext {
  readonly clock: Clock;
  readonly sleep: (ms: number) => Promise<void>;
  readonly maxAttempts: number;
  readonly maxBackoffMs: number;
  readonly lockMs: number;
  readonly holders: HolderRegistry;

  constructor(readonly deps: InviteGuestDependencies) {
    this.clock = deps.clock ?? systemClock;
    this.sleep = deps.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.maxAttempts = Math.max(1, deps.maxAttempts ?? 4);
    this.maxBackoffMs = deps.maxBackoffMs ?? 30_000;
    this.lockMs = deps.lockMs ?? 120_000;
    this.holders = deps.holders ?? soloHolders;
  }

  /** Retries throttled/transient directory calls with Retry-After or exponential backoff, up to the bound. */
  async retrying<T>(call: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (e) {
        // Not sent because the attempt no longer holds the invitation: asking again changes nothing.
        if (!isDirectoryError(e) || !e.retryable || e instanceof InvitationNotSent || attempt >= this.maxAttempts) throw e;
        const backoff = e.retryAfterMs ?? 500 * 2 ** (attempt - 1);
        await this.sleep(Math.min(backoff, this.maxBackoffMs));
      }
    }
  }

  audit(actor: Actor, action: string, subjectId: string, details: Record<string, JsonValue>): void {
    try {
      // Not awaited (as before, when appends were synchronous); a failed append is ignored either way.
      this.deps.audit.append({ actorId: actor.userId, actorName: actor.name, action, subjectType: 'invitation', subjectId, details }).catch(() => undefined);
    } catch {
      // The audit log never decides an invitation's fate; its own tests cover its failures.
    }
  }
}
