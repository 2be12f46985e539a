import { Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { parse, CsvError } from 'csv-parse';
import {
  BulkCsvError,
  detectLayout,
  isTemplateVersionRow,
  mapRecord,
  type CsvLayout,
  type MappedRecord,
} from './csvFormats';

/**
 * Streaming CSV reading for bulk invitations. The file is never held whole: bytes are
 * checked and decoded chunk by chunk, records come out of csv-parse's streaming API one at a
 * time, and the caller consumes them as an async iterable. Whole-file problems (wrong
 * encoding, wrong delimiter, no email column, too big) are thrown as BulkCsvError before or
 * while reading; row problems are yielded as `invalid` records with a reason.
 */

export interface CsvLimits {
  /** Refuse files larger than this (bytes). */
  maxBytes: number;
  /** Refuse files with more data rows than this. */
  maxRows: number;
}

/** Anything the bot can get a CSV from: a download stream, pasted text, a buffer. */
export type CsvSource = Readable | AsyncIterable<Buffer | string> | Buffer | string;

function formatMb(bytes: number): string {
  const mb = bytes / (1024 * 1024);
  return mb >= 10 ? `${Math.round(mb)} MB` : `${Math.round(mb * 10) / 10} MB`;
}

export function tooLargeError(maxBytes: number): BulkCsvError {
  return new BulkCsvError(
    'tooLarge',
    `That file is larger than ${formatMb(maxBytes)}, the most I accept for one bulk invitation. Split it into smaller files.`,
  );
}

/**
 * Text or bytes in hand are fed to the parser in pieces of this size: the parser handles a
 * chunk in one synchronous go, so a whole multi-megabyte paste would hold the event loop.
 */
const CHUNK_BYTES = 16 * 1024;

function inPieces(bytes: Buffer): Buffer[] {
  const pieces: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += CHUNK_BYTES) pieces.push(bytes.subarray(at, at + CHUNK_BYTES));
  return pieces;
}

function toChunks(source: CsvSource): AsyncIterable<Buffer> {
  if (typeof source === 'string') return Readable.from(inPieces(Buffer.from(source, 'utf8')));
  if (Buffer.isBuffer(source)) return Readable.from(inPieces(source));
  return (async function* () {
    for await (const chunk of source as AsyncIterable<Buffer | string>) {
      yield* inPieces(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
    }
  })();
}

const SNIFF_BYTES = 4096;

/** Refuses what is not UTF-8 text, from the first bytes of the file. */
function sniff(head: Buffer): void {
  const b0 = head[0];
  const b1 = head[1];
  if ((b0 === 0xff && b1 === 0xfe) || (b0 === 0xfe && b1 === 0xff)) {
    throw new BulkCsvError(
      'utf16',
      'That file is saved as UTF-16 ("Unicode text"). In Excel choose File > Save As > "CSV UTF-8 (Comma delimited)" and send it again.',
    );
  }
  if (head.subarray(0, 4).equals(Buffer.from([0x50, 0x4b, 0x03, 0x04]))) {
    throw new BulkCsvError(
      'spreadsheet',
      'That is an Excel workbook, not a CSV file. In Excel choose File > Save As > "CSV UTF-8 (Comma delimited)" and send that.',
    );
  }
  const nuls = head.subarray(0, SNIFF_BYTES).reduce((n, byte) => (byte === 0 ? n + 1 : n), 0);
  if (nuls > 0) {
    // UTF-16 without a BOM has a NUL in every other byte of ASCII text.
    if (nuls * 4 >= Math.min(head.length, SNIFF_BYTES)) {
      throw new BulkCsvError(
        'utf16',
        'That file looks like UTF-16 text. In Excel choose File > Save As > "CSV UTF-8 (Comma delimited)" and send it again.',
      );
    }
    throw new BulkCsvError('notText', 'That file is not a CSV text file. Send a .csv file with a Name,Email header row.');
  }
}

/** Bytes → text, refusing non-text and over-size input; strips a UTF-8 BOM. */
async function* decodedText(source: CsvSource, maxBytes: number): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let total = 0;
  let head: Buffer | null = Buffer.alloc(0);
  let first = true;
  const emit = (bytes: Buffer): string => {
    let text = decoder.write(bytes);
    if (first && text.length > 0) {
      first = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    return text;
  };
  for await (const chunk of toChunks(source)) {
    total += chunk.length;
    if (total > maxBytes) throw tooLargeError(maxBytes);
    if (head !== null) {
      // Hold text back until enough bytes have been seen to judge the encoding.
      head = Buffer.concat([head, chunk]);
      if (head.length < SNIFF_BYTES) continue;
      sniff(head);
      const text = emit(head);
      head = null;
      if (text) yield text;
      continue;
    }
    const text = emit(chunk);
    if (text) yield text;
  }
  if (head !== null) {
    if (head.length === 0) return;
    sniff(head);
    const text = emit(head);
    if (text) yield text;
  }
  const rest = decoder.end();
  if (rest) yield rest;
}

export interface CsvRecord {
  /** 1-based record number in the file (a quoted line break does not start a new one). */
  recordNumber: number;
  cells: string[];
}

function translateParseError(err: unknown): unknown {
  if (err instanceof BulkCsvError) return err;
  if (err instanceof CsvError) {
    const line = (err as CsvError & { lines?: number }).lines;
    const where = typeof line === 'number' ? ` near line ${line}` : '';
    const what =
      err.code === 'CSV_QUOTE_NOT_CLOSED'
        ? 'a double quote is opened but never closed'
        : err.code === 'CSV_INVALID_CLOSING_QUOTE'
          ? 'a double quote inside a value is not doubled ("")'
          : 'the CSV is malformed';
    return new BulkCsvError('malformed', `I couldn't read that CSV${where}: ${what}. Fix it and send it again.`, { cause: err });
  }
  return err;
}

/**
 * The plain record stream (RFC 4180: commas, double quotes, quoted line breaks, CRLF or LF,
 * UTF-8 with or without BOM). Exported so the parser's CSV dialect can be tested on its own.
 */
export async function* csvRecords(source: CsvSource, maxBytes: number): AsyncGenerator<CsvRecord> {
  // Several record delimiters: csv-parse would otherwise fix on the first line's ending, and files
  // edited in two tools mix CRLF and LF.
  const parser = parse({ relax_column_count: true, skip_empty_lines: false, delimiter: ',', record_delimiter: ['\r\n', '\n', '\r'] });
  const text = Readable.from(decodedText(source, maxBytes), { objectMode: false, encoding: 'utf8' });
  let failure: unknown = null;
  pipeline(text, parser, (err) => {
    if (err) failure = err;
  });
  let recordNumber = 0;
  try {
    for await (const cells of parser as AsyncIterable<string[]>) {
      recordNumber++;
      yield { recordNumber, cells };
    }
  } catch (err) {
    throw translateParseError(failure ?? err);
  } finally {
    text.destroy();
    parser.destroy();
  }
  if (failure) throw translateParseError(failure);
}

function delimiterProblem(cells: readonly string[]): BulkCsvError | null {
  if (cells.length !== 1) return null;
  const only = cells[0] ?? '';
  if (only.includes(';')) {
    return new BulkCsvError(
      'semicolonDelimited',
      'That file uses semicolons (;) between columns; I need commas. In Excel choose "CSV UTF-8 (Comma delimited)", or replace ; with , and send it again.',
    );
  }
  if (only.includes('\t')) {
    return new BulkCsvError(
      'tabDelimited',
      'That file uses tabs between columns; I need commas. Save it as "CSV UTF-8 (Comma delimited)" and send it again.',
    );
  }
  return null;
}

export interface CsvReadStats {
  layout: CsvLayout | null;
  /** Data rows seen (excluding headers, blank lines and the template's example row). */
  dataRows: number;
  /** Bytes are counted by the decoder; records by the parser. */
  records: number;
}

/**
 * Reads an invitation CSV: detects the layout from the header row and yields every data
 * record mapped to a row (valid, already done, or invalid with a reason). Throws
 * BulkCsvError for whole-file problems, including an empty or header-only file and more
 * rows than allowed (thrown as soon as the limit is passed, before the rest is read).
 */
export async function* readInvitationCsv(
  source: CsvSource,
  limits: CsvLimits,
  stats: CsvReadStats = { layout: null, dataRows: 0, records: 0 },
): AsyncGenerator<MappedRecord> {
  let layout: CsvLayout | null = null;
  let afterVersionRow = false;
  for await (const { recordNumber, cells } of csvRecords(source, limits.maxBytes)) {
    stats.records = recordNumber;
    if (layout === null) {
      if (cells.every((c) => c.trim() === '')) continue;
      if (!afterVersionRow && isTemplateVersionRow(cells)) {
        afterVersionRow = true;
        continue;
      }
      const problem = delimiterProblem(cells);
      if (problem) throw problem;
      layout = detectLayout(cells, afterVersionRow);
      stats.layout = layout;
      continue;
    }
    const mapped = mapRecord(layout, cells, recordNumber);
    if (mapped.kind === 'ignored') continue;
    stats.dataRows++;
    if (stats.dataRows > limits.maxRows) {
      throw new BulkCsvError(
        'tooManyRows',
        `That file has more than ${limits.maxRows.toLocaleString('en-US')} rows, the most I accept at once. Split it into smaller files.`,
      );
    }
    yield mapped;
  }
  if (layout === null) {
    throw new BulkCsvError(
      afterVersionRow ? 'headerOnly' : 'empty',
      afterVersionRow
        ? 'That file has the template version row but no header or people. Add one person per row under the header.'
        : 'That file is empty. Send a CSV with a Name,Email header row and one person per row.',
    );
  }
  if (stats.dataRows === 0) {
    throw new BulkCsvError('headerOnly', 'That file has a header row but nobody in it. Add one person per row under the header.');
  }
}
