import { boundedAccessEnd } from '../../domain/accessEnd';
import { isActive, unredeemedReminderAt } from '../../domain/lifecycle';
import { adminInstructions, needsAdmin } from './adminInstructions';
import { AUDIT_SUBJECT, summarise, type LifecycleDeps } from './model';
import type { AdminInstructions, GuestAccessRecord, GuestAccessSummary, Sponsor } from './ports';
import { syncSchedule } from './schedule';

export interface RecordAccessInput {
  tenantId: string;
  groupId: string;
  siteName: string;
  siteUrl: string;
  guest: { userId: string; email: string; displayName: string };
  invitationRecordId: string | null;
  /** The person who invited; for an approved request, the requester (not the approver). */
  sponsor: Sponsor;
  /** The guest had already redeemed (an existing guest added to one more site). */
  redeemed: boolean;
  /** The invitation itself named the sponsor (invitedUserSponsors): no separate directory call. */
  sponsorSetByInvitation: boolean;
  /**
   * When the invitation was sent (ISO); default now. Earlier dates record an access that began
   * before the bot knew of it (the demo tenant's guests, an import): its reminders fall due at once.
   */
  invitedAt?: string;
  /** When the guest redeemed, for a `redeemed` guest (ISO); default the invitation time. */
  acceptedAt?: string;
  /**
   * An end asked for explicitly (ISO), e.g. a bulk row's own date; default the site's period.
   * Kept within the settings: never later than the site's period (GUEST_ACCESS_DAYS or its
   * GUEST_ACCESS_DAYS_BY_SITE override) allows, never before the invitation.
   */
  endsAt?: string;
}

export interface RecordAccessResult {
  access: GuestAccessSummary;
  /** False when the guest's access to this site was already running (kept as it is: renew to extend it). */
  created: boolean;
  endsAt: string | null;
  /** The sponsor in Entra: set now, already there, for an admin, or failed (the access is recorded anyway). */
  sponsor: 'set' | 'alreadySet' | 'needsAdmin' | 'failed';
  instructions: AdminInstructions[];
}

/**
 * Records a guest's access to a site when they are invited (or an existing guest is added), with
 * its end date, and schedules its reminders and its end. Idempotent: a replay of the same
 * invitation finds the running access and changes nothing; a guest whose earlier access ended
 * starts a new period.
 */
export async function recordGuestAccess(deps: LifecycleDeps, input: RecordAccessInput): Promise<RecordAccessResult> {
  const now = input.invitedAt ? new Date(input.invitedAt) : deps.clock.now();
  if (!Number.isFinite(now.getTime())) throw new TypeError('invitedAt must be an ISO date');
  const nowIso = now.toISOString();
  const fresh = {
    state: input.redeemed ? ('accepted' as const) : ('invited' as const),
    acceptedAt: input.redeemed ? (input.acceptedAt ?? nowIso) : null,
    endsAt: boundedAccessEnd(deps.settings, input.groupId, now, input.endsAt),
    nextUnredeemedReminderAt: input.redeemed ? null : unredeemedReminderAt(deps.settings, nowIso),
  };
  const claimed = await deps.access.claim({
    tenantId: input.tenantId,
    groupId: input.groupId,
    userId: input.guest.userId,
    siteName: input.siteName,
    siteUrl: input.siteUrl,
    email: input.guest.email,
    displayName: input.guest.displayName,
    invitationRecordId: input.invitationRecordId,
    sponsor: input.sponsor,
    invitedAt: nowIso,
    ...fresh,
  });
  let record: GuestAccessRecord = claimed.record;
  let created = claimed.created;
  const blockedBefore = !created && !isActive(record.state) && record.accountAction === 'signInBlocked';
  // An earlier access that ended: this invitation starts a new period, with this sponsor.
  for (let attempt = 0; !created && !isActive(record.state) && attempt < 5; attempt += 1) {
    const restarted = await deps.access.update(record.id, record.version, {
      ...fresh,
      siteName: input.siteName,
      siteUrl: input.siteUrl,
      email: input.guest.email,
      displayName: input.guest.displayName,
      invitationRecordId: input.invitationRecordId,
      sponsor: input.sponsor,
      invitedAt: nowIso,
      lastInvitedAt: nowIso,
      unredeemedRemindedAt: null,
      keptWaitingFor: null,
      resentFor: null,
      redeemUrl: null,
      renewalRemindersSent: [],
      renewals: 0,
      endedAt: null,
      endReason: null,
      endedBy: null,
      endNoticesDone: false,
      accountAction: null,
    });
    if (restarted) {
      record = restarted;
      created = true;
    } else {
      record = (await deps.access.get(record.id)) ?? record;
    }
  }
  // A record the claim created is new (a new id); a restarted one may still have work to move.
  await syncSchedule(deps, record, { fresh: claimed.created });
  if (created) {
    await deps.audit.append({
      actorId: input.sponsor.id,
      actorName: input.sponsor.name,
      action: 'guestAccess.recorded',
      subjectType: AUDIT_SUBJECT,
      subjectId: record.id,
      details: { groupId: record.groupId, userId: record.userId, endsAt: record.endsAt, sponsorId: record.sponsor.id, state: record.state },
    });
  }
  const instructions: AdminInstructions[] = [];
  if (created && blockedBefore) {
    // Back for a new period: the sign-in blocked at the end of the last one is allowed again.
    try {
      await deps.accounts.enableSignIn(record.userId);
    } catch (error) {
      if (!needsAdmin(error)) throw error;
      instructions.push(adminInstructions('unblockSignIn', record, error));
    }
  }
  let sponsor: RecordAccessResult['sponsor'] = 'alreadySet';
  if (!input.sponsorSetByInvitation && created) {
    try {
      const current = await deps.accounts.sponsorsOf(input.guest.userId);
      if (!current.some((s) => s.id === input.sponsor.id)) {
        await deps.accounts.addSponsor(input.guest.userId, input.sponsor.id);
        sponsor = 'set';
      }
    } catch (error) {
      if (needsAdmin(error)) {
        sponsor = 'needsAdmin';
        instructions.push(adminInstructions('addSponsor', record, error, { sponsorName: input.sponsor.name }));
      } else {
        sponsor = 'failed';
        deps.logger?.warn({ accessId: record.id, err: error instanceof Error ? error.name : 'error' }, 'lifecycle: could not set the sponsor');
      }
    }
  } else if (input.sponsorSetByInvitation) {
    sponsor = 'set';
  }
  return { access: summarise(deps, record), created, endsAt: record.endsAt, sponsor, instructions };
}
