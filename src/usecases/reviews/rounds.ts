import { isActive } from '../../domain/lifecycle';
import { DAY_MS, REVIEW_WORK, type ReviewDeps } from './model';
import { reviewRoundId, type ReviewPerson, type ReviewRound, type ReviewedGuest } from './ports';

export interface ReviewSite {
  groupId: string;
  siteName: string;
  siteUrl: string | null;
}

/**
 * Every guest of a site: the guests whose access the lifecycle records (running access), and the
 * group's other members whose userType is Guest (added in Teams or SharePoint, or before the bot):
 * a reviewer expects to see everyone from outside who can open the site. Sorted by name.
 */
export async function guestsOfSite(deps: Pick<ReviewDeps, 'access' | 'directory' | 'settings'>, tenantId: string, groupId: string): Promise<ReviewedGuest[]> {
  const records = (await deps.access.listByGroup(tenantId, groupId, { states: ['invited', 'accepted'], limit: 1000 })).filter((r) => isActive(r.state));
  const byUser = new Map<string, ReviewedGuest>();
  for (const r of records) byUser.set(r.userId.toLowerCase(), { userId: r.userId, accessId: r.id, displayName: r.displayName, email: r.email });
  for (const member of await deps.directory.listGuestMembers(groupId)) {
    if (!byUser.has(member.userId.toLowerCase())) {
      byUser.set(member.userId.toLowerCase(), { userId: member.userId, accessId: null, displayName: member.displayName, email: member.email });
    }
  }
  return [...byUser.values()].sort((a, b) => a.displayName.localeCompare(b.displayName) || a.userId.localeCompare(b.userId));
}

/**
 * Opens the round of one site for one period (insert-or-get on the round id: every instance,
 * every restart and every replay lands on the same round). Null when the site has no guests.
 */
export async function openRound(
  deps: ReviewDeps,
  site: ReviewSite,
  options: { trigger: 'schedule' | 'request'; period: string; startedBy: ReviewPerson | null; escalate: boolean },
): Promise<{ round: ReviewRound; created: boolean } | null> {
  const tenantId = deps.settings.tenantId;
  const id = reviewRoundId(tenantId, site.groupId, options.period);
  const existing = await deps.rounds.get(id);
  if (existing) return { round: existing, created: false };
  const guests = await guestsOfSite(deps, tenantId, site.groupId);
  if (guests.length === 0) return null;
  const escalateAt =
    options.escalate && deps.settings.escalateDays > 0 ? new Date(Date.parse(options.period) + deps.settings.escalateDays * DAY_MS).toISOString() : null;
  const opened = await deps.rounds.create({
    id,
    tenantId,
    groupId: site.groupId,
    siteName: site.siteName,
    siteUrl: site.siteUrl,
    trigger: options.trigger,
    period: options.period,
    startedBy: options.startedBy,
    startedAt: deps.clock.now().toISOString(),
    escalateAt,
    guests,
  });
  if (opened.created) {
    await deps.audit.append({
      actorId: options.startedBy?.id ?? 'system',
      actorName: options.startedBy?.name ?? 'Access reviews',
      action: 'accessReview.started',
      subjectType: 'accessReview',
      subjectId: opened.round.id,
      details: { groupId: site.groupId, trigger: options.trigger, guests: guests.length, escalateAt },
    });
  }
  if (opened.round.escalateAt) {
    // kind + subject is the identity: a second instance (or a replay) schedules nothing new.
    await deps.work.schedule({ kind: REVIEW_WORK.escalate, subject: opened.round.id, dueAt: opened.round.escalateAt });
  }
  return opened;
}

/** A round is complete once every guest has a decision. */
export function undecided(round: ReviewRound): ReviewedGuest[] {
  const decided = new Set(round.decisions.map((d) => d.userId.toLowerCase()));
  return round.guests.filter((g) => !decided.has(g.userId.toLowerCase()));
}
