import { systemClock, type Clock } from '../../domain/clock';
import {
  compareRounds,
  newReviewRound,
  patchedRound,
  roundListLimit,
  type ReviewRound,
  type ReviewRoundDraft,
  type ReviewRoundPatch,
  type ReviewRoundRepository,
} from '../../usecases/reviews/ports';

/** Review rounds in memory: each call one synchronous step (the reference for the other adapters). */
export class MemoryReviewRoundRepository implements ReviewRoundRepository {
  private readonly byId = new Map<string, ReviewRound>();
  private readonly clock: Clock;

  constructor(options: { clock?: Clock } = {}) {
    this.clock = options.clock ?? systemClock;
  }

  async create(draft: ReviewRoundDraft): Promise<{ round: ReviewRound; created: boolean }> {
    const existing = this.byId.get(draft.id);
    if (existing) return { round: structuredClone(existing), created: false };
    const round = newReviewRound(draft, this.clock.now().toISOString());
    this.byId.set(round.id, round);
    return { round: structuredClone(round), created: true };
  }

  async get(id: string): Promise<ReviewRound | null> {
    const r = this.byId.get(id);
    return r ? structuredClone(r) : null;
  }

  async update(id: string, expectedVersion: number, patch: ReviewRoundPatch): Promise<ReviewRound | null> {
    const r = this.byId.get(id);
    if (!r || r.version !== expectedVersion) return null;
    const next = patchedRound(r, patch, this.clock.now().toISOString());
    this.byId.set(id, next);
    return structuredClone(next);
  }

  async listBySite(tenantId: string, groupId: string, options: { limit?: number } = {}): Promise<ReviewRound[]> {
    const group = groupId.toLowerCase();
    return [...this.byId.values()]
      .filter((r) => r.tenantId === tenantId && r.groupId.toLowerCase() === group)
      .sort(compareRounds)
      .slice(0, roundListLimit(options.limit))
      .map((r) => structuredClone(r));
  }
}
