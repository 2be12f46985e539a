import { systemClock, type Clock } from '../../domain/clock';
import {
  newReviewRound,
  patchedRound,
  roundListLimit,
  type ReviewRound,
  type ReviewRoundDraft,
  type ReviewRoundPatch,
  type ReviewRoundRepository,
} from '../../usecases/reviews/ports';
import { prepared, type Migration, type SqliteDatabase } from './database';

/**
 * Access review rounds (usecases/reviews/ports.ts). The round, with its decisions and deliveries,
 * is kept as JSON; the columns beside it are what the listing and the compare-and-set need.
 */
export const reviewRoundMigrations: readonly Migration[] = [
  {
    id: 'reviewRounds/001-create',
    up: `
      CREATE TABLE review_rounds (
        id         TEXT PRIMARY KEY,
        tenant_id  TEXT NOT NULL,
        group_id   TEXT NOT NULL,
        period     TEXT NOT NULL,
        record     TEXT NOT NULL,
        version    INTEGER NOT NULL
      );
      CREATE INDEX review_rounds_by_site ON review_rounds (tenant_id, group_id, period);
    `,
  },
];

export class SqliteReviewRoundRepository implements ReviewRoundRepository {
  private readonly clock: Clock;

  constructor(
    private readonly db: SqliteDatabase,
    options: { clock?: Clock } = {},
  ) {
    this.clock = options.clock ?? systemClock;
  }

  private getSync(id: string): ReviewRound | null {
    const row = prepared<[string], { record: string }>(this.db, 'SELECT record FROM review_rounds WHERE id = ?').get(id);
    return row ? (JSON.parse(row.record) as ReviewRound) : null;
  }

  async create(draft: ReviewRoundDraft): Promise<{ round: ReviewRound; created: boolean }> {
    const run = this.db.transaction(() => {
      const existing = this.getSync(draft.id);
      if (existing) return { round: existing, created: false };
      const round = newReviewRound(draft, this.clock.now().toISOString());
      prepared(
        this.db,
        `INSERT INTO review_rounds (id, tenant_id, group_id, period, record, version) VALUES (@id, @tenantId, @groupId, @period, @record, @version)`,
      ).run({ id: round.id, tenantId: round.tenantId, groupId: round.groupId.toLowerCase(), period: round.period, record: JSON.stringify(round), version: round.version });
      return { round, created: true };
    });
    return run.immediate();
  }

  async get(id: string): Promise<ReviewRound | null> {
    return this.getSync(id);
  }

  async update(id: string, expectedVersion: number, patch: ReviewRoundPatch): Promise<ReviewRound | null> {
    const current = this.getSync(id);
    if (!current || current.version !== expectedVersion) return null;
    const next = patchedRound(current, patch, this.clock.now().toISOString());
    // The version in the WHERE clause is the compare-and-set: a writer that changed it first wins.
    const result = prepared(this.db, 'UPDATE review_rounds SET record = @record, version = @version WHERE id = @id AND version = @expected').run({
      id,
      record: JSON.stringify(next),
      version: next.version,
      expected: expectedVersion,
    });
    return result.changes === 1 ? next : null;
  }

  async listBySite(tenantId: string, groupId: string, options: { limit?: number } = {}): Promise<ReviewRound[]> {
    return prepared<[string, string], { record: string }>(
      this.db,
      `SELECT record FROM review_rounds WHERE tenant_id = ? AND group_id = ? ORDER BY period DESC, id ASC LIMIT ${roundListLimit(options.limit)}`,
    )
      .all(tenantId, groupId.toLowerCase())
      .map((row) => JSON.parse(row.record) as ReviewRound);
  }
}
