/** The audit log's observable behaviour, the same over SQLite and memory. */
import { coreMigrations } from '../../../src/adapters/sqlite/coreMigrations';
import { openDatabase } from '../../../src/adapters/sqlite/database';
import { auditMigrations, SqliteAuditLog } from '../../../src/adapters/sqlite/audit';
import { MemoryAuditLog } from '../../../src/adapters/memory/audit';
import { AuditEventError, auditEventsInRange, type AuditEventInput, type AuditLog } from '../../../src/usecases/ports/auditLog';
import { manualClock, type ManualClock } from '../../support/store';
import { AzureAuditLog } from '../../../src/adapters/azure/audit';
import { useAzurite } from '../../support/azurite';

const azurite = useAzurite();

type Make = (clock: ManualClock) => AuditLog;

const makeSqlite: Make = (clock) => new SqliteAuditLog(openDatabase(':memory:', [...coreMigrations, ...auditMigrations]), clock);
const makeMemory: Make = (clock) => new MemoryAuditLog(clock);
const makeAzure: Make = (clock) => new AzureAuditLog(azurite.account(), clock);

const MEGAN = { actorId: '6f1c2b3a-0001-4c5d-8e9f-0a1b2c3d4e01', actorName: 'Megan Bowen' };
const ALEX = { actorId: '6f1c2b3a-0003-4c5d-8e9f-0a1b2c3d4e03', actorName: 'Alex Wilber' };

const requested = (subjectId: string): AuditEventInput => ({
  ...MEGAN,
  action: 'invitation.requested',
  subjectType: 'invitationRequest',
  subjectId,
  details: { email: 'jane@fabrikam.com', groupId: '7a2e9d41-0001-4b6c-9d8e-1f2a3b4c5d01' },
});

describe.each([
  ['sqlite', makeSqlite],
  ['memory', makeMemory],
  ['azure', makeAzure],
])('AuditLog contract (%s)', (_name, make) => {
  it('records who did what with the clock’s time and returns it as written', async () => {
    const audit = make(manualClock('2025-03-01T09:00:00.000Z'));

    const event = await audit.append(requested('req-1'));

    expect(event).toMatchObject({ at: '2025-03-01T09:00:00.000Z', action: 'invitation.requested', subjectId: 'req-1' });
    expect(await audit.list()).toEqual([event]);
  });

  it('filters by subject, actor, action and time, oldest first', async () => {
    const clock = manualClock('2025-03-01T09:00:00.000Z');
    const audit = make(clock);
    await audit.append(requested('req-1'));
    clock.advance(60_000);
    await audit.append(requested('req-2'));
    clock.advance(60_000);
    await audit.append({ ...ALEX, action: 'invitation.approved', subjectType: 'invitationRequest', subjectId: 'req-1' });

    expect((await audit.list({ subjectType: 'invitationRequest', subjectId: 'req-1' })).map((e) => e.action)).toEqual([
      'invitation.requested',
      'invitation.approved',
    ]);
    expect((await audit.list({ actorId: ALEX.actorId })).map((e) => e.subjectId)).toEqual(['req-1']);
    expect((await audit.list({ action: 'invitation.requested' })).map((e) => e.subjectId)).toEqual(['req-1', 'req-2']);
    expect((await audit.list({ since: new Date('2025-03-01T09:01:00.000Z') })).map((e) => e.subjectId)).toEqual(['req-2', 'req-1']);
    expect(await audit.list({ subjectId: 'never' })).toEqual([]);
  });

  it('numbers events in append order and, with a limit, returns the most recent ones', async () => {
    const audit = make(manualClock());
    for (let i = 1; i <= 5; i++) await audit.append(requested(`req-${i}`));
    const all = await audit.list();
    expect(all.map((e) => e.seq)).toEqual([...all.map((e) => e.seq)].sort((a, b) => a - b));
    expect(new Set(all.map((e) => e.seq)).size).toBe(5);
    expect((await audit.list({ limit: 2 })).map((e) => e.subjectId)).toEqual(['req-4', 'req-5']);
    // Out-of-range limits are clamped: at least one event, never an error.
    expect((await audit.list({ limit: 0 })).map((e) => e.subjectId)).toEqual(['req-5']);
  });

  it('appends from concurrent writers all land, each with its own position', async () => {
    const audit = make(manualClock());
    const events = await Promise.all(Array.from({ length: 20 }, (_, i) => audit.append(requested(`req-${i}`))));
    expect(new Set(events.map((e) => e.seq)).size).toBe(20);
    expect(await audit.list({ limit: 1000 })).toHaveLength(20);
  });

  it('refuses an event without an actor or subject, or with details that are not JSON, and records nothing', async () => {
    const audit = make(manualClock());
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    await expect(audit.append({ ...requested('req-1'), actorId: ' ' })).rejects.toThrow(AuditEventError);
    await expect(audit.append({ ...requested('req-1'), subjectId: '' })).rejects.toThrow(/subjectId is required/);
    await expect(audit.append({ ...requested('req-1'), details: circular as never })).rejects.toThrow(/details must be JSON/);
    expect(await audit.list()).toEqual([]);
  });

  it('lists a time range [from, to) page by page, oldest first, each event once', async () => {
    const clock = manualClock('2026-10-31T23:59:59.000Z');
    const audit = make(clock);
    await audit.append(requested('before'));
    clock.set('2026-11-01T00:00:00.000Z');
    for (let i = 1; i <= 5; i++) {
      await audit.append(requested(`in-${i}`));
      clock.advance(3_600_000);
    }
    clock.set('2026-12-01T00:00:00.000Z');
    await audit.append(requested('at-end'));

    const from = new Date('2026-11-01T00:00:00.000Z');
    const to = new Date('2026-12-01T00:00:00.000Z');
    const first = await audit.listRange({ from, to, limit: 2 });
    expect(first.events.map((e) => e.subjectId)).toEqual(['in-1', 'in-2']);
    expect(first.next).not.toBeNull();
    const second = await audit.listRange({ from, to, after: first.next, limit: 2 });
    expect(second.events.map((e) => e.subjectId)).toEqual(['in-3', 'in-4']);
    const third = await audit.listRange({ from, to, after: second.next, limit: 2 });
    expect(third).toEqual({ events: [expect.objectContaining({ subjectId: 'in-5' })], next: null });
    // A page that ends exactly at the range's end says so.
    expect((await audit.listRange({ from, to, limit: 5 })).next).toBeNull();
    const streamed: string[] = [];
    for await (const e of auditEventsInRange(audit, from, to, 2)) streamed.push(e.subjectId);
    expect(streamed).toEqual(['in-1', 'in-2', 'in-3', 'in-4', 'in-5']);
    expect(await audit.listRange({ from: to, to: new Date('2027-01-01T00:00:00.000Z') })).toEqual({
      events: [expect.objectContaining({ subjectId: 'at-end' })],
      next: null,
    });
    expect(await audit.listRange({ from: new Date('2020-01-01T00:00:00.000Z'), to: new Date('2020-02-01T00:00:00.000Z') })).toEqual({ events: [], next: null });
    await expect(audit.listRange({ from: to, to: from })).rejects.toThrow(RangeError);
  });

  it('prunes only the events recorded before the cutoff, and keeps numbering after them', async () => {
    const clock = manualClock('2025-01-01T00:00:00.000Z');
    const audit = make(clock);
    await audit.append(requested('old-1'));
    await audit.append({ ...ALEX, action: 'invitation.approved', subjectType: 'approval', subjectId: 'old-2' });
    clock.set('2026-01-01T00:00:00.000Z');
    const kept = await audit.append(requested('new-1'));

    expect(await audit.pruneBefore(new Date('2026-01-01T00:00:00.000Z'))).toBe(2);
    expect((await audit.list()).map((e) => e.subjectId)).toEqual(['new-1']);
    expect(await audit.pruneBefore(new Date('2026-01-01T00:00:00.000Z'))).toBe(0);
    const later = await audit.append(requested('new-2'));
    expect(later.seq).toBeGreaterThan(kept.seq);
    expect((await audit.list()).map((e) => e.subjectId)).toEqual(['new-1', 'new-2']);
  });

  it('returns copies: changing a returned event changes nothing stored', async () => {
    const audit = make(manualClock());
    const event = await audit.append(requested('req-1'));
    (event.details as Record<string, unknown>).email = 'changed';
    const [listed] = await audit.list();
    (listed?.details as Record<string, unknown>).groupId = 'changed';
    expect((await audit.list())[0]?.details).toEqual(requested('req-1').details);
  });
});

describe('AzureAuditLog keyed appends (companion writes replayed after a crash)', () => {
  it('an event appended twice under one key is recorded once, and the replay returns the first', async () => {
    const clock = manualClock('2025-03-01T09:00:00.000Z');
    const audit = new AzureAuditLog(azurite.account(), clock);
    const first = await audit.appendOnce('decision:req-1:v2', requested('req-1'));
    clock.advance(60_000);
    const again = await Promise.all([audit.appendOnce('decision:req-1:v2', requested('req-1')), audit.appendOnce('decision:req-1:v2', requested('req-1'))]);
    expect(again).toEqual([first, first]);
    await audit.append(requested('req-1'));
    const listed = await audit.list({ subjectType: 'invitationRequest', subjectId: 'req-1' });
    expect(listed.map((e) => e.at)).toEqual(['2025-03-01T09:00:00.000Z', '2025-03-01T09:01:00.000Z']);
  });
});

describe('SqliteAuditLog keeps the log append-only outside retention', () => {
  it('refuses an UPDATE, and a DELETE of an event that no prune cutoff covers', async () => {
    const db = openDatabase(':memory:', [...coreMigrations, ...auditMigrations]);
    const clock = manualClock('2026-01-01T00:00:00.000Z');
    const audit = new SqliteAuditLog(db, clock);
    await audit.append(requested('req-1'));
    expect(() => db.prepare('UPDATE audit_events SET action = ?').run('x')).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM audit_events').run()).toThrow(/append-only/);
    // A prune with an earlier cutoff leaves the event and the gate closed.
    expect(await audit.pruneBefore(new Date('2025-06-01T00:00:00.000Z'))).toBe(0);
    expect(() => db.prepare('DELETE FROM audit_events').run()).toThrow(/append-only/);
    expect(await audit.list()).toHaveLength(1);
  });
});
