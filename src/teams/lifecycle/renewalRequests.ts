/**
 * The renewal approvals gate over Teams (RenewalApprovals): when APPROVAL_POLICY says a renewal
 * needs an approver, the request is recorded once per access and end date, and a card
 * (cards/lifecycleRenewalRequest.json) goes to each member of the approver group (the same group
 * and roster the approvals feature uses) in their personal chat, or waits for them
 * (PendingNotices). Approve carries the renewal out through the lifecycle (approveRenewal, which
 * re-checks approver rights and renews once); Reject records the decision. Either way the other
 * approvers' copies are updated and the person who asked is told.
 */
import { createHash } from 'node:crypto';
import type { Activity, ConversationReference, Storage } from 'botbuilder';
import type { Actor } from '../../domain/actor';
import type { Clock } from '../../domain/clock';
import type { UserSummary } from '../../domain/tenant';
import type { Logger } from '../../shared/logger';
import type { GuestLifecycle } from '../../usecases/lifecycle/guestLifecycle';
import type { GuestAccessSummary, RenewalApprovalRequest, RenewalApprovals, Sponsor } from '../../usecases/lifecycle/ports';
import type { LeaseStore } from '../../usecases/ports/leases';
import type { NotifyResult } from '../bot/proactive';
import { cardAttachment, type AdaptiveCard } from '../cards';
import { formatDate } from './cards/common';
import { lifecycleMessageCard } from './cards/resultCard';
import { renewalRequestCard } from './cards/renewalRequestCard';
import type { PendingNotices } from './pendingNotices';
import type { PersonalChats } from './lifecycleNotifier';
import { changeDocument, readDocument } from './storedDocument';

export type RenewalRequestState = 'pending' | 'approved' | 'rejected';

export interface RenewalRequestCopy {
  userId: string;
  activityId: string;
  reference: Partial<ConversationReference>;
}

export interface RenewalRequestRecord {
  id: string;
  accessId: string;
  forEndsAt: string;
  requestedBy: Sponsor;
  access: GuestAccessSummary;
  newEndsAt: string | null;
  reasons: string[];
  state: RenewalRequestState;
  decidedBy: Sponsor | null;
  decidedAt: string | null;
  createdAt: string;
  /** The cards posted to approvers, to update them once decided. */
  copies: RenewalRequestCopy[];
}

/** Sends and updates cards outside a turn (Notifier in teams/bot/proactive.ts). */
export interface RenewalSender {
  send(reference: Partial<ConversationReference>, activity: string | Partial<Activity>): Promise<NotifyResult>;
  update(reference: Partial<ConversationReference>, activityId: string, card: AdaptiveCard): Promise<NotifyResult>;
}

/** Who approves: the approvals feature's approver group, listed and checked in the directory. */
export interface ApproverDirectory {
  listGroupMembers(groupId: string): Promise<UserSummary[]>;
  isMember(groupId: string, userId: string): Promise<boolean>;
}

export interface RenewalGateDeps {
  storage: Storage;
  leases: LeaseStore;
  holderId: string;
  directory: ApproverDirectory;
  approverGroupId: string;
  chats: PersonalChats;
  sender: RenewalSender;
  pending: PendingNotices;
  clock: Clock;
  logger?: Pick<Logger, 'warn'>;
}

/** One request per access and end date: the same id whoever asks, however often. */
export function renewalRequestId(accessId: string, forEndsAt: string): string {
  return createHash('sha256').update(`${accessId}|${forEndsAt}`).digest('hex').slice(0, 32);
}

const documentKey = (id: string): string => `lifecycle/renewalRequests/${id}`;
/** The once-claim that makes a request's creation (and its cards) happen once across instances. */
const claimKey = (id: string): string => `lifecycle.renewalRequest:${id}`;
const CLAIM_MS = 10 * 60_000;

export type RenewalDecisionResult = { card: AdaptiveCard };

/** What a decision does through the lifecycle: renew (approve), and audit a rejection or a refused click. */
export type RenewalDecisionEffects = Pick<GuestLifecycle, 'approveRenewal' | 'renewalRejected' | 'renewalDecisionRefused'>;

export class TeamsRenewalApprovals implements RenewalApprovals {
  constructor(private readonly deps: RenewalGateDeps) {}

  async isApprover(userId: string): Promise<boolean> {
    try {
      return await this.deps.directory.isMember(this.deps.approverGroupId, userId);
    } catch {
      return false;
    }
  }

  async get(requestId: string): Promise<RenewalRequestRecord | null> {
    return (await readDocument<RenewalRequestRecord>(this.deps.storage, documentKey(requestId)))?.value ?? null;
  }

  async submit(request: RenewalApprovalRequest): Promise<{ requestId: string; created: boolean }> {
    const id = renewalRequestId(request.accessId, request.forEndsAt);
    if (await this.get(id)) return { requestId: id, created: false };
    // Of two clicks (or instances) one creates it and posts the cards; the other answers "already".
    if (!(await this.deps.leases.acquire(claimKey(id), this.deps.holderId, CLAIM_MS))) return { requestId: id, created: false };
    const record: RenewalRequestRecord = {
      id,
      accessId: request.accessId,
      forEndsAt: request.forEndsAt,
      requestedBy: { ...request.requestedBy },
      access: request.access,
      newEndsAt: request.newEndsAt,
      reasons: [...request.reasons],
      state: 'pending',
      decidedBy: null,
      decidedAt: null,
      createdAt: this.deps.clock.now().toISOString(),
      copies: [],
    };
    await changeDocument<RenewalRequestRecord, void>(this.deps.storage, documentKey(id), (current) => ({ next: current ? null : record, result: undefined }));
    const copies = await this.postToApprovers(record);
    await changeDocument<RenewalRequestRecord, void>(this.deps.storage, documentKey(id), (current) =>
      current ? { next: { ...current, copies: [...current.copies, ...copies] }, result: undefined } : { next: null, result: undefined },
    );
    await this.deps.leases.complete(claimKey(id), this.deps.holderId);
    return { requestId: id, created: true };
  }

  private async postToApprovers(record: RenewalRequestRecord): Promise<RenewalRequestCopy[]> {
    let approvers: UserSummary[] = [];
    try {
      approvers = await this.deps.directory.listGroupMembers(this.deps.approverGroupId);
    } catch (error) {
      this.deps.logger?.warn({ requestId: record.id, err: error instanceof Error ? error.name : 'error' }, 'lifecycle: could not list the approvers');
    }
    const copies: RenewalRequestCopy[] = [];
    const card = renewalRequestCard(record);
    for (const approver of approvers) {
      if (approver.id === record.requestedBy.id) continue;
      const activity: Partial<Activity> = { type: 'message', attachments: [cardAttachment(card)] };
      const chat = await this.deps.chats.getPersonal(approver.id);
      const sent = chat ? await this.deps.sender.send(chat.reference, activity) : null;
      if (chat && sent?.ok && sent.activityId) copies.push({ userId: approver.id, activityId: sent.activityId, reference: chat.reference });
      else if (!sent?.ok) await this.deps.pending.add(approver.id, `renewalRequest:${record.id}`, activity);
    }
    return copies;
  }

  /**
   * An approver's decision. Rights are asked now (approver group; the person who asked cannot
   * decide their own request); Approve renews through `approve` (lifecycle.approveRenewal, once per
   * end date). A decided request answers with how it was decided, and changes nothing.
   */
  async decide(actor: Actor | null, requestId: string, decision: 'approve' | 'reject', lifecycle: RenewalDecisionEffects): Promise<AdaptiveCard> {
    const record = await this.get(requestId);
    if (!record) return lifecycleMessageCard('Nothing was changed', ['I could not find that renewal request.']);
    if (!actor) return lifecycleMessageCard('Nothing was changed', ['I could not tell who you are, so nothing was changed.']);
    if (record.state !== 'pending') return renewalRequestCard(record, 'This request was already decided; nothing was changed now.');
    const refusal = !(await this.isApprover(actor.userId)) ? ('notApprover' as const) : actor.userId === record.requestedBy.id ? ('ownRequest' as const) : null;
    if (refusal) {
      await lifecycle.renewalDecisionRefused(actor, { accessId: record.accessId, requestId: record.id, decision, reason: refusal });
      return renewalRequestCard(
        record,
        refusal === 'notApprover'
          ? 'Only members of the guest approver group can decide on this request. Nothing was changed.'
          : 'You asked for this renewal, so another approver has to decide it. Nothing was changed.',
      );
    }
    let outcomeText: string;
    if (decision === 'approve') {
      const outcome = await lifecycle.approveRenewal(actor, { accessId: record.accessId, forEndsAt: record.forEndsAt });
      if (outcome.kind === 'refused' || outcome.kind === 'needsAdmin') return renewalRequestCard(record, `${outcome.message} Nothing was changed.`);
      outcomeText =
        outcome.kind === 'done'
          ? `Renewed: ${record.access.guestName}'s access now ends on ${formatDate(outcome.endsAt ?? null) || 'no set date'}.`
          : outcome.message;
    } else {
      outcomeText = `Rejected: ${record.access.guestName}'s access still ends on ${formatDate(record.forEndsAt)}.`;
    }
    const now = this.deps.clock.now().toISOString();
    const decided = await changeDocument<RenewalRequestRecord, { record: RenewalRequestRecord; won: boolean }>(this.deps.storage, documentKey(requestId), (current) => {
      if (!current) return { next: null, result: { record, won: false } };
      if (current.state !== 'pending') return { next: null, result: { record: current, won: false } };
      const next: RenewalRequestRecord = { ...current, state: decision === 'approve' ? 'approved' : 'rejected', decidedBy: { id: actor.userId, name: actor.name }, decidedAt: now };
      return { next, result: { record: next, won: true } };
    });
    if (!decided.won) return renewalRequestCard(decided.record, 'Another approver decided first; nothing was changed now.');
    // An approval is audited by the renewal itself (guestAccess.renewed); a rejection only here, by the click that recorded it.
    if (decision === 'reject') await lifecycle.renewalRejected(actor, { accessId: record.accessId, forEndsAt: record.forEndsAt, requestId: record.id });
    await this.afterDecision(decided.record, actor, outcomeText);
    return renewalRequestCard(decided.record, outcomeText);
  }

  /** The other approvers' copies show the decision; the person who asked is told. */
  private async afterDecision(record: RenewalRequestRecord, actor: Actor, outcomeText: string): Promise<void> {
    const card = renewalRequestCard(record, outcomeText);
    for (const copy of record.copies) {
      if (copy.userId === actor.userId) continue;
      const result = await this.deps.sender.update(copy.reference, copy.activityId, card);
      if (!result.ok) this.deps.logger?.warn({ requestId: record.id, reason: result.reason }, 'lifecycle: could not update a renewal request card');
    }
    const told = lifecycleMessageCard(
      record.state === 'approved' ? `${record.access.guestName}'s renewal was approved` : `${record.access.guestName}'s renewal was rejected`,
      [`${actor.name || 'An approver'} decided. ${outcomeText}`],
      record.state === 'approved' ? 'good' : 'attention',
    );
    const activity: Partial<Activity> = { type: 'message', attachments: [cardAttachment(told)] };
    const chat = await this.deps.chats.getPersonal(record.requestedBy.id);
    const sent = chat ? await this.deps.sender.send(chat.reference, activity) : null;
    if (!sent?.ok) await this.deps.pending.add(record.requestedBy.id, `renewalDecision:${record.id}`, activity);
  }
}
