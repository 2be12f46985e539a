import { systemClock, type Clock } from '../../domain/clock';
import {
  newScheduledWork,
  scheduleListLimit,
  validateScheduleBatch,
  validateScheduleInput,
  workKey,
  type ClaimOptions,
  type ScheduledWork,
  type ScheduledWorkRepository,
  type ScheduleInput,
  type ScheduleResult,
  type WorkSettlement,
} from '../../usecases/ports/scheduler';

/** Soonest first; ties by kind then subject, so every adapter lists the same order. */
export function compareWork(a: ScheduledWork, b: ScheduledWork): number {
  const due = Date.parse(a.dueAt) - Date.parse(b.dueAt);
  if (due !== 0) return due;
  if (a.kind !== b.kind) return a.kind < b.kind ? -1 : 1;
  return a.subject < b.subject ? -1 : a.subject > b.subject ? 1 : 0;
}

/**
 * Scheduled work in memory: each call is one synchronous step, so of N concurrent claimers
 * exactly one gets an item. The reference for other adapters (rules in usecases/ports/scheduler.ts).
 */
export class MemoryScheduledWorkRepository implements ScheduledWorkRepository {
  private readonly rows = new Map<string, ScheduledWork>();
  private readonly clock: Clock;

  constructor(
    private readonly holders: { isAliveSync(holderId: string): boolean },
    options: { clock?: Clock } = {},
  ) {
    this.clock = options.clock ?? systemClock;
  }

  private nowIso(): string {
    return this.clock.now().toISOString();
  }

  async schedule(input: ScheduleInput, options: { replace?: boolean } = {}): Promise<ScheduleResult> {
    validateScheduleInput(input);
    const key = workKey(input);
    const existing = this.rows.get(key);
    const now = this.nowIso();
    const dueAt = new Date(input.dueAt).toISOString();
    const payload = structuredClone(input.payload ?? {});
    if (existing && !options.replace) return { work: structuredClone(existing), created: false };
    if (existing) {
      const moved: ScheduledWork = { ...existing, dueAt, payload, attempts: 0, lastError: null, updatedAt: now, version: existing.version + 1 };
      this.rows.set(key, moved);
      return { work: structuredClone(moved), created: true };
    }
    const work: ScheduledWork = newScheduledWork(input, dueAt, payload, now);
    this.rows.set(key, work);
    return { work: structuredClone(work), created: true };
  }

  async scheduleNew(inputs: readonly ScheduleInput[]): Promise<ScheduleResult[]> {
    validateScheduleBatch(inputs);
    const out: ScheduleResult[] = [];
    for (const input of inputs) out.push(await this.schedule(input));
    return out;
  }

  async get(kind: string, subject: string): Promise<ScheduledWork | null> {
    const row = this.rows.get(workKey({ kind, subject }));
    return row ? structuredClone(row) : null;
  }

  async listBySubject(subject: string): Promise<ScheduledWork[]> {
    return [...this.rows.values()].filter((w) => w.subject === subject).sort(compareWork).map((w) => structuredClone(w));
  }

  async list(options: { limit?: number; dueBefore?: string } = {}): Promise<ScheduledWork[]> {
    const before = options.dueBefore === undefined ? Infinity : Date.parse(options.dueBefore);
    return [...this.rows.values()]
      .filter((w) => Date.parse(w.dueAt) < before)
      .sort(compareWork)
      .slice(0, scheduleListLimit(options.limit))
      .map((w) => structuredClone(w));
  }

  private claimable(work: ScheduledWork, now: number): boolean {
    if (Date.parse(work.dueAt) > now) return false;
    if (work.claimedBy === null || work.claimedUntil === null) return true;
    return Date.parse(work.claimedUntil) <= now || !this.holders.isAliveSync(work.claimedBy);
  }

  async claimDue(holderId: string, options: ClaimOptions): Promise<ScheduledWork[]> {
    const now = this.clock.now().getTime();
    const claimed: ScheduledWork[] = [];
    const due = [...this.rows.values()].filter((w) => this.claimable(w, now)).sort(compareWork);
    for (const work of due.slice(0, Math.max(0, options.limit))) {
      const next: ScheduledWork = {
        ...work,
        claimedBy: holderId,
        claimedUntil: new Date(now + options.leaseMs).toISOString(),
        updatedAt: new Date(now).toISOString(),
        version: work.version + 1,
      };
      this.rows.set(workKey(work), next);
      claimed.push(structuredClone(next));
    }
    return claimed;
  }

  async settle(kind: string, subject: string, holderId: string, version: number, settlement: WorkSettlement): Promise<boolean> {
    const key = workKey({ kind, subject });
    const row = this.rows.get(key);
    if (!row || row.claimedBy !== holderId) return false;
    const now = this.nowIso();
    if (row.version !== version) {
      // Rescheduled while this holder ran it: keep the new due time, drop only our claim.
      this.rows.set(key, { ...row, claimedBy: null, claimedUntil: null, updatedAt: now, version: row.version + 1 });
      return false;
    }
    if (settlement.outcome === 'done') {
      this.rows.delete(key);
      return true;
    }
    const base = { ...row, claimedBy: null, claimedUntil: null, updatedAt: now, version: row.version + 1 };
    if (settlement.outcome === 'reschedule') {
      this.rows.set(key, {
        ...base,
        dueAt: new Date(settlement.dueAt).toISOString(),
        payload: structuredClone(settlement.payload ?? row.payload),
        attempts: 0,
        lastError: null,
      });
    } else {
      this.rows.set(key, { ...base, dueAt: new Date(settlement.dueAt).toISOString(), attempts: row.attempts + 1, lastError: settlement.error });
    }
    return true;
  }

  async cancel(kind: string, subject: string): Promise<boolean> {
    return this.rows.delete(workKey({ kind, subject }));
  }
}
