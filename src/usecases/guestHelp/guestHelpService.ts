/**
 * Guest help, the use case: "why did I get a code?", "how do I sync?", "I lost access", "what
 * sign-in will jane@x.com get?", and the guest's request for a sign-in (redemption) reset. Every
 * answer is data about the asker's own account; the Teams layer renders it.
 */
import type { Actor } from '../../domain/actor';
import type { EmailAddress } from '../../domain/email';
import type { SignInAdvice } from '../../domain/signInAdvice';
import { methodLabel } from '../../domain/signInWording';
import { RESET_NEEDED_WARNING } from '../../domain/newGuestPrediction';
import { whoIsAsking, type Asker } from './asker';
import { LostAccessHelp, type LostAccessAnswer } from './lostAccess';
import { otpHelpAnswer, type OtpHelpAnswer } from './otpHelp';
import type { GuestHelpDependencies } from './ports';
import { isUnansweredGuestQuestion, looksLikeQuestion } from './questions';
import { syncHelpAnswer, type SyncHelpAnswer } from './syncHelp';

/** The advisor's answer for one address, as the asker may see it. */
export interface AdviceAnswer {
  /** Redacted (no account details) unless a member asks, or a guest asks about themself. */
  advice: SignInAdvice;
  email: EmailAddress;
  tenantName: string;
  /** The guest asked about their own address ("your sign-in link"). */
  readerIsTheGuest: boolean;
}

/** What became of a guest's "ask an admin to reset my sign-in". */
export type ResetRequestOutcome =
  /** Only guests who accepted their invitation can ask: nothing was recorded. */
  | { kind: 'notAllowed'; otp: OtpHelpAnswer }
  /** Recorded now, or (alreadyOpen) found open from an earlier request on `requestedAt`. */
  | { kind: 'recorded'; otp: OtpHelpAnswer; alreadyOpen: boolean; requestedAt: string; requestId: string };

export class GuestHelpService {
  private readonly lostAccessHelp: LostAccessHelp;

  constructor(private readonly deps: GuestHelpDependencies) {
    this.lostAccessHelp = new LostAccessHelp(deps);
  }

  whoIsAsking(actor: Actor | null, options: { withAdvice?: boolean } = {}): Promise<Asker> {
    return whoIsAsking(this.deps, actor, options);
  }

  async otp(actor: Actor | null): Promise<OtpHelpAnswer> {
    return otpHelpAnswer(await this.whoIsAsking(actor));
  }

  async sync(actor: Actor | null): Promise<SyncHelpAnswer> {
    return syncHelpAnswer(await this.whoIsAsking(actor));
  }

  lostAccess(actor: Actor | null): Promise<LostAccessAnswer> {
    return this.lostAccessHelp.answer(actor);
  }

  /**
   * A question none of the topics matched: true when guest help should answer it with its menu
   * (a question from a guest, or about guest things) rather than let it fall through.
   */
  async offersMenuFor(question: string, actor: Actor | null): Promise<boolean> {
    if (!looksLikeQuestion(question)) return false;
    const asker = await this.whoIsAsking(actor);
    return isUnansweredGuestQuestion(question, asker.kind === 'guest');
  }

  async advice(email: EmailAddress, actor: Actor | null): Promise<AdviceAnswer> {
    const asker = await this.whoIsAsking(actor);
    const advice = await this.deps.advisor.advise(email.address);
    // Guests may ask about anyone, but only members learn who else is in the directory.
    const askingAboutSelf = asker.kind === 'guest' && asker.user.id === advice.existing?.userId;
    const redact = asker.kind !== 'member' && advice.existing !== null && !askingAboutSelf;
    return {
      advice: redact ? redacted(advice) : advice,
      email,
      tenantName: asker.policies.tenantDisplayName,
      readerIsTheGuest: askingAboutSelf,
    };
  }

  async requestReset(actor: Actor | null): Promise<ResetRequestOutcome> {
    const asker = await this.whoIsAsking(actor);
    const otp = otpHelpAnswer(asker);
    if (asker.kind !== 'guest' || asker.user.externalUserState !== 'Accepted' || !actor) {
      // Someone we can name asked without the right: on the record. A click Teams did not say the author of is recorded by the bot (reason unidentified).
      if (actor) await this.auditRefusal(actor, asker.kind === 'guest' ? 'notRedeemed' : asker.kind === 'member' ? 'notGuest' : 'unknownUser');
      return { kind: 'notAllowed', otp };
    }
    const receipt = await this.deps.resetRequests.submit({
      tenantId: asker.policies.tenantId,
      userId: asker.user.id,
      userName: asker.user.displayName,
      email: asker.email ?? asker.user.userPrincipalName,
      redeemedWith: asker.method,
      reason:
        asker.advice?.warnings.includes(RESET_NEEDED_WARNING) === true
          ? 'Redeemed with a one-time passcode; their organisation now has Microsoft Entra ID.'
          : `Asked from the guest help card (signs in with: ${asker.method ? methodLabel(asker.method) : 'unknown'}).`,
    });
    this.deps.logger?.info(
      { userId: asker.user.id, requestId: receipt.request.id, alreadyOpen: receipt.alreadyOpen },
      'redemption reset requested',
    );
    return {
      kind: 'recorded',
      otp,
      alreadyOpen: receipt.alreadyOpen,
      requestedAt: receipt.request.requestedAt,
      requestId: receipt.request.id,
    };
  }

  /** The subject is the account the reset would be for: the asker's own. */
  private async auditRefusal(actor: Actor, reason: ResetRefusalReason): Promise<void> {
    try {
      await this.deps.audit?.append({
        actorId: actor.userId,
        actorName: actor.name,
        action: 'redemptionReset.refused',
        subjectType: 'user',
        subjectId: actor.userId,
        details: { attempted: 'request', reason },
      });
    } catch (error) {
      this.deps.logger?.warn({ err: error instanceof Error ? error.name : 'error' }, 'guest help: reset refusal not audited');
    }
  }
}

export type ResetRefusalReason = 'notGuest' | 'notRedeemed' | 'unknownUser';

function redacted(advice: SignInAdvice): SignInAdvice {
  return {
    ...advice,
    reasons: ['This address already has a guest account here. Ask the site owner or the person who invited them for details.'],
    guestNextSteps: [],
    warnings: [],
    existing: null,
  };
}
