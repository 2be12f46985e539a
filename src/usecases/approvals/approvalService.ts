/**
 * Admin approvals: requests go to the approvers' personal chats (and an optional channel),
 * an approver decides once (compare-and-set in SQLite), the approved request is carried out
 * by the same code as the direct flow, every copy of the card is updated and the requester
 * is told. Rights are re-checked against the directory on every click.
 */
import type { Activity, ConversationReference } from 'botbuilder';
import type { Actor } from '../../domain/actor';
import type { AdaptiveCard } from '../../teams/cards';
import { cardAttachment } from '../../teams/cards';
import { guestWillSee, invitationLinkTexts, syncSummary } from '../../teams/invite/inviteCards';
import type { NotifyResult } from '../../teams/bot/proactive';
import { isDirectoryError, type Directory } from '../ports/Directory';
import { parseEmail } from '../../domain/email';
import { lookAlikeWarning } from '../../domain/lookAlike';
import type { SignInAdvice, SignInMethod } from '../../domain/signInAdvice';
import type { StoredConversationReference } from '../ports/conversationReferences';
import type { HolderRegistry, LeaseStore } from '../ports/leases';
import type {
  ApprovalContext,
  ApprovalGateway,
  ApprovalSubmission,
  InvitationRequest,
  InvitationStatusView,
  InviteOutcome,
} from '../invite/inviteGuest';
import { approvalVerdict } from '../../domain/approvalPolicy';
import {
  type ApprovalOutcomeStatus,
  type ApprovalRequest,
  type ApprovalRequestStore,
  type DeliveryAudience,
  type NewApprovalRequest,
  type NewDelivery,
  type NoticeTone,
  type RequesterNotice,
} from '../../adapters/sqlite/approvalRequests';
import {
  type ApprovedInvitationView,
  formatInstant,
  pendingListCard,
  requestCard,
  requestTitle,
  signInMethodLabel,
  submittedCard,
} from '../../teams/approvals/approvalCards';
import { MAX_REFRESH_USERS, type ApprovalServiceSettings } from '../../app/approvalSettings';
import { closeResetLedger, type ResetLedger } from './resetApprovals';

/** The part of Notifier (src/teams/bot/proactive.ts) approvals use. */
export interface ApprovalNotifier {
  send(reference: Partial<ConversationReference>, activity: string | Partial<Activity>): Promise<NotifyResult>;
  update(reference: Partial<ConversationReference>, activityId: string, card: AdaptiveCard): Promise<NotifyResult>;
}

/** The part of ConversationReferenceStore approvals use. */
export interface ConversationLookup {
  get(conversationId: string): Promise<StoredConversationReference | null>;
  getPersonal(userId: string): Promise<StoredConversationReference | null>;
  upsert(reference: Partial<ConversationReference>): Promise<StoredConversationReference>;
}

/** Carries out an approved invitation: InviteGuestService satisfies it (same code as the direct flow). */
export interface InvitationExecutor {
  execute(request: InvitationRequest): Promise<InviteOutcome>;
  /** The invitations an actor may see for an address (InviteGuestService): the approved one's link and state. */
  statusOf?(actor: Actor, email: string): Promise<InvitationStatusView[]>;
  /** SEND_INVITATION_EMAIL. */
  readonly emailsInvitations?: boolean;
}

export interface RosterEntry {
  id: string;
  displayName: string;
}

/**
 * Who may be asked. The Directory port answers "is X a member/owner" (used for every click)
 * but cannot list a group yet; the composition root supplies a roster (see directoryRoster).
 */
export interface ApproverRoster {
  listGroupMembers(groupId: string): Promise<RosterEntry[]>;
  listGroupOwners(groupId: string): Promise<RosterEntry[]>;
}

/**
 * Leases as approvals take them. acquireSync joins the decision's transaction (requests.atomically);
 * the SQLite lease store has it (it goes when the decision becomes one repository method).
 */
export interface ApprovalLeases extends LeaseStore {
  acquireSync(key: string, holderId: string, ttlMs: number): boolean;
}

export interface ApprovalAudit {
  /** For writes inside requests.atomically (goes with it). */
  appendSync(event: {
    actorId: string;
    actorName: string;
    action: string;
    subjectType: string;
    subjectId: string;
    details?: { [key: string]: string | number | boolean | null | string[] };
  }): unknown;
  append(event: {
    actorId: string;
    actorName: string;
    action: string;
    subjectType: string;
    subjectId: string;
    details?: { [key: string]: string | number | boolean | null | string[] };
  }): Promise<unknown>;
}

export interface ApprovalLogger {
  info(details: Record<string, unknown>, message: string): void;
  warn(details: Record<string, unknown>, message: string): void;
  error(details: Record<string, unknown>, message: string): void;
}

const silentLogger: ApprovalLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

export interface ApprovalServiceDependencies {
  requests: ApprovalRequestStore;
  directory: Directory;
  roster: ApproverRoster;
  conversations: ConversationLookup;
  notifier: ApprovalNotifier;
  invitations: InvitationExecutor;
  audit: ApprovalAudit;
  settings: ApprovalServiceSettings;
  clock?: () => Date;
  logger?: ApprovalLogger;
  /**
   * How long a click waits for the approved invitation before answering with "carrying out…"
   * (the copies are updated when it finishes). Teams allows an invoke only a few seconds.
   */
  inlineBudgetMs?: number;
  /** The guest-help feature's record of reset requests, closed when their approval ends. */
  resetLedger?: ResetLedger;
  /**
   * Owned leases (carrying out an approval, re-delivering a card) and who this process is. Without
   * them (unit tests of one process) an in-memory lease table stands in.
   */
  leases?: ApprovalLeases;
  holders?: HolderRegistry;
}

/** How long one process may hold an approval it carries out before another may (its death frees it at once). */
const CARRY_LEASE_MS = 10 * 60_000;
/** How long a card re-delivery is held: far longer than one send. */
const REDELIVERY_LEASE_MS = 60_000;
/** Approvals carried out at once by one recovery pass. */
const RESUME_PARALLELISM = 4;

/** A lease table for one process on its own (tests): the same rules, in memory. */
class InMemoryLeases implements ApprovalLeases {
  private readonly rows = new Map<string, { holderId: string; until: number; done: boolean }>();
  async acquire(key: string, holderId: string, ttlMs: number): Promise<boolean> {
    return this.acquireSync(key, holderId, ttlMs);
  }
  acquireSync(key: string, holderId: string, ttlMs: number): boolean {
    const row = this.rows.get(key);
    if (row && (row.done || row.until > Date.now())) return false;
    this.rows.set(key, { holderId, until: Date.now() + ttlMs, done: false });
    return true;
  }
  async renew(key: string, holderId: string, ttlMs: number): Promise<boolean> {
    const row = this.rows.get(key);
    if (!row || row.done || row.holderId !== holderId) return false;
    row.until = Date.now() + ttlMs;
    return true;
  }
  async release(key: string, holderId: string): Promise<void> {
    const row = this.rows.get(key);
    if (row && !row.done && row.holderId === holderId) this.rows.delete(key);
  }
  async complete(key: string, holderId: string): Promise<void> {
    this.rows.set(key, { holderId, until: 0, done: true });
  }
  async isComplete(key: string): Promise<boolean> {
    return this.rows.get(key)?.done === true;
  }
}

/** A guest asking an admin to reset their redemption (from the guest-help feature). */
export interface RedemptionResetSubmission {
  /** The guest, as derived from the activity: their object id in this tenant. */
  guest: Actor;
  guestEmail: string;
  guestName: string;
  /** Where the guest lands after redeeming again (e.g. the tenant's My Apps link). */
  redirectUrl: string;
  currentMethod: SignInMethod | null;
  /** The guest's own words: why they need it. */
  reason: string;
  /** Stored conversation reference key (conversation id) to report back to. */
  conversationRefKey: string | null;
}

export interface SubmitResult {
  requestId: string;
  /** Names of the approvers (and "the approvals channel") the card reached. */
  approvers: string[];
  /** Names of approvers the bot could not message. */
  unreachable: string[];
  /** True when an identical request was already waiting: nothing new was created. */
  duplicate: boolean;
  /** The "sent for approval to …" card for the requester. */
  card: AdaptiveCard;
}

/**
 * applied        the actor's action took effect;
 * alreadyDecided someone decided first (or the request is closed): nothing changed;
 * forbidden      the actor may not do this: nothing changed;
 * notFound       no such request;
 * invalid        input missing (e.g. a reject reason): nothing changed;
 * changed        the request changed since the actor's card was drawn: review again;
 * unavailable    rights could not be checked (directory fault): nothing changed.
 */
export type ActionStatus = 'applied' | 'alreadyDecided' | 'forbidden' | 'notFound' | 'invalid' | 'changed' | 'unavailable';

export interface ActionOutcome {
  status: ActionStatus;
  /** Null when the actor may not see the request (or it does not exist). */
  request: ApprovalRequest | null;
  /** Plain words for the actor. */
  message: string;
  /** The actor may decide this request (drives the buttons on the card returned). */
  mayDecide: boolean;
  /** Set when an approved invitation or reset produced a link (for the requester's card). */
  redeemUrl?: string | null;
}

type Rights = { ok: true } | { ok: false; status: 'forbidden' | 'unavailable'; message: string };

const MAX_NOTE = 1000;
const MAX_JUSTIFICATION = 4000;

/** The sweep stops retrying a requester notice after this many sends (opening a chat still delivers it). */
export const REQUESTER_NOTICE_MAX_ATTEMPTS = 5;
/** How long one attempt holds a notice: far longer than a send, short enough to outlive a crash. */
const NOTICE_LEASE_MS = 2 * 60_000;

type RequesterNoticeText = { text: string; tone: NoticeTone };

/** The user-facing approvals use case. Implements the invitation flow's ApprovalGateway. */
export class ApprovalService implements ApprovalGateway {
  private readonly clock: () => Date;
  private readonly logger: ApprovalLogger;
  private readonly inFlight = new Set<Promise<void>>();
  /** Approved requests this process is carrying out now (a resumption leaves them alone). */
  private readonly carryingOut = new Set<string>();
  /** Users (personal chats) and conversations whose missed cards and notices are being sent now (see onConversationSeen). */
  private readonly redelivering = new Map<string, Promise<void>>();

  private readonly leases: ApprovalLeases;
  private readonly holderId: string;

  constructor(private readonly deps: ApprovalServiceDependencies) {
    this.clock = deps.clock ?? (() => new Date());
    this.logger = deps.logger ?? silentLogger;
    this.leases = deps.leases ?? new InMemoryLeases();
    this.holderId = deps.holders?.holderId ?? 'solo';
  }

  get settings(): ApprovalServiceSettings {
    return this.deps.settings;
  }

  // ---------------------------------------------------------------- policy and submission

  async needsApproval(ctx: ApprovalContext): Promise<{ required: boolean; reason: string }> {
    const verdict = approvalVerdict(this.deps.settings, { requesterIsSiteOwner: ctx.isOwner, guestDomain: ctx.domain });
    return { required: verdict.required, reason: verdict.reasons.join(' ') };
  }

  /** Records an invitation request and sends it to the approvers. A second identical request is not created. */
  async submit(submission: ApprovalSubmission): Promise<SubmitResult> {
    const { request: invite, target, advice } = submission;
    const actor = invite.requestedBy;
    const now = this.clock();
    const existing = this.deps.requests.findPendingInvitation(actor.tenantId, invite.email, target.groupId);
    if (existing) return this.duplicateResult(existing, now);

    const isOwner = await this.deps.directory.isOwner(target.groupId, actor.userId).catch(() => false);
    const verdict = approvalVerdict(this.deps.settings, { requesterIsSiteOwner: isOwner, guestDomain: advice.domain });
    const request = this.deps.requests.create(
      this.newRequest(actor, invite.conversationRefKey ?? null, clip(submission.justification ?? '', MAX_JUSTIFICATION), verdict.reasons, {
        kind: 'invitation',
        guestName: invite.displayName,
        guestEmail: invite.email,
        groupId: target.groupId,
        siteName: target.siteName,
        siteUrl: target.siteUrl,
        signInMethod: advice.method,
        signInSummary: adviceSummary(advice),
        warnings: [...advice.warnings],
      }),
    );
    await this.audit(actor, 'approval.requested', request, { kind: 'invitation', groupId: target.groupId, guestDomain: advice.domain });
    return this.deliverNewRequest(request);
  }

  /** Records a guest's redemption-reset request and sends it to the approvers (never to site owners). */
  async submitReset(submission: RedemptionResetSubmission): Promise<SubmitResult> {
    const now = this.clock();
    const existing = this.deps.requests.findPendingReset(submission.guest.tenantId, submission.guest.userId);
    if (existing) return this.duplicateResult(existing, now);
    const request = this.deps.requests.create(
      this.newRequest(submission.guest, submission.conversationRefKey, clip(submission.reason, MAX_JUSTIFICATION), [
        'Only an admin can reset how a guest signs in.',
      ], {
        kind: 'redemptionReset',
        guestUserId: submission.guest.userId,
        guestName: submission.guestName,
        guestEmail: submission.guestEmail,
        redirectUrl: submission.redirectUrl,
        currentMethod: submission.currentMethod,
      }),
    );
    await this.audit(submission.guest, 'approval.requested', request, { kind: 'redemptionReset' });
    return this.deliverNewRequest(request);
  }

  private newRequest(
    actor: Actor,
    conversationRefKey: string | null,
    justification: string,
    reasons: string[],
    subject: NewApprovalRequest['subject'],
  ): NewApprovalRequest {
    const now = this.clock();
    return {
      tenantId: actor.tenantId,
      requester: { userId: actor.userId, name: actor.name || 'Someone', tenantId: actor.tenantId },
      requesterConversationId: conversationRefKey,
      subject,
      justification,
      reasons,
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + this.deps.settings.expiryDays * 86_400_000).toISOString(),
    };
  }

  private duplicateResult(existing: ApprovalRequest, now: Date): SubmitResult {
    const { approvers, unreachable } = this.deliverySummary(existing.id);
    return {
      requestId: existing.id,
      approvers,
      unreachable,
      duplicate: true,
      card: submittedCard(existing, {
        now,
        approvers,
        unreachable,
        notice: {
          text: `${existing.requester.name} already asked for this on ${formatInstant(existing.createdAt)}; that request is still waiting, so no new one was made.`,
          tone: 'warning',
        },
      }),
    };
  }

  private async deliverNewRequest(request: ApprovalRequest): Promise<SubmitResult> {
    const recipients = await this.recipientsFor(request);
    const refreshUserIds = await this.refreshUserIds(recipients);
    const approvers: string[] = [];
    const unreachable: string[] = [];
    for (const person of recipients) {
      const sent = await this.sendCardTo(request, person, refreshUserIds);
      (sent ? approvers : unreachable).push(person.displayName);
    }
    if (this.deps.settings.approvalsChannelId && (await this.sendCardToChannel(request, refreshUserIds))) {
      approvers.push('the approvals channel');
    }
    return {
      requestId: request.id,
      approvers,
      unreachable,
      duplicate: false,
      card: submittedCard(request, { now: this.clock(), approvers, unreachable }),
    };
  }

  /**
   * The requester's own "Sent for approval" card, posted by the chat they asked from: kept as a
   * copy so it is updated with every other copy (decision, cancellation, expiry).
   */
  requesterCardPosted(requestId: string, conversation: Partial<ConversationReference>, activityId: string): void {
    const request = this.deps.requests.get(requestId);
    if (!request) return;
    this.deps.requests.recordDelivery({
      requestId,
      audience: 'requester',
      recipientId: request.requester.userId,
      recipientName: request.requester.name,
      purpose: 'card',
      status: 'sent',
      conversation,
      activityId,
      error: null,
      at: this.clock().toISOString(),
    });
  }

  /** Names the card reached / did not reach, from the delivery log. */
  private deliverySummary(requestId: string): { approvers: string[]; unreachable: string[] } {
    const deliveries = this.deps.requests.listDeliveries(requestId).filter((d) => d.purpose === 'card' && d.audience !== 'requester');
    const reached = new Set<string>();
    const approvers: string[] = [];
    for (const d of deliveries) {
      if (d.status !== 'sent') continue;
      const name = d.audience === 'channel' ? 'the approvals channel' : (d.recipientName ?? 'an approver');
      reached.add(d.recipientId ?? name);
      if (!approvers.includes(name)) approvers.push(name);
    }
    const unreachable = deliveries
      .filter((d) => d.status !== 'sent' && d.audience !== 'channel' && !reached.has(d.recipientId ?? ''))
      .map((d) => d.recipientName ?? 'an approver')
      .filter((name, i, all) => all.indexOf(name) === i);
    return { approvers, unreachable };
  }

  /** Approvers (and, if allowed, the site's owners) except the requester. */
  private async recipientsFor(request: ApprovalRequest): Promise<Array<RosterEntry & { audience: DeliveryAudience }>> {
    const out: Array<RosterEntry & { audience: DeliveryAudience }> = [];
    const seen = new Set<string>([request.requester.userId]);
    try {
      for (const m of await this.deps.roster.listGroupMembers(this.deps.settings.approverGroupId)) {
        if (!seen.has(m.id)) out.push({ ...m, audience: 'approver' });
        seen.add(m.id);
      }
    } catch (error) {
      this.logger.error({ requestId: request.id, err: describe(error) }, 'approvals: could not list the approver group');
    }
    if (this.deps.settings.ownersMayApprove && request.subject.kind === 'invitation') {
      try {
        for (const o of await this.deps.roster.listGroupOwners(request.subject.groupId)) {
          if (!seen.has(o.id)) out.push({ ...o, audience: 'owner' });
          seen.add(o.id);
        }
      } catch (error) {
        this.logger.warn({ requestId: request.id, err: describe(error) }, 'approvals: could not list the site owners');
      }
    }
    return out;
  }

  /** Teams user ids (MRIs) of recipients with a personal chat: their copies refresh by themselves. */
  private async refreshUserIds(recipients: readonly RosterEntry[]): Promise<string[]> {
    const ids: string[] = [];
    for (const r of recipients) {
      const mri = (await this.deps.conversations.getPersonal(r.id))?.reference.user?.id;
      if (mri && !ids.includes(mri)) ids.push(mri);
      if (ids.length >= MAX_REFRESH_USERS) break;
    }
    return ids;
  }

  private async sendCardTo(
    request: ApprovalRequest,
    person: RosterEntry & { audience: DeliveryAudience },
    refreshUserIds: string[],
  ): Promise<boolean> {
    const at = this.clock().toISOString();
    const stored = await this.deps.conversations.getPersonal(person.id);
    const base = {
      requestId: request.id,
      audience: person.audience,
      recipientId: person.id,
      recipientName: person.displayName,
      purpose: 'card' as const,
      at,
    };
    if (!stored) {
      this.deps.requests.recordDelivery({
        ...base,
        status: 'unreachable',
        conversation: null,
        activityId: null,
        error: 'The bot has no personal chat with this person (they have never talked to it).',
      });
      return false;
    }
    const card = this.cardForCopy(request, person.audience, refreshUserIds);
    return (await this.postAndRecord(stored.reference, card, base)).ok;
  }

  private async sendCardToChannel(request: ApprovalRequest, refreshUserIds: string[]): Promise<boolean> {
    const channelId = this.deps.settings.approvalsChannelId;
    if (!channelId) return false;
    const at = this.clock().toISOString();
    const stored = await this.deps.conversations.get(channelId);
    const base = {
      requestId: request.id,
      audience: 'channel' as const,
      recipientId: channelId,
      recipientName: 'the approvals channel',
      purpose: 'card' as const,
      at,
    };
    if (!stored) {
      this.logger.warn({ requestId: request.id }, 'approvals: APPROVALS_CHANNEL_ID has no stored conversation reference yet');
      this.deps.requests.recordDelivery({
        ...base,
        status: 'unreachable',
        conversation: null,
        activityId: null,
        error: 'No conversation reference for the approvals channel: install the app in its team, or mention the bot in that channel once.',
      });
      return false;
    }
    const card = this.cardForCopy(request, 'channel', refreshUserIds);
    return (await this.postAndRecord(stored.reference, card, base)).ok;
  }

  /**
   * The card as a copy shows it to everyone in that conversation. A personal copy belongs to an
   * approver, so it carries the buttons; the channel copy shows status only, and refresh gives
   * approvers their buttons (the click is re-checked either way).
   */
  private cardForCopy(request: ApprovalRequest, audience: DeliveryAudience, refreshUserIds: string[]): AdaptiveCard {
    return requestCard(request, {
      now: this.clock(),
      showActions: audience !== 'channel',
      refreshUserIds,
      approverWarnings: this.approverWarnings(request),
    });
  }

  private approverWarnings(request: ApprovalRequest): string[] {
    if (request.subject.kind === 'invitation') {
      // The approver sees what the requester was warned about: the address's real (ASCII) form.
      const parsed = parseEmail(request.subject.guestEmail);
      const lookAlike = parsed.ok ? lookAlikeWarning(parsed.email) : null;
      return lookAlike ? [`Check the address: ${lookAlike.display} is really ${lookAlike.ascii}. ${lookAlike.message}`] : [];
    }
    if (this.deps.settings.allowRedemptionReset) return [];
    return [
      'Redemption resets are disabled in this deployment (ALLOW_REDEMPTION_RESET=false): approving records the decision, and an admin then resets the redemption by hand in the Microsoft Entra admin center.',
    ];
  }

  // ---------------------------------------------------------------- rights

  private async approverRights(actor: Actor | null, request: ApprovalRequest): Promise<Rights> {
    if (!actor) {
      return {
        ok: false,
        status: 'forbidden',
        message: 'I could not tell who you are (Teams did not say which Microsoft Entra user clicked), so nothing was changed.',
      };
    }
    if (actor.tenantId !== request.tenantId) {
      return { ok: false, status: 'forbidden', message: 'This request belongs to another organisation. Nothing was changed.' };
    }
    if (actor.userId === request.requester.userId) {
      return {
        ok: false,
        status: 'forbidden',
        message: 'You made this request, so another approver has to decide it. You can cancel it instead. Nothing was changed.',
      };
    }
    try {
      if (await this.deps.directory.isMember(this.deps.settings.approverGroupId, actor.userId)) return { ok: true };
      if (
        this.deps.settings.ownersMayApprove &&
        request.subject.kind === 'invitation' &&
        (await this.deps.directory.isOwner(request.subject.groupId, actor.userId))
      ) {
        return { ok: true };
      }
    } catch (error) {
      this.logger.warn({ requestId: request.id, actorId: actor.userId, err: describe(error) }, 'approvals: rights check failed');
      return {
        ok: false,
        status: 'unavailable',
        message: `I could not check your approver rights just now${isDirectoryError(error) ? ` (${error.userMessage})` : ''}. Nothing was changed; try again in a minute.`,
      };
    }
    return {
      ok: false,
      status: 'forbidden',
      message: 'Only members of the guest approver group can decide on this request. Nothing was changed.',
    };
  }

  /** Approver rights without a particular request: for "pending". */
  async isApprover(actor: Actor | null): Promise<boolean> {
    if (!actor) return false;
    try {
      return await this.deps.directory.isMember(this.deps.settings.approverGroupId, actor.userId);
    } catch {
      return false;
    }
  }

  // ---------------------------------------------------------------- decisions

  /**
   * An approver approves or rejects. Exactly one decision is ever recorded; a losing click (or a
   * replay) changes nothing and is told what happened. `cardVersion` (from the card, untrusted)
   * can only make the check stricter: a card drawn before the request changed must be reviewed again.
   */
  async decide(
    actor: Actor | null,
    requestId: string,
    verdict: 'approve' | 'reject',
    note: string | null,
    cardVersion?: number,
  ): Promise<ActionOutcome> {
    const gate = await this.gateApproverAction(actor, requestId, cardVersion);
    if ('outcome' in gate) return gate.outcome;
    const { request, who } = gate;
    const reason = clip(note?.trim() ?? '', MAX_NOTE);
    if (verdict === 'reject' && reason === '') {
      return { status: 'invalid', request, mayDecide: true, message: 'Give a reason for rejecting, so the requester knows why. Nothing was changed.' };
    }
    const at = this.clock().toISOString();
    // The decision, its audit row and (for an approval) this process's lease on carrying it out
    // commit together: a crash leaves either nothing or all three.
    const cas = this.deps.requests.atomically(() => {
      const result = this.deps.requests.decide(request.id, request.version, {
        state: verdict === 'approve' ? 'approved' : 'rejected',
        by: who,
        note: verdict === 'reject' ? reason : null,
        at,
      });
      if (!result.won) return result;
      this.auditSync(gate.actor, verdict === 'approve' ? 'approval.approved' : 'approval.rejected', result.request, {
        kind: result.request.kind,
        ...(verdict === 'reject' ? { reason } : {}),
      });
      if (verdict === 'approve') this.leases.acquireSync(carryKey(request.id), this.holderId, CARRY_LEASE_MS);
      return result;
    });
    if (!cas.won) return this.lostRace(cas.current);
    const decided = cas.request;
    let redeemUrl: string | null = null;
    const followUp = this.afterDecision(decided).then((url) => {
      redeemUrl = url;
    });
    const settled = await this.withinBudget(followUp);
    const latest = this.deps.requests.get(decided.id) ?? decided;
    const what = verdict === 'approve' ? 'approved' : 'rejected';
    const message =
      verdict === 'reject'
        ? `You rejected the request. ${latest.requester.name} has been told why.`
        : settled && latest.outcome
          ? `You approved the request. ${latest.outcome.message}`
          : `You approved the request. Carrying it out now; this card updates when it is done.`;
    return { status: 'applied', request: latest, mayDecide: false, message: message || `You ${what} the request.`, redeemUrl };
  }

  /** An approver asks the requester a question; the request stays pending. */
  async requestMoreInfo(actor: Actor | null, requestId: string, question: string | null, cardVersion?: number): Promise<ActionOutcome> {
    const gate = await this.gateApproverAction(actor, requestId, cardVersion);
    if ('outcome' in gate) return gate.outcome;
    const { request, who } = gate;
    const text = clip(question?.trim() ?? '', MAX_NOTE);
    if (text === '') {
      return { status: 'invalid', request, mayDecide: true, message: 'Write the question the requester should answer. Nothing was changed.' };
    }
    const cas = this.deps.requests.requestInfo(request.id, request.version, who, text, this.clock().toISOString());
    if (!cas.won) return this.lostRace(cas.current);
    await this.audit(gate.actor, 'approval.infoRequested', cas.request, {});
    const updated = cas.request;
    await this.updateCopies(updated);
    const asked = await this.notifyRequester(updated, null, {
      text: `${who.name} needs more information before deciding. Answer below; your answer is added to the request.`,
      tone: 'warning',
    });
    return {
      status: 'applied',
      request: updated,
      mayDecide: true,
      message: asked
        ? `Your question was sent to ${updated.requester.name}. Their answer will appear on this card.`
        : `Your question is recorded, but ${updated.requester.name} could not be messaged in Teams just now; it is sent again, and reaches them at the latest when they next open a chat with the bot.`,
    };
  }

  /** The requester answers an approver's question: the answer is appended to the justification. */
  async provideInfo(actor: Actor | null, requestId: string, answer: string | null): Promise<ActionOutcome> {
    const request = this.deps.requests.get(requestId);
    if (!request) return notFound();
    if (!actor || actor.userId !== request.requester.userId || actor.tenantId !== request.tenantId) {
      return { status: 'forbidden', request: null, mayDecide: false, message: 'Only the person who made this request can answer for it. Nothing was changed.' };
    }
    if (request.state !== 'pending') return { status: 'alreadyDecided', request, mayDecide: false, message: closedMessage(request) };
    const text = clip(answer?.trim() ?? '', MAX_NOTE);
    if (text === '') return { status: 'invalid', request, mayDecide: false, message: 'Write an answer first. Nothing was changed.' };
    const heading = request.infoRequest
      ? `Answer to ${request.infoRequest.byName} (${formatInstant(this.clock().toISOString())}): `
      : `Added (${formatInstant(this.clock().toISOString())}): `;
    const justification = clip(
      request.justification.trim() === '' ? `${heading}${text}` : `${request.justification}\n\n${heading}${text}`,
      MAX_JUSTIFICATION,
    );
    const cas = this.deps.requests.appendJustification(request.id, request.version, justification);
    if (!cas.won) {
      const current = cas.current;
      return current && current.state === 'pending'
        ? { status: 'changed', request: current, mayDecide: false, message: 'The request changed while you were typing; send your answer again.' }
        : { status: 'alreadyDecided', request: current, mayDecide: false, message: current ? closedMessage(current) : 'The request no longer exists.' };
    }
    await this.audit(actor, 'approval.infoProvided', cas.request, {});
    await this.updateCopies(cas.request);
    return { status: 'applied', request: cas.request, mayDecide: false, message: 'Thanks: your answer was added to the request and the approvers see it now.' };
  }

  /** The requester withdraws their own pending request. */
  async cancel(actor: Actor | null, requestId: string): Promise<ActionOutcome> {
    const request = this.deps.requests.get(requestId);
    if (!request) return notFound();
    if (!actor || actor.userId !== request.requester.userId || actor.tenantId !== request.tenantId) {
      return { status: 'forbidden', request: null, mayDecide: false, message: 'Only the person who made this request can cancel it. Nothing was changed.' };
    }
    if (request.state !== 'pending') return { status: 'alreadyDecided', request, mayDecide: false, message: closedMessage(request) };
    const cas = this.deps.requests.decide(request.id, request.version, {
      state: 'cancelled',
      by: { userId: actor.userId, name: actor.name || request.requester.name },
      note: null,
      at: this.clock().toISOString(),
    });
    if (!cas.won) {
      const current = cas.current;
      if (current?.state === 'pending') return this.cancel(actor, requestId); // only an info edit raced us
      return { status: 'alreadyDecided', request: current, mayDecide: false, message: current ? closedMessage(current) : 'The request no longer exists.' };
    }
    await this.audit(actor, 'approval.cancelled', cas.request, {});
    this.closeLedger(cas.request);
    await this.updateCopies(cas.request);
    return { status: 'applied', request: cas.request, mayDecide: false, message: 'Your request was cancelled; the approvers see that on their cards.' };
  }

  /** The card a viewer should see now (Action.Execute refresh). */
  async view(actor: Actor | null, requestId: string): Promise<ActionOutcome> {
    const request = this.deps.requests.get(requestId);
    if (!request) return (await this.isApprover(actor)) ? notFound() : { ...notFound(), message: NOT_AVAILABLE };
    if (actor && actor.userId === request.requester.userId && actor.tenantId === request.tenantId) {
      return { status: 'applied', request, mayDecide: false, message: '' };
    }
    const rights = await this.approverRights(actor, request);
    if (!rights.ok) {
      // Neither an approver nor the requester: nothing of the request, not even that it exists.
      return { status: rights.status, request: null, mayDecide: false, message: rights.status === 'unavailable' ? rights.message : NOT_AVAILABLE };
    }
    return { status: 'applied', request, mayDecide: request.state === 'pending', message: '' };
  }

  /** Open requests for an approver, oldest first; null when the actor is not an approver. */
  async listPending(actor: Actor | null): Promise<ApprovalRequest[] | null> {
    if (!actor || !(await this.isApprover(actor))) return null;
    return this.deps.requests
      .listPending(actor.tenantId)
      .filter((r) => r.requester.userId !== actor.userId && Date.parse(r.expiresAt) > this.clock().getTime());
  }

  /** The pending list card for an approver, optionally with a line about what just happened. */
  pendingCard(requests: readonly ApprovalRequest[], notice: { text: string; tone?: 'good' | 'warning' | 'attention' | 'accent' } | null = null): AdaptiveCard {
    return pendingListCard(requests, this.clock(), notice);
  }

  /** The request card for someone who acts on it (an invoke response): with buttons when they may decide. */
  async requestCardFor(
    request: ApprovalRequest,
    options: { mayDecide: boolean; notice?: { text: string; tone?: 'good' | 'warning' | 'attention' | 'accent' } | null },
  ): Promise<AdaptiveCard> {
    const recipients = request.state === 'pending' ? await this.recipientsFor(request) : [];
    return requestCard(request, {
      now: this.clock(),
      showActions: options.mayDecide,
      notice: options.notice ?? null,
      refreshUserIds: await this.refreshUserIds(recipients),
      approverWarnings: this.approverWarnings(request),
    });
  }

  /**
   * The requester's card (their own view of the request), e.g. after they cancel or answer. Once
   * an invitation is approved it carries what a direct invitation's result does: the link (while
   * the guest has not accepted), what the guest will see, and the sync note.
   */
  async requesterCardFor(
    request: ApprovalRequest,
    notice: { text: string; tone?: 'good' | 'warning' | 'attention' | 'accent' } | null,
    redeemUrl: string | null = null,
  ): Promise<AdaptiveCard> {
    const { approvers, unreachable } = this.deliverySummary(request.id);
    const invitation = await this.approvedInvitationView(request, redeemUrl);
    return submittedCard(request, { now: this.clock(), approvers, unreachable, notice, redeemUrl, invitation });
  }

  /** An approved, carried-out invitation as the requester sees it; null for anything else. */
  private async approvedInvitationView(request: ApprovalRequest, knownRedeemUrl: string | null): Promise<ApprovedInvitationView | null> {
    const s = request.subject;
    if (s.kind !== 'invitation' || request.state !== 'approved' || !request.outcome) return null;
    try {
      const requester: Actor = { userId: request.requester.userId, name: request.requester.name, tenantId: request.tenantId };
      const views = this.deps.invitations.statusOf ? await this.deps.invitations.statusOf(requester, s.guestEmail) : [];
      const view = views.find((v) => v.record.groupId === s.groupId) ?? null;
      const accepted = view?.externalUserState === 'Accepted';
      const redeemUrl = accepted ? null : (knownRedeemUrl ?? view?.record.redeemUrl ?? null);
      const method = view?.actualMethod ?? view?.record.predictedMethod ?? s.signInMethod;
      const policies = await this.deps.directory.readPolicies();
      const emailsInvitations = this.deps.invitations.emailsInvitations ?? false;
      return {
        redeemUrl,
        recordId: view?.record.id ?? null,
        ...invitationLinkTexts(s.guestName, s.guestEmail, emailsInvitations ? 'created' : 'no'),
        canSendEmail: redeemUrl !== null && !emailsInvitations && view !== null,
        guestWillSee: redeemUrl ? guestWillSee(method, null, policies.tenantDisplayName, s.siteName) : [],
        syncNote: request.outcome.status === 'succeeded' ? syncSummary(s.guestName, method, method === 'workOrSchoolAccount', s.siteName) : '',
      };
    } catch (error) {
      this.logger.warn({ requestId: request.id, err: describe(error) }, 'approvals: could not read the approved invitation for the requester card');
      return null;
    }
  }

  // ---------------------------------------------------------------- resumption

  /**
   * Carries out approved requests that have no outcome: the process stopped between recording
   * the decision and finishing the invitation (or reset). Safe to repeat: an invitation is
   * idempotent on tenant + email + group, and only the first outcome recorded is told to the
   * requester. Cards and the requester are updated as for a normal approval. Run at start-up
   * (before the expiry sweep) and on the sweep's interval with `minAgeMs` so that requests another
   * process has just approved are left to it. Returns how many of them now have an outcome.
   */
  async resumeApproved(options: { minAgeMs?: number } = {}): Promise<number> {
    const cutoff = new Date(this.clock().getTime() - Math.max(0, options.minAgeMs ?? 0)).toISOString();
    // Only requests nobody alive is carrying out: the lease is taken before anything is done, and
    // a process that died holding one frees it at once (see leases.ts).
    const mine: ApprovalRequest[] = [];
    for (const request of this.deps.requests.listApprovedWithoutOutcome(cutoff)) {
      if (!this.carryingOut.has(request.id) && (await this.leases.acquire(carryKey(request.id), this.holderId, CARRY_LEASE_MS))) mine.push(request);
    }
    let resumed = 0;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < mine.length) {
        const request = mine[next++] as ApprovalRequest;
        this.logger.info({ requestId: request.id, kind: request.kind }, 'approvals: resuming an approved request with no outcome');
        await this.afterDecision(request, 'resumed');
        if (this.deps.requests.get(request.id)?.outcome) resumed += 1;
      }
    };
    await Promise.all(Array.from({ length: Math.min(RESUME_PARALLELISM, mine.length) }, worker));
    return resumed;
  }

  // ---------------------------------------------------------------- expiry

  /**
   * Expires every pending request past its expiry time: the cards are updated and the requester
   * is told. Run at start-up and on an interval. Returns how many requests this call expired.
   */
  async expireDue(now: Date = this.clock()): Promise<number> {
    let expired = 0;
    for (const request of this.deps.requests.listDueForExpiry(now.toISOString())) {
      if (await this.expire(request, now)) expired += 1;
    }
    return expired;
  }

  private async expire(request: ApprovalRequest, now: Date): Promise<boolean> {
    const cas = this.deps.requests.decide(request.id, request.version, {
      state: 'expired',
      by: null,
      note: `No decision within ${this.deps.settings.expiryDays} days.`,
      at: now.toISOString(),
    });
    if (!cas.won) return false;
    await this.deps.audit.append({
      actorId: 'system',
      actorName: 'Guest onboarding bot',
      action: 'approval.expired',
      subjectType: 'approval',
      subjectId: request.id,
      details: { kind: request.kind },
    });
    this.closeLedger(cas.request);
    await this.safely(request.id, 'expiry follow-up', async () => {
      await this.updateCopies(cas.request);
      await this.notifyRequester(cas.request, null, {
        text: 'No approver decided in time, so the request expired. Ask again if it is still needed.',
        tone: 'warning',
      });
    });
    return true;
  }

  // ---------------------------------------------------------------- conversations

  /**
   * Call on every activity (and on install) after the conversation reference was stored. An
   * approver who opens a chat with the bot receives the pending cards that could not reach
   * them before; a requester receives the notices that could not reach them (in their personal
   * chat, or in the chat they asked from when that one is seen); a message in the approvals
   * channel makes that channel reachable.
   */
  async onConversationSeen(reference: Partial<ConversationReference>): Promise<void> {
    const conversation = reference.conversation;
    if (!conversation?.id) return;
    const channelId = this.deps.settings.approvalsChannelId;
    if (channelId && conversation.id !== channelId && conversation.id.split(';')[0] === channelId && reference.serviceUrl) {
      if (!(await this.deps.conversations.get(channelId))) {
        // A message in the channel's thread: the channel itself is reachable at the same service URL.
        await this.deps.conversations.upsert({ ...reference, conversation: { ...conversation, id: channelId } });
      }
      return;
    }
    const isPersonal = conversation.conversationType ? conversation.conversationType === 'personal' : conversation.isGroup !== true;
    const userId = reference.user?.aadObjectId;
    if (isPersonal && !userId) return;
    // Opening a chat brings conversationUpdate and installationUpdate at once: both turns would
    // find the same undelivered request before either records it sent, and post the card twice.
    const key = isPersonal && userId ? userId : `conversation:${conversation.id}`;
    const running = this.redelivering.get(key);
    if (running) return running;
    const work = (async () => {
      const target = (await this.deps.conversations.get(conversation.id))?.reference ?? reference;
      if (isPersonal && userId) {
        await this.redeliverTo(userId, reference);
        await this.resendNotices(this.deps.requests.listPendingNoticesFor(userId), target);
      } else {
        await this.resendNotices(this.deps.requests.listPendingNoticesForConversation(conversation.id), target);
      }
    })().finally(() => this.redelivering.delete(key));
    this.redelivering.set(key, work);
    return work;
  }

  /** Sends kept requester notices into a conversation just seen (so known to reach them). */
  private async resendNotices(pending: readonly RequesterNotice[], target: Partial<ConversationReference>): Promise<void> {
    for (const notice of pending) {
      await this.safely(notice.requestId, 'resending a requester notice', async () => {
        await this.resendNotice(notice, [target]);
      });
    }
  }

  /** Sends an approver the pending cards that could not reach them before. */
  private async redeliverTo(userId: string, reference: Partial<ConversationReference>): Promise<void> {
    const tenantId = reference.conversation?.tenantId;
    for (const request of this.deps.requests.listUndeliveredFor(userId)) {
      const who: Actor = { userId, name: reference.user?.name ?? '', tenantId: tenantId ?? request.tenantId };
      const rights = await this.approverRights(who, request);
      if (!rights.ok) continue;
      // Claimed in the store before sending: two turns (conversationUpdate and installationUpdate
      // arrive together) or two processes find the same undelivered card, and only one posts it.
      const key = `redeliver:${request.id}:${userId}`;
      if (!(await this.leases.acquire(key, this.holderId, REDELIVERY_LEASE_MS))) continue;
      try {
        // Re-read under the claim: the winner of an earlier claim may have delivered it already.
        if (!this.deps.requests.listUndeliveredFor(userId).some((r) => r.id === request.id)) continue;
        const recipients = await this.recipientsFor(request);
        const person = recipients.find((r) => r.id === userId) ?? { id: userId, displayName: who.name, audience: 'approver' as const };
        await this.sendCardTo(request, person, await this.refreshUserIds(recipients));
      } finally {
        await this.leases.release(key, this.holderId);
      }
    }
  }

  /** Resolves when every follow-up started so far (carrying out, card updates, notices) has finished. */
  async whenIdle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  // ---------------------------------------------------------------- internals

  private async gateApproverAction(
    actor: Actor | null,
    requestId: string,
    cardVersion: number | undefined,
  ): Promise<{ outcome: ActionOutcome } | { request: ApprovalRequest; actor: Actor; who: { userId: string; name: string } }> {
    const request = this.deps.requests.get(requestId);
    if (!request) return { outcome: notFound() };
    const rights = await this.approverRights(actor, request);
    if (!rights.ok || !actor) {
      const message = rights.ok ? 'Nothing was changed.' : rights.message;
      const isRequester = actor?.userId === request.requester.userId && actor.tenantId === request.tenantId;
      return {
        outcome: { status: rights.ok ? 'forbidden' : rights.status, request: isRequester ? request : null, mayDecide: false, message },
      };
    }
    if (request.state !== 'pending') {
      return { outcome: { status: 'alreadyDecided', request, mayDecide: false, message: closedMessage(request) } };
    }
    const now = this.clock();
    if (Date.parse(request.expiresAt) <= now.getTime()) {
      await this.expire(request, now);
      const current = this.deps.requests.get(request.id) ?? request;
      return { outcome: { status: 'alreadyDecided', request: current, mayDecide: false, message: closedMessage(current) } };
    }
    if (cardVersion !== undefined && cardVersion !== request.version) {
      return {
        outcome: {
          status: 'changed',
          request,
          mayDecide: true,
          message: 'This request changed since your card was drawn (see the latest justification and questions below). Review it and decide again. Nothing was changed.',
        },
      };
    }
    // The name recorded as the decider is the directory's, not the activity's from.name.
    return { request, actor, who: { userId: actor.userId, name: await this.directoryName(actor) } };
  }

  private async directoryName(actor: Actor): Promise<string> {
    try {
      const user = await this.deps.directory.getUser(actor.userId);
      if (user?.displayName) return user.displayName;
    } catch (error) {
      this.logger.warn({ actorId: actor.userId, err: describe(error) }, 'approvals: could not read the approver\'s name');
    }
    return actor.name || 'An approver';
  }

  private lostRace(current: ApprovalRequest | null): ActionOutcome {
    if (!current) return notFound();
    if (current.state === 'pending') {
      return {
        status: 'changed',
        request: current,
        mayDecide: true,
        message: 'The request changed at the same moment (another approver or the requester updated it). Review it and decide again. Nothing was changed.',
      };
    }
    return { status: 'alreadyDecided', request: current, mayDecide: false, message: closedMessage(current) };
  }

  /**
   * Carries out an approval (the CAS winner of the decision, or a resumption after a restart),
   * records its outcome once, updates every copy and tells the requester. When two processes
   * finish the same request, only the one that records the outcome notifies.
   */
  private afterDecision(request: ApprovalRequest, mode: 'decided' | 'resumed' = 'decided'): Promise<string | null> {
    const carrying = request.state === 'approved';
    if (carrying) this.carryingOut.add(request.id);
    const work = (async (): Promise<string | null> => {
      let current = request;
      let redeemUrl: string | null = null;
      if (carrying) {
        const result = await this.carryOut(request, mode);
        // Another attempt (e.g. a process still running) holds this invitation: it is not over,
        // so nothing is recorded and a later sweep looks again.
        if (result.stillRunning && mode === 'resumed') return null;
        // The outcome, its audit row and the requester's notice (kept before it is sent, so that
        // a crash in between leaves it for the sweep) commit together.
        let outbox: RequesterNotice | null = null;
        const recorded = this.deps.requests.atomically(() => {
          const at = this.clock();
          const first = this.deps.requests.recordFirstOutcome(request.id, result.status, result.message, at.toISOString());
          if (!first.won) return first;
          this.deps.requests.supersedeNotices(request.id);
          outbox = this.deps.requests.recordPendingNotice({
            requestId: request.id,
            requesterId: request.requester.userId,
            requestVersion: first.request.version,
            notice: null,
            redeemUrl: result.redeemUrl,
            error: 'not sent yet',
            at: at.toISOString(),
            claimedUntil: new Date(at.getTime() + NOTICE_LEASE_MS).toISOString(),
          });
          this.deps.audit.appendSync({
            actorId: request.decidedBy?.userId ?? 'system',
            actorName: request.decidedBy?.name ?? 'Guest onboarding bot',
            action: 'approval.carriedOut',
            subjectType: 'approval',
            subjectId: request.id,
            details: {
              kind: request.kind,
              outcome: result.status,
              resumed: mode === 'resumed',
              ...(result.invitationRecordId ? { invitationRecordId: result.invitationRecordId } : {}),
            },
          });
          return first;
        });
        if (!recorded.won) return null;
        current = recorded.request;
        redeemUrl = result.redeemUrl;
        const kept = outbox as RequesterNotice | null;
        this.closeLedger(current);
        await this.safely(request.id, 'card updates', () => this.updateCopies(current));
        await this.safely(request.id, 'requester notice', async () => {
          if (kept) await this.sendKeptNotice(kept, current);
        });
        return redeemUrl;
      }
      this.closeLedger(current);
      await this.safely(request.id, 'card updates', () => this.updateCopies(current));
      await this.safely(request.id, 'requester notice', async () => {
        await this.notifyRequester(current, redeemUrl, null);
      });
      return redeemUrl;
    })();
    const tracked = work.then(
      () => undefined,
      (error: unknown) => {
        this.logger.error({ requestId: request.id, err: describe(error) }, 'approvals: follow-up failed');
      },
    );
    this.inFlight.add(tracked);
    void tracked.finally(async () => {
      this.inFlight.delete(tracked);
      if (carrying) {
        this.carryingOut.delete(request.id);
        // Done (or left for the next pass when another attempt still runs): either way not ours now.
        await this.leases.release(carryKey(request.id), this.holderId);
      }
    });
    return work.catch(() => null);
  }

  private async carryOut(
    request: ApprovalRequest,
    mode: 'decided' | 'resumed',
  ): Promise<{
    status: ApprovalOutcomeStatus;
    message: string;
    redeemUrl: string | null;
    invitationRecordId?: string;
    /** The invitation is being carried out by another attempt right now. */
    stillRunning?: boolean;
  }> {
    const s = request.subject;
    const approver = { id: request.decidedBy?.userId ?? '', name: request.decidedBy?.name ?? 'an approver' };
    if (s.kind === 'invitation') {
      let outcome: InviteOutcome;
      try {
        outcome = await this.deps.invitations.execute({
          email: s.guestEmail,
          displayName: s.guestName,
          groupId: s.groupId,
          requestedBy: { userId: request.requester.userId, name: request.requester.name, tenantId: request.tenantId },
          conversationRefKey: request.requesterConversationId,
          source: 'approval',
          approval: { requestId: request.id, approvedBy: approver },
        });
      } catch (error) {
        this.logger.error({ requestId: request.id, err: describe(error) }, 'approvals: carrying out the invitation failed');
        return {
          status: 'failed',
          message: `The invitation could not be sent: ${userMessageOf(error)} The approval stands; the requester can ask again once this is fixed.`,
          redeemUrl: null,
        };
      }
      const recordId = outcome.record?.id;
      const extra = recordId ? { invitationRecordId: recordId } : {};
      switch (outcome.status) {
        case 'completed': {
          // Resumed after a restart, "already done" is usually this approval's own work from before
          // the stop: the guest got access after the decision, so say so.
          const doneForThisApproval =
            mode === 'resumed' && outcome.alreadyDone && !!outcome.record && !!request.decidedAt && outcome.record.updatedAt >= request.decidedAt;
          return {
            status: 'succeeded',
            message: outcome.membershipRestored
              ? `${s.guestName} (${s.guestEmail}) had been removed from ${s.siteName} since an earlier invitation and was added back; no new invitation was needed.`
              : outcome.alreadyDone && !doneForThisApproval
                ? `${s.guestName} already had access to ${s.siteName}; nothing more was needed.`
                : `${s.guestName} (${s.guestEmail}) was invited and added to ${s.siteName}.`,
            redeemUrl: outcome.redeemUrl,
            ...extra,
          };
        }
        case 'partial':
          return {
            status: 'failed',
            message: `${s.guestName} was invited, but adding them to ${s.siteName} failed: ${outcome.refusal?.message ?? 'unknown error.'} The requester can retry adding them.`,
            redeemUrl: outcome.redeemUrl,
            ...extra,
          };
        case 'inProgress':
          return {
            status: 'succeeded',
            message: `An invitation for ${s.guestName} to ${s.siteName} was already being sent; its result goes to whoever started it.`,
            redeemUrl: null,
            stillRunning: true,
            ...extra,
          };
        case 'failed':
          return {
            status: 'failed',
            message: `The invitation was not sent: ${outcome.refusal?.message ?? 'unknown error.'}`,
            redeemUrl: null,
            ...extra,
          };
      }
    }
    if (!this.deps.settings.allowRedemptionReset) {
      return {
        status: 'manualActionRequired',
        message: `Approved, but this deployment does not reset redemptions itself (ALLOW_REDEMPTION_RESET=false). An admin (Helpdesk or User Administrator) must do it: Microsoft Entra admin center > Identity > Users > All users > ${s.guestName} (${s.guestEmail}) > Overview > B2B collaboration > Reset redemption status.`,
        redeemUrl: null,
      };
    }
    try {
      const result = await this.deps.directory.resetRedemption(s.guestUserId, s.guestEmail, s.redirectUrl);
      return {
        status: 'succeeded',
        message: `The redemption of ${s.guestName} was reset. They accept the new invitation and sign in with whatever method applies to them now.`,
        redeemUrl: result.redeemUrl,
      };
    } catch (error) {
      this.logger.error({ requestId: request.id, err: describe(error) }, 'approvals: resetting the redemption failed');
      return { status: 'failed', message: `The redemption could not be reset: ${userMessageOf(error)}`, redeemUrl: null };
    }
  }

  /** Updates every posted copy of the request's card; a copy that cannot be updated is recorded, not fatal. */
  private async updateCopies(request: ApprovalRequest): Promise<void> {
    const copies = this.deps.requests.listCardCopies(request.id);
    if (copies.length === 0) return;
    const recipients = request.state === 'pending' ? await this.recipientsFor(request) : [];
    const refreshUserIds = await this.refreshUserIds(recipients);
    const requesterCard = copies.some((c) => c.audience === 'requester') ? await this.requesterCardFor(request, null) : null;
    for (const copy of copies) {
      if (!copy.activityId || !copy.conversation) continue;
      const fresh = copy.conversation.conversation?.id ? await this.deps.conversations.get(copy.conversation.conversation.id) : null;
      const reference = fresh?.reference ?? copy.conversation;
      const card = copy.audience === 'requester' && requesterCard ? requesterCard : this.cardForCopy(request, copy.audience, refreshUserIds);
      const result = await this.deps.notifier.update(reference, copy.activityId, card);
      if (!result.ok) {
        this.deps.requests.recordDelivery({
          requestId: request.id,
          audience: copy.audience,
          recipientId: copy.recipientId,
          recipientName: copy.recipientName,
          purpose: 'update',
          status: 'failed',
          conversation: copy.conversation,
          activityId: copy.activityId,
          error: `${result.reason}: ${result.message}`,
          at: this.clock().toISOString(),
        });
      }
    }
  }

  /**
   * Tells the requester, in the chat they asked from (else, or if that fails, their personal chat).
   * Returns whether it arrived; one that did not is kept and sent again when the requester's chat is
   * next seen or by the sweep (see retryNotices).
   */
  private async notifyRequester(request: ApprovalRequest, redeemUrl: string | null, notice: RequesterNoticeText | null): Promise<boolean> {
    // This notice shows the request as it is now: older undelivered ones would only repeat or contradict it.
    this.deps.requests.supersedeNotices(request.id);
    const result = await this.sendNotice(request, redeemUrl, notice, await this.requesterConversations(request));
    if (!result.ok) {
      this.deps.requests.recordPendingNotice({
        requestId: request.id,
        requesterId: request.requester.userId,
        requestVersion: request.version,
        notice,
        redeemUrl,
        error: result.error,
        at: this.clock().toISOString(),
      });
    }
    return result.ok;
  }

  /** Sends a notice kept (and held) before its first send; it stays pending for the sweep if it does not arrive. */
  private async sendKeptNotice(kept: RequesterNotice, request: ApprovalRequest): Promise<void> {
    try {
      const result = await this.sendNotice(request, kept.redeemUrl, kept.notice, await this.requesterConversations(request));
      if (result.ok) this.deps.requests.markNoticeDelivered(kept.id, this.clock().toISOString());
      else this.deps.requests.releaseNotice(kept.id, result.error);
    } catch (error) {
      this.deps.requests.releaseNotice(kept.id, describe(error).message);
      throw error;
    }
  }

  /** Where the requester can be told: the chat they asked from, then their personal chat. */
  private async requesterConversations(request: ApprovalRequest): Promise<Array<Partial<ConversationReference>>> {
    const asked = request.requesterConversationId ? await this.deps.conversations.get(request.requesterConversationId) : null;
    const personal = await this.deps.conversations.getPersonal(request.requester.userId);
    const out: Array<Partial<ConversationReference>> = [];
    for (const stored of [asked, personal]) {
      if (stored && !out.some((r) => r.conversation?.id === stored.reference.conversation?.id)) out.push(stored.reference);
    }
    return out;
  }

  /** Posts `card` to one chat and records the attempt, sent or failed, against the request. */
  private async postAndRecord(
    reference: Partial<ConversationReference>,
    card: AdaptiveCard,
    delivery: Omit<NewDelivery, 'status' | 'conversation' | 'activityId' | 'error' | 'at'>,
  ): Promise<NotifyResult> {
    const result = await this.deps.notifier.send(reference, { type: 'message', attachments: [cardAttachment(card)] });
    this.deps.requests.recordDelivery({
      ...delivery,
      status: result.ok ? 'sent' : 'failed',
      conversation: reference,
      activityId: result.ok ? (result.activityId ?? null) : null,
      error: result.ok ? null : `${result.reason}: ${result.message}`,
      at: this.clock().toISOString(),
    });
    return result;
  }

  /** Sends the requester's card to the first of `targets` that takes it; every attempt is logged. */
  private async sendNotice(
    request: ApprovalRequest,
    redeemUrl: string | null,
    notice: RequesterNoticeText | null,
    targets: ReadonlyArray<Partial<ConversationReference>>,
  ): Promise<{ ok: true } | { ok: false; error: string }> {
    const base = {
      requestId: request.id,
      audience: 'requester' as const,
      recipientId: request.requester.userId,
      recipientName: request.requester.name,
      purpose: 'notice' as const,
    };
    if (targets.length === 0) {
      const error = 'No stored conversation with the requester.';
      this.deps.requests.recordDelivery({ ...base, status: 'unreachable', conversation: null, activityId: null, error, at: this.clock().toISOString() });
      return { ok: false, error };
    }
    const card = await this.requesterCardFor(request, notice, redeemUrl);
    let error = '';
    for (const reference of targets) {
      const result = await this.postAndRecord(reference, card, base);
      if (result.ok) return { ok: true };
      error = `${result.reason}: ${result.message}`;
    }
    return { ok: false, error };
  }

  /**
   * One more attempt at a kept notice, into `targets`. The claim makes it one attempt however
   * many turns or processes try at once; a notice whose request changed since is dropped.
   */
  private async resendNotice(pending: RequesterNotice, targets: ReadonlyArray<Partial<ConversationReference>>): Promise<boolean> {
    if (targets.length === 0) return false;
    const now = this.clock();
    if (!this.deps.requests.claimNotice(pending.id, now.toISOString(), new Date(now.getTime() + NOTICE_LEASE_MS).toISOString())) return false;
    const request = this.deps.requests.get(pending.requestId);
    if (!request || request.version !== pending.requestVersion) {
      this.deps.requests.supersedeNotice(pending.id);
      return false;
    }
    try {
      const result = await this.sendNotice(request, pending.redeemUrl, pending.notice, targets);
      if (result.ok) this.deps.requests.markNoticeDelivered(pending.id, this.clock().toISOString());
      else this.deps.requests.releaseNotice(pending.id, result.error);
      return result.ok;
    } catch (error) {
      this.deps.requests.releaseNotice(pending.id, describe(error).message);
      throw error;
    }
  }

  /**
   * Sends again the requester notices that did not arrive (429, 404, network, no chat yet), once
   * they are `minAgeMs` old and have had fewer than `maxAttempts` sends. Run by the periodic sweep;
   * a requester who opens a chat gets theirs at once (onConversationSeen). Returns how many arrived.
   */
  async retryNotices(options: { minAgeMs?: number; maxAttempts?: number } = {}): Promise<number> {
    const cutoff = new Date(this.clock().getTime() - Math.max(0, options.minAgeMs ?? 0)).toISOString();
    let delivered = 0;
    for (const pending of this.deps.requests.listNoticesDueForRetry(cutoff, options.maxAttempts ?? REQUESTER_NOTICE_MAX_ATTEMPTS)) {
      const request = this.deps.requests.get(pending.requestId);
      // Nowhere to send it yet: not an attempt; it goes out when the requester first opens a chat.
      const targets = request ? await this.requesterConversations(request) : [];
      try {
        if (await this.resendNotice(pending, targets)) delivered += 1;
      } catch (error) {
        this.logger.error({ requestId: pending.requestId, err: describe(error) }, 'approvals: sending a requester notice again failed');
      }
    }
    return delivered;
  }

  private async withinBudget(work: Promise<unknown>): Promise<boolean> {
    const budget = this.deps.inlineBudgetMs ?? 4000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), budget);
      timer.unref();
    });
    try {
      return await Promise.race([work.then(() => true), timeout]);
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  private closeLedger(request: ApprovalRequest): void {
    if (!this.deps.resetLedger || request.kind !== 'redemptionReset') return;
    try {
      closeResetLedger(this.deps.resetLedger, request);
    } catch (error) {
      this.logger.warn({ requestId: request.id, err: describe(error) }, 'approvals: could not close the recorded reset request');
    }
  }

  private async safely(requestId: string, what: string, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (error) {
      this.logger.error({ requestId, err: describe(error) }, `approvals: ${what} failed`);
    }
  }

  private async audit(
    actor: Actor,
    action: string,
    request: ApprovalRequest,
    details: { [key: string]: string | number | boolean | null | string[] },
  ): Promise<void> {
    await this.deps.audit.append(auditEvent(actor, action, request, details));
  }

  /** audit() inside requests.atomically. */
  private auditSync(
    actor: Actor,
    action: string,
    request: ApprovalRequest,
    details: { [key: string]: string | number | boolean | null | string[] },
  ): void {
    this.deps.audit.appendSync(auditEvent(actor, action, request, details));
  }
}

function auditEvent(
  actor: Actor,
  action: string,
  request: ApprovalRequest,
  details: { [key: string]: string | number | boolean | null | string[] },
): Parameters<ApprovalAudit['append']>[0] {
  return {
    actorId: actor.userId,
    actorName: actor.name,
    action,
    subjectType: 'approval',
    subjectId: request.id,
    details: { ...details, version: request.version, state: request.state },
  };
}

/** The lease on carrying out one approved request. */
function carryKey(requestId: string): string {
  return `approval:${requestId}`;
}

function notFound(): ActionOutcome {
  return {
    status: 'notFound',
    request: null,
    mayDecide: false,
    message: 'I could not find that approval request. It may come from another installation of the bot. Nothing was changed.',
  };
}

/** What a closed request's card says to someone who clicked too late. */
export function closedMessage(request: ApprovalRequest): string {
  const when = request.decidedAt ? ` on ${formatInstant(request.decidedAt)}` : '';
  switch (request.state) {
    case 'approved':
      return `${request.decidedBy?.name ?? 'Another approver'} already approved this request${when}. Nothing more was changed.`;
    case 'rejected':
      return `${request.decidedBy?.name ?? 'Another approver'} already rejected this request${when}. Nothing more was changed.`;
    case 'cancelled':
      return `${request.requester.name} cancelled this request${when}. Nothing was changed.`;
    case 'expired':
      return `This request expired${when} without a decision. Nothing was changed; the requester can ask again.`;
    case 'pending':
      return `"${requestTitle(request)}" is still waiting for a decision.`;
  }
}

function adviceSummary(advice: SignInAdvice): string | null {
  if (!advice.method) return null;
  if (advice.confidence === 'depends' && advice.otherwise) {
    return `${signInMethodLabel(advice.method)} if they have one; otherwise ${signInMethodLabel(advice.otherwise).toLowerCase()}`;
  }
  return signInMethodLabel(advice.method);
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function userMessageOf(error: unknown): string {
  if (isDirectoryError(error)) return error.userMessage;
  const refusal = (error as { refusal?: { message?: unknown } } | null)?.refusal;
  if (refusal && typeof refusal.message === 'string') return refusal.message;
  return 'an unexpected error (see the bot log).';
}

/** What anyone who is neither an approver nor the requester is told about a request. */
export const NOT_AVAILABLE =
  'This approval request is not available to you. Only the guest approvers and the person who asked for it can open it.';

/** For logs: name and message only (never a request object, which could carry tokens). */
function describe(error: unknown): { name: string; message: string } {
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: 'unknown', message: String(error) };
}

