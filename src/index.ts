/**
 * The bot's entry point: `node dist/src/index.js`. Runs ./main (the composition root; after
 * `npm run build`, one bundled file) with its compiled code cached on disk, for a fast start.
 * Nothing else is loaded here: see ./app/compileCache.ts and README "Performance".
 */
import path from 'node:path';
import { startWithCompileCache } from './app/compileCache';

startWithCompileCache(path.join(__dirname, 'main.js'));
