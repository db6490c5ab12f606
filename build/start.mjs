/**
 * `npm start`: brings dist/ up to date (build/buildIfChanged.mjs: tsc and vite run only when their
 * sources changed), then serves, in the same node process. A second process (`… && node
 * dist/server/main.js serve`) cost another node start (~0.1 s): issue 17 allows `npm start` 0.5 s
 * over `node dist/server/main.js serve`, and npm's own start takes ~0.3 s of that.
 * Arguments after `npm start --` go to `serve`.
 */
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildIfChanged, startTargets } from './buildIfChanged.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
try {
  buildIfChanged(root, startTargets(root), { log: (line) => process.stderr.write(`build: ${line}\n`) });
} catch (error) {
  process.stderr.write(`build: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
const main = join(root, 'dist', 'server', 'main.js');
// main.js reads its command line from process.argv, as if started as `node dist/server/main.js serve …`.
process.argv = [process.argv[0], main, 'serve', ...process.argv.slice(2)];
await import(pathToFileURL(main).href);
