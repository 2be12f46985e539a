import { randomUUID } from 'node:crypto';
import { systemClock, type Clock } from '../../domain/clock';
import {
  accessListLimit,
  tenantListLimit,
  compareAccess,
  newAccessRecord,
  type GuestAccessDraft,
  type GuestAccessKey,
  type GuestAccessListOptions,
  type GuestAccessPatch,
  type GuestAccessRecord,
  type GuestAccessRepository,
} from '../../usecases/lifecycle/ports';

function keyOf(k: GuestAccessKey): string {
  return JSON.stringify([k.tenantId, k.groupId, k.userId]);
}

/** Guest access records in memory: each call one synchronous step (the reference for other adapters). */
export class MemoryGuestAccessRepository implements GuestAccessRepository {
  private readonly byId = new Map<string, GuestAccessRecord>();
  private readonly byKey = new Map<string, string>();
  private readonly clock: Clock;

  constructor(options: { clock?: Clock } = {}) {
    this.clock = options.clock ?? systemClock;
  }

  async claim(draft: GuestAccessDraft): Promise<{ record: GuestAccessRecord; created: boolean }> {
    const existingId = this.byKey.get(keyOf(draft));
    const existing = existingId ? this.byId.get(existingId) : undefined;
    if (existing) return { record: structuredClone(existing), created: false };
    const record = newAccessRecord(randomUUID(), draft, this.clock.now().toISOString());
    this.byId.set(record.id, record);
    this.byKey.set(keyOf(draft), record.id);
    return { record: structuredClone(record), created: true };
  }

  async get(id: string): Promise<GuestAccessRecord | null> {
    const r = this.byId.get(id);
    return r ? structuredClone(r) : null;
  }

  async findByKey(key: GuestAccessKey): Promise<GuestAccessRecord | null> {
    const id = this.byKey.get(keyOf(key));
    return id ? this.get(id) : null;
  }

  async update(id: string, expectedVersion: number, patch: GuestAccessPatch): Promise<GuestAccessRecord | null> {
    const r = this.byId.get(id);
    if (!r || r.version !== expectedVersion) return null;
    const next: GuestAccessRecord = {
      ...r,
      ...structuredClone(patch),
      ...(patch.email !== undefined ? { emailNormalised: patch.email.trim().toLowerCase() } : {}),
      updatedAt: this.clock.now().toISOString(),
      version: r.version + 1,
    };
    this.byId.set(id, next);
    return structuredClone(next);
  }

  private list(match: (r: GuestAccessRecord) => boolean, options: GuestAccessListOptions, limit = accessListLimit(options.limit)): GuestAccessRecord[] {
    return [...this.byId.values()]
      .filter((r) => match(r) && (!options.states || options.states.includes(r.state)))
      .sort(compareAccess)
      .slice(0, limit)
      .map((r) => structuredClone(r));
  }

  async listBySponsor(tenantId: string, sponsorId: string, options: GuestAccessListOptions = {}): Promise<GuestAccessRecord[]> {
    return this.list((r) => r.tenantId === tenantId && r.sponsor.id === sponsorId, options);
  }

  async listByGroup(tenantId: string, groupId: string, options: GuestAccessListOptions = {}): Promise<GuestAccessRecord[]> {
    return this.list((r) => r.tenantId === tenantId && r.groupId === groupId, options);
  }

  async listByEmail(tenantId: string, emailNormalised: string, options: GuestAccessListOptions = {}): Promise<GuestAccessRecord[]> {
    return this.list((r) => r.tenantId === tenantId && r.emailNormalised === emailNormalised, options);
  }

  async listByTenant(tenantId: string, options: GuestAccessListOptions = {}): Promise<GuestAccessRecord[]> {
    return this.list((r) => r.tenantId === tenantId, options, tenantListLimit(options.limit));
  }
}
