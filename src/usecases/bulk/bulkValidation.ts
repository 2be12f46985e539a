import type { Actor } from '../../domain/actor';
import type { Directory } from '../ports/Directory';
import type { GroupInfo } from '../../domain/tenant';
import { parseEmail } from '../../domain/email';
import { lookAlikeWarning } from '../../domain/lookAlike';
import { quoteForChat, trimEndChars } from '../../domain/text';
import type { SignInAdvice, SignInMethod } from '../../domain/signInAdvice';
import { approvalVerdict, type ApprovalSettings } from '../../domain/approvalPolicy';
import type { SignInAdvisorPort } from '../signIn/signInAdvisor';
import type { Clock } from '../../domain/clock';
import { accessDaysFor, accessEndFor, DAY_MS, type LifecycleSettings } from '../../domain/lifecycle';
import { checkRequestedEnd, storedAccessEnd } from '../../domain/accessEnd';
import type { BulkJob, BulkSite, BulkValidationSummary, NewBulkRow } from '../../domain/bulkJob';
import type { BulkJobRepository } from './ports';
import { columnsRead, type CsvInvitationRow } from './csvFormats';
import { readInvitationCsv, type CsvLimits, type CsvReadStats, type CsvSource } from './parseInvitationCsv';

/**
 * Validates a whole file before anything is sent, and stages its rows in a draft job: the
 * summary card is built from the draft, and Confirm only flips the job's state. Nothing in the
 * directory changes here; reads are one domain advice per distinct domain (cached) plus the
 * requester's sites.
 */

/** A refusal of the bulk request as a whole (who is asking, not what the file says). */
export class BulkRefusedError extends Error {
  readonly userMessage: string;
  constructor(userMessage: string) {
    super(userMessage);
    this.name = 'BulkRefusedError';
    this.userMessage = userMessage;
  }
}

export interface BulkValidationDeps {
  jobs: BulkJobRepository;
  directory: Directory;
  advisor: SignInAdvisorPort;
  approvals: ApprovalSettings;
  /** APPROVER_GROUP_ID: its members may bulk-invite without approval and see every job. */
  approverGroupId: string | null;
  limits: CsvLimits;
  /** How many invalid rows the summary lists (default 10). */
  maxInvalidShown?: number;
  /**
   * GUEST_ACCESS_DAYS (and per site): the end dates rows may ask for, and the default shown on
   * the summary. Null: no guest lifecycle, the end-date column is only read.
   */
  access?: { settings: LifecycleSettings; clock: Clock } | null;
}

export interface StageRequest {
  actor: Actor;
  source: CsvSource;
  /** File name, or "pasted text". */
  sourceName: string;
  conversationId: string | null;
  /** A site named in the request ("bulk invite to Marketing"), if any. */
  siteHint?: string | null;
}

export interface StagedBulkJob {
  job: BulkJob;
  summary: BulkValidationSummary;
  /** Sites the requester may pick as the default (when the job has none yet). */
  siteChoices: BulkSite[];
}

/** Rows written per transaction; the turn yields to the event loop after each batch. */
const STAGE_BATCH = 250;
/** Also yield when this much time passed since the last yield (a loaded machine runs fewer rows per millisecond). */
const YIELD_AFTER_MS = 20;

/** Lets timers, other turns and /healthz run between batches of a long file. */
const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function siteOf(group: GroupInfo): BulkSite {
  return { groupId: group.id, siteName: group.displayName, siteUrl: group.siteUrl ?? '' };
}

function normaliseUrl(url: string): string {
  return trimEndChars(url.trim(), '/').toLowerCase();
}

/** Finds one of the requester's sites by name, URL or group id. */
export function matchSite(sites: readonly BulkSite[], hint: string): BulkSite | null {
  const h = hint.trim().toLowerCase();
  if (!h) return null;
  return (
    sites.find((s) => s.groupId.toLowerCase() === h) ??
    sites.find((s) => s.siteName.toLowerCase() === h) ??
    sites.find((s) => s.siteUrl !== '' && normaliseUrl(s.siteUrl) === normaliseUrl(h)) ??
    null
  );
}

interface DomainAdvice {
  method: SignInMethod | null;
  /** With an advice that depends on the guest (e.g. "if they have a Microsoft account"): the method otherwise. */
  otherwise: SignInMethod | null;
  subject: SignInAdvice['subject'] | 'unknown';
  blockedReason: string | null;
}

/** The sites a requester may bulk-invite into, and whether they are an approver. */
export async function requesterSites(directory: Directory, actor: Actor, approverGroupId: string | null): Promise<{ sites: BulkSite[]; isApprover: boolean }> {
  const [owned, isApprover] = await Promise.all([
    directory.listOwnedGroups(actor.userId),
    approverGroupId ? directory.isMember(approverGroupId, actor.userId) : Promise.resolve(false),
  ]);
  return { sites: owned.filter((g) => g.siteUrl).map(siteOf), isApprover };
}

export async function stageBulkFile(deps: BulkValidationDeps, request: StageRequest): Promise<StagedBulkJob> {
  const { actor } = request;
  const { sites, isApprover } = await requesterSites(deps.directory, actor, deps.approverGroupId);
  if (sites.length === 0) {
    throw new BulkRefusedError(
      "You don't own any site with a SharePoint site behind it, so I can't invite guests in bulk for you. Ask one of the site's owners.",
    );
  }
  const hinted = request.siteHint ? matchSite(sites, request.siteHint) : null;
  if (request.siteHint && !hinted) {
    throw new BulkRefusedError(
      `You don't own a site called "${quoteForChat(request.siteHint)}". Your sites: ${sites.map((s) => quoteForChat(s.siteName)).join(', ')}.`,
    );
  }
  const defaultSite = hinted ?? (sites.length === 1 ? (sites[0] ?? null) : null);

  const summary = emptyValidationSummary(request.sourceName);
  const job = await deps.jobs.createDraft({
    tenantId: actor.tenantId,
    requestedBy: { id: actor.userId, name: actor.name },
    conversationId: request.conversationId,
    defaultSite,
    summary,
  });

  const maxShown = deps.maxInvalidShown ?? 10;
  const domainAdvice = new Map<string, Promise<DomainAdvice>>();
  const adviceFor = (domain: string, address: string): Promise<DomainAdvice> => {
    let cached = domainAdvice.get(domain);
    if (!cached) {
      cached = deps.advisor.advise(address).then(
        (a): DomainAdvice => ({ method: a.method, otherwise: a.otherwise, subject: a.subject, blockedReason: a.blockedBy?.explanation ?? null }),
        (): DomainAdvice => ({ method: null, otherwise: null, subject: 'unknown', blockedReason: null }),
      );
      domainAdvice.set(domain, cached);
    }
    return cached;
  };
  const siteCounts = new Map<string, number>();
  const siteGroups = new Map<string, string>();
  const approvalReasons = new Set<string>();
  let batch: NewBulkRow[] = [];
  // First row of each address and site in this file, for "duplicate of row N". Kept in memory
  // for the whole file (a 50,000-row file is a few MB): asking the store per row cost a scan of
  // every earlier copy of the address, quadratic for a file that repeats one address.
  const firstRowOf = new Map<string, number>();
  let lastYield = performance.now();
  const flush = async (): Promise<void> => {
    if (batch.length > 0) await deps.jobs.insertRows(job.id, batch);
    batch = [];
    await yieldToEventLoop();
    lastYield = performance.now();
  };
  const invalid = (rowNumber: number, name: string, email: string, reason: string): void => {
    summary.invalid++;
    if (summary.invalidRows.length < maxShown) summary.invalidRows.push({ rowNumber, email, reason });
    batch.push({ ...emptyRow(rowNumber, name, email), state: 'invalid', error: reason });
  };

  const stats: CsvReadStats = { layout: null, dataRows: 0, records: 0 };
  try {
    for await (const record of readInvitationCsv(request.source, deps.limits, stats)) {
      summary.rows++;
      if (record.kind === 'ignored') continue;
      if (record.kind === 'invalid') {
        invalid(record.rowNumber, record.name, record.email, record.reason);
      } else if (record.kind === 'alreadyDone') {
        summary.alreadyDone++;
        const p = record.row.previous;
        batch.push({
          ...emptyRow(record.row.rowNumber, record.row.name, record.row.email),
          state: 'skipped',
          userId: p?.userId ?? null,
          redeemUrl: p?.redeemUrl ?? null,
          inviteId: p?.inviteId ?? null,
          status: p?.status ?? null,
          error: 'success',
          time: p?.time ?? null,
        });
      } else {
        await stageRow(record.row);
      }
      if (batch.length >= STAGE_BATCH || performance.now() - lastYield >= YIELD_AFTER_MS) await flush();
    }
    await flush();
  } catch (e) {
    await deps.jobs.delete(job.id);
    throw e;
  }

  async function stageRow(row: CsvInvitationRow): Promise<void> {
    const parsed = parseEmail(row.email);
    if (!parsed.ok) return invalid(row.rowNumber, row.name, row.email, `email address: ${parsed.reason}`);
    const email = parsed.email;
    if (row.redirectUrl && !/^https:\/\/[^\s]+$/i.test(row.redirectUrl)) {
      return invalid(row.rowNumber, row.name, row.email, 'the redirection URL must start with https://');
    }
    let site: BulkSite | null = defaultSite;
    if (row.site) {
      site = matchSite(sites, row.site);
      if (!site) return invalid(row.rowNumber, row.name, row.email, `you don't own a site called "${row.site}"`);
    } else if (row.redirectUrl) {
      site = matchSite(sites, row.redirectUrl) ?? defaultSite;
    }

    const dedupeKey = `${email.key}|${site?.groupId ?? ''}`;
    const earlier = firstRowOf.get(dedupeKey);
    if (earlier !== undefined) {
      summary.duplicates++;
      batch.push({ ...emptyRow(row.rowNumber, row.name, email.address), emailKey: email.key, state: 'duplicate', error: `duplicate of row ${earlier}` });
      return;
    }
    firstRowOf.set(dedupeKey, row.rowNumber);

    const access = deps.access;
    if (access && row.noEndAsked && (site ? accessDaysFor(access.settings, site.groupId) : access.settings.accessDays) !== null) {
      return invalid(row.rowNumber, row.name, row.email, `access end "none": only sites set up without an end date allow that; give a date or leave it empty for the site's period`);
    }
    if (access && row.accessEnd) {
      const checked = checkRequestedEnd(access.settings, site?.groupId ?? null, row.accessEnd, access.clock.now());
      if (!checked.ok) return invalid(row.rowNumber, row.name, row.email, checked.reason);
    }

    const advice = await adviceFor(email.domain, email.address);
    const base: NewBulkRow = {
      rowNumber: row.rowNumber,
      name: row.name,
      email: email.address,
      emailKey: email.key,
      groupId: site?.groupId ?? null,
      siteName: site?.siteName ?? null,
      siteUrl: site?.siteUrl ?? null,
      redirectUrl: row.redirectUrl,
      sendEmail: row.sendEmail,
      message: row.message,
      predictedMethod: advice.method,
      state: 'pending',
      accessEnd: row.accessEnd ? storedAccessEnd(row.accessEnd) : null,
    };
    if (advice.subject === 'blocked') {
      summary.blocked++;
      const reason = advice.blockedReason ?? `invitations to ${email.domain} are blocked in this organisation`;
      if (summary.invalidRows.length < maxShown) summary.invalidRows.push({ rowNumber: row.rowNumber, email: email.address, reason });
      batch.push({ ...base, state: 'invalid', error: reason });
      return;
    }
    if (advice.subject === 'internalUser') summary.internal++;
    const lookAlike = lookAlikeWarning(email);
    if (lookAlike) {
      summary.lookAlikes = (summary.lookAlikes ?? 0) + 1;
      const shown = (summary.lookAlikeRows ??= []);
      if (shown.length < maxShown) shown.push({ rowNumber: row.rowNumber, display: lookAlike.display, ascii: lookAlike.ascii, reason: lookAlike.message });
    }
    if (!isApprover) {
      const verdict = approvalVerdict(deps.approvals, { requesterIsSiteOwner: true, guestDomain: email.domain });
      if (verdict.required) {
        summary.needsApproval++;
        summary.valid++;
        verdict.reasons.forEach((r) => approvalReasons.add(r));
        batch.push({ ...base, state: 'needsApproval', error: `needs an approver: ${verdict.reasons.join(' ')}` });
        return;
      }
    }
    summary.valid++;
    summary.toSend++;
    const methodKey = advice.method ? (advice.otherwise ? `${advice.method}>${advice.otherwise}` : advice.method) : 'unknown';
    summary.methods[methodKey] = (summary.methods[methodKey] ?? 0) + 1;
    const siteName = site?.siteName ?? '(the site you choose)';
    siteCounts.set(siteName, (siteCounts.get(siteName) ?? 0) + 1);
    if (site) siteGroups.set(siteName, site.groupId);
    if (row.accessEnd) summary.ownAccessEnd = (summary.ownAccessEnd ?? 0) + 1;
    batch.push(base);
  }

  summary.format = stats.layout?.format ?? 'script';
  if (stats.layout) summary.columns = columnsRead(stats.layout);
  summary.sites = [...siteCounts].map(([siteName, rows]) => ({ siteName, rows }));
  if (deps.access) {
    const { settings, clock } = deps.access;
    const now = clock.now();
    // The end each site's rows get unless they name their own (a site chosen at Confirm: the default period).
    summary.accessEnds = [...siteCounts.keys()].map((siteName) => {
      const groupId = siteGroups.get(siteName);
      return { siteName, endsAt: groupId ? accessEndFor(settings, groupId, now) : settings.accessDays === null ? null : new Date(now.getTime() + settings.accessDays * DAY_MS).toISOString() };
    });
  }
  summary.approvalReasons = [...approvalReasons];
  const updated = await deps.jobs.update(job.id, job.version, { summary });
  if (!updated) throw new Error('bulk draft changed while it was being staged');
  return { job: updated, summary, siteChoices: defaultSite ? [] : sites };
}

function emptyRow(rowNumber: number, name: string, email: string): NewBulkRow {
  return {
    rowNumber,
    name,
    email,
    emailKey: null,
    groupId: null,
    siteName: null,
    siteUrl: null,
    redirectUrl: null,
    sendEmail: null,
    message: null,
    predictedMethod: null,
    state: 'invalid',
  };
}

/** A summary of a file with nothing counted yet. */
export function emptyValidationSummary(sourceName: string): BulkValidationSummary {
  return {
    sourceName,
    format: 'script',
    rows: 0,
    valid: 0,
    invalid: 0,
    invalidRows: [],
    duplicates: 0,
    internal: 0,
    blocked: 0,
    alreadyDone: 0,
    needsApproval: 0,
    approvalReasons: [],
    methods: {},
    sites: [],
    toSend: 0,
    lookAlikes: 0,
    lookAlikeRows: [],
  };
}
