import fs from 'node:fs';
import path from 'node:path';

/** The project root (where package.json lives), whether running from src/ via ts-jest or from dist/src. */
export function projectRoot(): string {
  let dir = __dirname;
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
}
