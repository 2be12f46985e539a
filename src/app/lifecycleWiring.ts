import { DEMO, DEMO_LIFECYCLE } from '../adapters/demo/demoTenant';
import { DAY_MS } from '../domain/lifecycle';
import type { Directory } from '../usecases/ports/Directory';
import { createGuestLifecycle, type GuestLifecycle } from '../usecases/lifecycle/guestLifecycle';
import type { GuestAccounts, LifecycleNotifier, RenewalApprovals } from '../usecases/lifecycle/ports';
import type { ApprovalSettings } from '../domain/approvalPolicy';
import type { ApprovalServiceSettings } from '../usecases/approvals/runtime';
import type { BotFeature } from '../teams/bot/feature';
import type { Notifier } from '../teams/bot/proactive';
import { createLifecycleFeature } from '../teams/lifecycle/lifecycleFeature';
import { TeamsLifecycleNotifier } from '../teams/lifecycle/lifecycleNotifier';
import { PendingNotices } from '../teams/lifecycle/pendingNotices';
import { TeamsRenewalApprovals } from '../teams/lifecycle/renewalRequests';
import { lifecycleSettingsFrom } from './lifecycleSettings';
import type { BotServices } from './services';

export interface LifecycleWiring {
  /** The one guest lifecycle: the invitation paths record access through it. */
  lifecycle: GuestLifecycle;
  /** Its Teams surface: the commands, the card actions, the notices that waited for a chat. */
  feature: BotFeature;
}

/**
 * The guest lifecycle with its Teams parts: notices as cards in personal chats (kept for people
 * the bot cannot reach yet), and renewals through the approver group when APPROVAL_POLICY asks
 * for an approver (the same policy, group and directory the invitation approvals use).
 */
export function buildLifecycle(
  services: Pick<BotServices, 'directory' | 'repositories' | 'botStorage' | 'clock' | 'logger' | 'config'>,
  parts: { sender: Notifier; approvals: ApprovalServiceSettings },
): LifecycleWiring {
  const store = services.repositories;
  const pending = new PendingNotices(services.botStorage, services.clock);
  const renewals = new TeamsRenewalApprovals({
    storage: services.botStorage,
    leases: store.leases,
    holderId: store.holders.holderId,
    directory: services.directory,
    approverGroupId: parts.approvals.approverGroupId,
    chats: store.conversationReferences,
    sender: parts.sender,
    pending,
    clock: services.clock,
    logger: services.logger,
  });
  const lifecycle = buildGuestLifecycle(services, {
    notifier: new TeamsLifecycleNotifier(parts.sender, store.conversationReferences, pending),
    // Every policy can ask for an approver (nonOwners: a sponsor who does not own the site).
    approvals: { settings: { policy: parts.approvals.policy, partnerDomains: parts.approvals.partnerDomains }, gate: renewals },
  });
  const feature = createLifecycleFeature({
    lifecycle,
    directory: services.directory,
    renewals,
    pending,
    sender: parts.sender,
    clock: services.clock,
    logger: services.logger,
  });
  return { lifecycle, feature };
}

/** The one guest lifecycle of the process: the invitation paths record access through it, the Teams layer acts through it. */
export function buildGuestLifecycle(
  services: Pick<BotServices, 'directory' | 'repositories' | 'clock' | 'logger' | 'config'>,
  parts: { notifier: LifecycleNotifier; approvals: { settings: ApprovalSettings; gate: RenewalApprovals } | null },
): GuestLifecycle {
  const store = services.repositories;
  return createGuestLifecycle({
    access: store.guestAccess,
    work: store.scheduledWork,
    accounts: guestAccountsFrom(services.directory),
    notifier: parts.notifier,
    audit: store.audit,
    clock: services.clock,
    settings: lifecycleSettingsFrom(services.config.env),
    approvals: parts.approvals,
    logger: services.logger,
  });
}

/**
 * The lifecycle's narrow directory port over the Directory (GraphDirectory, FakeDirectory, or the
 * CachingDirectory over either). Each Directory write is already idempotent ("already so" is
 * success) and names the action in a permission refusal, which the lifecycle turns into
 * instructions for an admin.
 */
export function guestAccountsFrom(directory: Directory): GuestAccounts {
  return {
    async lifecycleFacts(userId) {
      const facts = await directory.getGuestLifecycle(userId);
      if (!facts) return null;
      return {
        userId: facts.userId,
        externalUserState: facts.externalUserState,
        externalUserStateChangeDateTime: facts.externalUserStateChangeDateTime,
        accountEnabled: facts.accountEnabled,
        memberOf: facts.memberOf.map((g) => g.id),
      };
    },
    userExistsAndEnabled: async (userId) => (await directory.accountStatus(userId)) === 'active',
    sponsorsOf: async (userId) => (await directory.listSponsors(userId)).map((s) => ({ id: s.id, displayName: s.displayName })),
    addSponsor: async (userId, sponsorId) => {
      await directory.addSponsor(userId, sponsorId);
    },
    removeSponsor: async (userId, sponsorId) => {
      await directory.removeSponsor(userId, sponsorId);
    },
    removeFromGroup: (groupId, userId) => directory.removeMember(groupId, userId),
    disableSignIn: (userId) => directory.setGuestSignIn(userId, false),
    enableSignIn: (userId) => directory.setGuestSignIn(userId, true),
    deleteUser: async (userId) => ((await directory.deleteGuest(userId)) === 'deleted' ? 'deleted' : 'notFound'),
    // POST /invitations again for an existing guest: a fresh redeem link; Microsoft emails it only
    // when asked (https://learn.microsoft.com/graph/api/invitation-post).
    reinvite: async (input) => {
      const result = await directory.invite({
        email: input.email,
        displayName: input.displayName,
        redirectUrl: input.redirectUrl,
        sendInvitationMessage: input.sendEmail,
      });
      return { redeemUrl: result.redeemUrl };
    },
    isOwner: (groupId, userId) => directory.isOwner(groupId, userId),
    listGroupOwners: (groupId) => directory.listGroupOwners(groupId),
  };
}

/**
 * Local mode: the demo tenant's guests at each lifecycle stage (DEMO_LIFECYCLE, dated from `now`)
 * get their access records, backdated, so their reminders and ends fall due on the first pass of
 * the scheduler after start-up. Idempotent: a restart finds the records and adds nothing.
 */
export async function seedDemoGuestAccess(lifecycle: Pick<GuestLifecycle, 'recordAccess'>, tenantId: string, now: Date): Promise<number> {
  const { guests, departedSponsor } = DEMO_LIFECYCLE;
  const { megan } = DEMO.users;
  const site = DEMO.groups.projectFalcon;
  const daysAgo = (days: number): string => new Date(now.getTime() - days * DAY_MS).toISOString();
  const seeds = [
    { person: guests.unredeemed, sponsor: megan, redeemed: false },
    { person: guests.endingTomorrow, sponsor: megan, redeemed: true },
    { person: guests.endedYesterday, sponsor: megan, redeemed: true },
    { person: guests.sponsorGone, sponsor: departedSponsor, redeemed: true },
  ];
  let created = 0;
  for (const { person, sponsor, redeemed } of seeds) {
    const result = await lifecycle.recordAccess({
      tenantId,
      groupId: site.id,
      siteName: site.displayName,
      siteUrl: site.siteUrl,
      guest: { userId: person.id, email: person.mail, displayName: person.displayName },
      invitationRecordId: null,
      sponsor: { id: sponsor.id, name: sponsor.displayName },
      redeemed,
      sponsorSetByInvitation: true,
      invitedAt: daysAgo(person.invitedDaysAgo),
      acceptedAt: redeemed ? daysAgo(person.invitedDaysAgo - 1) : undefined,
    });
    if (result.created) created += 1;
  }
  return created;
}
