import { expandCard, stripUnsafeCharacters, truncateText, type AdaptiveCard } from '../../cards';
import { methodLabel } from '../../../domain/signInWording';
import type { SignInMethod } from '../../../domain/signInAdvice';
import type { BulkJob, BulkSite } from '../../../domain/bulkJob';
import type { CsvFormat } from '../../../usecases/bulk/csvFormats';
import { accessEndSentence } from '../../../domain/accessEnd';

/** Data of the `bulkSummary` template (cards/bulkSummary.json): what the file holds, before Confirm. */
export interface BulkSummaryCardData {
  jobId: string;
  sourceName: string;
  formatLabel: string;
  rows: number;
  toSend: number;
  invalid: number;
  duplicates: number;
  blocked: number;
  internal: number;
  alreadyDone: number;
  needsApproval: number;
  hasMethods: boolean;
  methods: Array<{ label: string; count: number }>;
  hasSites: boolean;
  sites: Array<{ siteName: string; rows: number }>;
  hasInvalidRows: boolean;
  invalidRows: Array<{ rowNumber: number; email: string; reason: string }>;
  moreInvalid: number;
  hasApproval: boolean;
  approvalReasons: string[];
  chooseSite: boolean;
  siteChoices: Array<{ title: string; value: string }>;
  defaultSiteChoice: string;
  canConfirm: boolean;
  hasLookAlikes: boolean;
  lookAlikeHeading: string;
  lookAlikeRows: Array<{ rowNumber: number; display: string; ascii: string; reason: string }>;
  moreLookAlikes: number;
  hasNotice: boolean;
  notice: string;
  /** The end each site's guests get from the settings (absent without the guest lifecycle). */
  hasAccessEnds: boolean;
  accessEnds: Array<{ siteName: string; endText: string }>;
  /** Where the ends come from, rows with their own end, and who becomes the sponsor. */
  accessNote: string;
}

const FORMAT_LABELS: Record<CsvFormat, string> = {
  script: 'Name,Email',
  scriptResults: 'results of an earlier run: rows marked success are skipped',
  entraTemplate: 'Entra bulk-invite template',
};

/**
 * The file's layout as the summary names it: for the plain layout, the columns read as the file
 * writes them ("Name,Email,Access days"), so an owner sees the optional columns were understood.
 */
function formatLabel(s: BulkJob['summary']): string {
  if (s.format === 'script' && s.columns && s.columns.length > 0) return truncateText(stripUnsafeCharacters(s.columns.join(',')), 120);
  return FORMAT_LABELS[s.format as CsvFormat] ?? s.format;
}

function methodText(key: string): string {
  if (key === 'unknown') return 'could not be predicted';
  const [method, otherwise] = key.split('>') as [SignInMethod, SignInMethod | undefined];
  return otherwise ? `${methodLabel(method)} if they have one, otherwise ${methodLabel(otherwise)}` : methodLabel(method);
}

/** The first line of the approval box: what happens to those rows. */
function approvalPlan(count: number, approvalsOn: boolean): string {
  const rows = count === 1 ? '1 row' : `${count} rows`;
  return approvalsOn
    ? `When you confirm, ${rows} ${count === 1 ? 'goes' : 'go'} to the approvers instead: each guest is invited once an approver agrees. Why:`
    : `${rows} will not be sent: an approver has to invite ${count === 1 ? 'this guest' : 'these guests'}. Why:`;
}

function lookAlikeHeading(count: number): string {
  return count === 1
    ? '1 address has an internationalised domain that may imitate another one: check its ASCII form'
    : `${count} addresses have internationalised domains that may imitate others: check their ASCII forms`;
}

export function bulkSummaryCardData(job: BulkJob, siteChoices: readonly BulkSite[], notice: string | null = null, approvalsOn = false): BulkSummaryCardData {
  const s = job.summary;
  const methods = Object.entries(s.methods).map(([method, count]) => ({ label: methodText(method), count: count ?? 0 }));
  const shownInvalid = s.invalidRows.length;
  const notSent = s.invalid + s.blocked;
  return {
    jobId: job.id,
    sourceName: s.sourceName,
    formatLabel: formatLabel(s),
    rows: s.rows,
    toSend: s.toSend,
    invalid: s.invalid,
    duplicates: s.duplicates,
    blocked: s.blocked,
    internal: s.internal,
    alreadyDone: s.alreadyDone,
    needsApproval: s.needsApproval,
    hasMethods: methods.length > 0,
    methods,
    hasSites: s.sites.length > 0,
    sites: s.sites,
    hasInvalidRows: shownInvalid > 0,
    invalidRows: s.invalidRows,
    moreInvalid: Math.max(0, notSent - shownInvalid),
    hasApproval: s.needsApproval > 0,
    approvalReasons: s.needsApproval > 0 ? [approvalPlan(s.needsApproval, approvalsOn), ...s.approvalReasons] : [],
    chooseSite: job.state === 'draft' && siteChoices.length > 0,
    siteChoices: siteChoices.map((c) => ({ title: c.siteName, value: c.groupId })),
    // One site: it is the choice. Several: a placeholder asks for one (never a silent default).
    defaultSiteChoice: siteChoices.length === 1 ? (siteChoices[0]?.groupId ?? '') : '',
    // Rows to send, or (with approvals on) rows to send to the approvers: a file of partners who
    // all need an approver is confirmed too, or "When you confirm" would have no button.
    canConfirm: job.state === 'draft' && (s.toSend > 0 || (approvalsOn && s.needsApproval > 0)),
    hasLookAlikes: (s.lookAlikes ?? 0) > 0,
    lookAlikeHeading: lookAlikeHeading(s.lookAlikes ?? 0),
    lookAlikeRows: s.lookAlikeRows ?? [],
    moreLookAlikes: Math.max(0, (s.lookAlikes ?? 0) - (s.lookAlikeRows?.length ?? 0)),
    hasNotice: notice !== null,
    notice: notice ?? '',
    ...accessEndsData(s.accessEnds, s.ownAccessEnd ?? 0, job.requestedBy.name),
  };
}

function accessEndsData(
  ends: ReadonlyArray<{ siteName: string; endsAt: string | null }> | undefined,
  own: number,
  requester: string,
): Pick<BulkSummaryCardData, 'hasAccessEnds' | 'accessEnds' | 'accessNote'> {
  if (!ends || ends.length === 0) return { hasAccessEnds: false, accessEnds: [], accessNote: '' };
  const rows = own === 1 ? '1 row gives its own end date' : `${own} rows give their own end dates`;
  const source =
    own > 0
      ? `${rows} (the file's end-date or days column); the others get their site's period.`
      : 'From the site\'s period; a file can give each guest its own with an "Access ends on" (a date) or "Access days" column.';
  return {
    hasAccessEnds: true,
    accessEnds: ends.map((e) => ({ siteName: e.siteName, endText: accessEndSentence(e.endsAt) })),
    accessNote: `${source} ${requester || 'The person who confirms'} becomes each new guest's sponsor and is reminded before access ends.`,
  };
}

export function bulkSummaryCard(data: BulkSummaryCardData): AdaptiveCard {
  return expandCard('bulkSummary', { ...data });
}

/** The summary card of a draft (or of a job cancelled before it started). */
export function summaryCard(job: BulkJob, siteChoices: readonly BulkSite[], notice: string | null = null, approvalsOn = false): AdaptiveCard {
  return bulkSummaryCard(bulkSummaryCardData(job, siteChoices, notice, approvalsOn));
}
