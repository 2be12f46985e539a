import { randomUUID } from 'node:crypto';
import type { Migration, SqliteDatabase, SqliteStatement as Statement } from './database';
import { systemClock, type Clock } from '../../domain/clock';
import type { SignInMethod } from '../../domain/signInAdvice';
import {
  normaliseEmailForKey,
  type ClaimResult,
  type InvitationDraft,
  type InvitationKey,
  type InvitationListOptions,
  type InvitationOutcomeKind,
  type InvitationPatch,
  type InvitationRecord,
  type InvitationRepository,
  type InvitationState,
} from '../../usecases/ports/invitations';

export const invitationMigrations: Migration[] = [
  {
    id: 'invitations/001-create',
    up: `
      CREATE TABLE invitations (
        id TEXT PRIMARY KEY,
        tenant_id TEXT NOT NULL,
        email_normalised TEXT NOT NULL,
        group_id TEXT NOT NULL,
        email_display TEXT NOT NULL,
        display_name TEXT NOT NULL,
        site_name TEXT NOT NULL,
        site_url TEXT NOT NULL,
        requested_by_id TEXT NOT NULL,
        requested_by_name TEXT NOT NULL,
        conversation_ref_key TEXT,
        source TEXT NOT NULL,
        predicted_method TEXT,
        actual_method TEXT,
        state TEXT NOT NULL,
        outcome_kind TEXT,
        invitation_id TEXT,
        redeem_url TEXT,
        user_id TEXT,
        last_error TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        locked_until TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        version INTEGER NOT NULL DEFAULT 1
      );
      CREATE UNIQUE INDEX invitations_key ON invitations (tenant_id, email_normalised, group_id);
      CREATE INDEX invitations_requester ON invitations (tenant_id, requested_by_id, created_at);
      CREATE INDEX invitations_state ON invitations (state, updated_at);
    `,
  },
  {
    id: 'invitations/002-lock-holder-and-attempt',
    up: `
      ALTER TABLE invitations ADD COLUMN locked_by TEXT;
      ALTER TABLE invitations ADD COLUMN invite_attempted_at TEXT;
    `,
  },
];

interface InvitationRow {
  id: string;
  tenant_id: string;
  email_normalised: string;
  group_id: string;
  email_display: string;
  display_name: string;
  site_name: string;
  site_url: string;
  requested_by_id: string;
  requested_by_name: string;
  conversation_ref_key: string | null;
  source: string;
  predicted_method: string | null;
  actual_method: string | null;
  state: string;
  outcome_kind: string | null;
  invitation_id: string | null;
  redeem_url: string | null;
  user_id: string | null;
  last_error: string | null;
  attempts: number;
  locked_until: string | null;
  locked_by: string | null;
  invite_attempted_at: string | null;
  created_at: string;
  updated_at: string;
  version: number;
}

const PATCH_COLUMNS: Record<keyof InvitationPatch, keyof InvitationRow> = {
  displayName: 'display_name',
  emailDisplay: 'email_display',
  siteName: 'site_name',
  siteUrl: 'site_url',
  conversationRefKey: 'conversation_ref_key',
  predictedMethod: 'predicted_method',
  actualMethod: 'actual_method',
  state: 'state',
  outcomeKind: 'outcome_kind',
  invitationId: 'invitation_id',
  redeemUrl: 'redeem_url',
  userId: 'user_id',
  lastError: 'last_error',
  attempts: 'attempts',
  lockedUntil: 'locked_until',
  lockedBy: 'locked_by',
  inviteAttemptedAt: 'invite_attempted_at',
};

function fromRow(r: InvitationRow): InvitationRecord {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    emailNormalised: r.email_normalised,
    groupId: r.group_id,
    emailDisplay: r.email_display,
    displayName: r.display_name,
    siteName: r.site_name,
    siteUrl: r.site_url,
    requestedBy: { id: r.requested_by_id, name: r.requested_by_name },
    conversationRefKey: r.conversation_ref_key,
    source: r.source,
    predictedMethod: r.predicted_method as SignInMethod | null,
    actualMethod: r.actual_method as SignInMethod | null,
    state: r.state as InvitationState,
    outcomeKind: r.outcome_kind as InvitationOutcomeKind | null,
    invitationId: r.invitation_id,
    redeemUrl: r.redeem_url,
    userId: r.user_id,
    lastError: r.last_error,
    attempts: r.attempts,
    lockedUntil: r.locked_until,
    lockedBy: r.locked_by ?? null,
    inviteAttemptedAt: r.invite_attempted_at ?? null,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    version: r.version,
  };
}

const DEFAULT_LIMIT = 50;

/** SQLite implementation (SQLite is synchronous here; the async interface leaves room for other stores). */
export class SqliteInvitationRepository implements InvitationRepository {
  private readonly clock: Clock;
  private readonly newId: () => string;
  /**
   * Prepared statements by SQL text, prepared on first use. Preparing on every call cost a
   * noticeable share of a bulk job's CPU, and the discarded statements waited for garbage
   * collection, so memory grew with the file. Lazily, not in the constructor, so that building
   * the repository does not need the table yet. The SQL varies only with the patched columns
   * (update) and the number of states (listByState), so the cache stays small.
   */
  private readonly statements = new Map<string, Statement>();

  constructor(
    private readonly db: SqliteDatabase,
    options: { clock?: Clock; newId?: () => string } = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.newId = options.newId ?? randomUUID;
  }

  private now(): string {
    return this.clock.now().toISOString();
  }

  private statement<P extends unknown[], R = unknown>(sql: string): Statement<P, R> {
    let stmt = this.statements.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.statements.set(sql, stmt);
    }
    return stmt as unknown as Statement<P, R>;
  }

  claim(draft: InvitationDraft): Promise<ClaimResult> {
    const key = { ...draft, emailNormalised: normaliseEmailForKey(draft.emailNormalised) };
    const now = this.now();
    // INSERT OR IGNORE on the unique key is the atomic insert-or-get, across processes too.
    const info = this.statement(
      `INSERT OR IGNORE INTO invitations (
        id, tenant_id, email_normalised, group_id, email_display, display_name, site_name, site_url,
        requested_by_id, requested_by_name, conversation_ref_key, source, predicted_method,
        state, attempts, created_at, updated_at, version
      ) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, 1)`,
    ).run(
      this.newId(),
      key.tenantId,
      key.emailNormalised,
      key.groupId,
      draft.emailDisplay,
      draft.displayName,
      draft.siteName,
      draft.siteUrl,
      draft.requestedBy.id,
      draft.requestedBy.name,
      draft.conversationRefKey ?? null,
      draft.source ?? 'chat',
      draft.predictedMethod ?? null,
      now,
      now,
    );
    const record = this.findByKeySync(key);
    if (!record) throw new Error('invitation claim: record vanished after insert');
    return Promise.resolve({ record, created: info.changes === 1 });
  }

  update(id: string, expectedVersion: number, patch: InvitationPatch): Promise<InvitationRecord | null> {
    const sets: string[] = [];
    const values: Array<string | number | null> = [];
    for (const [field, column] of Object.entries(PATCH_COLUMNS) as Array<[keyof InvitationPatch, keyof InvitationRow]>) {
      if (!(field in patch)) continue;
      const v = patch[field];
      sets.push(`${column} = ?`);
      values.push(v === undefined ? null : v);
    }
    sets.push('updated_at = ?', 'version = version + 1');
    values.push(this.now());
    const info = this.statement(`UPDATE invitations SET ${sets.join(', ')} WHERE id = ? AND version = ?`).run(
      ...values,
      id,
      expectedVersion,
    );
    if (info.changes !== 1) return Promise.resolve(null);
    return this.get(id);
  }

  get(id: string): Promise<InvitationRecord | null> {
    const row = this.statement<[string], InvitationRow>('SELECT * FROM invitations WHERE id = ?').get(id);
    return Promise.resolve(row ? fromRow(row) : null);
  }

  findByKey(key: InvitationKey): Promise<InvitationRecord | null> {
    return Promise.resolve(this.findByKeySync(key));
  }

  private findByKeySync(key: InvitationKey): InvitationRecord | null {
    const row = this.statement<[string, string, string], InvitationRow>(
      'SELECT * FROM invitations WHERE tenant_id = ? AND email_normalised = ? AND group_id = ?',
    ).get(key.tenantId, normaliseEmailForKey(key.emailNormalised), key.groupId);
    return row ? fromRow(row) : null;
  }

  listByRequester(tenantId: string, requesterId: string, options: InvitationListOptions = {}): Promise<InvitationRecord[]> {
    const rows = this.statement<[string, string, string, number], InvitationRow>(
      `SELECT * FROM invitations WHERE tenant_id = ? AND requested_by_id = ? AND created_at >= ?
       ORDER BY created_at DESC, rowid DESC LIMIT ?`,
    ).all(tenantId, requesterId, options.since ?? '', options.limit ?? DEFAULT_LIMIT);
    return Promise.resolve(rows.map(fromRow));
  }

  listByState(state: InvitationState | readonly InvitationState[], options: InvitationListOptions = {}): Promise<InvitationRecord[]> {
    const states: readonly string[] = typeof state === 'string' ? [state] : state;
    if (states.length === 0) return Promise.resolve([]);
    const rows = this.statement<Array<string | number>, InvitationRow>(
      `SELECT * FROM invitations WHERE state IN (${states.map(() => '?').join(', ')}) AND created_at >= ?
       ORDER BY created_at DESC, rowid DESC LIMIT ?`,
    ).all(...states, options.since ?? '', options.limit ?? DEFAULT_LIMIT);
    return Promise.resolve(rows.map(fromRow));
  }

  listByEmail(tenantId: string, emailNormalised: string, options: InvitationListOptions = {}): Promise<InvitationRecord[]> {
    const rows = this.statement<[string, string, string, number], InvitationRow>(
      `SELECT * FROM invitations WHERE tenant_id = ? AND email_normalised = ? AND created_at >= ?
       ORDER BY created_at DESC, rowid DESC LIMIT ?`,
    ).all(tenantId, normaliseEmailForKey(emailNormalised), options.since ?? '', options.limit ?? DEFAULT_LIMIT);
    return Promise.resolve(rows.map(fromRow));
  }
}
