/** Guest access records: the same rules over SQLite, memory and Azure Table storage (usecases/lifecycle/ports.ts). */
import { openDatabase } from '../../../src/adapters/sqlite/database';
import { guestAccessMigrations, SqliteGuestAccessRepository } from '../../../src/adapters/sqlite/guestAccess';
import { MemoryGuestAccessRepository } from '../../../src/adapters/memory/guestAccess';
import type { GuestAccessDraft, GuestAccessRepository } from '../../../src/usecases/lifecycle/ports';
import { AzureGuestAccessRepository } from '../../../src/adapters/azure/guestAccess';
import { useAzurite } from '../../support/azurite';
import { manualClock } from '../../support/store';

const azurite = useAzurite();

const makeSqlite = (): GuestAccessRepository => new SqliteGuestAccessRepository(openDatabase(':memory:', guestAccessMigrations), { clock: manualClock() });
const makeMemory = (): GuestAccessRepository => new MemoryGuestAccessRepository({ clock: manualClock() });
const makeAzure = (): GuestAccessRepository => new AzureGuestAccessRepository(azurite.account(), { clock: manualClock() });

function draft(overrides: Partial<GuestAccessDraft> = {}): GuestAccessDraft {
  return {
    tenantId: 't1',
    groupId: 'falcon',
    userId: 'u-jane',
    siteName: 'Project Falcon',
    siteUrl: 'https://contoso.sharepoint.com/sites/falcon',
    email: 'Jane@Fabrikam.com',
    displayName: 'Jane Doe',
    invitationRecordId: 'inv-1',
    sponsor: { id: 'megan', name: 'Megan' },
    invitedAt: '2025-03-01T09:00:00.000Z',
    acceptedAt: null,
    endsAt: '2025-08-28T09:00:00.000Z',
    state: 'invited',
    nextUnredeemedReminderAt: '2025-03-08T09:00:00.000Z',
    ...overrides,
  };
}

describe.each([
  ['sqlite', makeSqlite],
  ['memory', makeMemory],
  ['azure', makeAzure],
])('GuestAccessRepository contract (%s)', (_name, make) => {
  it('claims one record per tenant, group and user, whatever the concurrency', async () => {
    const repo = make();
    const results = await Promise.all([1, 2, 3].map(() => repo.claim(draft())));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    const ids = new Set(results.map((r) => r.record.id));
    expect(ids.size).toBe(1);
    const [record] = results.map((r) => r.record);
    expect(record).toMatchObject({ emailNormalised: 'jane@fabrikam.com', state: 'invited', version: 1, renewalRemindersSent: [], endNoticesDone: false });
    expect(await repo.findByKey({ tenantId: 't1', groupId: 'falcon', userId: 'u-jane' })).toEqual(record);
    expect(await repo.findByKey({ tenantId: 't2', groupId: 'falcon', userId: 'u-jane' })).toBeNull();
    expect(await repo.get('nope')).toBeNull();
    // Another site is another record.
    expect((await repo.claim(draft({ groupId: 'eagle' }))).created).toBe(true);
  });

  it('updates by compare-and-set: a stale version changes nothing', async () => {
    const repo = make();
    const { record } = await repo.claim(draft());
    const renewed = await repo.update(record.id, record.version, { endsAt: '2026-02-24T09:00:00.000Z', renewals: 1, renewalRemindersSent: [] });
    expect(renewed).toMatchObject({ endsAt: '2026-02-24T09:00:00.000Z', renewals: 1, version: 2 });
    expect(await repo.update(record.id, record.version, { renewals: 2 })).toBeNull();
    expect((await repo.get(record.id))?.renewals).toBe(1);
    const racing = await Promise.all([1, 2, 3].map(() => repo.update(record.id, 2, { state: 'ended' })));
    expect(racing.filter(Boolean)).toHaveLength(1);
    expect(await repo.update('nope', 1, { state: 'ended' })).toBeNull();
  });

  it('lists by sponsor, site and address, newest invitation first, with state filters and limits', async () => {
    const repo = make();
    await repo.claim(draft({ userId: 'a', email: 'a@x.com', invitedAt: '2025-01-01T00:00:00.000Z' }));
    await repo.claim(draft({ userId: 'b', email: 'b@x.com', invitedAt: '2025-03-01T00:00:00.000Z', state: 'accepted' }));
    await repo.claim(draft({ userId: 'c', email: 'a@x.com', groupId: 'eagle', invitedAt: '2025-02-01T00:00:00.000Z', sponsor: { id: 'alex', name: 'Alex' } }));
    expect((await repo.listBySponsor('t1', 'megan')).map((r) => r.userId)).toEqual(['b', 'a']);
    expect((await repo.listBySponsor('t1', 'megan', { states: ['accepted'] })).map((r) => r.userId)).toEqual(['b']);
    expect((await repo.listBySponsor('t1', 'megan', { limit: 1 })).map((r) => r.userId)).toEqual(['b']);
    expect((await repo.listByGroup('t1', 'eagle')).map((r) => r.userId)).toEqual(['c']);
    expect((await repo.listByEmail('t1', 'a@x.com')).map((r) => r.userId)).toEqual(['c', 'a']);
    expect(await repo.listBySponsor('t2', 'megan')).toEqual([]);
    // A handed-over sponsorship moves the record to the new sponsor's list.
    const b = await repo.findByKey({ tenantId: 't1', groupId: 'falcon', userId: 'b' });
    await repo.update(b!.id, b!.version, { sponsor: { id: 'alex', name: 'Alex' } });
    expect((await repo.listBySponsor('t1', 'alex')).map((r) => r.userId)).toEqual(['b', 'c']);
    expect((await repo.listBySponsor('t1', 'megan')).map((r) => r.userId)).toEqual(['a']);
  });

  it('lists a whole tenant, newest invitation first, beyond the per-list limit unless asked for fewer', async () => {
    const repo = make();
    for (let i = 0; i < 120; i += 1) {
      const day = String(1 + (i % 28)).padStart(2, '0');
      await repo.claim(draft({ userId: `u${String(i).padStart(3, '0')}`, email: `u${i}@x.com`, invitedAt: `2025-01-${day}T00:00:00.000Z`, state: i % 2 ? 'accepted' : 'invited' }));
    }
    await repo.claim(draft({ tenantId: 't2', userId: 'other', email: 'o@x.com' }));
    const all = await repo.listByTenant('t1');
    expect(all).toHaveLength(120);
    expect(all.every((r) => r.tenantId === 't1')).toBe(true);
    const order = all.map((r) => r.invitedAt);
    expect([...order].sort().reverse()).toEqual(order);
    expect(await repo.listByTenant('t1', { states: ['accepted'] })).toHaveLength(60);
    expect(await repo.listByTenant('t1', { limit: 7 })).toHaveLength(7);
    expect((await repo.listByTenant('t2')).map((r) => r.userId)).toEqual(['other']);
    expect(await repo.listByTenant('t3')).toEqual([]);
  });
});
