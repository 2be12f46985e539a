/**
 * AUDIT_RETENTION_DAYS: once a day, the audit events older than the retention period are
 * deleted. The sweep is durable due work (kind 'audit.retentionSweep', one subject), so every
 * instance may schedule it at start and exactly one runs it each day (the store's claim), and a
 * day missed while the bot was down is caught up at the next start.
 */
import type { Clock } from '../../domain/clock';
import { DAY_MS } from '../../domain/lifecycle';
import type { Logger } from '../../shared/logger';
import type { AuditLog } from '../ports/auditLog';
import type { ScheduledWorkRepository } from '../ports/scheduler';
import type { WorkHandler } from '../scheduling/workRunner';

export const AUDIT_RETENTION_KIND = 'audit.retentionSweep';
/** One sweep for the whole log: with the kind, the work's identity. */
export const AUDIT_RETENTION_SUBJECT = 'audit-log';
export const RETENTION_SWEEP_EVERY_MS = DAY_MS;

/** Who the log names for what the bot does on its own. */
export const SYSTEM_ACTOR = { actorId: 'system', actorName: 'Guest onboarding bot' } as const;

export interface RetentionDeps {
  audit: Pick<AuditLog, 'pruneBefore' | 'append'>;
  work: Pick<ScheduledWorkRepository, 'schedule'>;
  clock: Clock;
  /** AUDIT_RETENTION_DAYS. */
  retentionDays: number;
  logger?: Pick<Logger, 'info' | 'warn'>;
}

export interface AuditRetention {
  /** The handlers for the one scheduler's map (kinds 'audit.…'). */
  handlers: Record<string, WorkHandler>;
  /** Schedules the daily sweep unless it is already scheduled (any instance, any number of times). */
  schedule(): Promise<void>;
  /** One sweep now: the number of events deleted. */
  sweep(): Promise<number>;
}

export function createAuditRetention(deps: RetentionDeps): AuditRetention {
  async function sweep(): Promise<number> {
    const now = deps.clock.now();
    const before = new Date(now.getTime() - deps.retentionDays * DAY_MS);
    const pruned = await deps.audit.pruneBefore(before);
    if (pruned > 0) {
      deps.logger?.info({ pruned, retentionDays: deps.retentionDays }, 'audit retention: old events deleted');
      // The deletion is itself on the record (it goes in its turn, retentionDays later).
      await deps.audit.append({
        ...SYSTEM_ACTOR,
        action: 'audit.pruned',
        subjectType: 'auditLog',
        subjectId: AUDIT_RETENTION_SUBJECT,
        details: { before: before.toISOString(), deleted: pruned, retentionDays: deps.retentionDays },
      });
    }
    return pruned;
  }

  return {
    handlers: {
      [AUDIT_RETENTION_KIND]: async () => {
        await sweep();
        return { outcome: 'reschedule', dueAt: new Date(deps.clock.now().getTime() + RETENTION_SWEEP_EVERY_MS).toISOString() };
      },
    },
    schedule: async () => {
      await deps.work.schedule({ kind: AUDIT_RETENTION_KIND, subject: AUDIT_RETENTION_SUBJECT, dueAt: deps.clock.now().toISOString() });
    },
    sweep,
  };
}
