/**
 * Recording a guest's access once an invitation path (chat, an approved request, a bulk row) has
 * the guest invited and in the site's group: the guest lifecycle takes it from there (the end
 * date, the reminders, the end). The invitation never depends on it: a failure to record is
 * logged (ids only) and kept as due work that records it later, and a path that runs again (a
 * retry, a resumed approval or bulk job, the same invitation asked again) records it again,
 * which changes nothing when it is already there (one access per tenant + group + user).
 */
import { boundedAccessEnd } from '../../domain/accessEnd';
import type { Clock } from '../../domain/clock';
import type { LifecycleSettings } from '../../domain/lifecycle';
import type { Logger } from '../../shared/logger';
import type { GuestLifecycle } from '../lifecycle/guestLifecycle';
import type { GuestAccessRecord, GuestAccessRepository } from '../lifecycle/ports';
import type { InvitationRecord, InvitationRepository } from '../ports/invitations';
import type { ScheduledWork, ScheduledWorkRepository } from '../ports/scheduler';
import type { HandlerResult, WorkHandler } from '../scheduling/workRunner';

/** The one thing the invitation paths ask of the guest lifecycle. */
export type AccessRecorder = Pick<GuestLifecycle, 'recordAccess'>;

/** Due work that records an access whose recording failed; the subject is the invitation record id. */
export const RECORD_ACCESS_WORK = 'invitation.recordAccess';

/** A failed recording is tried again this long after (then with the runner's backoff). */
export const RECORD_ACCESS_RETRY_MS = 60_000;

export interface AccessRecordingDeps {
  recorder: AccessRecorder;
  /** Where a recording that failed is kept until it is done (the durable scheduler). */
  work: Pick<ScheduledWorkRepository, 'schedule'>;
  /** The records the due work reads the invitation from. */
  invitations: Pick<InvitationRepository, 'get'>;
  /** GUEST_ACCESS_DAYS, GUEST_ACCESS_DAYS_BY_SITE: the end an invitation made now gets. */
  settings: LifecycleSettings;
  /** The recorded access, for "status of …" and "my invitations". */
  accessRecords?: Pick<GuestAccessRepository, 'findByKey'>;
  clock: Clock;
  logger?: Pick<Logger, 'warn'>;
}

/** What the invitation path knows about the guest it just added. */
export interface AccessFacts {
  /** The guest had redeemed already (an existing guest added to one more site: externalUserState Accepted). */
  redeemed: boolean;
  /** This invitation carried the sponsor (Graph invitedUserSponsors accepted it for a new guest). */
  sponsorSetByInvitation: boolean;
  /** An end asked for explicitly (ISO), e.g. a bulk row's own; default the site's period. */
  endsAt?: string;
  /** When the invitation was made (ISO); default now. */
  invitedAt?: string;
}

/** What a card says about the access: its end, and whether it is recorded yet. */
export interface AccessNote {
  endsAt: string | null;
  /** False when recording failed: it is retried, and endsAt is the end it will get. */
  recorded: boolean;
  /** True when the guest's access to this site was already running (an earlier invitation). */
  existing: boolean;
}

/** The invitation whose guest's access is recorded (an invitation record, or a bulk row with its job). */
export type AccessSubject = Pick<
  InvitationRecord,
  'id' | 'tenantId' | 'groupId' | 'siteName' | 'siteUrl' | 'userId' | 'emailDisplay' | 'displayName' | 'requestedBy' | 'outcomeKind'
>;

type Payload = { redeemed: boolean; sponsorSetByInvitation: boolean; invitedAt: string; endsAt: string | null };

export class AccessRecording {
  constructor(private readonly deps: AccessRecordingDeps) {}

  /** GUEST_ACCESS_DAYS and the per-site periods the ends come from. */
  get settings(): LifecycleSettings {
    return this.deps.settings;
  }

  /** The end an invitation to `groupId` made now would get (the confirmation card); null = no end. */
  expectedEnd(groupId: string, requested?: string): string | null {
    return boundedAccessEnd(this.deps.settings, groupId, this.deps.clock.now(), requested);
  }

  /**
   * Records the access of the guest of a record that reached its group. Never throws: a failure
   * is logged without personal data and left as due work that records it later.
   * Internal users (members of the organisation) have no guest access to record.
   */
  async record(record: AccessSubject, facts: AccessFacts): Promise<AccessNote | null> {
    if (!record.userId || record.outcomeKind === 'internalUser') return null;
    const invitedAt = facts.invitedAt ?? this.deps.clock.now().toISOString();
    try {
      const result = await this.recordNow(record, { ...facts, invitedAt });
      return { endsAt: result.endsAt, recorded: true, existing: !result.created };
    } catch (error) {
      this.deps.logger?.warn(
        { invitationRecordId: record.id, err: error instanceof Error ? error.name : 'error' },
        'recording the guest access failed; it is retried later',
      );
      const payload: Payload = { redeemed: facts.redeemed, sponsorSetByInvitation: facts.sponsorSetByInvitation, invitedAt, endsAt: facts.endsAt ?? null };
      try {
        await this.deps.work.schedule(
          { kind: RECORD_ACCESS_WORK, subject: record.id, dueAt: new Date(this.deps.clock.now().getTime() + RECORD_ACCESS_RETRY_MS).toISOString(), payload },
          { replace: true },
        );
      } catch (scheduling) {
        // The store is down: the next run of this invitation path records it (idempotent).
        this.deps.logger?.warn(
          { invitationRecordId: record.id, err: scheduling instanceof Error ? scheduling.name : 'error' },
          'could not keep the guest access recording for later either',
        );
      }
      return { endsAt: boundedAccessEnd(this.deps.settings, record.groupId, new Date(invitedAt), facts.endsAt), recorded: false, existing: false };
    }
  }

  /** The recorded access of a record's guest to its site, or null (none, or not readable now). */
  async accessOf(record: InvitationRecord): Promise<Pick<GuestAccessRecord, 'endsAt' | 'state' | 'sponsor'> | null> {
    if (!record.userId || !this.deps.accessRecords) return null;
    try {
      const found = await this.deps.accessRecords.findByKey({ tenantId: record.tenantId, groupId: record.groupId, userId: record.userId });
      return found ? { endsAt: found.endsAt, state: found.state, sponsor: found.sponsor } : null;
    } catch {
      return null;
    }
  }

  /** The due-work handler that records what failed before (for the ScheduledWorkRunner's map). */
  handlers(): Record<string, WorkHandler> {
    return { [RECORD_ACCESS_WORK]: (work) => this.retry(work) };
  }

  private async retry(work: ScheduledWork): Promise<HandlerResult> {
    const record = await this.deps.invitations.get(work.subject);
    if (record && (record.state === 'pending' || record.state === 'invited') && work.attempts < 5) {
      // Still being carried out (or stopped half-way: its next attempt records it anyway).
      return { outcome: 'retry', delayMs: RECORD_ACCESS_RETRY_MS, error: 'invitation not finished yet' };
    }
    // Gone, or not in the group: nothing to record; a later completion records it.
    if (!record || record.state !== 'completed' || !record.userId || record.outcomeKind === 'internalUser') return { outcome: 'done' };
    const p = work.payload as Partial<Payload>;
    await this.recordNow(record, {
      redeemed: p.redeemed === true,
      sponsorSetByInvitation: p.sponsorSetByInvitation === true,
      invitedAt: typeof p.invitedAt === 'string' ? p.invitedAt : record.updatedAt,
      ...(typeof p.endsAt === 'string' ? { endsAt: p.endsAt } : {}),
    });
    return { outcome: 'done' };
  }

  private recordNow(record: AccessSubject, facts: AccessFacts & { invitedAt: string }): ReturnType<AccessRecorder['recordAccess']> {
    return this.deps.recorder.recordAccess({
      tenantId: record.tenantId,
      groupId: record.groupId,
      siteName: record.siteName,
      siteUrl: record.siteUrl,
      guest: { userId: record.userId as string, email: record.emailDisplay, displayName: record.displayName },
      invitationRecordId: record.id,
      // The person who asked: for an approved request the requester, never the approver.
      sponsor: { id: record.requestedBy.id, name: record.requestedBy.name },
      redeemed: facts.redeemed,
      sponsorSetByInvitation: facts.sponsorSetByInvitation,
      invitedAt: facts.invitedAt,
      ...(facts.endsAt !== undefined ? { endsAt: facts.endsAt } : {}),
    });
  }
}
