import type { Actor } from '../../domain/actor';
import { refused, type ReviewDeps, type ReviewOutcome } from './model';
import { openRound, type ReviewSite } from './rounds';
import { reviewView } from './views';

const normalise = (name: string): string => name.trim().replace(/\s+/g, ' ').toLowerCase();

/**
 * The sites `actor` may review whose name is `siteName`: the sites they own (asked of the
 * directory now) and, for a guest approver, every site whose guests the bot knows.
 */
async function findSite(
  deps: ReviewDeps,
  actor: Actor,
  siteName: string,
): Promise<{ site: ReviewSite; as: 'owner' | 'approver' } | { site: null; approver: boolean }> {
  const wanted = normalise(siteName);
  const owned = (await deps.directory.listOwnedGroups(actor.userId)).find((g) => normalise(g.displayName) === wanted);
  if (owned) {
    // Re-read the group for its site address (listOwnedGroups leaves it out where finding it costs a request).
    const group = (await deps.directory.getGroup(owned.id)) ?? owned;
    return { site: { groupId: group.id, siteName: group.displayName, siteUrl: group.siteUrl }, as: 'owner' };
  }
  if (!(await deps.approvers.isApprover(actor.userId))) return { site: null, approver: false };
  const records = await deps.access.listByTenant(deps.settings.tenantId, { states: ['invited', 'accepted'] });
  const known = records.find((r) => normalise(r.siteName) === wanted);
  if (!known) return { site: null, approver: true };
  return { site: { groupId: known.groupId, siteName: known.siteName, siteUrl: known.siteUrl }, as: 'approver' };
}

/**
 * The site called `siteName` that someone who may not review it asked for, when there is one:
 * among the sites the bot has recorded guests of, then the groups the asker is a member of.
 * Null for a wrong name (nothing was refused then).
 */
async function refusedSite(deps: ReviewDeps, actor: Actor, siteName: string): Promise<{ groupId: string } | null> {
  const wanted = normalise(siteName);
  const known = (await deps.access.listByTenant(deps.settings.tenantId)).find((r) => normalise(r.siteName) === wanted);
  if (known) return { groupId: known.groupId };
  const member = (await deps.directory.listMemberGroups(actor.userId)).find((g) => normalise(g.displayName) === wanted);
  return member ? { groupId: member.id } : null;
}

/**
 * "review <site>" by someone neither an owner of that site nor a guest approver: on the record
 * (accessReview.refused, attempted 'start'), subject the site's group. Their answer stays that of a
 * wrong name, so it does not tell them the site exists. A failure here is logged, never answered.
 */
async function auditRefusedStart(deps: ReviewDeps, actor: Actor, siteName: string): Promise<void> {
  try {
    const site = await refusedSite(deps, actor, siteName);
    if (!site) return;
    await deps.audit.append({
      actorId: actor.userId,
      actorName: actor.name,
      action: 'accessReview.refused',
      subjectType: 'site',
      subjectId: site.groupId,
      details: { groupId: site.groupId, attempted: 'start', reason: 'notOwnerOrApprover' },
    });
  } catch (error) {
    deps.logger?.warn({ err: error instanceof Error ? error.name : 'error' }, 'reviews: refused start not audited');
  }
}

/**
 * "review Project Falcon": for an owner of the site or a guest approver, the site's open review
 * (a periodic one not finished yet), or a new one started now, as a card in the reply. Anyone
 * else, a guest included, learns nothing about the site: the same answer as for a wrong name.
 */
export async function startReview(deps: ReviewDeps, actor: Actor, siteName: string): Promise<ReviewOutcome> {
  const name = siteName.trim();
  if (name === '' || name.length > 256) return refused('invalidInput', 'Say which site to review, for example "review Project Falcon".');
  if (actor.tenantId.toLowerCase() !== deps.settings.tenantId.toLowerCase()) {
    return refused('notAllowed', `I found no site called "${name}" that you can review. Only a site's owners and guest approvers can review its guests.`);
  }
  const found = await findSite(deps, actor, name);
  if (!found.site) {
    // A guest approver may review every site the bot knows guests of: for them this is a wrong name.
    if (!found.approver) await auditRefusedStart(deps, actor, name);
    return refused('notAllowed', `I found no site called "${name}" that you can review. Only a site's owners and guest approvers can review its guests.`);
  }
  const { site, as } = found;
  const [latest] = await deps.rounds.listBySite(deps.settings.tenantId, site.groupId, { limit: 1 });
  if (latest && !latest.completedAt) {
    return { kind: 'already', view: await reviewView(deps, latest, { as }), message: `This is the open review of ${latest.siteName}.` };
  }
  const opened = await openRound(deps, site, {
    trigger: 'request',
    period: deps.clock.now().toISOString(),
    startedBy: { id: actor.userId, name: actor.name },
    escalate: false,
  });
  if (!opened) return refused('noGuests', `${site.siteName} has no guests to review.`);
  return { kind: 'done', view: await reviewView(deps, opened.round, { as }), message: `Review of ${site.siteName} started.` };
}
