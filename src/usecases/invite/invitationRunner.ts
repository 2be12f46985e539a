/**
 * Carrying out an allowed invitation: claim the idempotent record, take its lock, invite through
 * the directory (or find the guest an earlier attempt created), add them to the site's group, and
 * record every step. Safe against concurrent attempts in this and other processes.
 */
import type { Actor } from '../../domain/actor';
import type { EmailAddress } from '../../domain/email';
import type { SignInAdvice } from '../../domain/signInAdvice';
import { heldWithoutBreakSince, type HolderRegistry } from '../ports/leases';
import { requestedAccessEndFrom, requestedEndAt } from '../../domain/accessEnd';
import type { InvitationDraft, InvitationPatch, InvitationRecord } from '../ports/invitations';
import { countInvitationSent } from '../../shared/telemetry';
import { type InvitationSource } from '../../shared/telemetryNames';
import { DirectoryError, InvitationNotSent, isDirectoryError } from '../ports/Directory';
import type { InviteContext } from './inviteContext';
import type { InvitationRequest, InviteOutcome, InviteTarget, Refusal } from './model';
import { evaluateInvitation } from './policy';
import { failedOutcome, refusalFromError } from './refusals';
import type { AccessFacts, AccessNote } from './accessRecording';

/** How often a waiter looks whether another attempt's lock was released. */
const LOCK_RECHECK_MS = 100;

/** True when another live attempt owns `record` now. */
export async function lockedByLiveHolder(
  record: Pick<InvitationRecord, 'lockedUntil' | 'lockedBy'>,
  holders: HolderRegistry,
  now: number,
): Promise<boolean> {
  if (!record.lockedUntil || Date.parse(record.lockedUntil) <= now) return false;
  return record.lockedBy === null || (await holders.isAlive(record.lockedBy));
}

/** Directory errors after which the POST surely did not create an invitation (the attempt mark is cleared). */
function definiteRefusal(e: unknown): boolean {
  return isDirectoryError(e) && !e.retryable;
}

export class InvitationRunner {
  constructor(private readonly ctx: InviteContext) {}

  async executeOnce(request: InvitationRequest): Promise<InviteOutcome> {
    const actor = request.requestedBy;
    const { decision, email, displayName } = await evaluateInvitation(this.ctx, actor, request, !!request.approval);
    if (decision.kind === 'refused' || !email) {
      const refusal =
        decision.kind === 'refused'
          ? decision.refusal
          : { code: 'invalidEmail' as const, message: 'That address is not usable.', setting: null, whoCanChange: null };
      this.ctx.audit(actor, 'invitation.refused', email?.key ?? 'invalid-address', {
        groupId: request.groupId,
        code: refusal.code,
        setting: refusal.setting,
      });
      return { ...failedOutcome(refusal), advice: decision.kind === 'refused' ? decision.advice : null };
    }
    if (decision.kind === 'needsApproval') {
      return {
        ...failedOutcome({
          code: 'approvalRequired',
          message: `This invitation needs an approver's decision first: ${decision.reason}`,
          setting: null,
          whoCanChange: null,
        }),
        advice: decision.advice,
        target: decision.target,
      };
    }
    const { target, advice } = decision;
    const draft: InvitationDraft = {
      tenantId: actor.tenantId,
      emailNormalised: email.key,
      groupId: target.groupId,
      emailDisplay: email.display,
      displayName,
      siteName: target.siteName,
      siteUrl: target.siteUrl,
      requestedBy: { id: actor.userId, name: actor.name },
      conversationRefKey: request.conversationRefKey ?? null,
      source: request.approval ? 'approval' : (request.source ?? 'chat'),
      predictedMethod: advice.method,
    };
    const { record, created } = await this.ctx.deps.invitations.claim(draft);
    this.ctx.audit(actor, created ? 'invitation.requested' : 'invitation.requestedAgain', record.id, {
      email: email.key,
      groupId: target.groupId,
      source: draft.source ?? 'chat',
      predictedMethod: advice.method,
      approvalId: request.approval?.requestId ?? null,
      approvedBy: request.approval?.approvedBy.id ?? null,
    });
    return this.advance(record, actor, advice, target, email, request.accessEnd);
  }

  /** Moves a record forward to 'completed' (or 'partial'/'failed'), holding its lock while it works. */
  async advance(
    start: InvitationRecord,
    actor: Actor,
    advice: SignInAdvice | null,
    target: InviteTarget,
    email?: EmailAddress,
    /** The end asked for (InvitationRequest.accessEnd); absent: the site's period. */
    accessEnd?: string,
  ): Promise<InviteOutcome> {
    const repo = this.ctx.deps.invitations;
    let record: InvitationRecord | null = start;
    let restoring = false;
    for (let round = 0; round < 20 && record; round++) {
      if (record.state === 'completed') {
        // "Already done" only while the guest is still in the group: someone may have removed them since.
        if (!record.userId || (await this.stillMember(record))) {
          // Recorded again (no change when it is there): an earlier recording may have been lost.
          const access = await this.recordAccess(record, { redeemed: false, sponsorSetByInvitation: false, ...this.askedEnd(accessEnd) });
          return { ...this.outcomeOf(record, advice, target, true), access };
        }
        if (!restoring) this.ctx.audit(actor, 'invitation.membershipLost', record.id, { userId: record.userId, groupId: record.groupId });
        restoring = true;
      }
      const now = this.ctx.clock.now();
      if (await lockedByLiveHolder(record, this.ctx.holders, now.getTime())) {
        // Another live attempt is working on this key: look again shortly (it may release the lock
        // any moment), then report honestly. A lock whose holder died is taken over at once.
        if (round >= 10) return { ...this.outcomeOf(record, advice, target, false), status: 'inProgress' };
        await this.ctx.sleep(LOCK_RECHECK_MS);
        record = await repo.get(record.id);
        continue;
      }
      const locked = await repo.update(record.id, record.version, {
        lockedUntil: new Date(now.getTime() + this.ctx.lockMs).toISOString(),
        lockedBy: this.ctx.holders.holderId,
        attempts: record.attempts + 1,
      });
      if (!locked) {
        record = await repo.get(record.id);
        continue;
      }
      const outcome = await this.work(locked, now.getTime(), actor, advice, target, email, accessEnd);
      if (restoring && outcome.status === 'completed') outcome.membershipRestored = true;
      return outcome;
    }
    if (!record) return failedOutcome({ code: 'unknownSite', message: 'That invitation no longer exists.', setting: null, whoCanChange: null });
    return { ...this.outcomeOf(record, advice, target, false), status: 'inProgress' };
  }

  private async work(
    locked: InvitationRecord,
    lockedAt: number,
    actor: Actor,
    advice: SignInAdvice | null,
    target: InviteTarget,
    email?: EmailAddress,
    accessEnd?: string,
  ): Promise<InviteOutcome> {
    const repo = this.ctx.deps.invitations;
    const directory = this.ctx.deps.directory;
    let record = locked;
    let freshRedeemUrl: string | null = null;
    // What the guest lifecycle is told once the guest is in the group. A retry of an earlier
    // attempt does not know whether its invitation carried the sponsor: the lifecycle checks.
    const facts: AccessFacts = { redeemed: false, sponsorSetByInvitation: false, ...this.askedEnd(accessEnd) };

    if (record.state === 'pending' || record.state === 'failed' || !record.userId) {
      try {
        const address = email?.address ?? record.emailDisplay;
        const existing = await this.ctx.retrying(() => directory.findUserByEmail(address));
        let patch: InvitationPatch;
        if (existing?.kind === 'member') {
          patch = { state: 'invited', outcomeKind: 'internalUser', userId: existing.id, lastError: null };
        } else if (existing && existing.externalUserState === 'Accepted') {
          // An existing guest added to one more site: redeemed already, and the sponsor is added
          // by the lifecycle (POST /users/{id}/sponsors/$ref), since no invitation is sent.
          facts.redeemed = true;
          patch = { state: 'invited', outcomeKind: 'existingGuest', userId: existing.id, lastError: null };
        } else if (existing && record.inviteAttemptedAt) {
          // This record's own POST went out before (the process stopped, or Graph's answer was
          // lost) and the guest exists: that invitation is ours. No second one; the redeem link
          // of the first is kept if it was recorded.
          facts.redeemed = existing.externalUserState === 'Accepted';
          patch = { state: 'invited', outcomeKind: record.outcomeKind ?? 'newGuest', userId: existing.id, lastError: null };
          this.ctx.audit(actor, 'invitation.foundAfterEarlierAttempt', record.id, { userId: existing.id, attemptedAt: record.inviteAttemptedAt });
        } else {
          // This process's heartbeats broke since it took the lock (storage out of reach, a stall):
          // another instance may have taken the record over and be sending it now. Nothing is sent.
          if (!heldWithoutBreakSince(this.ctx.holders, lockedAt)) return this.notSentAfterBreak(record, advice, target);
          // Written before the POST: whatever happens to this process or to Graph's answer, the
          // next attempt knows an invitation may already exist and looks it up first.
          const marked = await repo.update(record.id, record.version, { inviteAttemptedAt: this.ctx.clock.now().toISOString() });
          if (!marked) return this.lostLock(record, advice, target);
          record = marked;
          // New guest, or an existing guest who never redeemed (and was not invited by this record):
          // Graph re-invites an existing guest without creating a second user, which gives a fresh redeem link.
          const invitation = await this.ctx.retrying(() =>
            directory.invite({
              email: address,
              displayName: record.displayName,
              redirectUrl: record.siteUrl,
              sendInvitationMessage: this.ctx.deps.sendInvitationEmail,
              // The person who asked (for an approved request, the requester) becomes the guest's
              // sponsor: invitedUserSponsors (https://learn.microsoft.com/graph/api/resources/invitation).
              sponsorIds: [record.requestedBy.id],
              // Asked again right before the POST goes, after the pacer's wait.
              maySend: () => heldWithoutBreakSince(this.ctx.holders, lockedAt),
            }),
          );
          // Only a new guest is sure to carry it; an existing guest invited again gets it from the lifecycle.
          facts.sponsorSetByInvitation = !existing && invitation.sponsorsSet === true;
          freshRedeemUrl = invitation.redeemUrl;
          countInvitationSent(invitationSource(record.source));
          patch = {
            state: 'invited',
            outcomeKind: existing ? 'existingGuest' : 'newGuest',
            userId: invitation.userId,
            invitationId: invitation.invitationId,
            redeemUrl: invitation.redeemUrl,
            lastError: null,
          };
        }
        const updated = await repo.update(record.id, record.version, patch);
        if (!updated) return this.lostLock(record, advice, target);
        record = updated;
        this.ctx.audit(actor, 'invitation.invited', record.id, {
          kind: record.outcomeKind,
          userId: record.userId,
          invitationId: record.invitationId,
          sendInvitationMessage: this.ctx.deps.sendInvitationEmail,
        });
      } catch (e) {
        if (e instanceof InvitationNotSent) return this.notSentAfterBreak(record, advice, target);
        if (!isDirectoryError(e)) {
          await repo.update(record.id, record.version, { lockedUntil: null, lockedBy: null, lastError: 'Unexpected error' });
          throw e;
        }
        const refusal = refusalFromError(e, this.ctx.maxAttempts);
        const failed = await repo.update(record.id, record.version, {
          state: 'failed',
          lastError: refusal.message,
          lockedUntil: null,
          lockedBy: null,
          // A definite refusal created nothing: the next attempt (a person asking again) invites.
          ...(definiteRefusal(e) ? { inviteAttemptedAt: null } : {}),
        });
        this.ctx.audit(actor, 'invitation.failed', record.id, { code: refusal.code, graphCode: e.graphCode ?? null });
        return { ...failedOutcome(refusal), record: failed ?? record, advice, target };
      }
    }

    // Membership: "already a member" is success; a freshly created user can briefly be unknown.
    const userId = record.userId as string;
    let membershipError: string | null = null;
    try {
      const result = await this.ctx.retrying(async () => {
        const r = await directory.addMembers(record.groupId, [userId]);
        const failure = r.failed.find((f) => f.userId === userId);
        if (failure && (failure.error.retryable || (failure.error.code === 'notFound' && record.outcomeKind === 'newGuest'))) {
          throw failure.error.code === 'notFound'
            ? new DirectoryError('transient', failure.error.userMessage, { cause: failure.error })
            : failure.error;
        }
        return r;
      });
      const failure = result.failed.find((f) => f.userId === userId);
      if (failure) membershipError = failure.error.userMessage;
    } catch (e) {
      if (!isDirectoryError(e)) {
        await repo.update(record.id, record.version, { state: 'partial', lockedUntil: null, lockedBy: null, lastError: 'Unexpected error' });
        throw e;
      }
      membershipError = refusalFromError(e, this.ctx.maxAttempts).message;
    }

    // Recorded before the record says "completed": a stop in between leaves the record to be
    // finished by the next attempt, which records it again (idempotent), so none goes unrecorded.
    const access = membershipError === null ? await this.recordAccess(record, facts) : null;
    const finished = await repo.update(record.id, record.version, {
      state: membershipError === null ? 'completed' : 'partial',
      lastError: membershipError,
      lockedUntil: null,
      lockedBy: null,
    });
    if (!finished) return this.lostLock(record, advice, target);
    this.ctx.audit(actor, membershipError === null ? 'invitation.completed' : 'invitation.partial', finished.id, {
      kind: finished.outcomeKind,
      error: membershipError,
    });
    const outcome = this.outcomeOf(finished, advice, target, false);
    if (freshRedeemUrl) outcome.redeemUrl = freshRedeemUrl;
    if (access) outcome.access = access;
    return outcome;
  }

  /** The end asked for, as the instant it stands for now (days count from now); nothing when none was asked. */
  private askedEnd(accessEnd: string | undefined): Pick<AccessFacts, 'endsAt'> {
    const asked = requestedAccessEndFrom(accessEnd ?? null);
    return asked ? { endsAt: requestedEndAt(asked, this.ctx.clock.now()) } : {};
  }

  /** The guest's access through the lifecycle, when one is plugged in; never fails the invitation. */
  private async recordAccess(record: InvitationRecord, facts: AccessFacts): Promise<AccessNote | null> {
    const recording = this.ctx.deps.access;
    return recording ? recording.record(record, facts) : null;
  }

  /** Whether a completed record's guest is still in its group; a directory fault answers from the record. */
  private async stillMember(record: InvitationRecord): Promise<boolean> {
    try {
      return await this.ctx.retrying(() => this.ctx.deps.directory.isMember(record.groupId, record.userId as string));
    } catch (e) {
      if (!isDirectoryError(e)) throw e;
      return true;
    }
  }

  /** Someone took the record over (our lock expired): report what the record says now. */
  /**
   * Nothing was sent because this process's hold on the record may have lapsed: its lock is let
   * go if still as it was (another instance may have it now), and the requester is asked to try
   * again (the next attempt looks the guest up first).
   */
  private async notSentAfterBreak(record: InvitationRecord, advice: SignInAdvice | null, target: InviteTarget): Promise<InviteOutcome> {
    const message = 'The bot briefly lost touch with its storage, so nothing was sent. Try again in a moment.';
    const released = await this.ctx.deps.invitations.update(record.id, record.version, { lockedUntil: null, lockedBy: null, lastError: message });
    return { ...failedOutcome({ code: 'directoryUnavailable', message, setting: null, whoCanChange: null }), record: released ?? record, advice, target };
  }

  private async lostLock(record: InvitationRecord, advice: SignInAdvice | null, target: InviteTarget): Promise<InviteOutcome> {
    const now = await this.ctx.deps.invitations.get(record.id);
    return { ...this.outcomeOf(now ?? record, advice, target, false), status: now?.state === 'completed' ? 'completed' : 'inProgress' };
  }

  private outcomeOf(record: InvitationRecord, advice: SignInAdvice | null, target: InviteTarget, alreadyDone: boolean): InviteOutcome {
    const status: InviteOutcome['status'] =
      record.state === 'completed' ? 'completed' : record.state === 'partial' ? 'partial' : record.state === 'failed' ? 'failed' : 'inProgress';
    const showLink = record.outcomeKind === 'newGuest' || (record.outcomeKind === 'existingGuest' && record.redeemUrl !== null);
    const refusal: Refusal | null =
      status === 'partial' || status === 'failed'
        ? { code: 'directoryUnavailable', message: record.lastError ?? 'The directory did not finish the request.', setting: null, whoCanChange: null }
        : null;
    return {
      status,
      kind: record.outcomeKind,
      record,
      redeemUrl: showLink ? record.redeemUrl : null,
      alreadyDone,
      refusal,
      advice,
      target,
    };
  }
}

/** The telemetry label of an invitation record's source ("chat", "approval" or "bulk:<job>"). */
function invitationSource(source: string): InvitationSource {
  if (source === 'approval') return 'approval';
  return source.startsWith('bulk:') ? 'bulk' : 'chat';
}
