import { randomUUID } from 'node:crypto';
import { systemClock, type Clock } from '../../domain/clock';
import {
  normaliseEmailForKey,
  type ClaimResult,
  type InvitationDraft,
  type InvitationKey,
  type InvitationListOptions,
  type InvitationPatch,
  type InvitationRecord,
  type InvitationRepository,
  type InvitationState,
  newInvitationRecord,
} from '../../usecases/ports/invitations';

const DEFAULT_LIMIT = 50;

/** Invitation records in memory: the same keys, compare-and-set and order as SqliteInvitationRepository. */
export class MemoryInvitationRepository implements InvitationRepository {
  /** In insertion order (the SQLite rowid), which breaks ties between equal createdAt. */
  private readonly records: InvitationRecord[] = [];
  private readonly byId = new Map<string, InvitationRecord>();
  private readonly byKey = new Map<string, InvitationRecord>();
  private readonly clock: Clock;
  private readonly newId: () => string;

  constructor(options: { clock?: Clock; newId?: () => string } = {}) {
    this.clock = options.clock ?? systemClock;
    this.newId = options.newId ?? randomUUID;
  }

  async claim(draft: InvitationDraft): Promise<ClaimResult> {
    const key = { tenantId: draft.tenantId, emailNormalised: normaliseEmailForKey(draft.emailNormalised), groupId: draft.groupId };
    const existing = this.byKey.get(keyOf(key));
    if (existing) return { record: copy(existing), created: false };
    const now = this.clock.now().toISOString();
    const record = newInvitationRecord(this.newId(), draft, key.emailNormalised, now);
    if (this.byId.has(record.id)) throw new Error('invitation claim: duplicate id');
    this.records.push(record);
    this.byId.set(record.id, record);
    this.byKey.set(keyOf(key), record);
    return { record: copy(record), created: true };
  }

  async update(id: string, expectedVersion: number, patch: InvitationPatch): Promise<InvitationRecord | null> {
    const record = this.byId.get(id);
    if (!record || record.version !== expectedVersion) return null;
    for (const [field, value] of Object.entries(patch) as Array<[keyof InvitationPatch, unknown]>) {
      if (!PATCHABLE.has(field)) continue;
      (record as unknown as Record<string, unknown>)[field] = value === undefined ? null : value;
    }
    record.updatedAt = this.clock.now().toISOString();
    record.version += 1;
    return copy(record);
  }

  async get(id: string): Promise<InvitationRecord | null> {
    const record = this.byId.get(id);
    return record ? copy(record) : null;
  }

  async findByKey(key: InvitationKey): Promise<InvitationRecord | null> {
    const record = this.byKey.get(keyOf({ ...key, emailNormalised: normaliseEmailForKey(key.emailNormalised) }));
    return record ? copy(record) : null;
  }

  async listByRequester(tenantId: string, requesterId: string, options: InvitationListOptions = {}): Promise<InvitationRecord[]> {
    return this.list((r) => r.tenantId === tenantId && r.requestedBy.id === requesterId, options);
  }

  async listByState(state: InvitationState | readonly InvitationState[], options: InvitationListOptions = {}): Promise<InvitationRecord[]> {
    const states: readonly string[] = typeof state === 'string' ? [state] : state;
    return this.list((r) => states.includes(r.state), options);
  }

  async listByEmail(tenantId: string, emailNormalised: string, options: InvitationListOptions = {}): Promise<InvitationRecord[]> {
    const email = normaliseEmailForKey(emailNormalised);
    return this.list((r) => r.tenantId === tenantId && r.emailNormalised === email, options);
  }

  /** Newest first (createdAt, then the later insert), from `since`, at most `limit`. */
  private list(match: (record: InvitationRecord) => boolean, options: InvitationListOptions): InvitationRecord[] {
    const since = options.since ?? '';
    const out: InvitationRecord[] = [];
    for (let i = this.records.length - 1; i >= 0; i--) {
      const record = this.records[i] as InvitationRecord;
      if (record.createdAt >= since && match(record)) out.push(record);
    }
    // Stable: equal createdAt keep the newest insert first.
    out.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
    // As SQLite's LIMIT: a negative limit means none.
    const limit = options.limit ?? DEFAULT_LIMIT;
    return (limit < 0 ? out : out.slice(0, limit)).map(copy);
  }
}

const PATCHABLE = new Set<keyof InvitationPatch>([
  'displayName',
  'emailDisplay',
  'siteName',
  'siteUrl',
  'conversationRefKey',
  'predictedMethod',
  'actualMethod',
  'state',
  'outcomeKind',
  'invitationId',
  'redeemUrl',
  'userId',
  'lastError',
  'attempts',
  'lockedUntil',
  'lockedBy',
  'inviteAttemptedAt',
]);

function copy(record: InvitationRecord): InvitationRecord {
  return { ...record, requestedBy: { ...record.requestedBy } };
}

function keyOf(key: InvitationKey): string {
  return JSON.stringify([key.tenantId, key.emailNormalised, key.groupId]);
}
