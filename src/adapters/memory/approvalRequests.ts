/**
 * Approval requests, their deliveries and the requester notices in memory: the same rules as the
 * SQLite adapter (compare-and-set on version, first outcome only, notice claims with a lease,
 * the same orderings), each method one synchronous step. Records are copied in and out, so a
 * caller never holds a live row.
 */
import { randomUUID } from 'node:crypto';
import type { ApprovalCompanionWriters } from '../approvalCompanions';
import type {
  ApprovalOutcomeStatus,
  ApprovalRequest,
  CasResult,
  Decision,
  Delivery,
  NewApprovalRequest,
  NewDelivery,
  NewRequesterNotice,
  RequesterNotice,
} from '../../usecases/approvals/model';
import { byCreated, newApprovalRequest } from '../../usecases/approvals/model';
import type {
  ApprovalRequestRepository,
  DecisionCompanions,
  FirstOutcomeResult,
  OutcomeCompanions,
} from '../../usecases/approvals/ports';

interface NoticeRow extends RequesterNotice {
  claimedUntil: string | null;
}

const copy = <T>(value: T): T => structuredClone(value);

export class MemoryApprovalRequestRepository implements ApprovalRequestRepository {
  private readonly requests = new Map<string, ApprovalRequest>();
  private readonly deliveries: Delivery[] = [];
  private readonly notices: NoticeRow[] = [];

  constructor(private readonly companions: ApprovalCompanionWriters) {}

  async create(input: NewApprovalRequest, id: string = randomUUID()): Promise<ApprovalRequest> {
    if (this.requests.has(id)) throw new Error(`approval request ${id} exists already`);
    const request = newApprovalRequest(id, input);
    this.requests.set(id, request);
    return copy(request);
  }

  async get(id: string): Promise<ApprovalRequest | null> {
    const r = this.requests.get(id);
    return r ? copy(r) : null;
  }

  async listPending(tenantId: string): Promise<ApprovalRequest[]> {
    return this.select((r) => r.tenantId === tenantId && r.state === 'pending').sort(byCreated);
  }

  async listDueForExpiry(nowIso: string): Promise<ApprovalRequest[]> {
    return this.select((r) => r.state === 'pending' && r.expiresAt <= nowIso).sort((a, b) =>
      a.expiresAt < b.expiresAt ? -1 : a.expiresAt > b.expiresAt ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0,
    );
  }

  async findPendingInvitation(tenantId: string, guestEmail: string, groupId: string): Promise<ApprovalRequest | null> {
    const email = guestEmail.toLowerCase();
    const found = this.select(
      (r) =>
        r.tenantId === tenantId &&
        r.state === 'pending' &&
        r.subject.kind === 'invitation' &&
        r.subject.guestEmail.toLowerCase() === email &&
        r.subject.groupId === groupId,
    ).sort(byCreated);
    return found[0] ?? null;
  }

  async findPendingReset(tenantId: string, guestUserId: string): Promise<ApprovalRequest | null> {
    const found = this.select(
      (r) => r.tenantId === tenantId && r.state === 'pending' && r.subject.kind === 'redemptionReset' && r.subject.guestUserId === guestUserId,
    ).sort(byCreated);
    return found[0] ?? null;
  }

  async decide(id: string, expectedVersion: number, decision: Decision, companions?: DecisionCompanions): Promise<CasResult> {
    return this.pendingCas(id, expectedVersion, (r) => {
      // Companions first: one that throws leaves the request as it was (as the SQLite rollback does).
      if (companions) {
        this.companions.audit.appendSync(companions.audit);
        if (companions.lease) {
          if (!this.companions.leases) throw new Error('MemoryApprovalRequestRepository: no lease store to take a lease in');
          this.companions.leases.acquireSync(companions.lease.key, companions.lease.holderId, companions.lease.ttlMs);
        }
      }
      r.state = decision.state;
      r.decidedAt = decision.at;
      r.decidedBy = decision.by ? { ...decision.by } : null;
      r.decisionNote = decision.note;
    });
  }

  async requestInfo(id: string, expectedVersion: number, by: { name: string }, question: string, at: string): Promise<CasResult> {
    return this.pendingCas(id, expectedVersion, (r) => {
      r.infoRequest = { byName: by.name, question, at };
    });
  }

  async appendJustification(id: string, expectedVersion: number, justification: string): Promise<CasResult> {
    return this.pendingCas(id, expectedVersion, (r) => {
      r.justification = justification;
      r.infoRequest = null;
    });
  }

  async recordFirstOutcome(
    id: string,
    outcome: { status: ApprovalOutcomeStatus; message: string; at: string },
    companions: OutcomeCompanions,
  ): Promise<FirstOutcomeResult> {
    const r = this.requests.get(id);
    if (!r || r.state !== 'approved' || r.outcome !== null) return { won: false, current: r ? copy(r) : null };
    this.companions.audit.appendSync(companions.audit);
    r.outcome = { status: outcome.status, message: outcome.message, at: outcome.at };
    r.version += 1;
    this.supersedeSync((n) => n.requestId === id);
    const notice = this.addNotice({ ...companions.notice, requestId: id, requesterId: r.requester.userId, requestVersion: r.version });
    return { won: true, request: copy(r), notice };
  }

  async listApprovedWithoutOutcome(decidedBeforeIso: string): Promise<ApprovalRequest[]> {
    return this.select((r) => r.state === 'approved' && r.outcome === null && r.decidedAt !== null && r.decidedAt <= decidedBeforeIso).sort(
      (a, b) => ((a.decidedAt ?? '') < (b.decidedAt ?? '') ? -1 : (a.decidedAt ?? '') > (b.decidedAt ?? '') ? 1 : a.id < b.id ? -1 : 1),
    );
  }

  async listUndeliveredFor(recipientId: string): Promise<ApprovalRequest[]> {
    const mine = this.deliveries.filter((d) => d.recipientId === recipientId && d.purpose === 'card');
    const failed = new Set(mine.filter((d) => d.status === 'unreachable' || d.status === 'failed').map((d) => d.requestId));
    const reached = new Set(mine.filter((d) => d.status === 'sent').map((d) => d.requestId));
    return this.select((r) => r.state === 'pending' && failed.has(r.id) && !reached.has(r.id)).sort(byCreated);
  }

  async recordDelivery(delivery: NewDelivery): Promise<Delivery> {
    if (!this.requests.has(delivery.requestId)) throw new Error(`no approval request ${delivery.requestId}`);
    const row: Delivery = { ...copy(delivery), id: this.deliveries.length + 1 };
    this.deliveries.push(row);
    return copy(row);
  }

  async listDeliveries(requestId: string): Promise<Delivery[]> {
    return this.deliveries.filter((d) => d.requestId === requestId).map(copy);
  }

  async listCardCopies(requestId: string): Promise<Delivery[]> {
    return this.deliveries
      .filter((d) => d.requestId === requestId && d.purpose === 'card' && d.status === 'sent' && d.activityId !== null)
      .map(copy);
  }

  async recordPendingNotice(notice: NewRequesterNotice): Promise<RequesterNotice> {
    if (!this.requests.has(notice.requestId)) throw new Error(`no approval request ${notice.requestId}`);
    return this.addNotice(notice);
  }

  async getNotice(id: number): Promise<RequesterNotice | null> {
    const n = this.notices[id - 1];
    return n ? this.publicNotice(n) : null;
  }

  async listNotices(requestId: string): Promise<RequesterNotice[]> {
    return this.notices.filter((n) => n.requestId === requestId).map((n) => this.publicNotice(n));
  }

  async listPendingNoticesFor(requesterId: string): Promise<RequesterNotice[]> {
    return this.notices.filter((n) => n.requesterId === requesterId && n.state === 'pending').map((n) => this.publicNotice(n));
  }

  async listPendingNoticesForConversation(conversationId: string): Promise<RequesterNotice[]> {
    return this.notices
      .filter((n) => n.state === 'pending' && this.requests.get(n.requestId)?.requesterConversationId === conversationId)
      .map((n) => this.publicNotice(n));
  }

  async listNoticesDueForRetry(lastAttemptBeforeIso: string, maxAttempts: number): Promise<RequesterNotice[]> {
    return this.notices
      .filter((n) => n.state === 'pending' && n.lastAttemptAt <= lastAttemptBeforeIso && n.attempts < maxAttempts)
      .sort((a, b) => (a.lastAttemptAt < b.lastAttemptAt ? -1 : a.lastAttemptAt > b.lastAttemptAt ? 1 : a.id - b.id))
      .map((n) => this.publicNotice(n));
  }

  async claimNotice(id: number, nowIso: string, leaseUntilIso: string): Promise<boolean> {
    const n = this.notices[id - 1];
    if (!n || n.state !== 'pending' || (n.claimedUntil !== null && n.claimedUntil > nowIso)) return false;
    n.claimedUntil = leaseUntilIso;
    n.attempts += 1;
    n.lastAttemptAt = nowIso;
    return true;
  }

  async markNoticeDelivered(id: number, at: string): Promise<void> {
    const n = this.notices[id - 1];
    if (!n || n.state !== 'pending') return;
    n.state = 'delivered';
    n.deliveredAt = at;
    n.claimedUntil = null;
    n.lastError = null;
  }

  async releaseNotice(id: number, error: string | null): Promise<void> {
    const n = this.notices[id - 1];
    if (!n || n.state !== 'pending') return;
    n.claimedUntil = null;
    n.lastError = error;
  }

  async supersedeNotice(id: number): Promise<void> {
    this.supersedeSync((n) => n.id === id);
  }

  async supersedeNotices(requestId: string): Promise<void> {
    this.supersedeSync((n) => n.requestId === requestId);
  }

  // ---------------------------------------------------------------- internals

  private select(keep: (r: ApprovalRequest) => boolean): ApprovalRequest[] {
    return [...this.requests.values()].filter(keep).map(copy);
  }

  /** The compare-and-set every pending change goes through: state pending and version as expected. */
  private pendingCas(id: string, expectedVersion: number, change: (r: ApprovalRequest) => void): CasResult {
    const r = this.requests.get(id);
    if (!r || r.state !== 'pending' || r.version !== expectedVersion) return { won: false, current: r ? copy(r) : null };
    const next = copy(r);
    change(next);
    next.version += 1;
    this.requests.set(id, next);
    return { won: true, request: copy(next) };
  }

  private addNotice(n: NewRequesterNotice): RequesterNotice {
    const row: NoticeRow = {
      id: this.notices.length + 1,
      requestId: n.requestId,
      requesterId: n.requesterId,
      requestVersion: n.requestVersion,
      notice: n.notice ? { ...n.notice } : null,
      redeemUrl: n.redeemUrl,
      state: 'pending',
      attempts: 1,
      createdAt: n.at,
      lastAttemptAt: n.at,
      lastError: n.error,
      deliveredAt: null,
      claimedUntil: n.claimedUntil ?? null,
    };
    this.notices.push(row);
    return this.publicNotice(row);
  }

  private supersedeSync(which: (n: NoticeRow) => boolean): void {
    for (const n of this.notices) {
      if (n.state === 'pending' && which(n)) {
        n.state = 'superseded';
        n.claimedUntil = null;
      }
    }
  }

  private publicNotice(n: NoticeRow): RequesterNotice {
    const { claimedUntil: _claimed, ...rest } = n;
    return copy(rest);
  }
}
