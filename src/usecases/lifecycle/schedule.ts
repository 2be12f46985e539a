import { autoWithdrawAt, isActive, renewalReminderTimes } from '../../domain/lifecycle';
import type { ScheduledWork } from '../ports/scheduler';
import type { LifecycleDeps } from './model';
import type { GuestAccessRecord, GuestAccountFacts } from './ports';

/** The kinds of due work of the lifecycle; the subject is always the guest access id. */
export const LIFECYCLE_WORK = {
  unredeemedReminder: 'lifecycle.unredeemedReminder',
  autoWithdraw: 'lifecycle.autoWithdraw',
  renewalReminder: 'lifecycle.renewalReminder',
  endOfAccess: 'lifecycle.endOfAccess',
  deleteAccount: 'lifecycle.deleteAccount',
} as const;

export type LifecycleWorkKind = (typeof LIFECYCLE_WORK)[keyof typeof LIFECYCLE_WORK];

/** How long after a person's action the end-of-access safety net runs, should the action die half-way. */
export const COMPLETION_SAFETY_MS = 15 * 60_000;

type Deps = Pick<LifecycleDeps, 'work' | 'settings' | 'clock'>;

/**
 * The first renewal reminder still to come for the current end, or null. A reminder already
 * past is due at once (the handler sends the most urgent one and skips the rest).
 */
export function nextRenewalReminderAt(deps: Deps, access: GuestAccessRecord): string | null {
  if (access.endsAt === null) return null;
  const open = renewalReminderTimes(deps.settings, access.endsAt).filter((t) => !access.renewalRemindersSent.includes(t.daysBefore));
  return open[0]?.at ?? null;
}

/** Puts work at `dueAt`: kept when already there at that time, moved when elsewhere. */
async function place(deps: Deps, kind: LifecycleWorkKind, access: GuestAccessRecord, dueAt: string | null): Promise<void> {
  if (dueAt === null) {
    await deps.work.cancel(kind, access.id);
    return;
  }
  const current = await deps.work.get(kind, access.id);
  if (current && Date.parse(current.dueAt) === Date.parse(dueAt)) return;
  await deps.work.schedule({ kind, subject: access.id, dueAt }, { replace: true });
}

/**
 * Makes the scheduled work of one access match its record: reminders and the end for running
 * access, nothing for ended access (apart from a pending account deletion). Safe to call again
 * (a replay changes nothing). `except` leaves kinds alone: the handler running one settles it.
 */
export async function syncSchedule(
  deps: Deps,
  access: GuestAccessRecord,
  options: {
    except?: LifecycleWorkKind | readonly (LifecycleWorkKind | undefined)[];
    /** The record was created just now by this caller (a new id): nothing of it is scheduled yet. */
    fresh?: boolean;
  } = {},
): Promise<void> {
  const except: readonly (LifecycleWorkKind | undefined)[] = Array.isArray(options.except) ? options.except : [options.except as LifecycleWorkKind | undefined];
  const active = isActive(access.state);
  const invited = access.state === 'invited';
  const wanted: Array<[LifecycleWorkKind, string | null]> = [
    [LIFECYCLE_WORK.unredeemedReminder, invited ? access.nextUnredeemedReminderAt : null],
    [LIFECYCLE_WORK.autoWithdraw, invited ? autoWithdrawAt(deps.settings, access.lastInvitedAt) : null],
    [LIFECYCLE_WORK.renewalReminder, active ? nextRenewalReminderAt(deps, access) : null],
    [LIFECYCLE_WORK.endOfAccess, active ? access.endsAt : null],
  ];
  const todo = wanted.filter(([kind]) => !except.includes(kind));
  if (options.fresh) {
    // A record this call created has nothing scheduled yet (its id is new): create what it needs
    // in one write, instead of reading and writing (or cancelling) each kind.
    const inputs = todo.flatMap(([kind, dueAt]) => (dueAt === null ? [] : [{ kind, subject: access.id, dueAt }]));
    const results = await deps.work.scheduleNew(inputs);
    // Should one exist after all (kept as it was), it is moved to where this record wants it.
    for (const [i, result] of results.entries()) {
      const input = inputs[i];
      if (input && !result.created && Date.parse(result.work.dueAt) !== Date.parse(input.dueAt)) {
        await deps.work.schedule(input, { replace: true });
      }
    }
    return;
  }
  for (const [kind, dueAt] of todo) await place(deps, kind, access, dueAt);
}

/** What is scheduled for one access, soonest first. */
export async function scheduledFor(deps: Pick<LifecycleDeps, 'work'>, accessId: string): Promise<ScheduledWork[]> {
  return deps.work.listBySubject(accessId);
}

/**
 * The guest redeemed (the directory says Accepted): the record says so and the unredeemed
 * reminders go. Returns the updated record, or null when it changed meanwhile (nothing done).
 */
export async function markAccepted(
  deps: Pick<LifecycleDeps, 'work' | 'settings' | 'clock' | 'access'>,
  access: GuestAccessRecord,
  facts: GuestAccountFacts,
  except?: LifecycleWorkKind,
): Promise<GuestAccessRecord | null> {
  const updated = await deps.access.update(access.id, access.version, {
    state: 'accepted',
    acceptedAt: facts.externalUserStateChangeDateTime ?? deps.clock.now().toISOString(),
    nextUnredeemedReminderAt: null,
  });
  if (updated) await syncSchedule(deps, updated, { except });
  return updated;
}
