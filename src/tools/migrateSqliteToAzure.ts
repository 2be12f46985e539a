/**
 * `npm run migrate:sqlite-to-azure`: copies the embedded store (DATA_DIR/bot.sqlite) into the
 * Azure Storage account the STORE=azure settings name (AZURE_STORAGE_*), so the bot carries on
 * there where it stopped. Idempotent: what the target already holds is left alone, so a second run
 * copies nothing new, and a run that stopped half-way finishes on the next. Prints what it copied,
 * per kind. Stop the bot first (its SQLite file must not change while it is read).
 *
 * What is copied, each under its own id, through the ports (bot state, conversation references)
 * or the Azure adapters' import methods (the rest: insert-if-absent, keeping the id, with every
 * key, index and guard row the adapter's own writes keep):
 * - bot state (every conversation's dialog and the user state), item by item, when absent;
 * - conversation references (the personal-chat index follows from them, and so do the channel
 *   identities the bot learns from stored personal chats);
 * - invitation records as they are (id, state, version, outcome): the idempotency anchor, so an
 *   address invited before the move is never invited a second time after it, and buttons on cards
 *   sent before the move that name a record keep working. A lock held by a process of the
 *   embedded store is not carried over;
 * - approval requests as they are (state, version, decision, outcome), with their deliveries (the
 *   approval cards sent, so a decision still updates every copy) and requester notices (a pending
 *   one is still delivered): an open request can still be decided on a card sent before the move;
 * - reset requests, with the guest's open guard while one is open;
 * - bulk jobs with their rows (a running job is resumed by the bot on Azure; its lease is not
 *   carried over);
 * - the audit history, with its times and order (it lists before what the bot writes on Azure);
 * - the results-link secret, so results links handed out before the move still work (unless the
 *   target already has its own: then that one stays, as links signed with it may be out);
 * - the guest lifecycle's access records as they are (id, state, version, sponsor, end date,
 *   reminders sent), so "my guests" and the buttons on lifecycle cards sent before the move keep
 *   working, and a reminder already sent is not sent again;
 * - the scheduled work (reminders, ends, sweeps) with its due times, payloads and attempts, so
 *   what fell due while the bot was being moved runs once on Azure. A claim held by a process of
 *   the embedded store is not carried over;
 * - access review rounds as they are (guests, decisions, deliveries, version), so a review card
 *   sent before the move still records its decision once, and a period already reviewed is not
 *   sent to the owners again.
 *
 * Not copied: what belongs to the running processes (leases, holders, the pacer's window, the
 * work queue's messages: the bot on Azure makes its own).
 */
import fs from 'node:fs';
import type { Storage, StoreItems } from 'botbuilder';
import type { AzureStore } from '../adapters/azure/store';
import { openAzureStore } from '../adapters/azure/store';
import { ConfigError, loadConfig, loadDotEnv } from '../app/config';
import { azureStorageOptions } from '../app/createStore';
import { resetRequestFromRow, type ResetRequestRow } from '../adapters/sqlite/resetRequests';
import { auditEventFromRow, type AuditRow } from '../adapters/sqlite/audit';
import { openStore, sqliteDatabaseOf, type SqliteStore } from '../adapters/sqlite/store';
import type { InvitationRecord, InvitationState } from '../usecases/ports/invitations';
import type { GuestAccessRecord } from '../usecases/lifecycle/ports';
import type { ReviewRound } from '../usecases/reviews/ports';

export interface MigrationTarget
  extends Pick<
    AzureStore,
    'conversationReferences' | 'invitations' | 'approvalRequests' | 'resetRequests' | 'bulkJobs' | 'audit' | 'resultsLinkSecret' | 'guestAccess' | 'scheduledWork' | 'reviewRounds'
  > {
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
  approvalRequests: KindCount & { deliveries: number; notices: number };
  resetRequests: KindCount;
  bulkJobs: KindCount & { rows: number };
  auditEvents: KindCount;
  /** found 0 or 1: whether the embedded store had made one. */
  resultsLinkSecret: KindCount;
  guestAccess: KindCount;
  scheduledWork: KindCount;
  reviewRounds: KindCount;
}

const ALL_STATES: InvitationState[] = ['pending', 'invited', 'completed', 'partial', 'failed'];
const BATCH = 50;
const ROW_PAGE = 500;

const count = (): KindCount => ({ found: 0, copied: 0, present: 0 });

function rows<T>(source: SqliteStore, sql: string, ...params: Array<string | number>): T[] {
  const db = sqliteDatabaseOf(source);
  try {
    return db.prepare(sql).all(...params) as T[];
  } catch {
    // A table of a feature this store never used (its migration not applied): nothing there.
    return [];
  }
}

function column<T>(source: SqliteStore, sql: string): T[] {
  const db = sqliteDatabaseOf(source);
  try {
    return db.prepare(sql).pluck().all() as T[];
  } catch {
    return [];
  }
}

/** Counts one insert-if-absent. */
function tally(result: KindCount, written: boolean): void {
  if (written) result.copied++;
  else result.present++;
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

async function copyInvitations(source: SqliteStore, target: MigrationTarget): Promise<KindCount> {
  const result = count();
  const records = await source.invitations.listByState(ALL_STATES, { limit: Number.MAX_SAFE_INTEGER });
  result.found = records.length;
  for (const record of records.reverse()) {
    // A lock or an attempt in flight belonged to a process of the embedded store: not carried over.
    const copy: InvitationRecord = { ...record, lockedUntil: null, lockedBy: null };
    tally(result, await target.invitations.importRecord(copy));
  }
  return result;
}

async function copyApprovalRequests(source: SqliteStore, target: MigrationTarget): Promise<MigrationReport['approvalRequests']> {
  const result = { ...count(), deliveries: 0, notices: 0 };
  const ids = column<string>(source, 'SELECT id FROM approval_requests ORDER BY created_at, id');
  result.found = ids.length;
  for (const id of ids) {
    const request = await source.approvalRequests.get(id);
    if (!request) continue;
    const deliveries = await source.approvalRequests.listDeliveries(id);
    const notices = await source.approvalRequests.listNotices(id);
    result.deliveries += deliveries.length;
    result.notices += notices.length;
    tally(result, await target.approvalRequests.importRequest(request, deliveries, notices));
  }
  return result;
}

async function copyResetRequests(source: SqliteStore, target: MigrationTarget): Promise<KindCount> {
  const result = count();
  const found = rows<ResetRequestRow>(source, 'SELECT * FROM reset_requests ORDER BY requested_at, id').map(resetRequestFromRow);
  result.found = found.length;
  for (const request of found) tally(result, await target.resetRequests.importRequest(request));
  return result;
}

async function copyBulkJobs(source: SqliteStore, target: MigrationTarget): Promise<MigrationReport['bulkJobs']> {
  const result = { ...count(), rows: 0 };
  const ids = column<string>(source, 'SELECT id FROM bulk_jobs ORDER BY created_at, rowid');
  result.found = ids.length;
  for (const id of ids) {
    const job = await source.bulkJobs.get(id);
    if (!job) continue;
    const jobRows = [];
    for (let after = 0; ; ) {
      const page = await source.bulkJobs.rowsAfter(id, after, ROW_PAGE);
      jobRows.push(...page);
      if (page.length < ROW_PAGE) break;
      after = page[page.length - 1]?.rowNumber ?? after;
    }
    result.rows += jobRows.length;
    tally(result, await target.bulkJobs.importJob(job, jobRows));
  }
  return result;
}


async function copyAudit(source: SqliteStore, target: MigrationTarget): Promise<KindCount> {
  const result = count();
  for (let after = 0; ; ) {
    const page = rows<AuditRow>(source, 'SELECT * FROM audit_events WHERE seq > ? ORDER BY seq LIMIT ?', after, ROW_PAGE);
    for (const row of page) {
      result.found++;
      tally(result, await target.audit.importEvent(auditEventFromRow(row)));
    }
    if (page.length < ROW_PAGE) break;
    after = page[page.length - 1]?.seq ?? after;
  }
  return result;
}

async function copyResultsLinkSecret(source: SqliteStore, target: MigrationTarget): Promise<KindCount> {
  const result = count();
  // Read as it is: the port's getOrCreate would make one in the embedded store when it has none.
  const [value] = column<string>(source, "SELECT value FROM bulk_secrets WHERE name = 'resultsLink'");
  if (value === undefined) return result;
  result.found = 1;
  tally(result, await target.resultsLinkSecret.importSecret(Buffer.from(value, 'base64')));
  return result;
}

/** Copies records kept as JSON in `table` (one page of `ROW_PAGE` at a time, in `order`) through `importOne`. */
async function copyJsonRecords<T>(source: SqliteStore, table: string, order: string, importOne: (record: T) => Promise<boolean>): Promise<KindCount> {
  const result = count();
  for (let offset = 0; ; offset += ROW_PAGE) {
    const page = column<string>(source, `SELECT record FROM ${table} ORDER BY ${order} LIMIT ${ROW_PAGE} OFFSET ${offset}`);
    for (const json of page) {
      result.found++;
      tally(result, await importOne(JSON.parse(json) as T));
    }
    if (page.length < ROW_PAGE) break;
  }
  return result;
}

const copyGuestAccess = (source: SqliteStore, target: MigrationTarget): Promise<KindCount> =>
  copyJsonRecords<GuestAccessRecord>(source, 'guest_access', 'invited_at, id', (record) => target.guestAccess.importRecord(record));

const copyReviewRounds = (source: SqliteStore, target: MigrationTarget): Promise<KindCount> =>
  copyJsonRecords<ReviewRound>(source, 'review_rounds', 'period, id', (round) => target.reviewRounds.importRound(round));

async function copyScheduledWork(source: SqliteStore, target: MigrationTarget): Promise<KindCount> {
  const result = count();
  const items = rows<{ kind: string; subject: string }>(source, 'SELECT kind, subject FROM scheduled_work ORDER BY due_at, kind, subject');
  for (const { kind, subject } of items) {
    const work = await source.scheduledWork.get(kind, subject);
    if (!work) continue;
    result.found++;
    // A claim belonged to a process of the embedded store: not carried over (importWork drops it).
    tally(result, await target.scheduledWork.importWork(work));
  }
  return result;
}

/** Copies the embedded store into `target`; see the file comment. */
export async function migrateStore(source: SqliteStore, target: MigrationTarget): Promise<MigrationReport> {
  // The secret first: a bot started on the target before the rest is copied signs with it.
  const resultsLinkSecret = await copyResultsLinkSecret(source, target);
  const botState = await copyBotState(source, target);
  const conversationReferences = await copyConversationReferences(source, target);
  const invitations = await copyInvitations(source, target);
  const approvalRequests = await copyApprovalRequests(source, target);
  const resetRequests = await copyResetRequests(source, target);
  const bulkJobs = await copyBulkJobs(source, target);
  const auditEvents = await copyAudit(source, target);
  // Access records before the schedule about them: a handler that runs at once finds its record.
  const guestAccess = await copyGuestAccess(source, target);
  // Review rounds before the schedule too: an escalation due at once finds its round.
  const reviewRounds = await copyReviewRounds(source, target);
  const scheduledWork = await copyScheduledWork(source, target);
  return { botState, conversationReferences, invitations, approvalRequests, resetRequests, bulkJobs, auditEvents, resultsLinkSecret, guestAccess, scheduledWork, reviewRounds };
}

/** The report as the tool prints it. */
export function describeReport(report: MigrationReport): string {
  const line = (label: string, c: KindCount, extra = ''): string =>
    `  ${label}: ${c.copied} copied, ${c.present} already there (${c.found} in the embedded store${extra})`;
  const a = report.approvalRequests;
  const secret = report.resultsLinkSecret;
  return [
    'Copied into Azure Storage:',
    line('bot state (conversations and users)', report.botState),
    line('conversation references', report.conversationReferences),
    line('invitation records', report.invitations),
    line('approval requests', a, `, with ${a.deliveries} deliveries and ${a.notices} requester notices`),
    line('reset requests', report.resetRequests),
    line('bulk jobs', report.bulkJobs, `, with ${report.bulkJobs.rows} rows`),
    line('audit events', report.auditEvents),
    line('guest access records', report.guestAccess),
    line('access review rounds', report.reviewRounds),
    line('scheduled work (reminders, ends, sweeps)', report.scheduledWork),
    secret.found === 0
      ? '  results-link secret: none in the embedded store (no results link was handed out)'
      : secret.copied === 1
        ? '  results-link secret: copied (results links handed out before still work)'
        : '  results-link secret: the target has its own already, kept (links signed by the embedded store no longer work)',
  ].join('\n');
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
  const target = openAzureStore({ account: azureStorageOptions(config.env), holderTtlMs: config.env.HOLDER_TTL_MS });
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
