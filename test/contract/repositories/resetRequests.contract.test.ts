/**
 * The reset request repository's contract, over the SQLite adapter (on ':memory:'), the
 * in-memory adapter and Azure Table storage (Azurite): one open request per guest (a second
 * submit finds the first, also when submitted at the same moment), closing once, audit rows with every change, order, not found.
 */
import { resetRequestMigrations, SqliteResetRequestRepository } from '../../../src/adapters/sqlite/resetRequests';
import { MemoryResetRequestRepository } from '../../../src/adapters/memory/resetRequests';
import { MemoryAuditLog } from '../../../src/adapters/memory/audit';
import type { NewResetRequest, ResetRequestRepository } from '../../../src/usecases/approvals/ports';
import { openDatabase } from '../../../src/adapters/sqlite/database';
import { SqliteAuditLog } from '../../../src/adapters/sqlite/audit';
import { coreMigrations } from '../../../src/adapters/sqlite/coreMigrations';
import type { Clock } from '../../../src/domain/clock';
import { AzureResetRequestRepository } from '../../../src/adapters/azure/resetRequests';
import { useAzurite } from '../../support/azurite';

const azurite = useAzurite();

interface Harness {
  repo: ResetRequestRepository;
  auditActions(): Promise<string[]>;
  clock: Clock & { set(iso: string): void };
}

function testClock(): Clock & { set(iso: string): void } {
  let now = new Date('2025-01-15T09:00:00.000Z');
  return {
    now: () => new Date(now),
    set: (iso) => {
      now = new Date(iso);
    },
  };
}

function makeSqlite(): Harness {
  const db = openDatabase(':memory:', [...coreMigrations, ...resetRequestMigrations]);
  const audit = new SqliteAuditLog(db);
  const clock = testClock();
  return {
    repo: new SqliteResetRequestRepository(db, clock, audit),
    auditActions: async () => (await audit.list({ limit: 1000 })).map((e) => e.action),
    clock,
  };
}

function makeMemory(): Harness {
  const clock = testClock();
  const audit = new MemoryAuditLog(clock);
  return {
    repo: new MemoryResetRequestRepository(clock, audit),
    auditActions: async () => (await audit.list({ limit: 1000 })).map((e) => e.action),
    clock,
  };
}

function makeAzure(): Harness {
  const clock = testClock();
  const audit = new MemoryAuditLog(clock);
  return {
    repo: new AzureResetRequestRepository(azurite.account(), { clock, audit }),
    auditActions: async () => (await audit.list({ limit: 1000 })).map((e) => e.action),
    clock,
  };
}

const jordan: NewResetRequest = {
  tenantId: 'tenant-1',
  userId: 'jordan',
  userName: 'Jordan Guest',
  email: 'jordan@fabrikam.example',
  redeemedWith: 'emailOneTimePasscode',
  reason: 'Their organisation now has Microsoft Entra ID.',
};

describe.each([
  ['sqlite', makeSqlite],
  ['memory', makeMemory],
  ['azure', makeAzure],
])('reset request repository (%s)', (_name, make) => {
  it('records a request open, audited, and a second submit finds the first instead of writing another', async () => {
    const h = make();
    const first = await h.repo.submit(jordan);
    expect(first.alreadyOpen).toBe(false);
    expect(first.request).toMatchObject({ ...jordan, status: 'open', requestedAt: '2025-01-15T09:00:00.000Z' });
    const second = await h.repo.submit({ ...jordan, reason: 'again' });
    expect(second).toEqual({ request: first.request, alreadyOpen: true });
    expect(await h.repo.findOpen('tenant-1', 'jordan')).toEqual(first.request);
    expect((await h.auditActions())).toEqual(['redemptionReset.requested']);
  });

  it('of N concurrent submits from one guest exactly one writes a request', async () => {
    const h = make();
    const receipts = await Promise.all(Array.from({ length: 8 }, () => h.repo.submit(jordan)));
    expect(receipts.filter((r) => !r.alreadyOpen)).toHaveLength(1);
    expect(new Set(receipts.map((r) => r.request.id)).size).toBe(1);
    expect(await h.repo.listOpen('tenant-1')).toHaveLength(1);
  });

  it('closes an open request once, audited; then the guest may ask again', async () => {
    const h = make();
    const { request } = await h.repo.submit(jordan);
    h.clock.set('2025-01-16T09:00:00.000Z');
    expect(await h.repo.close(request.id, 'done', { userId: 'alex', name: 'Alex Wilber' })).toBe(true);
    expect(await h.repo.close(request.id, 'declined', { userId: 'alex', name: 'Alex Wilber' })).toBe(false);
    expect(await h.repo.findOpen('tenant-1', 'jordan')).toBeNull();
    expect((await h.auditActions())).toEqual(['redemptionReset.requested', 'redemptionReset.completed']);
    const again = await h.repo.submit(jordan);
    expect(again.alreadyOpen).toBe(false);
    expect(again.request.id).not.toBe(request.id);
  });

  it('lists a tenant\'s open requests oldest first', async () => {
    const h = make();
    const a = await h.repo.submit(jordan);
    h.clock.set('2025-01-15T10:00:00.000Z');
    const b = await h.repo.submit({ ...jordan, userId: 'kim', userName: 'Kim Guest' });
    await h.repo.submit({ ...jordan, tenantId: 'tenant-2' });
    h.clock.set('2025-01-15T11:00:00.000Z');
    const c = await h.repo.submit({ ...jordan, userId: 'lee', userName: 'Lee Guest' });
    await h.repo.close(b.request.id, 'declined', { userId: 'alex', name: 'Alex Wilber' });
    expect((await h.repo.listOpen('tenant-1')).map((r) => r.id)).toEqual([a.request.id, c.request.id]);
  });

  it('answers "not found" with null, an empty list, or false', async () => {
    const h = make();
    expect(await h.repo.findOpen('tenant-1', 'nobody')).toBeNull();
    expect(await h.repo.listOpen('tenant-1')).toEqual([]);
    expect(await h.repo.close('no-such-request', 'done', { userId: 'alex', name: 'Alex Wilber' })).toBe(false);
    expect((await h.auditActions())).toEqual([]);
  });
});
