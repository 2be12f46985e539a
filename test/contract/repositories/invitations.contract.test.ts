/** Invitation records: the idempotency key, compare-and-set and list order, the same over SQLite, memory and Azure Table storage (Azurite). */
import { openDatabase } from '../../../src/adapters/sqlite/database';
import { invitationMigrations, SqliteInvitationRepository } from '../../../src/adapters/sqlite/invitations';
import { MemoryInvitationRepository } from '../../../src/adapters/memory/invitations';
import { AzureInvitationRepository } from '../../../src/adapters/azure/invitations';
import { useAzurite } from '../../support/azurite';
import type { InvitationDraft, InvitationRepository } from '../../../src/usecases/ports/invitations';
import { manualClock, type ManualClock } from '../../support/store';

type Make = (clock: ManualClock) => InvitationRepository;

const makeSqlite: Make = (clock) => new SqliteInvitationRepository(openDatabase(':memory:', invitationMigrations), { clock });
const makeMemory: Make = (clock) => new MemoryInvitationRepository({ clock });
const azurite = useAzurite();
const makeAzure: Make = (clock) => new AzureInvitationRepository(azurite.account(), { clock });

const TENANT = 'c0a7f3e2-1d4b-4e8a-9f6c-2b5d8e1a7c30';
const FALCON = '7a2e9d41-0001-4b6c-9d8e-1f2a3b4c5d01';
const ORION = '7a2e9d41-0002-4b6c-9d8e-1f2a3b4c5d02';
const MEGAN = { id: '6f1c2b3a-0001-4c5d-8e9f-0a1b2c3d4e01', name: 'Megan Bowen' };
const ALEX = { id: '6f1c2b3a-0003-4c5d-8e9f-0a1b2c3d4e03', name: 'Alex Wilber' };

const draft = (email: string, more: Partial<InvitationDraft> = {}): InvitationDraft => ({
  tenantId: TENANT,
  emailNormalised: email,
  groupId: FALCON,
  emailDisplay: email,
  displayName: 'Jane Doe',
  siteName: 'Project Falcon',
  siteUrl: 'https://contoso.sharepoint.com/sites/ProjectFalcon',
  requestedBy: MEGAN,
  ...more,
});

describe.each([
  ['sqlite', makeSqlite],
  ['memory', makeMemory],
  ['azure', makeAzure],
])('InvitationRepository contract (%s)', (_name, make) => {
  it('claims a key once: a new record starts pending at version 1; a second claim returns it', async () => {
    const clock = manualClock('2025-03-01T09:00:00.000Z');
    const repo = make(clock);
    const first = await repo.claim(draft('Jane.Doe@Fabrikam.com', { source: 'bulk:job-1', conversationRefKey: 'a:megan' }));
    expect(first.created).toBe(true);
    expect(first.record).toMatchObject({
      tenantId: TENANT,
      emailNormalised: 'jane.doe@fabrikam.com',
      emailDisplay: 'Jane.Doe@Fabrikam.com',
      groupId: FALCON,
      state: 'pending',
      attempts: 0,
      version: 1,
      source: 'bulk:job-1',
      conversationRefKey: 'a:megan',
      predictedMethod: null,
      invitationId: null,
      lockedBy: null,
      inviteAttemptedAt: null,
      createdAt: '2025-03-01T09:00:00.000Z',
      updatedAt: '2025-03-01T09:00:00.000Z',
      requestedBy: MEGAN,
    });
    const again = await repo.claim(draft('  jane.doe@FABRIKAM.com ', { requestedBy: ALEX, displayName: 'Someone else' }));
    expect(again.created).toBe(false);
    expect(again.record).toEqual(first.record);
    // Another group is another key.
    expect((await repo.claim(draft('jane.doe@fabrikam.com', { groupId: ORION }))).created).toBe(true);
    expect(await repo.claim(draft('x@y.example'))).toMatchObject({ record: { source: 'chat' } });
  });

  it('concurrent claims of one key yield one record and exactly one `created`', async () => {
    const repo = make(manualClock());
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => repo.claim(draft('jane@fabrikam.com', { displayName: `Jane ${i}` }))));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.record.id)).size).toBe(1);
  });

  it('updates by compare-and-set: the winner bumps the version, a stale version gets null and changes nothing', async () => {
    const clock = manualClock('2025-03-01T09:00:00.000Z');
    const repo = make(clock);
    const { record } = await repo.claim(draft('jane@fabrikam.com'));
    clock.advance(1000);
    const updated = await repo.update(record.id, 1, { state: 'invited', userId: 'user-1', attempts: 1, lastError: null });
    expect(updated).toMatchObject({ state: 'invited', userId: 'user-1', attempts: 1, version: 2, updatedAt: '2025-03-01T09:00:01.000Z' });
    expect(updated?.createdAt).toBe('2025-03-01T09:00:00.000Z');
    expect(await repo.update(record.id, 1, { state: 'failed' })).toBeNull();
    expect(await repo.get(record.id)).toEqual(updated);
    // undefined in a patch clears the field, as null does.
    expect(await repo.update(record.id, 2, { userId: undefined })).toMatchObject({ userId: null, version: 3 });
    expect(await repo.update('no-such-id', 1, { state: 'failed' })).toBeNull();
  });

  it('concurrent updates at one version: exactly one wins', async () => {
    const repo = make(manualClock());
    const { record } = await repo.claim(draft('jane@fabrikam.com'));
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => repo.update(record.id, record.version, { lockedBy: `holder-${i}`, attempts: record.attempts + 1 })),
    );
    const winners = results.filter((r) => r !== null);
    expect(winners).toHaveLength(1);
    expect(await repo.get(record.id)).toMatchObject({ lockedBy: winners[0]?.lockedBy, attempts: 1, version: 2 });
  });

  it('not found is null', async () => {
    const repo = make(manualClock());
    expect(await repo.get('no-such-id')).toBeNull();
    expect(await repo.findByKey({ tenantId: TENANT, emailNormalised: 'nobody@fabrikam.com', groupId: FALCON })).toBeNull();
  });

  it('finds a record by its key, whatever the case of the address', async () => {
    const repo = make(manualClock());
    const { record } = await repo.claim(draft('jane@fabrikam.com'));
    expect(await repo.findByKey({ tenantId: TENANT, emailNormalised: ' JANE@fabrikam.com', groupId: FALCON })).toEqual(record);
  });

  it('lists by requester, state and address newest first, from `since`, at most `limit`', async () => {
    const clock = manualClock('2025-03-01T09:00:00.000Z');
    const repo = make(clock);
    const a = (await repo.claim(draft('a@fabrikam.com'))).record;
    clock.advance(1000);
    const b = (await repo.claim(draft('b@fabrikam.com', { requestedBy: ALEX }))).record;
    clock.advance(1000);
    const c = (await repo.claim(draft('c@fabrikam.com'))).record;
    // Same instant as c: the later insert comes first.
    const d = (await repo.claim(draft('a@fabrikam.com', { groupId: ORION }))).record;
    await repo.update(b.id, b.version, { state: 'completed' });

    expect((await repo.listByRequester(TENANT, MEGAN.id)).map((r) => r.id)).toEqual([d.id, c.id, a.id]);
    expect((await repo.listByRequester(TENANT, MEGAN.id, { limit: 2 })).map((r) => r.id)).toEqual([d.id, c.id]);
    expect((await repo.listByRequester(TENANT, MEGAN.id, { since: '2025-03-01T09:00:01.000Z' })).map((r) => r.id)).toEqual([d.id, c.id]);
    expect(await repo.listByRequester('another-tenant', MEGAN.id)).toEqual([]);
    expect((await repo.listByState('completed')).map((r) => r.id)).toEqual([b.id]);
    expect((await repo.listByState(['pending', 'completed'])).map((r) => r.id)).toEqual([d.id, c.id, b.id, a.id]);
    expect(await repo.listByState([])).toEqual([]);
    expect((await repo.listByEmail(TENANT, 'A@fabrikam.com')).map((r) => r.id)).toEqual([d.id, a.id]);
  });

  it('returns copies: changing a returned record changes nothing stored', async () => {
    const repo = make(manualClock());
    const { record } = await repo.claim(draft('jane@fabrikam.com'));
    record.state = 'failed';
    record.requestedBy.name = 'changed';
    expect(await repo.get(record.id)).toMatchObject({ state: 'pending', requestedBy: MEGAN });
  });
});
