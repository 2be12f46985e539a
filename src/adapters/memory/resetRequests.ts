/**
 * Guests' reset requests in memory: at most one open per guest, each change audited in the same
 * synchronous step, listed oldest first, exactly as the SQLite adapter does.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../../domain/clock';
import type {
  NewResetRequest,
  ResetRequest,
  ResetRequestReceipt,
  ResetRequestRepository,
} from '../../usecases/approvals/ports';
import type { ApprovalCompanionWriters } from '../approvalCompanions';
import { resetClosedAudit, resetRequestedAudit } from '../../usecases/approvals/ports';

export class MemoryResetRequestRepository implements ResetRequestRepository {
  private readonly rows = new Map<string, ResetRequest>();

  constructor(
    private readonly clock: Clock,
    private readonly audit: ApprovalCompanionWriters['audit'],
  ) {}

  async submit(input: NewResetRequest): Promise<ResetRequestReceipt> {
    const existing = this.openOf(input.tenantId, input.userId);
    if (existing) return { request: { ...existing }, alreadyOpen: true };
    const now = this.clock.now().toISOString();
    const request: ResetRequest = { ...input, id: randomUUID(), status: 'open', requestedAt: now, updatedAt: now };
    this.audit.appendSync(resetRequestedAudit(request));
    this.rows.set(request.id, request);
    return { request: { ...request }, alreadyOpen: false };
  }

  async findOpen(tenantId: string, userId: string): Promise<ResetRequest | null> {
    const row = this.openOf(tenantId, userId);
    return row ? { ...row } : null;
  }

  async listOpen(tenantId: string): Promise<ResetRequest[]> {
    return [...this.rows.values()]
      .filter((r) => r.tenantId === tenantId && r.status === 'open')
      .sort((a, b) => (a.requestedAt < b.requestedAt ? -1 : a.requestedAt > b.requestedAt ? 1 : a.id < b.id ? -1 : 1))
      .map((r) => ({ ...r }));
  }

  async close(id: string, status: 'done' | 'declined', by: { userId: string; name: string }): Promise<boolean> {
    const row = this.rows.get(id);
    if (!row || row.status !== 'open') return false;
    this.audit.appendSync(resetClosedAudit(id, status, by));
    this.rows.set(id, { ...row, status, updatedAt: this.clock.now().toISOString() });
    return true;
  }

  private openOf(tenantId: string, userId: string): ResetRequest | undefined {
    return [...this.rows.values()].find((r) => r.tenantId === tenantId && r.userId === userId && r.status === 'open');
  }
}
