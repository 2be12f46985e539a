import type { Actor } from '../../domain/actor';
import { isActive, type GuestAccessState } from '../../domain/lifecycle';
import { refused, summarise, type LifecycleDeps, type Refusal } from './model';
import type { GuestAccessRecord, GuestAccessSummary } from './ports';
import { rolesOver } from './rights';

/** What a row of "my guests" offers, as fits the guest's state. */
export type GuestRowAction = 'resend' | 'withdraw' | 'renew' | 'remove';

export interface GuestRow {
  access: GuestAccessSummary;
  /** The token Renew / Let it end carry (the current end date). */
  forEndsAt: string | null;
  /**
   * The token Resend carries from this list (the latest invitation's time): a double click resends
   * once; after a resend the list shows a new one.
   */
  resendToken: string;
  /** How the invitation came about (the InvitationRecord: sign-in method, redeem link), when known. */
  invitationRecordId: string | null;
  actions: GuestRowAction[];
}

function actionsFor(record: GuestAccessRecord): GuestRowAction[] {
  if (record.state === 'invited') return record.endsAt ? ['resend', 'withdraw', 'renew'] : ['resend', 'withdraw'];
  if (record.state === 'accepted') return record.endsAt ? ['renew', 'remove'] : ['remove'];
  return [];
}

function row(deps: LifecycleDeps, record: GuestAccessRecord): GuestRow {
  return { access: summarise(deps, record), forEndsAt: record.endsAt, resendToken: `invited:${record.lastInvitedAt}`, invitationRecordId: record.invitationRecordId, actions: actionsFor(record) };
}

const RUNNING: readonly GuestAccessState[] = ['invited', 'accepted'];

export interface GuestListOptions {
  /** Also the guests whose access ended (most recent first). Default: running access only. */
  includeEnded?: boolean;
  limit?: number;
}

/** "my guests": the guests the actor sponsors, newest invitation first. */
export async function myGuests(deps: LifecycleDeps, actor: Actor, options: GuestListOptions = {}): Promise<GuestRow[]> {
  const records = await deps.access.listBySponsor(actor.tenantId, actor.userId, {
    states: options.includeEnded ? undefined : RUNNING,
    limit: options.limit,
  });
  return records.map((r) => row(deps, r));
}

/** "guests of Project Falcon": for the site's owners only (asked of the directory now). */
export async function guestsOfSite(
  deps: LifecycleDeps,
  actor: Actor,
  site: { groupId: string; siteName: string },
  options: GuestListOptions = {},
): Promise<{ kind: 'list'; rows: GuestRow[] } | Refusal> {
  if (!(await deps.accounts.isOwner(site.groupId, actor.userId))) {
    return refused('notAllowed', `Only an owner of ${site.siteName} can see its guests.`);
  }
  const records = await deps.access.listByGroup(actor.tenantId, site.groupId, {
    states: options.includeEnded ? undefined : RUNNING,
    limit: options.limit,
  });
  return { kind: 'list', rows: records.map((r) => row(deps, r)) };
}

export interface ScheduledStep {
  kind: string;
  dueAt: string;
  attempts: number;
  lastError: string | null;
}

/**
 * "what is scheduled for jane@…": each of the guest's accesses the actor may see (as sponsor or
 * owner), with its due work, soonest first. Accesses the actor has no right to are left out.
 */
export async function scheduleForGuest(
  deps: LifecycleDeps,
  actor: Actor,
  email: string,
): Promise<Array<{ access: GuestAccessSummary; running: boolean; scheduled: ScheduledStep[] }>> {
  const records = await deps.access.listByEmail(actor.tenantId, email.trim().toLowerCase());
  const visible: Array<{ access: GuestAccessSummary; running: boolean; scheduled: ScheduledStep[] }> = [];
  for (const record of records) {
    const roles = await rolesOver(deps, actor, record);
    if (!roles.has('sponsor') && !roles.has('owner')) continue;
    const work = await deps.work.listBySubject(record.id);
    visible.push({
      access: summarise(deps, record),
      running: isActive(record.state),
      scheduled: work.map((w) => ({ kind: w.kind, dueAt: w.dueAt, attempts: w.attempts, lastError: w.lastError })),
    });
  }
  return visible;
}
