import type { Actor } from '../../domain/actor';
import { DirectoryError, isDirectoryError, type Directory, type DirectoryUser, type GroupInfo } from '../ports/Directory';
import { InvalidEmailError, parseEmail, type EmailAddress } from '../../domain/email';
import type { SignInAdvice, SignInMethod } from '../../domain/signInAdvice';
import { blockingSettings, methodFromIdentities } from '../../domain/signInRules';
import type { AuditEventInput, JsonValue } from '../ports/auditLog';
import type { HolderRegistry } from '../ports/leases';
import {
  normaliseEmailForKey,
  type InvitationDraft,
  type InvitationOutcomeKind,
  type InvitationPatch,
  type InvitationRecord,
  type InvitationRepository,
} from '../../adapters/sqlite/invitations';
import { countInvitationSent, type InvitationSource } from '../../shared/telemetry';
import type { SignInAdvisorPort } from '../signIn/signInAdvisor';

/** What someone asks for: invite this person to this site. */
export interface InviteDraft {
  email: string;
  displayName: string;
  groupId: string;
}

/** The site a guest is invited to (a Microsoft 365 group and its SharePoint site). */
export interface InviteTarget {
  groupId: string;
  siteName: string;
  siteUrl: string;
}

export type RefusalCode =
  | 'invalidEmail'
  | 'invalidName'
  | 'internalAddressUnknown'
  | 'unknownSite'
  | 'notOwner'
  | 'blocked'
  | 'invitesRestricted'
  | 'sharingDisabled'
  | 'permissionMissing'
  | 'throttled'
  | 'directoryUnavailable'
  | 'approvalRequired';

export interface Refusal {
  code: RefusalCode;
  /** Plain words for chat: what is wrong and what to do. */
  message: string;
  /** The setting that refuses it, e.g. "authorizationPolicy.allowInvitesFrom"; null for bad input. */
  setting: string | null;
  /** Who can change that setting. */
  whoCanChange: string | null;
}

export type PolicyDecision =
  | { kind: 'allowed'; target: InviteTarget; advice: SignInAdvice; isOwner: boolean }
  | { kind: 'needsApproval'; target: InviteTarget; advice: SignInAdvice; isOwner: boolean; reason: string }
  | { kind: 'refused'; refusal: Refusal; advice: SignInAdvice | null };

/** What an ApprovalGateway needs to decide whether a request must be approved. */
export interface ApprovalContext {
  actor: Actor;
  email: string;
  domain: string;
  target: InviteTarget;
  isOwner: boolean;
  advice: SignInAdvice;
}

/** A request sent for approval; the approvals feature later calls InviteGuestService.execute with `approval` set. */
export interface ApprovalSubmission {
  request: InvitationRequest;
  target: InviteTarget;
  advice: SignInAdvice;
  justification?: string;
}

/**
 * Adaptive Card JSON the approvals feature renders for the requester. Opaque to this use case:
 * it only passes it on (structurally the bot's AdaptiveCard, without depending on the bot layer).
 */
export interface RequesterCard {
  type: 'AdaptiveCard';
  version: string;
  [key: string]: unknown;
}

/** What became of a request sent for approval. */
export interface ApprovalReceipt {
  requestId: string;
  /** Names the request reached (approvers, "the approvals channel"). */
  approvers: string[];
  /** Approvers the bot could not message (they see the request when they next talk to it). */
  unreachable: string[];
  /** An identical request was already waiting: nothing new was created. */
  duplicate: boolean;
  /** The "sent for approval to …" card for the requester (with a Cancel button). */
  card: RequesterCard;
}

/**
 * The approvals feature plugs in here. Without a gateway, a non-owner is refused with
 * "only the site's owners can invite guests to X".
 */
export interface ApprovalGateway {
  needsApproval(ctx: ApprovalContext): Promise<{ required: boolean; reason: string }>;
  submit(submission: ApprovalSubmission): Promise<ApprovalReceipt>;
  /** The requester's receipt card was posted (conversation reference, activity id): it is then updated with every decision. */
  requesterCardPosted?(requestId: string, conversation: Record<string, unknown>, activityId: string): void;
}

/** A request to carry out. The requester is re-checked unless an approval authorises it. */
export interface InvitationRequest extends InviteDraft {
  requestedBy: Actor;
  /** Stored conversation reference key to report back to, if any. */
  conversationRefKey?: string | null;
  /** 'chat', 'approval', 'bulk:<jobId>' … recorded on the record and in the audit trail. */
  source?: string;
  /** Set by the approvals feature: the ownership check is replaced by this decision (policy is still checked). */
  approval?: { requestId: string; approvedBy: { id: string; name: string } };
}

/** Where the guest stands after execute / retryMembership. */
export interface InviteOutcome {
  /**
   * completed  guest (or member) is in the group;
   * partial    invited/found, but adding to the group failed (retry with retryMembership);
   * failed     nothing changed; refusal says why;
   * inProgress another attempt for the same key is in flight (another process): nothing done here.
   */
  status: 'completed' | 'partial' | 'failed' | 'inProgress';
  kind: InvitationOutcomeKind | null;
  record: InvitationRecord | null;
  /** A redeem link to hand to the guest: new guests, and existing guests who have not redeemed yet. */
  redeemUrl: string | null;
  /** True when an earlier request had already done this (double click, second owner, retry). */
  alreadyDone: boolean;
  /** True when an earlier request had done this but the guest was removed from the group since: they were added back, with no new invitation. */
  membershipRestored?: boolean;
  /** Present for 'failed' and 'partial'. */
  refusal: Refusal | null;
  advice: SignInAdvice | null;
  target: InviteTarget | null;
}

/** A record with its state freshly read from the directory, for "status of …" / "my invitations". */
export interface InvitationStatusView {
  record: InvitationRecord;
  /** Graph externalUserState, when the user exists. */
  externalUserState: 'PendingAcceptance' | 'Accepted' | null;
  externalUserStateChangedAt: string | null;
  actualMethod: SignInMethod | null;
}

/** The part of the store's AuditLog this use case writes to. */
export interface InvitationAuditLog {
  append(event: AuditEventInput): Promise<unknown>;
}

export interface InviteGuestDependencies {
  directory: Directory;
  advisor: SignInAdvisorPort;
  invitations: InvitationRepository;
  audit: InvitationAuditLog;
  /** Optional until the approvals feature provides one. */
  approvals?: ApprovalGateway | null;
  /** SEND_INVITATION_EMAIL. */
  sendInvitationEmail: boolean;
  clock?: () => Date;
  /** Injected so tests do not really wait. */
  sleep?: (ms: number) => Promise<void>;
  /** Attempts for a throttled/transient Graph call before giving up (default 4). */
  maxAttempts?: number;
  /** Upper bound for one wait between attempts (default 30 s). */
  maxBackoffMs?: number;
  /**
   * How long an attempt owns a record before another may take over (default 2 min). The limit
   * for a holder that is alive but stuck: a lock whose holder died is free at once.
   */
  lockMs?: number;
  /** Who this process is, and whether another lock holder still runs (default: this process only, always alive). */
  holders?: HolderRegistry;
}

/** A process on its own (tests, tools): every lock holder counts as alive, as before holders existed. */
const SOLO_HOLDERS: HolderRegistry = { holderId: 'solo', isAlive: async () => true };

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

/** A request the use case refuses before anything changes. `refusal.message` is safe to show. */
export class InviteRefusedError extends Error {
  constructor(readonly refusal: Refusal, options: { cause?: unknown } = {}) {
    super(refusal.message, options);
    this.name = 'InviteRefusedError';
  }
}

export type { GroupInfo };

/** Longest display name accepted (Entra's displayName limit). */
export const MAX_DISPLAY_NAME = 256;

/** Checks a display name as typed: trimmed, 1–256 characters, no control characters. */
export function validateDisplayName(raw: string): { ok: true; name: string } | { ok: false; reason: string } {
  const name = raw.trim();
  if (name === '') return { ok: false, reason: "the name can't be empty" };
  // eslint-disable-next-line no-control-regex
  const control = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/.exec(name);
  if (control) {
    const cp = control[0].codePointAt(0) ?? 0;
    return {
      ok: false,
      reason: `the name contains an invisible control character (U+${cp.toString(16).toUpperCase().padStart(4, '0')}); please type it again`,
    };
  }
  const length = Array.from(name).length;
  if (length > MAX_DISPLAY_NAME) {
    return { ok: false, reason: `that name is ${length} characters long; the most is ${MAX_DISPLAY_NAME}` };
  }
  return { ok: true, name };
}

const ENTRA_ADMIN = 'a Global Administrator (Microsoft Entra admin center → External Identities → External collaboration settings)';
const CONSENT_ADMIN = 'an administrator who can grant admin consent to the bot’s app registration (e.g. a Privileged Role Administrator)';

type Clock = () => Date;

interface Evaluation {
  decision: PolicyDecision;
  email: EmailAddress | null;
  displayName: string;
}

/**
 * Inviting one guest: policy first, then an idempotent, concurrency-safe invitation through
 * the Directory, recorded in the invitation repository and the audit log.
 */
export class InviteGuestService {
  private readonly clock: Clock;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly maxAttempts: number;
  private readonly maxBackoffMs: number;
  private readonly lockMs: number;
  private readonly holders: HolderRegistry;
  /** Identical requests in this process join the attempt already running. */
  private readonly inFlight = new Map<string, Promise<InviteOutcome>>();

  constructor(private readonly deps: InviteGuestDependencies) {
    this.clock = deps.clock ?? (() => new Date());
    this.sleep = deps.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.maxAttempts = Math.max(1, deps.maxAttempts ?? 4);
    this.maxBackoffMs = deps.maxBackoffMs ?? 30_000;
    this.lockMs = deps.lockMs ?? 120_000;
    this.holders = deps.holders ?? SOLO_HOLDERS;
  }

  /** The advisor this service checks addresses with (the dialog's prompts reuse it and its caches). */
  get advisor(): SignInAdvisorPort {
    return this.deps.advisor;
  }

  /** Lets the approvals feature plug in after construction (composition order). */
  setApprovalGateway(gateway: ApprovalGateway | null): void {
    this.deps.approvals = gateway;
  }

  /** Policy before anything is sent: ownership (or approval), tenant invitation settings, blocked domains, sharing. */
  async check(actor: Actor, draft: InviteDraft): Promise<PolicyDecision> {
    return (await this.evaluate(actor, draft, false)).decision;
  }

  /** True when an approvals feature is plugged in: non-owners can then ask for an approver's decision. */
  get acceptsApprovalRequests(): boolean {
    return !!this.deps.approvals;
  }

  /**
   * Sends a request that needs approval to the approvals feature. Policy is checked again first
   * (for whoever asks now); `request.conversationRefKey` is where the requester hears the decision.
   */
  async submitForApproval(request: InvitationRequest, justification?: string): Promise<ApprovalReceipt | Refusal> {
    const gateway = this.deps.approvals;
    const { decision } = await this.evaluate(request.requestedBy, request, false);
    if (decision.kind === 'refused') return decision.refusal;
    if (!gateway) return notOwnerRefusal(decision.target.siteName);
    const submitted = await gateway.submit({ request, target: decision.target, advice: decision.advice, justification });
    this.audit(request.requestedBy, 'invitation.submittedForApproval', normaliseEmailForKey(request.email), {
      groupId: request.groupId,
      approvalId: submitted.requestId,
      approvers: submitted.approvers,
      unreachable: submitted.unreachable,
      duplicate: submitted.duplicate,
    });
    return submitted;
  }

  /** Tells the approvals feature where the requester's receipt card is, so it is kept current. */
  requesterCardPosted(requestId: string, conversation: Record<string, unknown>, activityId: string): void {
    this.deps.approvals?.requesterCardPosted?.(requestId, conversation, activityId);
  }

  /** Idempotent on tenant + email + group; N identical concurrent calls → one invitation, one membership. */
  execute(request: InvitationRequest): Promise<InviteOutcome> {
    const parsed = parseEmail(request.email);
    const flightKey = parsed.ok
      ? `${request.requestedBy.tenantId}|${parsed.email.key}|${request.groupId}`
      : `invalid|${request.email}|${request.groupId}|${request.requestedBy.userId}`;
    const running = this.inFlight.get(flightKey);
    if (running) return running.then((o) => ({ ...o, alreadyDone: o.status === 'completed' || o.alreadyDone }));
    const attempt = this.executeOnce(request).finally(() => this.inFlight.delete(flightKey));
    this.inFlight.set(flightKey, attempt);
    return attempt;
  }

  /** Re-tries adding the guest of a 'partial' record to its group; the actor must still be allowed. */
  async retryMembership(recordId: string, actor: Actor): Promise<InviteOutcome> {
    const record = await this.deps.invitations.get(recordId);
    if (!record || record.tenantId !== actor.tenantId) {
      return failedOutcome({
        code: 'unknownSite',
        message: 'I could not find that invitation any more. Start a new one with "invite a guest".',
        setting: null,
        whoCanChange: null,
      });
    }
    const target: InviteTarget = { groupId: record.groupId, siteName: record.siteName, siteUrl: record.siteUrl };
    try {
      const owner = await this.retrying(() => this.deps.directory.isOwner(record.groupId, actor.userId));
      const approvedRequester = record.source === 'approval' && record.requestedBy.id === actor.userId;
      if (!owner && !approvedRequester) {
        this.audit(actor, 'invitation.retryRefused', record.id, { reason: 'notOwner' });
        // Someone else's card: nothing of the invitation (guest, site) goes back, only who may act.
        return failedOutcome({
          code: 'notOwner',
          message: 'Only the person who asked for this invitation or an owner of its site can retry it. Nothing was changed.',
          setting: 'site ownership',
          whoCanChange: 'an owner of the site',
        });
      }
    } catch (e) {
      return { ...failedOutcome(refusalFromError(e, this.maxAttempts)), record, target };
    }
    let advice: SignInAdvice | null = null;
    if (record.state === 'failed' || record.state === 'pending' || !record.userId) {
      // This retry may send an invitation: the tenant's settings may have changed since the first
      // attempt, so they are checked again (rights were checked just above).
      const { decision } = await this.evaluate(
        actor,
        { email: record.emailDisplay, displayName: record.displayName, groupId: record.groupId },
        true,
      );
      if (decision.kind === 'refused') {
        this.audit(actor, 'invitation.retryRefused', record.id, { reason: decision.refusal.code, setting: decision.refusal.setting });
        return { ...failedOutcome(decision.refusal), record, target, advice: decision.advice };
      }
      advice = decision.advice;
    }
    this.audit(actor, 'invitation.retryRequested', record.id, { state: record.state });
    const flightKey = `${record.tenantId}|${record.emailNormalised}|${record.groupId}`;
    const running = this.inFlight.get(flightKey);
    if (running) return running;
    const attempt = this.advance(record, actor, advice, target).finally(() => this.inFlight.delete(flightKey));
    this.inFlight.set(flightKey, attempt);
    return attempt;
  }

  /** SEND_INVITATION_EMAIL: whether Microsoft already emails each new invitation. */
  get emailsInvitations(): boolean {
    return this.deps.sendInvitationEmail;
  }

  /**
   * Has Microsoft email the invitation to a guest who has not accepted yet: POST /invitations
   * again with sendInvitationMessage true. Graph invites the existing guest again (no second
   * user) and the email carries a fresh invitation link, stored on the record. Only the site's
   * owners, or whoever asked for the invitation, may do it; a guest who already accepted is not
   * emailed. https://learn.microsoft.com/en-us/graph/api/invitation-post
   */
  async sendInvitationEmail(recordId: string, actor: Actor): Promise<InviteOutcome & { emailed: boolean }> {
    const record = await this.deps.invitations.get(recordId);
    const none = { ...failedOutcome({ code: 'unknownSite', message: 'I could not find that invitation any more.', setting: null, whoCanChange: null }), emailed: false };
    if (!record || record.tenantId !== actor.tenantId) return none;
    const target: InviteTarget = { groupId: record.groupId, siteName: record.siteName, siteUrl: record.siteUrl };
    const base = { status: record.state === 'completed' ? ('completed' as const) : ('partial' as const), kind: record.outcomeKind, record, redeemUrl: record.redeemUrl, alreadyDone: false, refusal: null, advice: null, target };
    try {
      const owner = await this.retrying(() => this.deps.directory.isOwner(record.groupId, actor.userId));
      if (!owner && record.requestedBy.id !== actor.userId) {
        this.audit(actor, 'invitation.emailRefused', record.id, { reason: 'notOwner' });
        return { ...failedOutcome(notOwnerRefusal(record.siteName)), record, target, emailed: false };
      }
      if (!record.userId || !record.redeemUrl || (record.state !== 'completed' && record.state !== 'partial')) {
        return { ...failedOutcome({ code: 'unknownSite', message: 'This invitation has no link to email yet.', setting: null, whoCanChange: null }), record, target, emailed: false };
      }
      const user = await this.retrying(() => this.deps.directory.getUser(record.userId as string));
      if (user?.externalUserState === 'Accepted') {
        return { ...base, redeemUrl: null, emailed: false, refusal: { code: 'unknownSite', message: `${record.displayName} has already accepted: no email is needed.`, setting: null, whoCanChange: null } };
      }
      const invitation = await this.retrying(() =>
        this.deps.directory.invite({ email: record.emailDisplay, displayName: record.displayName, redirectUrl: record.siteUrl, sendInvitationMessage: true }),
      );
      const updated = (await this.deps.invitations.update(record.id, record.version, { redeemUrl: invitation.redeemUrl, invitationId: invitation.invitationId })) ?? record;
      this.audit(actor, 'invitation.emailed', record.id, { userId: invitation.userId, invitationId: invitation.invitationId, sendInvitationMessage: true });
      return { ...base, record: updated, redeemUrl: invitation.redeemUrl, emailed: true };
    } catch (e) {
      return { ...failedOutcome(refusalFromError(e, this.maxAttempts)), record, target, emailed: false };
    }
  }

  /** Records for one address the actor may see (their own requests, or sites they own), state read from the directory. */
  async statusOf(actor: Actor, email: string): Promise<InvitationStatusView[]> {
    const parsed = parseEmail(email);
    if (!parsed.ok) throw new InviteRefusedError({ code: 'invalidEmail', message: parsed.reason, setting: null, whoCanChange: null });
    const records = await this.deps.invitations.listByEmail(actor.tenantId, parsed.email.key, { limit: 20 });
    const visible: InvitationRecord[] = [];
    for (const r of records) {
      if (r.requestedBy.id === actor.userId || (await this.retrying(() => this.deps.directory.isOwner(r.groupId, actor.userId)))) {
        visible.push(r);
      }
    }
    return this.withDirectoryState(visible);
  }

  /** The actor's own invitations, newest first, with the state read from the directory. */
  async myInvitations(actor: Actor, limit = 10): Promise<InvitationStatusView[]> {
    const records = await this.deps.invitations.listByRequester(actor.tenantId, actor.userId, { limit });
    return this.withDirectoryState(records);
  }

  // ---- internals ----

  private async evaluate(actor: Actor, draft: InviteDraft, approved: boolean): Promise<Evaluation> {
    const refuse = (refusal: Refusal, advice: SignInAdvice | null = null, email: EmailAddress | null = null): Evaluation => ({
      decision: { kind: 'refused', refusal, advice },
      email,
      displayName: draft.displayName,
    });
    const parsed = parseEmail(draft.email);
    if (!parsed.ok) return refuse({ code: 'invalidEmail', message: `${parsed.reason}.`, setting: null, whoCanChange: null });
    const email = parsed.email;
    const name = validateDisplayName(draft.displayName);
    if (!name.ok) return refuse({ code: 'invalidName', message: `${capitalise(name.reason)}.`, setting: null, whoCanChange: null }, null, email);

    try {
      const directory = this.deps.directory;
      const group = await this.retrying(() => directory.getGroup(draft.groupId));
      if (!group) {
        return refuse({ code: 'unknownSite', message: 'I could not find that site.', setting: null, whoCanChange: null }, null, email);
      }
      if (!group.siteUrl || !/^https:\/\//i.test(group.siteUrl)) {
        return refuse(
          { code: 'unknownSite', message: `${group.displayName} has no SharePoint site to invite a guest to.`, setting: null, whoCanChange: null },
          null,
          email,
        );
      }
      const target: InviteTarget = { groupId: group.id, siteName: group.displayName, siteUrl: group.siteUrl };
      const advice = await this.deps.advisor.advise(email.address);
      const policies = await this.retrying(() => directory.readPolicies());

      if (advice.subject === 'internalUser' && !advice.existing) {
        return refuse(
          {
            code: 'internalAddressUnknown',
            message: `${email.display} is an address in your own organisation (${email.displayDomain}), and nobody there has it. Guests are people outside ${policies.tenantDisplayName}.`,
            setting: null,
            whoCanChange: null,
          },
          advice,
          email,
        );
      }
      if (advice.subject === 'blocked' && advice.blockedBy) {
        return refuse(blockedRefusal(advice.blockedBy.setting, advice.blockedBy.explanation, advice.blockedBy.whoCanChange), advice, email);
      }
      // The advisor may hold policies for a few minutes; the ones just read decide (e.g. a domain
      // blocked since a failed attempt, now retried).
      const freshBlock = advice.subject === 'newGuest' ? blockingSettings(email.domain, policies)[0] : undefined;
      if (freshBlock) {
        return refuse(blockedRefusal(freshBlock.setting, freshBlock.explanation, freshBlock.whoCanChange), advice, email);
      }
      const isGuest = advice.subject !== 'internalUser';
      const needsInvitation = advice.subject === 'newGuest' || (advice.subject === 'existingGuest' && advice.existing?.state !== 'Accepted');
      if (needsInvitation && policies.allowInvitesFrom !== 'adminsGuestInvitersAndAllMembers' && policies.allowInvitesFrom !== 'everyone') {
        return refuse(
          {
            code: 'invitesRestricted',
            message: `${policies.tenantDisplayName}'s guest invite settings (authorizationPolicy.allowInvitesFrom = ${policies.allowInvitesFrom}) do not let an app like this bot send invitations; it needs "Member users and users assigned to specific admin roles can invite guests" or more open.`,
            setting: 'authorizationPolicy.allowInvitesFrom',
            whoCanChange: ENTRA_ADMIN,
          },
          advice,
          email,
        );
      }
      if (isGuest && policies.sharePoint.sharingCapability === 'disabled') {
        return refuse(
          blockedRefusal(
            'sharePoint.sharingCapability',
            'SharePoint external sharing is turned off, so a guest could not open the site or its files.',
            'a SharePoint Administrator (SharePoint admin center → Policies → Sharing)',
            'sharingDisabled',
          ),
          advice,
          email,
        );
      }

      const isOwner = await this.retrying(() => directory.isOwner(group.id, actor.userId));
      if (approved) return { decision: { kind: 'allowed', target, advice, isOwner }, email, displayName: name.name };
      const gateway = this.deps.approvals;
      if (gateway) {
        const verdict = await gateway.needsApproval({ actor, email: email.address, domain: email.domain, target, isOwner, advice });
        if (verdict.required) {
          return { decision: { kind: 'needsApproval', target, advice, isOwner, reason: verdict.reason }, email, displayName: name.name };
        }
      }
      if (!isOwner) return refuse(notOwnerRefusal(group.displayName), advice, email);
      return { decision: { kind: 'allowed', target, advice, isOwner }, email, displayName: name.name };
    } catch (e) {
      if (e instanceof InvalidEmailError) {
        return refuse({ code: 'invalidEmail', message: `${e.userMessage}.`, setting: null, whoCanChange: null });
      }
      if (!isDirectoryError(e)) throw e;
      return refuse(refusalFromError(e, this.maxAttempts), null, email);
    }
  }

  private async executeOnce(request: InvitationRequest): Promise<InviteOutcome> {
    const actor = request.requestedBy;
    const { decision, email, displayName } = await this.evaluate(actor, request, !!request.approval);
    if (decision.kind === 'refused' || !email) {
      const refusal =
        decision.kind === 'refused'
          ? decision.refusal
          : { code: 'invalidEmail' as const, message: 'That address is not usable.', setting: null, whoCanChange: null };
      this.audit(actor, 'invitation.refused', email?.key ?? 'invalid-address', {
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
    const { record, created } = await this.deps.invitations.claim(draft);
    this.audit(actor, created ? 'invitation.requested' : 'invitation.requestedAgain', record.id, {
      email: email.key,
      groupId: target.groupId,
      source: draft.source ?? 'chat',
      predictedMethod: advice.method,
      approvalId: request.approval?.requestId ?? null,
      approvedBy: request.approval?.approvedBy.id ?? null,
    });
    return this.advance(record, actor, advice, target, email);
  }

  /** Moves a record forward to 'completed' (or 'partial'/'failed'), holding its lock while it works. */
  private async advance(
    start: InvitationRecord,
    actor: Actor,
    advice: SignInAdvice | null,
    target: InviteTarget,
    email?: EmailAddress,
  ): Promise<InviteOutcome> {
    const repo = this.deps.invitations;
    let record: InvitationRecord | null = start;
    let restoring = false;
    for (let round = 0; round < 20 && record; round++) {
      if (record.state === 'completed') {
        // "Already done" only while the guest is still in the group: someone may have removed them since.
        if (!record.userId || (await this.stillMember(record))) return this.outcomeOf(record, advice, target, true);
        if (!restoring) this.audit(actor, 'invitation.membershipLost', record.id, { userId: record.userId, groupId: record.groupId });
        restoring = true;
      }
      const now = this.clock();
      if (await lockedByLiveHolder(record, this.holders, now.getTime())) {
        // Another live attempt is working on this key: look again shortly (it may release the lock
        // any moment), then report honestly. A lock whose holder died is taken over at once.
        if (round >= 10) return { ...this.outcomeOf(record, advice, target, false), status: 'inProgress' };
        await this.sleep(LOCK_RECHECK_MS);
        record = await repo.get(record.id);
        continue;
      }
      const locked = await repo.update(record.id, record.version, {
        lockedUntil: new Date(now.getTime() + this.lockMs).toISOString(),
        lockedBy: this.holders.holderId,
        attempts: record.attempts + 1,
      });
      if (!locked) {
        record = await repo.get(record.id);
        continue;
      }
      const outcome = await this.work(locked, actor, advice, target, email);
      if (restoring && outcome.status === 'completed') outcome.membershipRestored = true;
      return outcome;
    }
    if (!record) return failedOutcome({ code: 'unknownSite', message: 'That invitation no longer exists.', setting: null, whoCanChange: null });
    return { ...this.outcomeOf(record, advice, target, false), status: 'inProgress' };
  }

  private async work(
    locked: InvitationRecord,
    actor: Actor,
    advice: SignInAdvice | null,
    target: InviteTarget,
    email?: EmailAddress,
  ): Promise<InviteOutcome> {
    const repo = this.deps.invitations;
    const directory = this.deps.directory;
    let record = locked;
    let freshRedeemUrl: string | null = null;

    if (record.state === 'pending' || record.state === 'failed' || !record.userId) {
      try {
        const address = email?.address ?? record.emailDisplay;
        const existing = await this.retrying(() => directory.findUserByEmail(address));
        let patch: InvitationPatch;
        if (existing?.kind === 'member') {
          patch = { state: 'invited', outcomeKind: 'internalUser', userId: existing.id, lastError: null };
        } else if (existing && existing.externalUserState === 'Accepted') {
          patch = { state: 'invited', outcomeKind: 'existingGuest', userId: existing.id, lastError: null };
        } else if (existing && record.inviteAttemptedAt) {
          // This record's own POST went out before (the process stopped, or Graph's answer was
          // lost) and the guest exists: that invitation is ours. No second one; the redeem link
          // of the first is kept if it was recorded.
          patch = { state: 'invited', outcomeKind: record.outcomeKind ?? 'newGuest', userId: existing.id, lastError: null };
          this.audit(actor, 'invitation.foundAfterEarlierAttempt', record.id, { userId: existing.id, attemptedAt: record.inviteAttemptedAt });
        } else {
          // Written before the POST: whatever happens to this process or to Graph's answer, the
          // next attempt knows an invitation may already exist and looks it up first.
          const marked = await repo.update(record.id, record.version, { inviteAttemptedAt: this.clock().toISOString() });
          if (!marked) return this.lostLock(record, advice, target);
          record = marked;
          // New guest, or an existing guest who never redeemed (and was not invited by this record):
          // Graph re-invites an existing guest without creating a second user, which gives a fresh redeem link.
          const invitation = await this.retrying(() =>
            directory.invite({
              email: address,
              displayName: record.displayName,
              redirectUrl: record.siteUrl,
              sendInvitationMessage: this.deps.sendInvitationEmail,
            }),
          );
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
        this.audit(actor, 'invitation.invited', record.id, {
          kind: record.outcomeKind,
          userId: record.userId,
          invitationId: record.invitationId,
          sendInvitationMessage: this.deps.sendInvitationEmail,
        });
      } catch (e) {
        if (!isDirectoryError(e)) {
          await repo.update(record.id, record.version, { lockedUntil: null, lockedBy: null, lastError: 'Unexpected error' });
          throw e;
        }
        const refusal = refusalFromError(e, this.maxAttempts);
        const failed = await repo.update(record.id, record.version, {
          state: 'failed',
          lastError: refusal.message,
          lockedUntil: null,
          lockedBy: null,
          // A definite refusal created nothing: the next attempt (a person asking again) invites.
          ...(definiteRefusal(e) ? { inviteAttemptedAt: null } : {}),
        });
        this.audit(actor, 'invitation.failed', record.id, { code: refusal.code, graphCode: e.graphCode ?? null });
        return { ...failedOutcome(refusal), record: failed ?? record, advice, target };
      }
    }

    // Membership: "already a member" is success; a freshly created user can briefly be unknown.
    const userId = record.userId as string;
    let membershipError: string | null = null;
    try {
      const result = await this.retrying(async () => {
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
      membershipError = refusalFromError(e, this.maxAttempts).message;
    }

    const finished = await repo.update(record.id, record.version, {
      state: membershipError === null ? 'completed' : 'partial',
      lastError: membershipError,
      lockedUntil: null,
      lockedBy: null,
    });
    if (!finished) return this.lostLock(record, advice, target);
    this.audit(actor, membershipError === null ? 'invitation.completed' : 'invitation.partial', finished.id, {
      kind: finished.outcomeKind,
      error: membershipError,
    });
    const outcome = this.outcomeOf(finished, advice, target, false);
    if (freshRedeemUrl) outcome.redeemUrl = freshRedeemUrl;
    return outcome;
  }

  /** Whether a completed record's guest is still in its group; a directory fault answers from the record. */
  private async stillMember(record: InvitationRecord): Promise<boolean> {
    try {
      return await this.retrying(() => this.deps.directory.isMember(record.groupId, record.userId as string));
    } catch (e) {
      if (!isDirectoryError(e)) throw e;
      return true;
    }
  }

  /** Someone took the record over (our lock expired): report what the record says now. */
  private async lostLock(record: InvitationRecord, advice: SignInAdvice | null, target: InviteTarget): Promise<InviteOutcome> {
    const now = await this.deps.invitations.get(record.id);
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

  private async withDirectoryState(records: InvitationRecord[]): Promise<InvitationStatusView[]> {
    if (records.length === 0) return [];
    const directory = this.deps.directory;
    const policies = await this.retrying(() => directory.readPolicies());
    const views: InvitationStatusView[] = [];
    for (const record of records) {
      let user: DirectoryUser | null = null;
      try {
        user = record.userId
          ? await this.retrying(() => directory.getUser(record.userId as string))
          : await this.retrying(() => directory.findUserByEmail(record.emailDisplay));
      } catch (e) {
        if (!isDirectoryError(e)) throw e;
      }
      let current = record;
      const actual = user && user.externalUserState === 'Accepted' ? methodFromIdentities(user.identities, policies) : null;
      if (actual && actual !== record.actualMethod) {
        // Best effort: a concurrent writer wins and the next status read refreshes again.
        current = (await this.deps.invitations.update(record.id, record.version, { actualMethod: actual })) ?? record;
        this.audit({ userId: 'system', name: 'Guest onboarding bot', tenantId: record.tenantId }, 'invitation.redeemed', record.id, {
          actualMethod: actual,
          predictedMethod: record.predictedMethod,
        });
      }
      views.push({
        record: current,
        externalUserState: user ? user.externalUserState : null,
        externalUserStateChangedAt: user ? user.externalUserStateChangeDateTime : null,
        actualMethod: actual ?? current.actualMethod,
      });
    }
    return views;
  }

  /** Retries throttled/transient directory calls with Retry-After or exponential backoff, up to the bound. */
  private async retrying<T>(call: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (e) {
        if (!isDirectoryError(e) || !e.retryable || attempt >= this.maxAttempts) throw e;
        const backoff = e.retryAfterMs ?? 500 * 2 ** (attempt - 1);
        await this.sleep(Math.min(backoff, this.maxBackoffMs));
      }
    }
  }

  private audit(actor: Actor, action: string, subjectId: string, details: Record<string, JsonValue>): void {
    try {
      // Not awaited (as before, when appends were synchronous); a failed append is ignored either way.
      this.deps.audit.append({ actorId: actor.userId, actorName: actor.name, action, subjectType: 'invitation', subjectId, details }).catch(() => undefined);
    } catch {
      // The audit log never decides an invitation's fate; its own tests cover its failures.
    }
  }
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function notOwnerRefusal(siteName: string): Refusal {
  return {
    code: 'notOwner',
    message: `Only the site's owners can invite guests to ${siteName}. Ask one of its owners, or an owner can add you as an owner.`,
    setting: 'site ownership',
    whoCanChange: `an owner of ${siteName}`,
  };
}

function blockedRefusal(setting: string, explanation: string, whoCanChange: string, code: RefusalCode = 'blocked'): Refusal {
  const resolved: RefusalCode = code === 'blocked' && setting.startsWith('sharePoint.sharingCapability') ? 'sharingDisabled' : code;
  return {
    code: setting === 'authorizationPolicy.allowInvitesFrom' ? 'invitesRestricted' : resolved,
    message: `${explanation} (setting: ${setting}; who can change it: ${whoCanChange}). Nothing was sent.`,
    setting,
    whoCanChange,
  };
}

function failedOutcome(refusal: Refusal): InviteOutcome {
  return { status: 'failed', kind: null, record: null, redeemUrl: null, alreadyDone: false, refusal, advice: null, target: null };
}

/** A directory failure in plain words, naming the setting or permission and who can fix it. */
export function refusalFromError(e: unknown, attempts: number): Refusal {
  if (!isDirectoryError(e)) {
    return { code: 'directoryUnavailable', message: 'Something went wrong talking to the directory. Nothing was changed.', setting: null, whoCanChange: null };
  }
  switch (e.code) {
    case 'throttled':
      return {
        code: 'throttled',
        message: `Microsoft Graph is busy (throttling) and refused the request ${attempts} times. Nothing more was changed; please try again in a few minutes.`,
        setting: null,
        whoCanChange: null,
      };
    case 'transient':
      return {
        code: 'directoryUnavailable',
        message: `Microsoft Graph had a temporary problem (${attempts} tries). Please try again in a few minutes.`,
        setting: null,
        whoCanChange: null,
      };
    case 'permissionMissing':
      return {
        code: 'permissionMissing',
        message: `${e.userMessage} Nothing was changed.`,
        setting: e.permission ? `Microsoft Graph application permission ${e.permission}` : 'Microsoft Graph application permissions',
        whoCanChange: CONSENT_ADMIN,
      };
    case 'forbiddenByPolicy':
      return {
        code: 'blocked',
        message: `${e.userMessage} Nothing was sent.`,
        setting: 'B2B collaboration settings',
        whoCanChange: ENTRA_ADMIN,
      };
    case 'invalidInput':
      return { code: 'invalidEmail', message: e.userMessage, setting: null, whoCanChange: null };
    default:
      return { code: 'directoryUnavailable', message: e.userMessage, setting: null, whoCanChange: null };
  }
}

/** The telemetry label of an invitation record's source ("chat", "approval" or "bulk:<job>"). */
function invitationSource(source: string): InvitationSource {
  if (source === 'approval') return 'approval';
  return source.startsWith('bulk:') ? 'bulk' : 'chat';
}
