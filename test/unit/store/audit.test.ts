/** What only the SQLite audit log shows: the database itself refuses rewrites, and the file keeps events. */
import { coreMigrations } from '../../../src/adapters/sqlite/coreMigrations';
import { openDatabase } from '../../../src/adapters/sqlite/database';
import { SqliteAuditLog } from '../../../src/adapters/sqlite/audit';
import type { AuditEventInput } from '../../../src/usecases/ports/auditLog';
import { tempStore } from '../../support/store';

// Behaviour every adapter shares (filters, order, limits, refusals): test/contract/repositories/audit.contract.test.ts.

const requested = (subjectId: string): AuditEventInput => ({
  actorId: '6f1c2b3a-0001-4c5d-8e9f-0a1b2c3d4e01',
  actorName: 'Megan Bowen',
  action: 'invitation.requested',
  subjectType: 'invitationRequest',
  subjectId,
  details: { email: 'jane@fabrikam.com', groupId: '7a2e9d41-0001-4b6c-9d8e-1f2a3b4c5d01' },
});

describe('SqliteAuditLog', () => {
  it('cannot be rewritten or trimmed, even with direct SQL', async () => {
    const db = openDatabase(':memory:', coreMigrations);
    const audit = new SqliteAuditLog(db);
    await audit.append(requested('req-1'));
    expect(() => db.prepare("UPDATE audit_events SET actor_name = 'someone else'").run()).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM audit_events').run()).toThrow(/append-only/);
    expect((await audit.list())[0]?.actorName).toBe('Megan Bowen');
    db.close();
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
