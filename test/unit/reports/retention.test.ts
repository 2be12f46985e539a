/**
 * AUDIT_RETENTION_DAYS: the daily sweep through the durable scheduler, with a clock the test
 * moves. Two runners over one store (two instances) sweep once a day between them.
 */
import { DAY_MS } from '../../../src/domain/lifecycle';
import { AUDIT_RETENTION_KIND, AUDIT_RETENTION_SUBJECT, createAuditRetention } from '../../../src/usecases/reports/retention';
import { ScheduledWorkRunner } from '../../../src/usecases/scheduling/workRunner';
import { manualClock, memoryStore } from '../../support/store';

const WHO = { actorId: 'u-megan', actorName: 'Megan Bowen' };

describe('audit retention sweep', () => {
  it('deletes what is older than the retention period, once a day, across two instances, and records it', async () => {
    const clock = manualClock('2025-01-01T00:00:00.000Z');
    const store = memoryStore([], { clock });
    await store.audit.append({ ...WHO, action: 'invitation.requested', subjectType: 'invitation', subjectId: 'old' });
    clock.set('2025-06-01T00:00:00.000Z');
    await store.audit.append({ ...WHO, action: 'invitation.requested', subjectType: 'invitation', subjectId: 'newer' });
    clock.set('2026-01-10T00:00:00.000Z');

    const instances = ['one', 'two'].map((holderId) => {
      const retention = createAuditRetention({ audit: store.audit, work: store.scheduledWork, clock, retentionDays: 365 });
      return { retention, runner: new ScheduledWorkRunner({ work: store.scheduledWork, holderId, clock, handlers: retention.handlers }) };
    });
    // Both instances schedule at start: one piece of work.
    for (const i of instances) await i.retention.schedule();
    expect((await store.scheduledWork.listBySubject(AUDIT_RETENTION_SUBJECT)).map((w) => w.kind)).toEqual([AUDIT_RETENTION_KIND]);

    const passes = await Promise.all(instances.map((i) => i.runner.runOnce()));
    expect(passes.reduce((n, p) => n + p.rescheduled, 0)).toBe(1);
    // 2026-01-10 minus 365 days = 2025-01-10: 'old' (2025-01-01) goes, 'newer' stays.
    expect((await store.audit.list()).map((e) => [e.action, e.subjectId])).toEqual([
      ['invitation.requested', 'newer'],
      ['audit.pruned', AUDIT_RETENTION_SUBJECT],
    ]);
    const [pruned] = await store.audit.list({ action: 'audit.pruned' });
    expect(pruned?.details).toEqual({ before: '2025-01-10T00:00:00.000Z', deleted: 1, retentionDays: 365 });

    // Nothing more is due until tomorrow.
    expect((await instances[0]!.runner.runOnce()).rescheduled).toBe(0);
    const work = await store.scheduledWork.get(AUDIT_RETENTION_KIND, AUDIT_RETENTION_SUBJECT);
    expect(work?.dueAt).toBe(new Date(Date.parse('2026-01-10T00:00:00.000Z') + DAY_MS).toISOString());

    // Down for ~5 months: the next start catches up with one sweep, and 'newer' is now past retention.
    clock.set('2026-06-15T00:00:00.000Z');
    await instances[1]!.retention.schedule();
    expect((await instances[1]!.runner.runOnce()).rescheduled).toBe(1);
    expect((await store.audit.list()).map((e) => e.subjectId)).toEqual([AUDIT_RETENTION_SUBJECT, AUDIT_RETENTION_SUBJECT]);
  });

  it('a sweep with nothing to delete records nothing', async () => {
    const clock = manualClock('2026-01-10T00:00:00.000Z');
    const store = memoryStore([], { clock });
    await store.audit.append({ ...WHO, action: 'invitation.requested', subjectType: 'invitation', subjectId: 'recent' });
    const retention = createAuditRetention({ audit: store.audit, work: store.scheduledWork, clock, retentionDays: 30 });
    expect(await retention.sweep()).toBe(0);
    expect(await store.audit.list()).toHaveLength(1);
  });
});
