import type { AuditLog, JsonValue } from '../ports/auditLog';
import type { Directory } from '../ports/Directory';
import type { InvitationRepository } from '../ports/invitations';
import type { WorkQueue } from '../ports/workQueue';
import type { HolderRegistry } from '../ports/leases';
import { SlidingWindowPacer, type InvitationPacer } from '../ports/pacer';
import type { SignInAdvisorPort } from '../signIn/signInAdvisor';
import type { Actor } from '../../domain/actor';
import { systemClock, type Clock } from '../../domain/clock';
import { isFinishedJob, type BulkJob, type BulkSite, type InvitationEmails } from '../../domain/bulkJob';
import { BulkRunner } from './bulkRunner';
import { matchSite, requesterSites, stageBulkFile, type StagedBulkJob } from './bulkValidation';
import { emailGuests } from './invitationEmails';
import type { CsvSource } from './parseInvitationCsv';
import type { BulkJobNotifier, BulkJobRepository, BulkSettings } from './ports';
import type { BulkProgress } from './progress';
import { resultsUrl, type ResultsLinkClaims, type ResultsLinkSigner } from './resultsLink';
import type { BulkApprovalGateway, BulkRunnerLogger, BulkRunnerOptions } from './runnerOptions';
import type { AccessRecording } from '../invite/accessRecording';

/**
 * Bulk invitations as use cases: stage a file into a draft, confirm, cancel, hand out the
 * results link, have Microsoft email the new guests. Every action re-checks who asks and
 * answers with data (what happened, and the job to show); the Teams layer turns it into cards.
 */

export interface BulkServiceDeps {
  jobs: BulkJobRepository;
  /** The store's work queue: jobs' rows are worked from it by any instance. */
  queue: WorkQueue;
  invitations: InvitationRepository;
  directory: Directory;
  advisor: SignInAdvisorPort;
  notifier: BulkJobNotifier;
  settings: BulkSettings;
  /** The results-link signer (made from the stored secret on first use). */
  signer: () => Promise<ResultsLinkSigner>;
  /**
   * The approvals feature (ApprovalService): rows that need an approver are sent to it when the
   * job runs. Without it those rows are listed as not sent.
   */
  approvalGateway?: BulkApprovalGateway | null;
  /**
   * The process's shared invitation pacer; null when the directory paces every invitation itself
   * (then the runner must not take a second slot). Default: a pacer of its own (tests).
   */
  pacer?: InvitationPacer | null;
  /** Lock and lease holders' liveness (a dead runner's job is taken over at once). */
  holders?: HolderRegistry;
  clock?: Clock;
  logger?: BulkRunnerLogger;
  /** Runner settings (tests: backoff; benchmarks: pacer window). */
  runner?: Partial<BulkRunnerOptions>;
  /** The guest lifecycle's recording of each added guest (end date, sponsor); null: none. */
  access?: AccessRecording | null;
  /**
   * The audit log: a job's confirm, cancel and end, and refused clicks (bulkJob.*); absent: not
   * recorded. `list` tells recovery whether a job's end is on the record already.
   */
  audit?: Pick<AuditLog, 'append' | 'list'> | null;
}

/** A job and what its cards show: progress (null for a draft) and the new guests' emails. */
export interface JobView {
  job: BulkJob;
  progress: BulkProgress | null;
  emails: InvitationEmails;
}

/** What a person tried on a bulk job (the `attempted` of a bulkJob.refused event). */
export type BulkAttempt = 'confirm' | 'cancel' | 'results' | 'sendEmails' | 'download';

/** The audit subject of a bulk job; its events never name the guests (no addresses), only counts. */
export const BULK_AUDIT_SUBJECT = 'bulkJob';

const FINISHED_ACTION = 'bulkJob.finished';

/** Who ends a job: the instance that wins its last row, on nobody's click. */
const BULK_SYSTEM_ACTOR = { userId: 'system', name: 'Bulk invitations' };

/** The actor name of a results download: the link names the person it was issued to by id only. */
const RESULTS_LINK_HOLDER = '(results link)';

/** Why an action on someone's job was refused, or that it no longer exists. */
export type Refusal = { kind: 'stale' } | { kind: 'notYours'; requesterName: string };

export type ConfirmResult =
  | Refusal
  /** Nothing changed: show the job where it is (a second click, an old card). */
  | { kind: 'current'; view: JobView; notice: string | null }
  /** Still a draft: the summary again with what to do (choose a site, tick the look-alike box…). */
  | { kind: 'summary'; job: BulkJob; siteChoices: BulkSite[]; notice: string }
  | { kind: 'started'; view: JobView };

export type ActionResult = Refusal | { kind: 'current'; view: JobView; notice: string | null };

export type ResultsResult = ActionResult | { kind: 'privateOnly'; view: JobView } | { kind: 'link'; view: JobView; url: string };

/** Files shown but never confirmed are kept a week (the card can still be confirmed), then removed. */
const DRAFT_KEEP_MS = 7 * 24 * 60 * 60 * 1000;

export class BulkJobService {
  readonly runner: BulkRunner;
  readonly jobs: BulkJobRepository;
  readonly approvalsOn: boolean;
  private readonly pacer: InvitationPacer | null;
  private readonly clock: Clock;
  private readonly emailing = new Map<string, Promise<void>>();

  constructor(private readonly deps: BulkServiceDeps) {
    this.jobs = deps.jobs;
    this.clock = deps.clock ?? systemClock;
    this.approvalsOn = !!deps.approvalGateway;
    // One pacer for the job's invitations and for re-sent invitation emails: both are POST /invitations.
    // Null when the directory paces every invitation itself (then no second slot is taken here).
    this.pacer = deps.pacer === undefined ? new SlidingWindowPacer({ limit: deps.settings.invitesPer5s, windowMs: 5000 }) : deps.pacer;
    this.runner = new BulkRunner({
      jobs: deps.jobs,
      queue: deps.queue,
      invitations: deps.invitations,
      directory: deps.directory,
      pacer: this.pacer,
      holders: deps.holders,
      clock: this.clock,
      sendInvitationEmail: deps.settings.sendInvitationEmail,
      approvals: deps.approvalGateway ? { gateway: deps.approvalGateway, advisor: deps.advisor } : null,
      access: deps.access ?? null,
      logger: deps.logger,
      onProgress: async (job, progress) => this.remember(job, await deps.notifier.progress(job, progress)),
      // The runner calls this once per job, on the instance whose compare-and-set ended it.
      onFinished: async (job, progress) => {
        await this.remember(job, await deps.notifier.finished(job, progress, await this.emailsOf(job)));
      },
      // bulkJob.finished: written by the instance whose compare-and-set ended the job, or, when it
      // died before writing it, by recovery (see BulkRunnerOptions.recordFinished); once either way.
      ...(deps.audit ? { recordFinished: (job: BulkJob, progress: BulkProgress, recovering: boolean) => this.recordFinished(job, progress, recovering) } : {}),
      ...deps.runner,
    });
    void this.jobs.discardDraftsOlderThan(this.clock.now().getTime() - DRAFT_KEEP_MS).catch((e: unknown) => {
      deps.logger?.warn({ err: e instanceof Error ? e.message : String(e) }, 'old bulk drafts not removed');
    });
  }

  /** On the record; a failed append is logged, never thrown (the job and the click go on). */
  private async audit(actor: { userId: string; name: string }, action: string, job: BulkJob, details: { [key: string]: JsonValue }): Promise<void> {
    if (!this.deps.audit) return;
    try {
      await this.deps.audit.append({ actorId: actor.userId, actorName: actor.name, action, subjectType: BULK_AUDIT_SUBJECT, subjectId: job.id, details });
    } catch (error) {
      this.deps.logger?.warn({ jobId: job.id, action, err: error instanceof Error ? error.name : 'error' }, 'bulk audit event not recorded');
    }
  }

  /**
   * Writes bulkJob.finished (throws when the log refuses it: the job keeps it pending). In
   * recovery the instance that ended the job may have written it just before it died: then it is
   * on the record already and is not written again.
   */
  private async recordFinished(job: BulkJob, progress: BulkProgress, recovering: boolean): Promise<void> {
    const audit = this.deps.audit;
    if (!audit) return;
    if (recovering) {
      const written = await audit.list({ subjectType: BULK_AUDIT_SUBJECT, subjectId: job.id, action: FINISHED_ACTION, limit: 1 });
      if (written.length > 0) return;
    }
    await audit.append({
      actorId: BULK_SYSTEM_ACTOR.userId,
      actorName: BULK_SYSTEM_ACTOR.name,
      action: FINISHED_ACTION,
      subjectType: BULK_AUDIT_SUBJECT,
      subjectId: job.id,
      details: finishedDetails(job, progress),
    });
  }

  /** A click on someone else's job (or by someone no longer allowed): on the record, nothing changed. */
  private async refused(
    actor: { userId: string; name: string } | null,
    job: BulkJob,
    attempted: BulkAttempt,
    reason: 'notRequester' | 'notRequesterOrApprover' | 'notSiteOwner' | 'notApprover',
  ): Promise<void> {
    // A click Teams did not say the author of is recorded by the bot (reason unidentified), not again here.
    if (actor) await this.audit(actor, 'bulkJob.refused', job, { attempted, reason });
  }

  /** Records the card a notifier posted for a job that had none, so later updates go to it. */
  private async remember(job: BulkJob, posted: string | null): Promise<void> {
    if (posted && !job.progressActivityId) await this.jobs.transition(job.id, [job.state], { progressActivityId: posted });
  }

  emailsOf(job: BulkJob): Promise<InvitationEmails> {
    return this.jobs.invitationEmails(job.id, this.deps.settings.sendInvitationEmail);
  }

  async view(job: BulkJob): Promise<JobView> {
    const isDraft = job.state === 'draft' || job.state === 'discarded';
    return { job, progress: isDraft ? null : await this.runner.progress(job.id), emails: await this.emailsOf(job) };
  }

  async isApprover(userId: string): Promise<boolean> {
    const group = this.deps.settings.approverGroupId;
    return group ? this.deps.directory.isMember(group, userId) : false;
  }

  /** The requester, or an approver/admin, may see progress, cancel and get results. */
  async mayManage(job: BulkJob, actor: Actor | null): Promise<boolean> {
    if (!actor || actor.tenantId !== job.tenantId) return false;
    return actor.userId === job.requestedBy.id || (await this.isApprover(actor.userId));
  }

  /** The job named on a card, when it exists and belongs to the actor's tenant. */
  private async load(jobId: unknown, actor: Actor | null): Promise<BulkJob | null> {
    const job = typeof jobId === 'string' ? await this.jobs.get(jobId) : null;
    if (!job || (actor && actor.tenantId !== job.tenantId)) return null;
    return job;
  }

  /** Reads a file into a draft job (nothing sent). Throws BulkCsvError / BulkRefusedError with a user message. */
  stage(actor: Actor, source: CsvSource, sourceName: string, conversationId: string | null, siteHint: string | null): Promise<StagedBulkJob> {
    const { settings } = this.deps;
    return stageBulkFile(
      {
        jobs: this.jobs,
        directory: this.deps.directory,
        advisor: this.deps.advisor,
        approvals: settings.approvals,
        approverGroupId: settings.approverGroupId,
        limits: settings.limits,
        access: this.deps.access ? { settings: this.deps.access.settings, clock: this.clock } : null,
      },
      { actor, source, sourceName, conversationId, siteHint },
    );
  }

  /** The actor's latest job past the draft stage, if any. */
  async latest(actor: Actor): Promise<JobView | null> {
    const job = (await this.jobs.listByRequester(actor.tenantId, actor.userId, 5)).find((j) => j.state !== 'draft' && j.state !== 'discarded');
    return job ? this.view(job) : null;
  }

  /**
   * Confirm on the summary card: rights are re-checked now (owner of the site, or approver), not
   * trusted from when the file was read; the job is queued (compare-and-set) and started.
   */
  async confirm(
    actor: Actor | null,
    input: { jobId: unknown; siteId: unknown; lookAlikeConfirmed: unknown; conversationRef: Record<string, unknown>; cardActivityId: string | null },
  ): Promise<ConfirmResult> {
    const job = await this.load(input.jobId, actor);
    if (!job) return { kind: 'stale' };
    if (!actor || actor.userId !== job.requestedBy.id) {
      await this.refused(actor, job, 'confirm', 'notRequester');
      return { kind: 'notYours', requesterName: job.requestedBy.name };
    }
    if (job.state !== 'draft') {
      // A second click, or a click on an old copy of the card: show where the job is.
      return { kind: 'current', view: await this.view(job), notice: job.state === 'discarded' ? 'This bulk invitation was cancelled; nothing was sent.' : null };
    }
    const { sites, isApprover: approver } = await requesterSites(this.deps.directory, actor, this.deps.settings.approverGroupId);
    let site = job.defaultSite;
    if (!site) {
      const chosen = typeof input.siteId === 'string' ? matchSite(sites, input.siteId) : null;
      if (!chosen) return { kind: 'summary', job, siteChoices: sites, notice: 'Choose one of your sites first.' };
      site = chosen;
    }
    if ((job.summary.lookAlikes ?? 0) > 0 && input.lookAlikeConfirmed !== 'true' && input.lookAlikeConfirmed !== true) {
      return {
        kind: 'summary',
        job,
        siteChoices: job.defaultSite ? [] : sites,
        notice: 'Some addresses may imitate other domains: check their ASCII forms, tick "I checked these addresses", then Confirm again. Nothing was sent.',
      };
    }
    const stillOwner = approver || (await this.deps.directory.isOwner(site.groupId, actor.userId));
    if (!stillOwner) {
      await this.refused(actor, job, 'confirm', 'notSiteOwner');
      return { kind: 'summary', job, siteChoices: [], notice: `You are no longer an owner of ${site.siteName}, so this bulk invitation cannot be sent.` };
    }
    await this.jobs.assignDefaultSite(job.id, site);
    const queued = await this.jobs.update(job.id, job.version, {
      state: 'queued',
      defaultSite: site,
      conversationRef: input.conversationRef,
      progressActivityId: input.cardActivityId,
    });
    if (!queued) {
      const now = await this.jobs.get(job.id);
      return now ? { kind: 'current', view: await this.view(now), notice: null } : { kind: 'stale' };
    }
    this.deps.logger?.info({ jobId: job.id, rows: job.summary.toSend }, 'bulk job confirmed');
    // Only the click whose compare-and-set queued the job gets here.
    await this.audit(actor, 'bulkJob.confirmed', queued, {
      groupId: site.groupId,
      rows: job.summary.rows,
      toSend: job.summary.toSend,
      invalid: job.summary.invalid,
      duplicates: job.summary.duplicates,
      skipped: job.summary.alreadyDone,
      needsApproval: job.summary.needsApproval,
    });
    await this.runner.start(job.id);
    const current = (await this.jobs.get(job.id)) ?? queued;
    return { kind: 'started', view: await this.view(current) };
  }

  /** Cancel: a draft is discarded; a running job stops starting new invitations. */
  async cancel(actor: Actor | null, jobId: unknown): Promise<ActionResult> {
    const job = await this.load(jobId, actor);
    if (!job) return { kind: 'stale' };
    if (!actor || !(await this.mayManage(job, actor))) {
      await this.refused(actor, job, 'cancel', 'notRequesterOrApprover');
      return { kind: 'notYours', requesterName: job.requestedBy.name };
    }
    if (job.state === 'draft') {
      const discarded = await this.jobs.transition(job.id, ['draft'], { state: 'discarded' });
      // Audited by the click whose transition discarded it (a second click finds it discarded).
      if (discarded) await this.audit(actor, 'bulkJob.cancelled', discarded, { before: 'draft', rows: job.summary.rows, toSend: job.summary.toSend, sent: 0 });
      return { kind: 'current', view: await this.view(discarded ?? job), notice: 'Cancelled. Nothing was sent.' };
    }
    if (job.state === 'queued' || job.state === 'running') {
      const won = await this.runner.requestCancel(job.id);
      if (won) {
        const counts = await this.jobs.counts(job.id);
        await this.audit(actor, 'bulkJob.cancelled', won, {
          before: job.state,
          rows: job.summary.rows,
          toSend: job.summary.toSend,
          // Rows finished when the cancel was asked; the rest are not sent (bulkJob.finished counts them).
          invited: counts.done,
          failed: counts.failed,
        });
      }
      const cancelling = won ?? (await this.jobs.get(job.id)) ?? job;
      return { kind: 'current', view: await this.view(cancelling), notice: null };
    }
    return { kind: 'current', view: await this.view(job), notice: null };
  }

  /** A signed, short-lived link to the results file, for this actor. */
  async link(job: BulkJob, actor: Actor, approver: boolean): Promise<string> {
    const signer = await this.deps.signer();
    const token = signer.sign({ jobId: job.id, userId: actor.userId, tenantId: actor.tenantId, approver }, this.deps.settings.resultsLinkTtlMs);
    return resultsUrl(this.deps.settings.publicBaseUrl, token);
  }

  /**
   * The job a verified results link opens, for the person it was issued to: its requester, or an
   * approver who still is one (asked now). Null refuses the download (403, without saying which
   * file). A holder who may no longer have the file is on the record (bulkJob.refused, attempted
   * 'download'), under the id the link was issued to: the route cannot tell who holds the link.
   * A link naming no job of its tenant refuses nothing and records nothing. A directory that
   * cannot answer is an error (not a refusal).
   */
  async openResults(claims: ResultsLinkClaims): Promise<BulkJob | null> {
    const job = await this.jobs.get(claims.jobId);
    if (!job || job.tenantId !== claims.tenantId) return null;
    if (job.requestedBy.id === claims.userId) return job;
    if (claims.approver && (await this.isApprover(claims.userId))) return job;
    await this.refused({ userId: claims.userId, name: RESULTS_LINK_HOLDER }, job, 'download', claims.approver ? 'notApprover' : 'notRequesterOrApprover');
    return null;
  }

  /** The results link, once the job has finished, only in a personal chat. */
  async results(actor: Actor | null, jobId: unknown, personalChat: boolean): Promise<ResultsResult> {
    const job = await this.load(jobId, actor);
    if (!job) return { kind: 'stale' };
    if (!actor || !(await this.mayManage(job, actor))) {
      await this.refused(actor, job, 'results', 'notRequesterOrApprover');
      return { kind: 'notYours', requesterName: job.requestedBy.name };
    }
    const view = await this.view(job);
    if (!view.progress || !isFinishedJob(job)) return { kind: 'current', view, notice: 'The results file is ready when the job has finished.' };
    // In a group chat the answer card is seen by everyone: the link goes out only in a personal chat.
    if (!personalChat) return { kind: 'privateOnly', view };
    const approver = actor.userId !== job.requestedBy.id;
    this.deps.logger?.info({ jobId: job.id, approver }, 'bulk results link issued');
    return { kind: 'link', view, url: await this.link(job, actor, approver) };
  }

  /**
   * Has Microsoft email the new guests it did not email; runs in the background and tells the
   * notifier when done (the card is updated then).
   */
  async sendEmails(actor: Actor | null, jobId: unknown): Promise<ActionResult> {
    const job = await this.load(jobId, actor);
    if (!job) return { kind: 'stale' };
    if (!actor || !(await this.mayManage(job, actor))) {
      await this.refused(actor, job, 'sendEmails', 'notRequesterOrApprover');
      return { kind: 'notYours', requesterName: job.requestedBy.name };
    }
    const view = await this.view(job);
    if (!isFinishedJob(job)) return { kind: 'current', view, notice: 'Microsoft can email the guests once the job has finished.' };
    const waiting = view.emails.notEmailed;
    if (this.emailing.has(job.id) || waiting === 0) {
      return { kind: 'current', view, notice: this.emailing.has(job.id) ? 'Already asking Microsoft to email these guests.' : 'Every new guest of this job has been emailed.' };
    }
    const log = this.deps.logger;
    log?.info({ jobId: job.id, guests: waiting }, 'bulk invitation emails requested');
    const work = emailGuests({ jobs: this.jobs, directory: this.deps.directory, pacer: this.pacer, sendInvitationEmail: this.deps.settings.sendInvitationEmail, logger: log }, job)
      .then(async (outcome) => {
        const now = (await this.jobs.get(job.id)) ?? job;
        const progress = await this.runner.progress(job.id);
        if (!progress) return;
        await this.remember(now, await this.deps.notifier.emailsSent(now, progress, await this.emailsOf(now), outcome));
      })
      .catch((e: unknown) => log?.error({ jobId: job.id, err: e instanceof Error ? e.name : 'unknown' }, 'bulk invitation emails stopped'))
      .finally(() => this.emailing.delete(job.id));
    this.emailing.set(job.id, work);
    return {
      kind: 'current',
      view,
      notice: `Asking Microsoft to email the invitation to ${waiting === 1 ? '1 guest' : `${waiting} guests`}; this card is updated when it is done.`,
    };
  }

  /** Resolves when the invitation emails asked for from a job's card have gone out (tests). */
  async whenEmailed(jobId: string): Promise<void> {
    await this.emailing.get(jobId);
  }
}

/** A finished job's counts, as its done card shows them (no addresses). */
function finishedDetails(job: BulkJob, progress: BulkProgress): { [key: string]: JsonValue } {
  const counts = progress.counts;
  return {
    outcome: job.state,
    requestedBy: job.requestedBy.id,
    rows: job.summary.rows,
    toSend: progress.total,
    // Invited (or found) and added to the site.
    invited: counts.done,
    failed: counts.failed,
    gaveUp: progress.gaveUp,
    cancelled: counts.cancelled,
    skipped: counts.skipped,
    sentForApproval: counts.sentForApproval,
    notSent: counts.needsApproval,
    invalid: counts.invalid,
    duplicates: counts.duplicate,
  };
}
