import { systemClock, type Clock } from '../../domain/clock';
import {
  auditLimit,
  auditPageLimit,
  validateAuditRange,
  type AuditPage,
  type AuditRange,
  validateAuditEvent,
  type AuditEvent,
  type AuditEventInput,
  type AuditFilter,
  type AuditLog,
  type JsonValue,
} from '../../usecases/ports/auditLog';

/** The audit log in memory: append-only (retention aside), in append order, as the SQLite one. */
export class MemoryAuditLog implements AuditLog {
  private events: AuditEvent[] = [];
  private lastSeq = 0;

  constructor(private readonly clock: Clock = systemClock) {}

  async append(event: AuditEventInput): Promise<AuditEvent> {
    return this.appendSync(event);
  }

  /** append() for other memory repositories writing it in the same synchronous step. */
  appendSync(event: AuditEventInput): AuditEvent {
    const detailsJson = validateAuditEvent(event);
    const stored: AuditEvent = {
      seq: ++this.lastSeq,
      at: this.clock.now().toISOString(),
      actorId: event.actorId,
      actorName: event.actorName,
      action: event.action,
      subjectType: event.subjectType,
      subjectId: event.subjectId,
      details: JSON.parse(detailsJson) as { [key: string]: JsonValue },
    };
    this.events.push(stored);
    return clone(stored);
  }

  async list(filter: AuditFilter = {}): Promise<AuditEvent[]> {
    const since = filter.since?.toISOString();
    const matching = this.events.filter(
      (e) =>
        (filter.subjectType === undefined || e.subjectType === filter.subjectType) &&
        (filter.subjectId === undefined || e.subjectId === filter.subjectId) &&
        (filter.actorId === undefined || e.actorId === filter.actorId) &&
        (filter.action === undefined || e.action === filter.action) &&
        (since === undefined || e.at >= since),
    );
    return matching.slice(-auditLimit(filter)).map(clone);
  }

  async listRange(range: AuditRange): Promise<AuditPage> {
    const { from, to, after } = validateAuditRange(range);
    const limit = auditPageLimit(range);
    const matching = this.events.filter((e) => e.seq > after && e.at >= from && e.at < to);
    const events = matching.slice(0, limit).map(clone);
    return { events, next: matching.length > limit ? (events.at(-1)?.seq ?? null) : null };
  }

  async pruneBefore(before: Date): Promise<number> {
    const cutoff = before.toISOString();
    const kept = this.events.filter((e) => e.at >= cutoff);
    const pruned = this.events.length - kept.length;
    this.events = kept;
    return pruned;
  }
}

function clone(event: AuditEvent): AuditEvent {
  return { ...event, details: JSON.parse(JSON.stringify(event.details)) as { [key: string]: JsonValue } };
}
