/**
 * `npm run migrate:sqlite-to-azure`: copies the embedded store (DATA_DIR/bot.sqlite) into the
 * Azure Storage account the STORE=azure settings name (AZURE_STORAGE_*), through the repository
 * ports, so the Azure adapters write every key and index as the bot would. Idempotent: what the
 * target already holds is left alone, so a second run copies nothing new. Prints what it copied,
 * per kind. Stop the bot first (its SQLite file must not change while it is read).
 *
 * What is copied:
 * - bot state (every conversation's dialog and the user state), item by item, when absent;
 * - conversation references (the personal-chat index follows from them, and so do the channel
 *   identities the bot learns from stored personal chats);
 * - invitation records, by their key (tenant, address, site): the idempotency anchor, so an
 *   address invited before the move is never invited a second time after it. The target gives
 *   the record a new id: buttons on cards sent before the move that name a record ("Send the
 *   invitation email") answer that the card is out of date.
 *
 * What is not copied, and said so: approval requests, reset requests and bulk jobs (work in
 * flight: finish or cancel it on the embedded store before moving, the tool counts what is still
 * open), the audit history (it stays in the SQLite file; keep a copy), the results-link secret
 * (links handed out before the move stop working; the target makes its own).
 */
import fs from 'node:fs';
import type { Storage, StoreItems } from 'botbuilder';
import type { Repositories } from '../adapters/repositories';
import { ConfigError, loadConfig, loadDotEnv } from '../app/config';
import { createStore } from '../app/createStore';
import { openStore, sqliteDatabaseOf, type SqliteStore } from '../adapters/sqlite/store';
import type { InvitationPatch, InvitationRecord, InvitationState } from '../usecases/ports/invitations';

export interface MigrationTarget extends Pick<Repositories, 'conversationReferences' | 'invitations'> {
  readonly botStorage: Storage;
}

export interface KindCount {
  /** In the embedded store. */
  found: number;
  /** Written to the target by this run. */
  copied: number;
  /** Already in the target (an earlier run, or the bot itself). */
  present: number;
}

export interface MigrationReport {
  botState: KindCount;
  conversationReferences: KindCount;
  invitations: KindCount;
  /** Not copied (see the file comment): how many there are, and how many are still open. */
  notCopied: {
    approvalRequests: { total: number; open: number };
    resetRequests: { total: number; open: number };
    bulkJobs: { total: number; open: number };
    auditEvents: number;
  };
}

const ALL_STATES: InvitationState[] = ['pending', 'invited', 'completed', 'partial', 'failed'];
const BATCH = 50;

const count = (): KindCount => ({ found: 0, copied: 0, present: 0 });

function column<T>(source: SqliteStore, sql: string): T[] {
  const db = sqliteDatabaseOf(source);
  try {
    return db.prepare(sql).pluck().all() as T[];
  } catch {
    // A table of a feature this store never used (its migration not applied): nothing there.
    return [];
  }
}

function countOf(source: SqliteStore, sql: string): number {
  return column<number>(source, sql)[0] ?? 0;
}

async function copyBotState(source: SqliteStore, target: MigrationTarget): Promise<KindCount> {
  const result = count();
  const keys = column<string>(source, 'SELECT key FROM bot_storage ORDER BY key');
  result.found = keys.length;
  for (let i = 0; i < keys.length; i += BATCH) {
    const batch = keys.slice(i, i + BATCH);
    const [items, existing] = await Promise.all([source.botStorage.read(batch), target.botStorage.read(batch)]);
    const changes: StoreItems = {};
    for (const key of batch) {
      const item = items[key] as Record<string, unknown> | undefined;
      if (!item) continue;
      if (existing[key]) {
        result.present++;
        continue;
      }
      // No eTag: a plain create (the source's eTag means nothing to the target).
      const { eTag: _eTag, ...value } = item;
      changes[key] = value;
    }
    if (Object.keys(changes).length > 0) await target.botStorage.write(changes);
    result.copied += Object.keys(changes).length;
  }
  return result;
}

async function copyConversationReferences(source: SqliteStore, target: MigrationTarget): Promise<KindCount> {
  const result = count();
  const ids = column<string>(source, 'SELECT conversation_id FROM conversation_references ORDER BY updated_at');
  result.found = ids.length;
  for (const id of ids) {
    const stored = await source.conversationReferences.get(id);
    if (!stored) continue;
    if (await target.conversationReferences.get(id)) {
      result.present++;
      continue;
    }
    await target.conversationReferences.upsert(stored.reference);
    result.copied++;
  }
  return result;
}

/** Everything of a record the target cannot take at claim time. */
function statePatch(record: InvitationRecord): InvitationPatch {
  return {
    conversationRefKey: record.conversationRefKey,
    predictedMethod: record.predictedMethod,
    actualMethod: record.actualMethod,
    state: record.state,
    outcomeKind: record.outcomeKind,
    invitationId: record.invitationId,
    redeemUrl: record.redeemUrl,
    userId: record.userId,
    lastError: record.lastError,
    attempts: record.attempts,
    // A lock or an attempt in flight belonged to a process of the embedded store: not carried over.
    lockedUntil: null,
    lockedBy: null,
    inviteAttemptedAt: record.inviteAttemptedAt,
  };
}

async function copyInvitations(source: SqliteStore, target: MigrationTarget): Promise<KindCount> {
  const result = count();
  const records = await source.invitations.listByState(ALL_STATES, { limit: Number.MAX_SAFE_INTEGER });
  result.found = records.length;
  for (const record of records) {
    const key = { tenantId: record.tenantId, emailNormalised: record.emailNormalised, groupId: record.groupId };
    if (await target.invitations.findByKey(key)) {
      result.present++;
      continue;
    }
    const claimed = await target.invitations.claim({
      ...key,
      emailDisplay: record.emailDisplay,
      displayName: record.displayName,
      siteName: record.siteName,
      siteUrl: record.siteUrl,
      requestedBy: record.requestedBy,
      conversationRefKey: record.conversationRefKey,
      source: record.source,
      predictedMethod: record.predictedMethod,
    });
    if (!claimed.created) {
      result.present++;
      continue;
    }
    const updated = await target.invitations.update(claimed.record.id, claimed.record.version, statePatch(record));
    if (!updated) throw new Error(`the copy of invitation ${record.id} changed while it was written; run the migration again`);
    result.copied++;
  }
  return result;
}

/** Copies what can be copied from `source` into `target`; see the file comment. */
export async function migrateStore(source: SqliteStore, target: MigrationTarget): Promise<MigrationReport> {
  const botState = await copyBotState(source, target);
  const conversationReferences = await copyConversationReferences(source, target);
  const invitations = await copyInvitations(source, target);
  return {
    botState,
    conversationReferences,
    invitations,
    notCopied: {
      approvalRequests: {
        total: countOf(source, 'SELECT COUNT(*) FROM approval_requests'),
        open: countOf(source, "SELECT COUNT(*) FROM approval_requests WHERE state = 'pending' OR (state = 'approved' AND outcome_status IS NULL)"),
      },
      resetRequests: {
        total: countOf(source, 'SELECT COUNT(*) FROM reset_requests'),
        open: countOf(source, "SELECT COUNT(*) FROM reset_requests WHERE status = 'open'"),
      },
      bulkJobs: {
        total: countOf(source, 'SELECT COUNT(*) FROM bulk_jobs'),
        open: countOf(source, "SELECT COUNT(*) FROM bulk_jobs WHERE state IN ('queued', 'running', 'cancelling')"),
      },
      auditEvents: countOf(source, 'SELECT COUNT(*) FROM audit_events'),
    },
  };
}

/** The report as the tool prints it. */
export function describeReport(report: MigrationReport): string {
  const line = (label: string, c: KindCount): string =>
    `  ${label}: ${c.copied} copied, ${c.present} already there (${c.found} in the embedded store)`;
  const open = report.notCopied;
  const lines = [
    'Copied into Azure Storage:',
    line('bot state (conversations and users)', report.botState),
    line('conversation references', report.conversationReferences),
    line('invitation records', report.invitations),
    'Not copied:',
    `  approval requests: ${open.approvalRequests.total} (${open.approvalRequests.open} still open)`,
    `  reset requests: ${open.resetRequests.total} (${open.resetRequests.open} still open)`,
    `  bulk jobs: ${open.bulkJobs.total} (${open.bulkJobs.open} still open)`,
    `  audit events: ${open.auditEvents} (they stay in the SQLite file)`,
  ];
  const stillOpen = open.approvalRequests.open + open.resetRequests.open + open.bulkJobs.open;
  if (stillOpen > 0) lines.push(`Work still open in the embedded store (${stillOpen}): finish or cancel it there (STORE=sqlite), then run this again.`);
  return lines.join('\n');
}

/** Opens the embedded store read for copying; null when there is none at `file`. */
export function openSource(file: string): SqliteStore | null {
  if (!fs.existsSync(file)) return null;
  return openStore({ file, holderTtlMs: 10_000 });
}

async function main(): Promise<void> {
  loadDotEnv();
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`The configuration is invalid.\n  - ${error.problems.join('\n  - ')}\n`);
      process.exit(1);
    }
    throw error;
  }
  if (config.env.STORE !== 'azure') {
    process.stderr.write('Set STORE=azure and the target account (AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT_URL with a credential): see README, Store.\n');
    process.exit(1);
  }
  const source = openSource(config.databaseFile);
  if (!source) {
    process.stderr.write(`There is no embedded store at ${config.databaseFile} (DATA_DIR): nothing to copy.\n`);
    process.exit(1);
  }
  const target = createStore(config);
  try {
    if (!(await target.ping())) throw new Error('the storage account does not answer');
    process.stdout.write(`${describeReport(await migrateStore(source, target))}\n`);
  } finally {
    source.close();
    await target.close();
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`The migration stopped: ${error instanceof Error ? error.message : String(error)}\nRun it again: what was copied stays, the rest follows.\n`);
    process.exit(1);
  });
}
