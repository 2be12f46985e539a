import { DEMO } from '../adapters/demo/demoTenant';
import type { Directory } from '../usecases/ports/Directory';
import type { GuestLifecycle } from '../usecases/lifecycle/guestLifecycle';
import { createAccessReviews, type AccessReviews } from '../usecases/reviews/accessReviews';
import type { ReviewSettings } from '../usecases/reviews/model';
import type { GuestAccountView, RemovalResult, ReviewApprovers, ReviewDirectory, ReviewNotifier, ReviewRemovals } from '../usecases/reviews/ports';
import { methodFromIdentities } from '../domain/tenantSettingRules';
import type { DirectoryUser } from '../domain/tenant';
import type { Env } from './config';
import type { BotServices } from './services';

/** The access reviews' settings, from the validated environment (README, Access reviews). */
export function reviewSettingsFrom(env: Env, directory: 'demo' | 'graph'): ReviewSettings {
  return {
    periodic: env.ACCESS_REVIEWS,
    intervalDays: env.REVIEW_INTERVAL_DAYS,
    escalateDays: env.REVIEW_ESCALATE_DAYS,
    inactivity: { inactiveDays: env.INACTIVE_DAYS, exclusions: env.INACTIVE_EXCLUDE },
    // The tenant whose sites are reviewed: the Graph tenant, or the demo tenant in local mode.
    tenantId: env.GRAPH_TENANT_ID ?? (directory === 'demo' ? DEMO.tenantId : ''),
  };
}

/** The one access reviews of the process; its handlers join the lifecycle's in the one scheduler. */
export function buildAccessReviews(
  services: Pick<BotServices, 'directory' | 'repositories' | 'clock' | 'logger' | 'config'>,
  parts: { lifecycle: Pick<GuestLifecycle, 'removeReviewed' | 'recordAccess'>; notifier: ReviewNotifier; approverGroupId: string },
): AccessReviews {
  const store = services.repositories;
  return createAccessReviews({
    rounds: store.reviewRounds,
    access: store.guestAccess,
    work: store.scheduledWork,
    directory: reviewDirectoryFrom(services.directory),
    approvers: reviewApproversFrom(services.directory, parts.approverGroupId),
    removals: reviewRemovalsFrom(parts.lifecycle),
    notifier: parts.notifier,
    audit: store.audit,
    clock: services.clock,
    settings: reviewSettingsFrom(services.config.env, services.config.directory),
    logger: services.logger,
  });
}

function accountView(user: DirectoryUser, method: GuestAccountView['signInMethod'], invitedAt: string | null): GuestAccountView {
  const accepted = user.externalUserState === 'Accepted';
  return {
    userId: user.id,
    displayName: user.displayName,
    email: user.mail ?? user.otherMails[0] ?? user.userPrincipalName,
    // A guest not invited through the invitation API has externalUserState null: they can sign in.
    redeemed: user.externalUserState !== 'PendingAcceptance',
    invitedAt,
    acceptedAt: accepted ? user.externalUserStateChangeDateTime : null,
    signInMethod: method,
  };
}

/** The reviews' narrow directory port over the Directory (any of GraphDirectory, FakeDirectory, CachingDirectory). */
export function reviewDirectoryFrom(directory: Directory): ReviewDirectory {
  const guestAccount = async (userId: string): Promise<GuestAccountView | null> => {
    const user = await directory.getUser(userId);
    if (!user || user.kind !== 'guest') return null;
    const method = user.externalUserState === 'Accepted' ? methodFromIdentities(user.identities, await directory.readPolicies()) : null;
    // createdDateTime (the first invitation) comes with the lifecycle facts only.
    const facts = await directory.getGuestLifecycle(userId);
    return accountView(user, method, facts?.createdDateTime ?? null);
  };
  return {
    getGroup: (groupId) => directory.getGroup(groupId),
    isOwner: (groupId, userId) => directory.isOwner(groupId, userId),
    listGroupOwners: (groupId) => directory.listGroupOwners(groupId),
    listOwnedGroups: (userId) => directory.listOwnedGroups(userId),
    listMemberGroups: (userId) => directory.listMemberGroups(userId),
    async listGuestMembers(groupId) {
      const out: GuestAccountView[] = [];
      for (const member of await directory.listGroupMembers(groupId)) {
        const account = await guestAccount(member.id);
        if (account) out.push(account);
      }
      return out;
    },
    guestAccount,
    sponsorsOf: async (userId) => (await directory.listSponsors(userId)).map((s) => ({ id: s.id, displayName: s.displayName })),
    async signIns(userId) {
      const reading = await directory.getSignInActivity(userId);
      if (reading === null) return null;
      return reading.kind === 'known' ? { kind: 'known', times: reading.activity } : reading;
    },
  };
}

/** The guest approvers: the members of APPROVER_GROUP_ID, as the approvals feature has them. */
export function reviewApproversFrom(directory: Directory, approverGroupId: string): ReviewApprovers {
  return {
    isApprover: (userId) => directory.isMember(approverGroupId, userId),
    list: async () => (await directory.listGroupMembers(approverGroupId)).map((m) => ({ id: m.id, name: m.displayName })),
  };
}

/** The lifecycle's removal, narrowly: a review's Remove ends the access exactly as Remove in "my guests" does. */
export function reviewRemovalsFrom(lifecycle: Pick<GuestLifecycle, 'removeReviewed' | 'recordAccess'>): ReviewRemovals {
  return {
    async remove(reviewer, accessId): Promise<RemovalResult> {
      const outcome = await lifecycle.removeReviewed(reviewer, { accessId });
      switch (outcome.kind) {
        case 'done':
          return { kind: 'removed' };
        case 'already':
          return { kind: 'alreadyEnded', message: outcome.message };
        case 'needsAdmin':
          return { kind: 'needsAdmin', message: outcome.message };
        case 'refused':
          return { kind: 'refused', message: outcome.message };
      }
    },
    async adopt(input) {
      // Recorded now, with the directory's sponsor and without writing sponsors: the record exists so
      // the lifecycle's removal has something to end. Dated now (not the account's creation), so no
      // reminder or end falls due at once and races the removal that follows.
      const result = await lifecycle.recordAccess({
        tenantId: input.tenantId,
        groupId: input.group.id,
        siteName: input.group.name,
        siteUrl: input.group.siteUrl ?? '',
        guest: { userId: input.guest.userId, email: input.guest.email, displayName: input.guest.displayName },
        invitationRecordId: null,
        sponsor: input.sponsor,
        redeemed: input.guest.redeemed,
        sponsorSetByInvitation: true,
        acceptedAt: input.guest.acceptedAt ?? undefined,
      });
      return result.access.accessId;
    },
  };
}
