/** Writes the benchmarks' partner files: `Name,Email` and one row a partner, streamed in 64 KB chunks. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A `Name,Email` file of `rows` partners in a new temporary folder named from `prefix`; returns its path. */
export function writePartnersCsv(prefix: string, rows: number, address: (row: number) => string): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), prefix)), 'partners.csv');
  const out = fs.openSync(file, 'w');
  fs.writeSync(out, 'Name,Email\n');
  let chunk = '';
  for (let i = 1; i <= rows; i++) {
    chunk += `Partner ${i},${address(i)}\n`;
    if (chunk.length > 64 * 1024) {
      fs.writeSync(out, chunk);
      chunk = '';
    }
  }
  fs.writeSync(out, chunk);
  fs.closeSync(out);
  return file;
}
