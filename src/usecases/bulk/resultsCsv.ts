import { Readable } from 'node:stream';
import { stringify } from 'csv-stringify';
import type { BulkRow } from '../../domain/bulkJob';
import type { BulkJobRepository } from './ports';
import { RESULT_COLUMNS } from './csvFormats';

/**
 * The results file: the PowerShell script's output columns (Name, Email, time, status, userId,
 * redeemUrl, inviteId, error) and the access end each guest got, one line per row of the
 * original file, in its order. Rows whose
 * error is `success` are skipped when the file is fed back in, so sending it again retries
 * exactly what failed. Streamed from the store a page at a time.
 */

/** Cells Excel (and other spreadsheets) would run as a formula: =, +, -, @, tab, carriage return. */
const FORMULA_START = /^[=+\-@\t\r]/;

/** Prefixes a would-be formula with an apostrophe, which spreadsheets show as plain text. */
export function neutraliseCell(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value;
}

function errorColumn(row: BulkRow): string {
  switch (row.state) {
    case 'done':
    case 'skipped':
      return 'success';
    case 'pending':
    case 'invited':
      return row.error && row.error !== 'success' ? row.error : 'not finished yet';
    default:
      return row.error ?? row.state;
  }
}

export function resultRecord(row: BulkRow): string[] {
  return [
    row.name,
    row.email,
    row.time ?? '',
    row.status ?? '',
    row.userId ?? '',
    row.redeemUrl ?? '',
    row.inviteId ?? '',
    errorColumn(row),
    accessEndColumn(row),
  ];
}

/** The end the guest's access got (`2027-05-30`, or `none`), or the date the row asked for; '' otherwise. */
function accessEndColumn(row: BulkRow): string {
  const end = row.accessEnd ?? '';
  return end === 'none' || /^\d{4}-\d{2}-\d{2}$/.test(end) ? end : '';
}

/** Every row of a job in file order, a page at a time (never the whole job in memory). */
export async function* rowsInOrder(jobs: BulkJobRepository, jobId: string, pageSize = 500): AsyncGenerator<BulkRow> {
  let after = 0;
  for (;;) {
    const rows = await jobs.rowsAfter(jobId, after, pageSize);
    for (const row of rows) yield row;
    const last = rows[rows.length - 1];
    if (!last || rows.length < pageSize) return;
    after = last.rowNumber;
  }
}

/** A UTF-8 CSV stream (with BOM, so Excel reads names with accents correctly). */
export function resultsCsvStream(jobs: BulkJobRepository, jobId: string): Readable {
  const stringifier = stringify({
    header: true,
    columns: [...RESULT_COLUMNS],
    bom: true,
    record_delimiter: 'windows',
    cast: { string: (value) => neutraliseCell(value) },
  });
  const source = Readable.from(
    (async function* () {
      for await (const row of rowsInOrder(jobs, jobId)) yield resultRecord(row);
    })(),
  );
  return source.pipe(stringifier);
}

/** The whole results file as a string (for small jobs and tests). */
export async function resultsCsvText(jobs: BulkJobRepository, jobId: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of resultsCsvStream(jobs, jobId)) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8');
}
