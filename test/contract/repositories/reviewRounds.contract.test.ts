/**
 * The review round repository's contract, over SQLite (':memory:'), memory and Azure Table
 * storage (Azurite): one round per id however many create it at once, compare-and-set on the
 * version (of N concurrent writers exactly one wins), a site's rounds newest first with a limit,
 * "not found" as null, and records that survive being stored (decisions, deliveries, long lists).
 */
import { openDatabase } from '../../../src/adapters/sqlite/database';
import { coreMigrations } from '../../../src/adapters/sqlite/coreMigrations';
import { reviewRoundMigrations, SqliteReviewRoundRepository } from '../../../src/adapters/sqlite/reviewRounds';
import { MemoryReviewRoundRepository } from '../../../src/adapters/memory/reviewRounds';
import { AzureReviewRoundRepository } from '../../../src/adapters/azure/reviewRounds';
import { reviewRoundId, type ReviewRoundDraft, type ReviewRoundRepository } from '../../../src/usecases/reviews/ports';
import type { Clock } from '../../../src/domain/clock';
import { useAzurite } from '../../support/azurite';

const azurite = useAzurite();

function testClock(): Clock {
  return { now: () => new Date('2026-12-01T09:00:00.000Z') };
}

const TENANT = 'c0a7f3e2-1d4b-4e8a-9f6c-2b5d8e1a7c30';
const FALCON = '7a2e9d41-0001-4b6c-9d8e-1f2a3b4c5d01';
const MARKETING = '7a2e9d41-0002-4b6c-9d8e-1f2a3b4c5d02';

function draft(groupId: string, period: string, over: Partial<ReviewRoundDraft> = {}): ReviewRoundDraft {
  return {
    id: reviewRoundId(TENANT, groupId, period),
    tenantId: TENANT,
    groupId,
    siteName: 'Project Falcon',
    siteUrl: 'https://contoso.sharepoint.com/sites/ProjectFalcon',
    trigger: 'schedule',
    period,
    startedBy: null,
    startedAt: period,
    escalateAt: '2026-12-15T09:00:00.000Z',
    guests: [{ userId: 'guest-1', accessId: 'access-1', displayName: 'Jordan Lee', email: 'jordan.lee@tailspintoys.com' }],
    ...over,
  };
}

const makers: Array<[string, () => ReviewRoundRepository]> = [
  ['sqlite', () => new SqliteReviewRoundRepository(openDatabase(':memory:', [...coreMigrations, ...reviewRoundMigrations]), { clock: testClock() })],
  ['memory', () => new MemoryReviewRoundRepository({ clock: testClock() })],
  ['azure', () => new AzureReviewRoundRepository(azurite.account(), { clock: testClock() })],
];

describe.each(makers)('review round repository (%s)', (_name, make) => {
  it('creates a round once: N concurrent creates of one period yield one record and one created', async () => {
    const repo = make();
    const results = await Promise.all(Array.from({ length: 5 }, () => repo.create(draft(FALCON, '2026-12-01T09:00:00.000Z'))));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.round.id)).size).toBe(1);
    const round = await repo.get(results[0]!.round.id);
    expect(round).toMatchObject({ version: 1, decisions: [], deliveries: [], escalatedAt: null, completedAt: null, createdAt: '2026-12-01T09:00:00.000Z' });
    expect(round?.guests).toEqual(draft(FALCON, '2026-12-01T09:00:00.000Z').guests);
  });

  it('is null for a round that does not exist', async () => {
    const repo = make();
    expect(await repo.get(reviewRoundId(TENANT, FALCON, '2020-01-01T00:00:00Z'))).toBeNull();
    expect(await repo.get('not-an-id')).toBeNull();
    expect(await repo.update(reviewRoundId(TENANT, FALCON, '2020-01-01T00:00:00Z'), 1, { escalatedAt: 'x' })).toBeNull();
  });

  it('updates only at the expected version; of concurrent writers exactly one wins', async () => {
    const repo = make();
    const { round } = await repo.create(draft(FALCON, '2026-12-01T09:00:00.000Z'));
    const decision = (by: string) => ({
      userId: 'guest-1',
      decision: 'keep' as const,
      by: { id: by, name: by },
      as: 'owner' as const,
      at: '2026-12-02T10:00:00.000Z',
      outcome: 'kept' as const,
      accessId: 'access-1',
      note: null,
    });
    const writes = await Promise.all(['megan', 'alex', 'adele', 'diego'].map((by) => repo.update(round.id, 1, { decisions: [decision(by)] })));
    const winners = writes.filter((w) => w !== null);
    expect(winners).toHaveLength(1);
    const stored = await repo.get(round.id);
    expect(stored?.version).toBe(2);
    expect(stored?.decisions).toEqual(winners[0]!.decisions);
    expect(await repo.update(round.id, 1, { completedAt: '2026-12-02T10:00:00.000Z' })).toBeNull();
    const next = await repo.update(round.id, 2, { completedAt: '2026-12-02T10:00:00.000Z', deliveries: [{ userId: 'megan', name: 'Megan', as: 'owner', at: 'x', outcome: 'sent' }] });
    expect(next).toMatchObject({ version: 3, completedAt: '2026-12-02T10:00:00.000Z', decisions: winners[0]!.decisions });
    expect(await repo.get(round.id)).toEqual(next);
  });

  it('lists a site’s rounds newest period first, only that site’s, up to the limit', async () => {
    const repo = make();
    for (const period of ['2026-03-03T09:00:00.000Z', '2026-12-01T09:00:00.000Z', '2026-09-01T09:00:00.000Z', '2026-06-02T09:00:00.000Z']) {
      await repo.create(draft(FALCON, period));
    }
    await repo.create(draft(MARKETING, '2026-12-01T09:00:00.000Z', { siteName: 'Marketing' }));
    const all = await repo.listBySite(TENANT, FALCON);
    expect(all.map((r) => r.period)).toEqual(['2026-12-01T09:00:00.000Z', '2026-09-01T09:00:00.000Z', '2026-06-02T09:00:00.000Z', '2026-03-03T09:00:00.000Z']);
    expect((await repo.listBySite(TENANT, FALCON.toUpperCase(), { limit: 2 })).map((r) => r.period)).toEqual(['2026-12-01T09:00:00.000Z', '2026-09-01T09:00:00.000Z']);
    expect(await repo.listBySite('another-tenant', FALCON)).toEqual([]);
  });

  it('keeps a round of hundreds of guests whole', async () => {
    const repo = make();
    const guests = Array.from({ length: 400 }, (_, i) => ({ userId: `guest-${i}`, accessId: i % 2 ? null : `access-${i}`, displayName: `Guest Number ${i} ${'é'.repeat(20)}`, email: `guest.${i}@fabrikam.com` }));
    const { round } = await repo.create(draft(FALCON, '2026-12-01T09:00:00.000Z', { guests }));
    expect((await repo.get(round.id))?.guests).toEqual(guests);
  });
});
