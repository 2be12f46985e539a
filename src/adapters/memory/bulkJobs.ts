import { randomUUID } from 'node:crypto';
import { systemClock, type Clock } from '../../domain/clock';
import {
  ACTIVE_JOB_STATES,
  DRAFT_JOB_STATES,
  emptyCounts,
  UNFINISHED_ROW_STATES,
  type BulkJob,
  type BulkJobPatch,
  type BulkJobState,
  type BulkRow,
  type BulkRowPatch,
  type BulkRowState,
  type BulkSite,
  type InvitationEmails,
  type NewBulkJob,
  type NewBulkRow,
  type RowCounts,
  newBulkRow,
} from '../../domain/bulkJob';
import type { BulkJobRepository } from '../../usecases/bulk/ports';

interface StoredJob {
  job: BulkJob;
  /** Insertion order: the tie-break when two jobs were created in the same millisecond. */
  seq: number;
  rows: Map<number, BulkRow>;
}

/** Copies in and out, so nobody changes what is stored by holding on to an object. */
const copy = <T>(value: T): T => structuredClone(value);

/**
 * Bulk jobs and rows in memory: the same observable behaviour as the SQLite repository
 * (compare-and-set on the version, idempotent row insert, rows in file order, keyset paging),
 * every method one synchronous step. For tests and single-process demos.
 */
export class MemoryBulkJobRepository implements BulkJobRepository {
  private readonly jobs = new Map<string, StoredJob>();
  private seq = 0;
  private readonly clock: Clock;
  private readonly newId: () => string;

  constructor(options: { clock?: Clock; newId?: () => string } = {}) {
    this.clock = options.clock ?? systemClock;
    this.newId = options.newId ?? randomUUID;
  }

  private sortedRows(jobId: string): BulkRow[] {
    const stored = this.jobs.get(jobId);
    if (!stored) return [];
    return [...stored.rows.values()].sort((a, b) => a.rowNumber - b.rowNumber);
  }

  private page(rows: BulkRow[], afterRow: number, limit: number, keep: (row: BulkRow) => boolean): BulkRow[] {
    const out: BulkRow[] = [];
    for (const row of rows) {
      if (out.length >= limit) break;
      if (row.rowNumber > afterRow && keep(row)) out.push(copy(row));
    }
    return out;
  }

  async createDraft(input: NewBulkJob): Promise<BulkJob> {
    const job: BulkJob = {
      id: this.newId(),
      tenantId: input.tenantId,
      requestedBy: { ...input.requestedBy },
      conversationId: input.conversationId,
      conversationRef: null,
      progressActivityId: null,
      defaultSite: input.defaultSite ? { ...input.defaultSite } : null,
      state: 'draft',
      summary: copy(input.summary),
      error: null,
      leaseOwner: null,
      leaseUntil: null,
      createdAt: this.clock.now().getTime(),
      startedAt: null,
      finishedAt: null,
      finishedEventPending: false,
      version: 1,
    };
    if (this.jobs.has(job.id)) throw new Error('bulk job id already taken');
    this.jobs.set(job.id, { job, seq: this.seq++, rows: new Map() });
    return copy(job);
  }

  async get(id: string): Promise<BulkJob | null> {
    const stored = this.jobs.get(id);
    return stored ? copy(stored.job) : null;
  }

  private updateNow(id: string, expectedVersion: number, patch: BulkJobPatch): BulkJob | null {
    const stored = this.jobs.get(id);
    if (!stored || stored.job.version !== expectedVersion) return null;
    const next: BulkJob = { ...stored.job, version: stored.job.version + 1 };
    for (const [key, value] of Object.entries(patch) as Array<[keyof BulkJobPatch, unknown]>) {
      (next as unknown as Record<string, unknown>)[key] = value === undefined ? null : copy(value);
    }
    stored.job = next;
    return copy(next);
  }

  async update(id: string, expectedVersion: number, patch: BulkJobPatch): Promise<BulkJob | null> {
    return this.updateNow(id, expectedVersion, patch);
  }

  async transition(id: string, from: readonly BulkJobState[], patch: BulkJobPatch): Promise<BulkJob | null> {
    const stored = this.jobs.get(id);
    if (!stored || !from.includes(stored.job.state)) return null;
    return this.updateNow(id, stored.job.version, patch);
  }

  async listActive(): Promise<BulkJob[]> {
    return [...this.jobs.values()]
      .filter((s) => ACTIVE_JOB_STATES.includes(s.job.state))
      .sort((a, b) => a.job.createdAt - b.job.createdAt || a.seq - b.seq)
      .map((s) => copy(s.job));
  }

  async listFinishedEventPending(): Promise<BulkJob[]> {
    return [...this.jobs.values()]
      .filter((s) => s.job.finishedEventPending)
      .sort((a, b) => a.job.createdAt - b.job.createdAt || a.seq - b.seq)
      .map((s) => copy(s.job));
  }

  async listByRequester(tenantId: string, requesterId: string, limit = 10): Promise<BulkJob[]> {
    return [...this.jobs.values()]
      .filter((s) => s.job.tenantId === tenantId && s.job.requestedBy.id === requesterId)
      .sort((a, b) => b.job.createdAt - a.job.createdAt || b.seq - a.seq)
      .slice(0, Math.max(0, limit))
      .map((s) => copy(s.job));
  }

  async insertRows(jobId: string, rows: readonly NewBulkRow[]): Promise<void> {
    const stored = this.jobs.get(jobId);
    // As the SQLite foreign key: rows belong to a job.
    if (!stored) throw new Error(`bulk job ${jobId} does not exist`);
    for (const r of rows) {
      if (stored.rows.has(r.rowNumber)) continue;
      stored.rows.set(r.rowNumber, newBulkRow(jobId, r));
    }
  }

  async assignDefaultSite(jobId: string, site: BulkSite): Promise<void> {
    for (const row of this.jobs.get(jobId)?.rows.values() ?? []) {
      if (row.groupId !== null) continue;
      row.groupId = site.groupId;
      row.siteName = site.siteName;
      row.siteUrl = site.siteUrl;
    }
  }

  async updateRow(jobId: string, rowNumber: number, patch: BulkRowPatch): Promise<void> {
    const row = this.jobs.get(jobId)?.rows.get(rowNumber);
    if (!row) return;
    for (const [key, value] of Object.entries(patch) as Array<[keyof BulkRowPatch, unknown]>) {
      (row as unknown as Record<string, unknown>)[key] = value === undefined ? null : value;
    }
  }

  async getRow(jobId: string, rowNumber: number): Promise<BulkRow | null> {
    const row = this.jobs.get(jobId)?.rows.get(rowNumber);
    return row ? copy(row) : null;
  }

  async dueRows(jobId: string, afterRow: number, now: number, limit: number): Promise<BulkRow[]> {
    return this.page(this.sortedRows(jobId), afterRow, limit, (r) => UNFINISHED_ROW_STATES.includes(r.state) && r.nextAttemptAt <= now);
  }

  async rowsInState(jobId: string, state: BulkRowState, afterRow: number, limit: number): Promise<BulkRow[]> {
    return this.page(this.sortedRows(jobId), afterRow, limit, (r) => r.state === state);
  }

  async rowsAfter(jobId: string, afterRow: number, limit: number): Promise<BulkRow[]> {
    return this.page(this.sortedRows(jobId), afterRow, limit, () => true);
  }

  async nextDue(jobId: string): Promise<number | null> {
    let min: number | null = null;
    for (const row of this.jobs.get(jobId)?.rows.values() ?? []) {
      if (UNFINISHED_ROW_STATES.includes(row.state) && (min === null || row.nextAttemptAt < min)) min = row.nextAttemptAt;
    }
    return min;
  }

  private invitedRows(jobId: string): BulkRow[] {
    return this.sortedRows(jobId).filter((r) => r.state === 'done' && r.redeemUrl !== null);
  }

  async invitationEmails(jobId: string, defaultSend: boolean): Promise<InvitationEmails> {
    const invited = this.invitedRows(jobId);
    const emailed = invited.filter((r) => r.sendEmail ?? defaultSend).length;
    return { invited: invited.length, emailed, notEmailed: invited.length - emailed };
  }

  async rowsNotEmailed(jobId: string, defaultSend: boolean, afterRow: number, limit: number): Promise<BulkRow[]> {
    return this.page(this.invitedRows(jobId), afterRow, limit, (r) => !(r.sendEmail ?? defaultSend));
  }

  async counts(jobId: string): Promise<RowCounts> {
    const counts = emptyCounts();
    for (const row of this.jobs.get(jobId)?.rows.values() ?? []) counts[row.state]++;
    return counts;
  }

  async cancelRemaining(jobId: string, reason: string, time: string): Promise<number> {
    let n = 0;
    for (const row of this.jobs.get(jobId)?.rows.values() ?? []) {
      if (row.state !== 'pending') continue;
      row.state = 'cancelled';
      row.error = reason;
      row.time = time;
      n++;
    }
    return n;
  }

  async discardDraftsOlderThan(cutoff: number): Promise<number> {
    let n = 0;
    for (const [id, stored] of this.jobs) {
      if (DRAFT_JOB_STATES.includes(stored.job.state) && stored.job.createdAt < cutoff) {
        this.jobs.delete(id);
        n++;
      }
    }
    return n;
  }

  async delete(jobId: string): Promise<void> {
    this.jobs.delete(jobId);
  }
}
