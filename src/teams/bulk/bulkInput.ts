import type { Activity } from 'botbuilder';
import { MAX_MESSAGE_CHARS } from '../bot/messageLimits';
import { trimEndChars } from '../../domain/text';
import type { CsvLimits } from '../../usecases/bulk/parseInvitationCsv';

/** What a message to the bulk feature holds: the command, an attached file, a pasted CSV. */

export const TEAMS_FILE_DOWNLOAD = 'application/vnd.microsoft.teams.file.download.info';

// Anchored, and the site named after "to" is tidied in code: `(.+?)(?:\s+site)?[.!]*$` was quadratic.
const BULK_COMMAND = /^(?:please\s+)?(?:bulk[\s-]+invite|invite\s+(?:in\s+bulk|many|several|multiple|(?:people\s+)?from\s+(?:a\s+)?(?:csv|file|spreadsheet)|(?:a\s+)?csv|bulk))(?:\s(?:to|into)\s(.+))?$/i;

/** "bulk invite to the Marketing site." → { siteHint: 'Marketing' }; null when it is not the command. */
export function parseBulkCommand(text: string): { siteHint: string | null } | null {
  const m = BULK_COMMAND.exec(trimEndChars(text.trim(), '.!').trim());
  if (!m) return null;
  const words = (m[1] ?? '').trim().split(/\s+/).filter(Boolean);
  if (words.length > 1 && /^the$/i.test(words[0] ?? '')) words.shift();
  if (words.length > 1 && /^site$/i.test(words[words.length - 1] ?? '')) words.pop();
  return { siteHint: words.length > 0 ? words.join(' ') : null };
}
export const PASTE_TOO_LONG = `That pasted CSV is longer than ${MAX_MESSAGE_CHARS.toLocaleString('en-US')} characters, so I did not read any of it. Attach it as a .csv file instead.`;

const BULK_RESULTS = /^(?:show\s+|get\s+)?(?:my\s+)?bulk\s+(?:results|status|progress|job)[?.!]*$/i;

export interface TeamsFile {
  name: string;
  downloadUrl: string;
  fileType: string;
}

export function teamsFile(activity: Partial<Activity>): TeamsFile | null {
  for (const a of activity.attachments ?? []) {
    if (a.contentType !== TEAMS_FILE_DOWNLOAD) continue;
    const content = (a.content ?? {}) as { downloadUrl?: unknown; fileType?: unknown };
    return {
      name: typeof a.name === 'string' && a.name ? a.name : 'attachment',
      downloadUrl: typeof content.downloadUrl === 'string' ? content.downloadUrl : '',
      fileType: typeof content.fileType === 'string' ? content.fileType.toLowerCase() : '',
    };
  }
  return null;
}

function decodeEntities(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&apos;/g, "'")
    .replace(/&nbsp;/g, ' ')
    .replace(/&amp;/g, '&');
}

/** CSV pasted into a message (optionally after a "bulk invite to <site>" line), or null. */
export function pastedCsv(text: string): { csv: string; siteHint: string | null } | null {
  const normalised = decodeEntities(text.replace(/<br\s*\/?>/gi, '\n').replace(/<\/?(?:p|div|span)\b[^<>]*>/gi, '\n')).replace(/\r\n?/g, '\n');
  const lines = normalised.split('\n');
  let siteHint: string | null = null;
  const first = lines[0]?.trim() ?? '';
  const command = parseBulkCommand(first);
  if (command) {
    siteHint = command.siteHint;
    lines.shift();
  }
  while (lines.length > 0 && (lines[0] ?? '').trim() === '') lines.shift();
  if (lines.length < 2) return null;
  const header = (lines[0] ?? '').trim().toLowerCase();
  const looksLikeHeader =
    /^version\s*:\s*v\d/.test(header) || header.includes('[inviteeemail]') || (/(^|[,;\t"\s])e-?mail/.test(header) && /[,;\t]/.test(header));
  if (!looksLikeHeader) return null;
  return { csv: `${lines.join('\n')}\n`, siteHint };
}

export const BULK_RESULTS_COMMAND = BULK_RESULTS;

export function bulkInstructions(limit: CsvLimits): string {
  return [
    'To invite many guests at once, attach a CSV file here in our personal chat, or paste the CSV into a message.',
    'Formats I read: a header row Name,Email (optional columns: Site, Message); the results file of an earlier run (rows marked success are skipped); or the Entra portal bulk-invite template.',
    `Up to ${limit.maxRows.toLocaleString('en-US')} rows. I show you a summary first; nothing is sent until you confirm.`,
  ].join('\n\n');
}
