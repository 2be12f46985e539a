import { AuditEventError, type AuditEventInput } from '../../../src/adapters/sqlite/audit';
import { manualClock, memoryStore, tempStore } from '../../support/store';

const MEGAN = { actorId: '6f1c2b3a-0001-4c5d-8e9f-0a1b2c3d4e01', actorName: 'Megan Bowen' };
const ALEX = { actorId: '6f1c2b3a-0003-4c5d-8e9f-0a1b2c3d4e03', actorName: 'Alex Wilber' };

const requested = (subjectId: string): AuditEventInput => ({
  ...MEGAN,
  action: 'invitation.requested',
  subjectType: 'invitationRequest',
  subjectId,
  details: { email: 'jane@fabrikam.com', groupId: '7a2e9d41-0001-4b6c-9d8e-1f2a3b4c5d01' },
});

describe('AuditLog', () => {
  it('records who did what with the clock’s time and returns it as written', async () => {
    const clock = manualClock('2025-03-01T09:00:00.000Z');
    const { audit } = memoryStore([], { clock });

    const event = await audit.append(requested('req-1'));

    expect(event).toMatchObject({ at: '2025-03-01T09:00:00.000Z', action: 'invitation.requested', subjectId: 'req-1' });
    expect(await audit.list()).toEqual([event]);
  });

  it('filters by subject, actor and time, oldest first', async () => {
    const clock = manualClock('2025-03-01T09:00:00.000Z');
    const { audit } = memoryStore([], { clock });
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
    expect((await audit.list({ since: new Date('2025-03-01T09:01:00.000Z') })).map((e) => e.subjectId)).toEqual(['req-2', 'req-1']);
  });

  it('with a limit, returns the most recent events', async () => {
    const { audit } = memoryStore();
    for (let i = 1; i <= 5; i++) await audit.append(requested(`req-${i}`));
    expect((await audit.list({ limit: 2 })).map((e) => e.subjectId)).toEqual(['req-4', 'req-5']);
  });

  it('cannot be rewritten or trimmed, even with direct SQL', async () => {
    const { audit, db } = memoryStore();
    await audit.append(requested('req-1'));
    expect(() => db.prepare("UPDATE audit_events SET actor_name = 'someone else'").run()).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM audit_events').run()).toThrow(/append-only/);
    expect((await audit.list())[0]?.actorName).toBe('Megan Bowen');
  });

  it('refuses an event without an actor or subject and records nothing', async () => {
    const { audit } = memoryStore();
    await expect(audit.append({ ...requested('req-1'), actorId: ' ' })).rejects.toThrow(AuditEventError);
    await expect(audit.append({ ...requested('req-1'), subjectId: '' })).rejects.toThrow(/subjectId is required/);
    expect(await audit.list()).toEqual([]);
  });

  it('survives a restart', async () => {
    const first = tempStore();
    await first.audit.append(requested('req-1'));
    first.close();
    const second = tempStore([], { file: first.file });
    expect((await second.audit.list()).map((e) => e.details)).toEqual([
      { email: 'jane@fabrikam.com', groupId: '7a2e9d41-0001-4b6c-9d8e-1f2a3b4c5d01' },
    ]);
  });
});
