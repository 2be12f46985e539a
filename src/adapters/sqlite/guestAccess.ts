import { randomUUID } from 'node:crypto';
import { systemClock, type Clock } from '../../domain/clock';
import {
  accessListLimit,
  tenantListLimit,
  newAccessRecord,
  type GuestAccessDraft,
  type GuestAccessKey,
  type GuestAccessListOptions,
  type GuestAccessPatch,
  type GuestAccessRecord,
  type GuestAccessRepository,
} from '../../usecases/lifecycle/ports';
import { prepared, type Migration, type SqliteDatabase } from './database';

/**
 * Guest access records (usecases/lifecycle/ports.ts). The record is kept as JSON; the columns
 * beside it are what the lookups and the compare-and-set need.
 */
export const guestAccessMigrations: readonly Migration[] = [
  {
    id: 'guestAccess/001-create',
    up: `
      CREATE TABLE guest_access (
        id               TEXT PRIMARY KEY,
        tenant_id        TEXT NOT NULL,
        group_id         TEXT NOT NULL,
        user_id          TEXT NOT NULL,
        sponsor_id       TEXT NOT NULL,
        email_normalised TEXT NOT NULL,
        state            TEXT NOT NULL,
        invited_at       TEXT NOT NULL,
        record           TEXT NOT NULL,
        version          INTEGER NOT NULL,
        UNIQUE (tenant_id, group_id, user_id)
      );
      CREATE INDEX guest_access_by_sponsor ON guest_access (tenant_id, sponsor_id, invited_at);
      CREATE INDEX guest_access_by_group ON guest_access (tenant_id, group_id, invited_at);
      CREATE INDEX guest_access_by_email ON guest_access (tenant_id, email_normalised, invited_at);
    `,
  },
];

const ORDER = 'ORDER BY invited_at DESC, id ASC';

export class SqliteGuestAccessRepository implements GuestAccessRepository {
  private readonly clock: Clock;

  constructor(
    private readonly db: SqliteDatabase,
    options: { clock?: Clock } = {},
  ) {
    this.clock = options.clock ?? systemClock;
  }

  private write(record: GuestAccessRecord): void {
    prepared(
      this.db,
      `INSERT INTO guest_access (id, tenant_id, group_id, user_id, sponsor_id, email_normalised, state, invited_at, record, version)
       VALUES (@id, @tenantId, @groupId, @userId, @sponsorId, @emailNormalised, @state, @invitedAt, @record, @version)
       ON CONFLICT (id) DO UPDATE SET sponsor_id = excluded.sponsor_id, email_normalised = excluded.email_normalised,
         state = excluded.state, invited_at = excluded.invited_at, record = excluded.record, version = excluded.version`,
    ).run({
      id: record.id,
      tenantId: record.tenantId,
      groupId: record.groupId,
      userId: record.userId,
      sponsorId: record.sponsor.id,
      emailNormalised: record.emailNormalised,
      state: record.state,
      invitedAt: record.invitedAt,
      record: JSON.stringify(record),
      version: record.version,
    });
  }

  async claim(draft: GuestAccessDraft): Promise<{ record: GuestAccessRecord; created: boolean }> {
    const run = this.db.transaction(() => {
      const existing = this.findByKeySync(draft);
      if (existing) return { record: existing, created: false };
      const record = newAccessRecord(randomUUID(), draft, this.clock.now().toISOString());
      this.write(record);
      return { record, created: true };
    });
    return run.immediate();
  }

  async get(id: string): Promise<GuestAccessRecord | null> {
    const row = prepared<[string], { record: string }>(this.db, 'SELECT record FROM guest_access WHERE id = ?').get(id);
    return row ? (JSON.parse(row.record) as GuestAccessRecord) : null;
  }

  private findByKeySync(key: GuestAccessKey): GuestAccessRecord | null {
    const row = prepared<[string, string, string], { record: string }>(
      this.db,
      'SELECT record FROM guest_access WHERE tenant_id = ? AND group_id = ? AND user_id = ?',
    ).get(key.tenantId, key.groupId, key.userId);
    return row ? (JSON.parse(row.record) as GuestAccessRecord) : null;
  }

  async findByKey(key: GuestAccessKey): Promise<GuestAccessRecord | null> {
    return this.findByKeySync(key);
  }

  async update(id: string, expectedVersion: number, patch: GuestAccessPatch): Promise<GuestAccessRecord | null> {
    const run = this.db.transaction((): GuestAccessRecord | null => {
      const row = prepared<[string], { record: string; version: number }>(this.db, 'SELECT record, version FROM guest_access WHERE id = ?').get(id);
      if (!row || row.version !== expectedVersion) return null;
      const current = JSON.parse(row.record) as GuestAccessRecord;
      const next: GuestAccessRecord = {
        ...current,
        ...patch,
        ...(patch.email !== undefined ? { emailNormalised: patch.email.trim().toLowerCase() } : {}),
        updatedAt: this.clock.now().toISOString(),
        version: current.version + 1,
      };
      this.write(next);
      return next;
    });
    return run.immediate();
  }

  private list(where: string, params: string[], options: GuestAccessListOptions, limit = accessListLimit(options.limit)): GuestAccessRecord[] {
    const states = options.states ? [...options.states] : null;
    const stateFilter = states ? ` AND state IN (${states.map(() => '?').join(', ')})` : '';
    return prepared<string[], { record: string }>(this.db, `SELECT record FROM guest_access WHERE ${where}${stateFilter} ${ORDER} LIMIT ${limit}`)
      .all(...params, ...(states ?? []))
      .map((row) => JSON.parse(row.record) as GuestAccessRecord);
  }

  async listBySponsor(tenantId: string, sponsorId: string, options: GuestAccessListOptions = {}): Promise<GuestAccessRecord[]> {
    return this.list('tenant_id = ? AND sponsor_id = ?', [tenantId, sponsorId], options);
  }

  async listByGroup(tenantId: string, groupId: string, options: GuestAccessListOptions = {}): Promise<GuestAccessRecord[]> {
    return this.list('tenant_id = ? AND group_id = ?', [tenantId, groupId], options);
  }

  async listByEmail(tenantId: string, emailNormalised: string, options: GuestAccessListOptions = {}): Promise<GuestAccessRecord[]> {
    return this.list('tenant_id = ? AND email_normalised = ?', [tenantId, emailNormalised], options);
  }

  async listByTenant(tenantId: string, options: GuestAccessListOptions = {}): Promise<GuestAccessRecord[]> {
    return this.list('tenant_id = ?', [tenantId], options, tenantListLimit(options.limit));
  }
}
