import { DirectoryError, InvitationNotSent, isDirectoryError } from '../ports/Directory';
import type { DirectoryUser } from '../../domain/tenant';
import type { InvitationPatch, InvitationRecord } from '../ports/invitations';
import type { BulkRow, BulkRowPatch } from '../../domain/bulkJob';
import { countInvitationSent } from '../../shared/telemetry';
import { startBulkBatch, type BulkBatchCounts } from '../../shared/bulkTelemetry';
import type { ChunkRun } from './jobRun';
import type { BulkRunnerLogger, BulkRunnerOptions, RunnerSettings } from './runnerOptions';
import { formatAccessDay, requestedAccessEndFrom, requestedEndAt } from '../../domain/accessEnd';
import { heldWithoutBreakSince } from '../ports/leases';

/**
 * The work on one page of rows: claim each row's invitation record (exactly once, shared with
 * single invitations), look the addresses up in bulk, invite who is not there yet (paced, several
 * in flight), add members 20 per request, and retry or fail what went wrong. Every step is
 * written before the next one starts.
 */

const MEMBERS_PER_REQUEST = 20;
/**
 * Rows of a page claimed at once. Each claim is a few store round trips in a row (claim the
 * record, note the lock on the row, lock the record): on a store over the network, one row after
 * another would keep the page from reaching Graph's pace.
 */
const CLAIMS_IN_FLIGHT = 10;

/**
 * `work` over `items` with at most `limit` at once, results in the order of the items. After a
 * failure no new item starts; the first failure is thrown once those in flight have ended.
 */
async function eachLimited<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const failures: unknown[] = [];
  const worker = async (): Promise<void> => {
    while (next < items.length && failures.length === 0) {
      const i = next++;
      try {
        out[i] = await work(items[i] as T);
      } catch (error) {
        failures.push(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failures.length > 0) throw failures[0];
  return out;
}

/** A transient or throttled failure with when to try again. */
interface Deferral {
  error: DirectoryError;
  waitMs: number;
}

export function errorMessage(e: unknown): string {
  if (isDirectoryError(e)) return e.userMessage;
  return 'Something went wrong while sending this invitation.';
}

export interface RowWorkContext {
  deps: BulkRunnerOptions;
  o: RunnerSettings;
  runnerId: string;
  logger: BulkRunnerLogger;
  /** ms since epoch. */
  now(): number;
  /** Whether `holderId` still runs. */
  alive(holderId: string | null): Promise<boolean>;
}

export class RowWork {
  /**
   * Rows whose invitation this process sent with the sponsor accepted (invitedUserSponsors), by
   * job and row: the lifecycle then need not add it. Unknown after a restart: it checks instead.
   */
  private readonly sponsorSet = new Set<string>();

  constructor(private readonly c: RowWorkContext) {}

  private iso(): string {
    return new Date(this.c.now()).toISOString();
  }

  /** The row update for a row whose invitation record is already completed: the guest is in. */
  doneFrom(record: InvitationRecord): BulkRowPatch {
    return {
      state: 'done',
      invitationRecordId: record.id,
      userId: record.userId,
      redeemUrl: record.redeemUrl,
      inviteId: record.invitationId,
      status: 'PendingAcceptance',
      error: 'success',
      time: this.iso(),
    };
  }

  /**
   * One page of rows is one `bulk.batch` span (telemetry): it ends once the page's invitations
   * have landed, while the job already goes on with the next page.
   */
  async processPage(run: ChunkRun, page: BulkRow[]): Promise<void> {
    const batch = startBulkBatch(run.job.id, page.length);
    const counts: BulkBatchCounts = { lookups: 0, invitations: 0, existing: 0 };
    const invitations: Array<Promise<void>> = [];
    try {
      await batch.within(() => this.dispatchPage(run, page, counts, invitations));
    } catch (e) {
      batch.end(counts, e);
      throw e;
    }
    void Promise.allSettled(invitations).then(() => batch.end(counts));
  }

  private async dispatchPage(run: ChunkRun, page: BulkRow[], counts: BulkBatchCounts, invitations: Array<Promise<void>>): Promise<void> {
    const claimed = await eachLimited(page, CLAIMS_IN_FLIGHT, async (row) => {
      if (row.state === 'invited' && row.userId) {
        this.queueMember(run, row);
        return null;
      }
      // Nothing new is claimed once no invitation may start (the rows stay as they are).
      if (run.cancel) return null;
      return this.claimAndLock(run, row);
    });
    const toLookUp = claimed.filter((row): row is BulkRow => row !== null);
    if (toLookUp.length === 0) return;
    counts.lookups = toLookUp.length;

    let found: Map<string, DirectoryUser>;
    try {
      found = await this.c.deps.directory.findUsersByEmail(toLookUp.map((r) => r.email));
    } catch (e) {
      for (const row of toLookUp) await this.defer(run, row, e);
      return;
    }

    for (const row of toLookUp) {
      const user = found.get(row.email.trim().toLowerCase()) ?? (row.emailKey ? found.get(row.emailKey) : undefined);
      if (user) {
        counts.existing++;
        await this.recordFound(run, row, user);
        continue;
      }
      if (run.cancel) break;
      await run.slot(this.c.o.maxInFlight);
      let released = false;
      const release = (): void => {
        if (released) return;
        released = true;
        run.release();
      };
      const invitation = this.invite(run, row, release).finally(release);
      counts.invitations++;
      invitations.push(invitation);
      run.track(invitation);
    }
  }

  /**
   * Claims the row's invitation record and decides what is left to do. Returns the row (with
   * its record locked by this job) when the directory step is needed, null otherwise.
   */
  private async claimAndLock(run: ChunkRun, row: BulkRow): Promise<BulkRow | null> {
    const { jobs, invitations } = this.c.deps;
    const o = this.c.o;
    const job = run.job;
    if (!row.emailKey || !row.groupId) {
      await jobs.updateRow(job.id, row.rowNumber, { state: 'failed', error: 'No site to add this guest to.', time: this.iso() });
      run.finishedThisRun++;
      return null;
    }
    const asked = requestedAccessEndFrom(row.accessEnd);
    if (asked?.kind === 'date' && row.state === 'pending' && Date.parse(requestedEndAt(asked, new Date(this.c.now()))) <= this.c.now()) {
      // The job waited (for Confirm, an approver, the queue) past the end the row asked for.
      const error = `The access end date ${formatAccessDay(`${asked.date}T12:00:00Z`)} had passed when this row's turn came: nothing was sent. Give a later date.`;
      await jobs.updateRow(job.id, row.rowNumber, { state: 'failed', error, time: this.iso() });
      run.finishedThisRun++;
      return null;
    }
    const { record } = await invitations.claim({
      tenantId: job.tenantId,
      emailNormalised: row.emailKey,
      groupId: row.groupId,
      emailDisplay: row.email,
      displayName: row.name || row.email,
      siteName: row.siteName ?? '',
      siteUrl: row.siteUrl ?? '',
      requestedBy: job.requestedBy,
      conversationRefKey: job.conversationId,
      source: `bulk:${job.id}`,
      predictedMethod: row.predictedMethod,
    });
    const base = { invitationRecordId: record.id };
    if (record.state === 'completed') {
      // Done before (an earlier run of the file, a single invitation, or this job before a stop):
      // recorded again, which changes nothing when it is there.
      const accessEnd = await this.recordAccess(run, { ...row, userId: record.userId, status: record.outcomeKind === 'internalUser' ? 'member' : row.status }, record.id);
      await jobs.updateRow(job.id, row.rowNumber, { ...this.doneFrom(record), ...accessEnd });
      run.finishedThisRun++;
      return null;
    }
    if ((record.state === 'invited' || record.state === 'partial') && record.userId) {
      const invited: BulkRow = { ...row, ...base, state: 'invited', userId: record.userId, redeemUrl: record.redeemUrl, inviteId: record.invitationId };
      await jobs.updateRow(job.id, row.rowNumber, {
        ...base,
        state: 'invited',
        userId: record.userId,
        redeemUrl: record.redeemUrl,
        inviteId: record.invitationId,
        status: 'PendingAcceptance',
      });
      this.queueMember(run, invited);
      return null;
    }

    const now = this.c.now();
    const lockedByOther =
      record.lockedUntil !== null && Date.parse(record.lockedUntil) > now && record.version !== row.lockVersion && (await this.c.alive(record.lockedBy));
    if (lockedByOther) {
      // Someone else alive (a single invitation, another job) is sending this one right now: look
      // again shortly, so the row goes on as soon as they release it, not when their lock runs out.
      const until = Date.parse(record.lockedUntil ?? '') || now + o.baseBackoffMs;
      await jobs.updateRow(job.id, row.rowNumber, { ...base, nextAttemptAt: Math.min(until, now + o.lockRecheckMs) });
      return null;
    }
    // Written before the lock itself so that a crash in between still recognises the lock as ours.
    const lockVersion = record.version + 1;
    await jobs.updateRow(job.id, row.rowNumber, { ...base, lockVersion });
    const locked = await invitations.update(record.id, record.version, {
      lockedUntil: new Date(now + o.lockMs).toISOString(),
      lockedBy: this.c.runnerId,
      attempts: record.attempts + 1,
    });
    if (!locked) {
      // Someone else changed the record first: the version noted above may be exactly that of
      // their lock, which must never be taken for ours.
      await jobs.updateRow(job.id, row.rowNumber, { lockVersion: null, nextAttemptAt: now + Math.min(o.baseBackoffMs, o.lockRecheckMs) });
      return null;
    }
    run.recordVersions.set(locked.id, locked.version);
    run.lockedAt.set(locked.id, now);
    return { ...row, invitationRecordId: record.id, lockVersion };
  }

  private async recordFound(run: ChunkRun, row: BulkRow, user: DirectoryUser): Promise<void> {
    const status = user.kind === 'member' ? 'member' : (user.externalUserState ?? 'PendingAcceptance');
    await this.patchRecord(run, row, {
      state: 'invited',
      userId: user.id,
      outcomeKind: user.kind === 'member' ? 'internalUser' : 'existingGuest',
      lockedUntil: null,
      lastError: null,
    });
    await this.c.deps.jobs.updateRow(run.job.id, row.rowNumber, { state: 'invited', userId: user.id, status });
    this.queueMember(run, { ...row, state: 'invited', userId: user.id, status });
  }

  /**
   * Sends one row's invitation. Its slot (`release`) is given back as soon as Graph answered:
   * the slots bound the invitations waiting for the pacer or for Graph, not the writes of their
   * records after it, so a slow store does not hold the pace below the tenant's limit (the row
   * stays tracked by the run until those writes end).
   */
  private async invite(run: ChunkRun, row: BulkRow, release: () => void = () => undefined): Promise<void> {
    const { deps } = this.c;
    await deps.pacer?.acquire();
    if (run.cancel) {
      await this.letGo(run, row);
      return;
    }
    // Checked here too, not only by maySend: with the Graph client (which paces inside invite)
    // a row that can no longer be sent must not take a slot of the tenant's pacer window first.
    if (!this.stillLocked(run, row)) {
      await this.notSent(run, row);
      return;
    }
    try {
      const result = await deps.directory.invite({
        email: row.email,
        displayName: row.name,
        redirectUrl: row.redirectUrl ?? row.siteUrl ?? '',
        sendInvitationMessage: row.sendEmail ?? deps.sendInvitationEmail,
        ...(row.message ? { message: row.message } : {}),
        // The person who started the job becomes the guest's sponsor (invitedUserSponsors).
        ...(deps.access ? { sponsorIds: [run.job.requestedBy.id] } : {}),
        // Asked again right before the POST goes, after the pacer's wait.
        maySend: () => !run.cancel && this.stillLocked(run, row),
      });
      release();
      countInvitationSent('bulk');
      if (result.sponsorsSet === true) this.sponsorSet.add(`${run.job.id}:${row.rowNumber}`);
      await this.patchRecord(run, row, {
        state: 'invited',
        outcomeKind: 'newGuest',
        userId: result.userId,
        redeemUrl: result.redeemUrl,
        invitationId: result.invitationId,
        lockedUntil: null,
        lastError: null,
      });
      const patch = { state: 'invited' as const, userId: result.userId, redeemUrl: result.redeemUrl, inviteId: result.invitationId, status: result.status };
      await deps.jobs.updateRow(run.job.id, row.rowNumber, patch);
      this.queueMember(run, { ...row, ...patch });
    } catch (e) {
      release();
      if (e instanceof InvitationNotSent) {
        await this.notSent(run, row);
        return;
      }
      if (isDirectoryError(e) && e.code === 'throttled') deps.pacer?.holdOff(e.retryAfterMs ?? this.c.o.baseBackoffMs);
      await this.defer(run, row, e);
    }
  }

  /**
   * Whether the row's lock is surely still this process's, so the lookup made under it still
   * holds and the invitation may go. Not so when its heartbeats broke since the lock was taken
   * (storage out of reach, the process stalled: another instance may have taken the row over
   * and sent it), or when the lock is about to run out. The row may have waited a while: for a
   * free slot behind the page's other invitations, or for storage to come back.
   */
  private stillLocked(run: ChunkRun, row: BulkRow): boolean {
    const id = row.invitationRecordId;
    const lockedAt = id ? run.lockedAt.get(id) : undefined;
    if (lockedAt === undefined) return false;
    const lockLeftMs = lockedAt + this.c.o.lockMs - this.c.now();
    return lockLeftMs > this.c.o.lockMs / 4 && (!this.c.deps.holders || heldWithoutBreakSince(this.c.deps.holders, lockedAt));
  }

  /**
   * The row's lock may have been taken over (or is running short), so its invitation was not
   * sent: it is looked at again shortly, from its claim, with a fresh lookup, unless someone else
   * has it now (then its row is theirs to write).
   */
  private async notSent(run: ChunkRun, row: BulkRow): Promise<void> {
    this.c.logger.warn({ jobId: run.job.id, row: row.rowNumber }, 'bulk row lock may have been taken over; invitation not sent');
    if (!(await this.letGo(run, row))) return;
    await this.c.deps.jobs.updateRow(run.job.id, row.rowNumber, { lockVersion: null, nextAttemptAt: this.c.now() + this.c.o.lockRecheckMs });
  }

  /**
   * Nothing is sent: the row's lock is let go if it is still as this run left it (one
   * compare-and-set, no re-read: if the record changed, it is someone else's now and is left
   * alone). True when it was let go.
   */
  private async letGo(run: ChunkRun, row: BulkRow): Promise<boolean> {
    const id = row.invitationRecordId;
    const known = id ? run.recordVersions.get(id) : undefined;
    if (!id) return false;
    run.lockedAt.delete(id);
    run.recordVersions.delete(id);
    if (known === undefined) return false;
    const released = await this.c.deps.invitations.update(id, known, { lockedUntil: null });
    if (released) run.recordVersions.set(id, released.version);
    return released !== null;
  }

  // ---- memberships, 20 per request ----

  private queueMember(run: ChunkRun, row: BulkRow): void {
    if (!row.groupId || !row.userId) return;
    const queue = run.members.get(row.groupId) ?? [];
    queue.push(row);
    run.members.set(row.groupId, queue);
    if (queue.length >= MEMBERS_PER_REQUEST) this.flushMembers(run, row.groupId);
  }

  flushAllMembers(run: ChunkRun): void {
    for (const groupId of [...run.members.keys()]) this.flushMembers(run, groupId);
  }

  private flushMembers(run: ChunkRun, groupId: string): void {
    const queue = run.members.get(groupId) ?? [];
    run.members.delete(groupId);
    for (let i = 0; i < queue.length; i += MEMBERS_PER_REQUEST) {
      run.track(this.addMembers(run, groupId, queue.slice(i, i + MEMBERS_PER_REQUEST)));
    }
  }

  private async addMembers(run: ChunkRun, groupId: string, rows: BulkRow[]): Promise<void> {
    const byUser = new Map<string, BulkRow[]>();
    for (const r of rows) if (r.userId) byUser.set(r.userId, [...(byUser.get(r.userId) ?? []), r]);
    try {
      const result = await this.c.deps.directory.addMembers(groupId, [...byUser.keys()]);
      // The rows are written together (the store may write a job's row updates in one request).
      const added = [...result.added, ...result.alreadyMembers].flatMap((userId) => byUser.get(userId) ?? []);
      await eachLimited(added, MEMBERS_PER_REQUEST, (row) => this.completeRow(run, row));
      const failed = result.failed.flatMap(({ userId, error }) => (byUser.get(userId) ?? []).map((row) => ({ row, error })));
      // A user created seconds ago can briefly be unknown to the group endpoint: retry.
      await eachLimited(failed, MEMBERS_PER_REQUEST, ({ row, error }) => this.defer(run, row, error, error.retryable || error.code === 'notFound'));
    } catch (e) {
      for (const row of rows) await this.defer(run, row, e);
    }
  }

  private async completeRow(run: ChunkRun, row: BulkRow): Promise<void> {
    // Recorded before the row is done: a stop in between leaves the row to be finished (and
    // recorded again, idempotently) when the job resumes.
    const accessEnd = await this.recordAccess(run, row, row.invitationRecordId);
    await this.patchRecord(run, row, { state: 'completed', lockedUntil: null, lastError: null });
    await this.c.deps.jobs.updateRow(run.job.id, row.rowNumber, {
      state: 'done',
      error: 'success',
      status: row.status ?? 'PendingAcceptance',
      time: this.iso(),
      ...accessEnd,
    });
    run.finishedThisRun++;
  }

  /**
   * The guest's access through the guest lifecycle: sponsor the person who started the job, end
   * the row's own (kept within the site's period) or the site's. Never fails the row (a failed
   * recording is retried as due work). Returns the row's end to keep for the results file.
   */
  private async recordAccess(run: ChunkRun, row: BulkRow, invitationRecordId: string | null): Promise<{ accessEnd?: string }> {
    const access = this.c.deps.access;
    if (!access || !invitationRecordId || !row.userId || !row.groupId || row.status === 'member') return {};
    const key = `${run.job.id}:${row.rowNumber}`;
    const asked = requestedAccessEndFrom(row.accessEnd);
    const now = new Date(this.c.now());
    const note = await access.record(
      {
        id: invitationRecordId,
        tenantId: run.job.tenantId,
        groupId: row.groupId,
        siteName: row.siteName ?? '',
        siteUrl: row.siteUrl ?? '',
        userId: row.userId,
        emailDisplay: row.email,
        displayName: row.name || row.email,
        requestedBy: run.job.requestedBy,
        outcomeKind: null,
      },
      {
        // An existing guest added to one more site is redeemed already (externalUserState).
        redeemed: row.status === 'Accepted',
        sponsorSetByInvitation: this.sponsorSet.has(key),
        invitedAt: now.toISOString(),
        ...(asked ? { endsAt: requestedEndAt(asked, now) } : {}),
      },
    );
    this.sponsorSet.delete(key);
    if (!note) return {};
    return { accessEnd: note.endsAt === null ? 'none' : note.endsAt.slice(0, 10) };
  }

  // ---- failures ----

  /**
   * Throttled and transient faults come back later (Retry-After, or exponential backoff) until
   * the row has had maxAttempts; anything else, or too many attempts, fails the row with the reason.
   */
  private async defer(run: ChunkRun, row: BulkRow, e: unknown, retryable?: boolean): Promise<void> {
    const { jobs } = this.c.deps;
    const current = await jobs.getRow(run.job.id, row.rowNumber);
    const attempts = (current?.attempts ?? row.attempts) + 1;
    const canRetry = (retryable ?? (isDirectoryError(e) && e.retryable)) && attempts < this.c.o.maxAttempts;
    const invited = row.state === 'invited' && row.userId !== null;
    if (!isDirectoryError(e)) this.c.logger.error({ jobId: run.job.id, row: row.rowNumber, err: String(e) }, 'bulk row failed unexpectedly');
    if (canRetry) {
      const deferral = this.deferral(e, attempts);
      if (!invited) await this.patchRecord(run, row, { lockedUntil: null });
      await jobs.updateRow(run.job.id, row.rowNumber, { attempts, nextAttemptAt: this.c.now() + deferral.waitMs });
      return;
    }
    const message = errorMessage(e);
    await this.patchRecord(run, row, invited ? { state: 'partial', lastError: message, lockedUntil: null } : { state: 'failed', lastError: message, lockedUntil: null });
    await jobs.updateRow(run.job.id, row.rowNumber, { state: 'failed', attempts, error: message, time: this.iso() });
    run.finishedThisRun++;
  }

  private deferral(e: unknown, attempts: number): Deferral {
    const { o } = this.c;
    const error = isDirectoryError(e) ? e : new DirectoryError('transient', errorMessage(e), { cause: e });
    const backoff = Math.min(o.maxBackoffMs, o.baseBackoffMs * 2 ** Math.max(0, attempts - 1));
    const waitMs = error.code === 'throttled' && error.retryAfterMs !== undefined ? Math.min(error.retryAfterMs, o.maxBackoffMs) : backoff;
    return { error, waitMs };
  }

  /** Updates the row's invitation record (compare-and-set, re-read on a race). */
  private async patchRecord(run: ChunkRun, row: BulkRow, patch: InvitationPatch): Promise<InvitationRecord | null> {
    const { invitations } = this.c.deps;
    const id = row.invitationRecordId;
    if (!id) return null;
    const settle = (updated: InvitationRecord): InvitationRecord => {
      if (updated.state === 'completed' || updated.state === 'failed') run.recordVersions.delete(id);
      else run.recordVersions.set(id, updated.version);
      return updated;
    };
    const known = run.recordVersions.get(id);
    if (known !== undefined) {
      const updated = await invitations.update(id, known, patch);
      if (updated) return settle(updated);
    }
    for (let i = 0; i < 5; i++) {
      const record = await invitations.get(id);
      if (!record) return null;
      const updated = await invitations.update(record.id, record.version, patch);
      if (updated) return settle(updated);
    }
    this.c.logger.warn({ row: row.rowNumber }, 'invitation record kept changing; update skipped');
    return null;
  }
}
