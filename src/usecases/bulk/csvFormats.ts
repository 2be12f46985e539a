/**
 * The CSV layouts a bulk invitation accepts, recognised from the header row, and how one
 * record maps to an invitation row.
 *
 * - "script": `Name,Email` (the bulk-invite PowerShell script's input);
 * - "scriptResults": the same plus the script's result columns (time, status, userId,
 *   redeemUrl, inviteId, error). Rows whose error is `success` are already done: skipped, so
 *   a results file can be fed straight back in to retry only what failed;
 * - "entraTemplate": the Entra portal's bulk-invite template: a `version:v1.0` row, then
 *   headings of the form `<Item name> [propertyName] <Required or blank>` (localised item
 *   names, so columns are recognised by the bracketed property name), then an optional
 *   `Example:` row that the portal asks people to delete (we ignore it if they did not).
 * Optional columns in every layout: site, message, and the guest's access end: a date
 * (`Access ends on`, also End date, Expires, Expiry date, Access until …) or a number of days
 * (`Access days`, also Days, Duration days …); without them the site's period applies.
 */
import { parseAccessDaysCell, parseEndDateCell, type RequestedAccessEnd } from '../../domain/accessEnd';
import { quoteForChat } from '../../domain/text';

export type CsvFormat = 'script' | 'scriptResults' | 'entraTemplate';

/** What a column means to us. */
export type CsvField =
  | 'name'
  | 'email'
  | 'site'
  | 'message'
  | 'redirectUrl'
  | 'sendEmail'
  | 'time'
  | 'status'
  | 'userId'
  | 'redeemUrl'
  | 'inviteId'
  | 'error'
  | 'accessEnd'
  | 'accessDays';

/**
 * The script's output columns, in its order, then the access end each guest got (a date, or
 * "none"): what results files carry. Fed back in, the end column is read as the rows' own end.
 */
export const RESULT_COLUMNS = ['Name', 'Email', 'time', 'status', 'userId', 'redeemUrl', 'inviteId', 'error', 'Access ends on'] as const;

export interface CsvLayout {
  format: CsvFormat;
  /** Column index per field (first occurrence wins). */
  columns: Partial<Record<CsvField, number>>;
  /** Header cells as written, for messages. */
  header: string[];
  /** Index of the last column a row must reach (the email column or a required template column). */
  lastRequiredIndex: number;
}

/** The longest header cell kept for the summary (a header is the user's text). */
const COLUMN_NAME_MAX = 40;

/** The header cells of the columns `layout` reads, in file order, as written (each cut to 40 characters). */
export function columnsRead(layout: CsvLayout): string[] {
  return Object.values(layout.columns)
    .filter((index): index is number => index !== undefined)
    .sort((a, b) => a - b)
    .map((index) => Array.from(layout.header[index] ?? '').slice(0, COLUMN_NAME_MAX).join(''));
}

/** A user-facing refusal of the whole file. Nothing is staged or sent when this is thrown. */
export class BulkCsvError extends Error {
  readonly userMessage: string;
  constructor(
    readonly code:
      | 'empty'
      | 'headerOnly'
      | 'semicolonDelimited'
      | 'tabDelimited'
      | 'utf16'
      | 'notText'
      | 'spreadsheet'
      | 'missingEmailColumn'
      | 'noHeader'
      | 'tooLarge'
      | 'tooManyRows'
      | 'malformed'
      | 'unreadable',
    userMessage: string,
    options: { cause?: unknown } = {},
  ) {
    super(userMessage, { cause: options.cause });
    this.name = 'BulkCsvError';
    this.userMessage = userMessage;
  }
}

const ENTRA_PROPERTIES: Record<string, CsvField> = {
  inviteeemail: 'email',
  inviteredirecturl: 'redirectUrl',
  sendemail: 'sendEmail',
  customizedmessagebody: 'message',
  inviteename: 'name',
  displayname: 'name',
};

/** Plain header names (lower-cased, spaces/underscores/dashes removed) per field. */
const PLAIN_NAMES: Record<string, CsvField> = {
  name: 'name',
  displayname: 'name',
  fullname: 'name',
  email: 'email',
  mail: 'email',
  emailaddress: 'email',
  site: 'site',
  siteurl: 'site',
  message: 'message',
  time: 'time',
  status: 'status',
  userid: 'userId',
  redeemurl: 'redeemUrl',
  inviteid: 'inviteId',
  error: 'error',
  // The guest's access end: a date …
  accessendson: 'accessEnd',
  accessends: 'accessEnd',
  accessend: 'accessEnd',
  accessenddate: 'accessEnd',
  accessuntil: 'accessEnd',
  accessexpires: 'accessEnd',
  enddate: 'accessEnd',
  endson: 'accessEnd',
  expires: 'accessEnd',
  expireson: 'accessEnd',
  expiry: 'accessEnd',
  expirydate: 'accessEnd',
  expiration: 'accessEnd',
  expirationdate: 'accessEnd',
  validuntil: 'accessEnd',
  until: 'accessEnd',
  // … or a number of days from the invitation.
  accessdays: 'accessDays',
  days: 'accessDays',
  daysofaccess: 'accessDays',
  durationdays: 'accessDays',
  durationindays: 'accessDays',
  accessduration: 'accessDays',
  accessdurationdays: 'accessDays',
};

/** True for the Entra template's first row (`version:v1.0`, possibly padded with empty cells). */
export function isTemplateVersionRow(cells: readonly string[]): boolean {
  return /^version\s*:\s*v\d/i.test(cells[0]?.trim() ?? '') && cells.slice(1).every((c) => c.trim() === '');
}

/** The Entra template's sample row ("Example: jane@fabrikam.com, …"), which people forget to delete. */
export function isTemplateExampleRow(layout: CsvLayout, cells: readonly string[]): boolean {
  return layout.format === 'entraTemplate' && /^\s*example\s*:/i.test(cells[0] ?? '');
}

/** Header cell as a lookup key: lower-case, without spaces, dashes, underscores or brackets ("Duration (days)"). */
function canonical(cell: string): string {
  return cell.trim().toLowerCase().replace(/[\s_()-]+/g, '');
}

/**
 * Recognises the header row. `afterVersionRow` says the file started with `version:v1.0`.
 * Throws BulkCsvError when there is no usable email column.
 */
export function detectLayout(headerCells: readonly string[], afterVersionRow: boolean): CsvLayout {
  const header = headerCells.map((c) => c.trim());
  const columns: Partial<Record<CsvField, number>> = {};
  let bracketed = 0;
  header.forEach((cell, index) => {
    const property = /\[([A-Za-z]+)\]/.exec(cell)?.[1]?.toLowerCase();
    const field = property !== undefined ? ENTRA_PROPERTIES[property] : PLAIN_NAMES[canonical(cell)];
    if (property !== undefined) bracketed++;
    if (field !== undefined && columns[field] === undefined) columns[field] = index;
  });

  const email = columns.email;
  if (email === undefined) {
    if (header.some((c) => c.includes('@'))) {
      throw new BulkCsvError(
        'noHeader',
        'The first row looks like data, not column names. Add a header row: Name,Email (one person per row below it).',
      );
    }
    const shown = header.filter(Boolean).slice(0, 8).map((cell) => `"${quoteForChat(cell, 40)}"`).join(', ') || '(empty)';
    throw new BulkCsvError(
      'missingEmailColumn',
      `I couldn't find an Email column. The header row has: ${shown}. Use Name,Email (or the Entra bulk-invite template).`,
    );
  }

  const format: CsvFormat =
    afterVersionRow || bracketed > 0 ? 'entraTemplate' : columns.error !== undefined ? 'scriptResults' : 'script';
  const lastRequiredIndex =
    format === 'entraTemplate' ? Math.max(email, columns.redirectUrl ?? email) : email;
  return { format, columns, header, lastRequiredIndex };
}

/** One invitation request from the file, before any directory check. */
export interface CsvInvitationRow {
  /** The spreadsheet row number (1-based, counting header rows), as Excel would show it. */
  rowNumber: number;
  name: string;
  email: string;
  site: string | null;
  message: string | null;
  redirectUrl: string | null;
  sendEmail: boolean | null;
  /** The end the row asks for (its end-date or days column), checked against the site later; null: the site's period. */
  accessEnd: RequestedAccessEnd | null;
  /** The end-date column says "none": allowed only where the site's access has no end. */
  noEndAsked: boolean;
  /** Result columns from an earlier run, when the file is a results file. */
  previous: PreviousResult | null;
}

export interface PreviousResult {
  time: string;
  status: string;
  userId: string;
  redeemUrl: string;
  inviteId: string;
  error: string;
}

export type MappedRecord =
  | { kind: 'row'; row: CsvInvitationRow }
  /** Done in an earlier run (error column says `success`): carried over to the results unchanged. */
  | { kind: 'alreadyDone'; row: CsvInvitationRow }
  | { kind: 'invalid'; rowNumber: number; name: string; email: string; reason: string }
  /** A blank line or the template's example row: neither counted nor reported. */
  | { kind: 'ignored'; rowNumber: number };

function cellAt(cells: readonly string[], index: number | undefined): string {
  return index === undefined ? '' : (cells[index] ?? '').trim();
}

function parseBool(value: string): boolean | null | 'bad' {
  const v = value.trim().toLowerCase();
  if (v === '') return null;
  if (v === 'true' || v === 'yes' || v === '1') return true;
  if (v === 'false' || v === 'no' || v === '0') return false;
  return 'bad';
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Maps one parsed record to an invitation row, or says in plain words what is wrong with it. */
export function mapRecord(layout: CsvLayout, cells: readonly string[], rowNumber: number): MappedRecord {
  if (cells.every((c) => c.trim() === '')) return { kind: 'ignored', rowNumber };
  if (isTemplateExampleRow(layout, cells)) return { kind: 'ignored', rowNumber };

  const c = layout.columns;
  const name = cellAt(cells, c.name);
  const email = cellAt(cells, c.email);
  const invalid = (reason: string): MappedRecord => ({ kind: 'invalid', rowNumber, name, email, reason });

  const width = layout.header.length;
  if (cells.length <= layout.lastRequiredIndex) {
    return invalid(
      `has ${plural(cells.length, 'value')} but the header has ${plural(width, 'column')} (missing ${layout.header[layout.lastRequiredIndex] ?? 'Email'})`,
    );
  }
  // Trailing empty cells are what spreadsheets write for blank columns: harmless.
  const extra = cells.slice(width).filter((v) => v.trim() !== '');
  if (extra.length > 0) {
    return invalid(
      `has ${plural(cells.length, 'value')} but the header has ${plural(width, 'column')} (a comma inside a name? put the value in double quotes)`,
    );
  }
  if (email === '') return invalid('has no email address');

  const sendEmail = parseBool(cellAt(cells, c.sendEmail));
  if (sendEmail === 'bad') return invalid(`"Send invitation message" must be true or false, not "${cellAt(cells, c.sendEmail)}"`);

  const endCell = cellAt(cells, c.accessEnd);
  const daysCell = cellAt(cells, c.accessDays);
  if (endCell !== '' && daysCell !== '') return invalid('gives both an access end date and a number of access days: keep one of them');
  let accessEnd: RequestedAccessEnd | null = null;
  if (endCell !== '' && endCell.toLowerCase() !== 'none') {
    const end = parseEndDateCell(endCell);
    if (!end.ok) return invalid(`access end date: ${end.reason}`);
    accessEnd = { kind: 'date', date: end.date };
  } else if (daysCell !== '') {
    const days = parseAccessDaysCell(daysCell);
    if (!days.ok) return invalid(days.reason);
    accessEnd = { kind: 'days', days: days.days };
  }

  const previous: PreviousResult | null =
    c.error !== undefined
      ? {
          time: cellAt(cells, c.time),
          status: cellAt(cells, c.status),
          userId: cellAt(cells, c.userId),
          redeemUrl: cellAt(cells, c.redeemUrl),
          inviteId: cellAt(cells, c.inviteId),
          error: cellAt(cells, c.error),
        }
      : null;

  const row: CsvInvitationRow = {
    rowNumber,
    name,
    email,
    site: cellAt(cells, c.site) || null,
    message: cellAt(cells, c.message) || null,
    redirectUrl: cellAt(cells, c.redirectUrl) || null,
    sendEmail,
    accessEnd,
    noEndAsked: endCell.toLowerCase() === 'none',
    previous,
  };
  if (previous !== null && previous.error.toLowerCase() === 'success') return { kind: 'alreadyDone', row };
  return { kind: 'row', row };
}
