import { SqliteApprovalRequestRepository } from '../../../src/adapters/sqlite/approvalRequests';
import { approvalMigrations } from '../../../src/adapters/sqlite/approvalSchema';
import { openDatabase, prepared } from '../../../src/adapters/sqlite/database';

describe('statements prepared once', () => {
  it('gives the same statement for the same SQL on the same database, and its own on another', () => {
    const a = openDatabase(':memory:', []);
    const b = openDatabase(':memory:', []);
    expect(prepared(a, 'SELECT 1')).toBe(prepared(a, 'SELECT 1'));
    expect(prepared(b, 'SELECT 1')).not.toBe(prepared(a, 'SELECT 1'));
    a.close();
    b.close();
  });

  it('the check made on every activity (approval cards that never reached this person) is prepared once and starts from the person, not from every pending request', async () => {
    const db = openDatabase(':memory:', approvalMigrations);
    const store = new SqliteApprovalRequestRepository(db, { audit: { appendSync: () => { throw new Error('this test writes no audit rows'); } } });
    const prepare = jest.spyOn(db, 'prepare');
    await store.listUndeliveredFor('6f1c2b3a-0003-4c5d-8e9f-0a1b2c3d4e03');
    await store.listUndeliveredFor('6f1c2b3a-0003-4c5d-8e9f-0a1b2c3d4e03');
    await store.listUndeliveredFor('6f1c2b3a-0001-4c5d-8e9f-0a1b2c3d4e01');
    expect(prepare).toHaveBeenCalledTimes(1);
    const sql = prepare.mock.calls[0]?.[0] ?? '';
    prepare.mockRestore();
    const plan = db
      .prepare<[string, string], { detail: string }>(`EXPLAIN QUERY PLAN ${sql}`)
      .all('x', 'x')
      .map((row) => row.detail);
    expect(plan[0]).toMatch(/^SEARCH d USING INDEX approval_deliveries_recipient/);
    expect(plan.join('\n')).not.toMatch(/SCAN r\b|approval_requests_pending/);
    db.close();
  });
});
