import { isSafeCardUrl, type AdaptiveCard } from '../cards';
import { errorCard } from '../cards/errorCard';
import { isFinishedJob, type BulkJob, type BulkSite } from '../../domain/bulkJob';
import type { JobView } from '../../usecases/bulk/bulkJobService';
import { doneCard } from './cards/doneCard';
import { progressCard } from './cards/progressCard';
import { summaryCard } from './cards/summaryCard';

export const PRIVATE_ONLY = 'For privacy the results file is only handed out in a personal chat: open a chat with me and say "bulk results".';

/** Which card shows a job where it stands: summary (draft), progress (running), done (finished). */
export class BulkCards {
  readonly ttlMinutes: number;

  constructor(private readonly o: { invitesPer5s: number; resultsLinkTtlMs: number; approvalsOn: boolean }) {
    this.ttlMinutes = Math.round(o.resultsLinkTtlMs / 60_000);
  }

  summary(job: BulkJob, siteChoices: readonly BulkSite[], notice: string | null = null): AdaptiveCard {
    return summaryCard(job, siteChoices, notice, this.o.approvalsOn);
  }

  progress(view: JobView, notice: string | null = null): AdaptiveCard {
    if (!view.progress) return this.current(view, notice);
    return progressCard(view.job, view.progress, this.o.invitesPer5s, notice);
  }

  done(view: JobView, url: string | null, notice: string | null = null): AdaptiveCard {
    if (!view.progress) return this.current(view, notice);
    return doneCard(view.job, view.progress, url, this.ttlMinutes, notice, view.emails);
  }

  /** The job's card as it stands, with a notice. */
  current(view: JobView, notice: string | null): AdaptiveCard {
    const { job, progress } = view;
    if (job.state === 'draft' || job.state === 'discarded') return this.summary(job, [], notice);
    if (!progress) return message('Bulk invitation', notice ?? '');
    return isFinishedJob(job) ? doneCard(job, progress, null, this.ttlMinutes, notice, view.emails) : progressCard(job, progress, this.o.invitesPer5s, notice);
  }

  /**
   * The done card with the download link. Cards only carry https links; in local mode the bot
   * is on http://localhost, so the link is given as text to open in the browser instead.
   */
  results(view: JobView, url: string, notice: string | null): AdaptiveCard {
    if (isSafeCardUrl(url)) return this.done(view, url, notice);
    // The link comes first: the notice is cut at the card's text limit, and a cut link is useless.
    return this.done(
      view,
      null,
      `Open this link in your browser to download the results file: ${url} Anyone who has this link can download the file, with the guests' invitation links, until it expires in ${this.ttlMinutes} minutes: keep it to yourself.`,
    );
  }

  stale(): AdaptiveCard {
    return message('This card is out of date', 'That bulk invitation no longer exists. Send the file again to start over.');
  }

  /** Someone else's card: nothing of the job (file, rows, counts), only who may act. */
  notYours(whoMayAct: string): AdaptiveCard {
    return message('This bulk invitation is not yours', `${whoMayAct} Nothing was changed.`);
  }
}

function message(title: string, text: string): AdaptiveCard {
  return errorCard({ title, message: text });
}
