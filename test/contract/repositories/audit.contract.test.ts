/** The audit log's observable behaviour, the same over SQLite and memory. */
import { coreMigrations } from '../../../src/adapters/sqlite/coreMigrations';
import { openDatabase } from '../../../src/adapters/sqlite/database';
import { SqliteAuditLog } from '../../../src/adapters/sqlite/audit';
import { MemoryAuditLog } from '../../../src/adapters/memory/audit';
import { AuditEventError, type AuditEventInput, type AuditLog } from '../../../src/usecases/ports/auditLog';
import { manualClock, type ManualClock } from '../../support/store';
import { AzureAuditLog } from '../../../src/adapters/azure/audit';
import { useAzurite } from '../../support/azurite';

const azurite = useAzurite();

type Make = (clock: ManualClock) => AuditLog;

const makeSqlite: Make = (clock) => new SqliteAuditLog(openDatabase(':memory:', coreMigrations), clock);
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
