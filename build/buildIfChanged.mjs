// @ts-check
/**
 * What `npm start` builds: the server (tsc, tsconfig.server.json: server/ only, incremental) and the
 * console (vite), each only when its inputs changed since the build that left its stamp in
 * dist/.build-stamps/. The desktop app (electron/) is not built here: `npm run build` builds
 * everything, for packaging and the desktop app.
 *
 * Why a stamp before tsc: a tsc that has nothing to do (even with --incremental) still parses and
 * binds every file, ~5 s of CPU on the 2-core reference machine; listing and stat-ing the ~300
 * input files takes a few milliseconds. The stamp is a hash of each input file's path, size and
 * mtime (an edit, a git checkout, a new or deleted file all change it), taken before the build
 * runs, so a file edited during a build is built again next time.
 *
 * Plain JavaScript (run with `node`, no tsx): it has to work before anything is compiled, and must
 * not add its own start-up cost to every `npm start`.
 *
 * Usage: node build/buildIfChanged.mjs [--force] [server|console ...]  (default: both; --force builds
 * even when up to date, and stamps: `npm run build:console`, which `npm test` runs first)
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Folder names never read as inputs (build outputs and installed packages). */
const SKIPPED_FOLDERS = new Set(['node_modules', 'dist', '.git']);

/**
 * @typedef {object} BuildTarget
 * @property {string} name
 * @property {string[]} inputs files and folders (relative to the root) whose contents decide the output
 * @property {string} output a file the build makes (relative to the root): a missing one means rebuild
 * @property {string[]} command argv of the build, run in the root with process.execPath
 * @property {string[]} [forgetOnMissingOutput] files to delete before building when the output is missing
 */

/** The two things `npm start` needs built, in a project rooted at `root`. */
export function startTargets(root) {
  const bin = (path) => join(root, 'node_modules', ...path.split('/'));
  return /** @type {BuildTarget[]} */ ([
    {
      name: 'server',
      inputs: ['server', 'tsconfig.json', 'tsconfig.server.json', 'package.json', 'package-lock.json'],
      output: 'dist/server/main.js',
      command: [bin('typescript/bin/tsc'), '-p', 'tsconfig.server.json'],
      // tsc --incremental trusts its .tsbuildinfo: with the outputs deleted it would emit nothing.
      forgetOnMissingOutput: ['dist/.build-stamps/server.tsbuildinfo'],
    },
    {
      name: 'console',
      inputs: ['renderer', 'package.json', 'package-lock.json'],
      output: 'renderer/dist/index.html',
      command: [bin('vite/bin/vite.js'), 'build', '--config', 'renderer/vite.config.ts', '--logLevel', 'warn'],
    },
  ]);
}

/** Every file under the inputs, sorted, as paths relative to the root with forward slashes. */
function listInputs(root, inputs) {
  const files = [];
  const walk = (path) => {
    let stat;
    try {
      stat = statSync(path);
    } catch {
      return; // an optional input (e.g. no package-lock.json) that is absent
    }
    if (stat.isDirectory()) {
      for (const entry of readdirSync(path)) if (!SKIPPED_FOLDERS.has(entry)) walk(join(path, entry));
    } else if (stat.isFile()) {
      files.push({ path: relative(root, path).split(sep).join('/'), size: stat.size, mtimeMs: stat.mtimeMs });
    }
  };
  for (const input of inputs) walk(join(root, input));
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** A hash of the inputs' paths, sizes and modification times (not their contents: stat only). */
export function fingerprint(root, inputs) {
  const hash = createHash('sha256');
  for (const file of listInputs(root, inputs)) hash.update(`${file.path}\0${file.size}\0${file.mtimeMs}\n`);
  return hash.digest('hex');
}

const stampPath = (root, name) => join(root, 'dist', '.build-stamps', `${name}.json`);

function readStamp(root, name) {
  try {
    return /** @type {{ fingerprint?: string }} */ (JSON.parse(readFileSync(stampPath(root, name), 'utf8'))).fingerprint ?? null;
  } catch {
    return null;
  }
}

/**
 * Builds each target whose inputs changed (or whose output is missing), and stamps it after a
 * successful build. Returns what happened per target; a failed build throws (no stamp is written).
 * @param {string} root
 * @param {BuildTarget[]} targets
 * @param {{ log?: (line: string) => void, force?: boolean }} [options]
 * @returns {{ name: string, built: boolean, reason: string, ms: number }[]}
 */
export function buildIfChanged(root, targets, { log = () => undefined, force = false } = {}) {
  return targets.map((target) => {
    const started = performance.now();
    const current = fingerprint(root, target.inputs);
    const outputExists = existsSync(join(root, target.output));
    const stamped = readStamp(root, target.name);
    const reason = force ? 'forced' : !outputExists ? `${target.output} is missing` : stamped === null ? 'no build stamp' : stamped !== current ? 'sources changed' : null;
    if (reason === null) {
      const ms = performance.now() - started;
      log(`${target.name}: up to date, build skipped (checked in ${ms.toFixed(0)} ms)`);
      return { name: target.name, built: false, reason: 'up to date', ms };
    }
    log(`${target.name}: building (${reason})`);
    if (!outputExists) for (const file of target.forgetOnMissingOutput ?? []) rmSync(join(root, file), { force: true });
    const result = spawnSync(process.execPath, target.command, { cwd: root, stdio: 'inherit' });
    if (result.status !== 0) throw new Error(`${target.name} build failed (${result.error?.message ?? `exit status ${result.status ?? result.signal}`})`);
    mkdirSync(join(root, 'dist', '.build-stamps'), { recursive: true });
    writeFileSync(stampPath(root, target.name), `${JSON.stringify({ fingerprint: current, built_at: new Date().toISOString() })}\n`);
    const ms = performance.now() - started;
    log(`${target.name}: built in ${(ms / 1000).toFixed(1)} s`);
    return { name: target.name, built: true, reason, ms };
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const args = process.argv.slice(2);
  const force = args.includes('--force');
  const wanted = args.filter((arg) => arg !== '--force');
  const unknown = wanted.filter((name) => !startTargets(root).some((target) => target.name === name));
  if (unknown.length > 0) {
    process.stderr.write(`build: unknown target ${unknown.join(', ')} (server, console)\n`);
    process.exit(2);
  }
  const targets = startTargets(root).filter((target) => wanted.length === 0 || wanted.includes(target.name));
  try {
    buildIfChanged(root, targets, { force, log: (line) => process.stderr.write(`build: ${line}\n`) });
  } catch (error) {
    process.stderr.write(`build: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
