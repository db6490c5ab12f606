/**
 * `npm start` builds only what changed (issue 17, item 3): the freshness check on temp project
 * trees (a fake build that counts its runs, and the real server target with the real tsc on a
 * two-file server), and one real `npm start` (build/start.mjs) in this repository: with nothing
 * changed it runs neither tsc nor vite, checks in milliseconds and serves from the same process.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { buildIfChanged, fingerprint, startTargets, type BuildTarget } from '../../build/buildIfChanged.mjs';

const REPO_ROOT = new URL('../..', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'inferbox-fresh-'));
after(() => rmSync(work, { recursive: true, force: true }));

const write = (path: string, text: string) => {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
};

/** A project whose "build" copies src/a.txt to out/a.txt and appends a line to runs.log per run. */
function fakeProject(name: string): { root: string; target: BuildTarget; runs: () => number } {
  const root = join(work, name);
  write(join(root, 'src', 'a.txt'), 'one');
  write(join(root, 'src', 'node_modules', 'ignored.txt'), 'x');
  write(join(root, 'fakeBuild.mjs'), `import { appendFileSync, copyFileSync, mkdirSync } from 'node:fs';
if (process.env.FAIL_BUILD) process.exit(3);
mkdirSync('out', { recursive: true });
copyFileSync('src/a.txt', 'out/a.txt');
appendFileSync('runs.log', 'run\\n');`);
  const target: BuildTarget = { name: 'fake', inputs: ['src'], output: 'out/a.txt', command: [join(root, 'fakeBuild.mjs')] };
  const runs = () => { try { return readFileSync(join(root, 'runs.log'), 'utf8').split('\n').filter(Boolean).length; } catch { return 0; } };
  return { root, target, runs };
}

test('builds once, then skips until an input changes, appears or disappears, or the output goes', () => {
  const { root, target, runs } = fakeProject('fake');
  assert.deepEqual(buildIfChanged(root, [target]).map((o) => [o.built, o.reason]), [[true, 'out/a.txt is missing']]);
  assert.equal(runs(), 1);
  assert.deepEqual(buildIfChanged(root, [target]).map((o) => [o.built, o.reason]), [[false, 'up to date']]);
  assert.equal(runs(), 1, 'nothing changed: the build command did not run');

  write(join(root, 'src', 'a.txt'), 'two'); // an edit
  assert.equal(buildIfChanged(root, [target])[0]!.reason, 'sources changed');
  assert.equal(readFileSync(join(root, 'out', 'a.txt'), 'utf8'), 'two', 'the edited source is what was built');
  const later = new Date(Date.now() + 5000);
  utimesSync(join(root, 'src', 'a.txt'), later, later); // same size, newer mtime (a checkout of another version)
  assert.equal(buildIfChanged(root, [target])[0]!.built, true);
  write(join(root, 'src', 'b.txt'), 'new file');
  assert.equal(buildIfChanged(root, [target])[0]!.built, true);
  rmSync(join(root, 'src', 'b.txt'));
  assert.equal(buildIfChanged(root, [target])[0]!.built, true);
  rmSync(join(root, 'out'), { recursive: true });
  assert.equal(buildIfChanged(root, [target])[0]!.reason, 'out/a.txt is missing');
  write(join(root, 'src', 'node_modules', 'ignored.txt'), 'changed, but not an input');
  assert.equal(buildIfChanged(root, [target])[0]!.built, false);
  assert.equal(buildIfChanged(root, [target], { force: true })[0]!.built, true, '--force builds anyway');
  assert.equal(runs(), 7);
});

test('a failed build leaves no stamp: the next start tries again', () => {
  const { root, target, runs } = fakeProject('failing');
  buildIfChanged(root, [target]);
  write(join(root, 'src', 'a.txt'), 'broken edit');
  process.env.FAIL_BUILD = '1';
  try {
    assert.throws(() => buildIfChanged(root, [target]), /fake build failed \(exit status 3\)/);
  } finally {
    delete process.env.FAIL_BUILD;
  }
  assert.equal(buildIfChanged(root, [target])[0]!.reason, 'sources changed');
  assert.equal(runs(), 2);
});

test("the start targets: server/ sources decide the server build, renderer/ the console's, electron/ neither", () => {
  const root = join(work, 'layout');
  for (const file of ['server/main.ts', 'renderer/src/App.tsx', 'renderer/dist/index.html', 'electron/main.ts', 'tsconfig.json', 'tsconfig.server.json', 'package.json']) write(join(root, file), 'x');
  const [server, consoleTarget] = startTargets(root);
  assert.equal(server!.name, 'server');
  assert.equal(consoleTarget!.name, 'console');
  const prints = () => [fingerprint(root, server!.inputs), fingerprint(root, consoleTarget!.inputs)];
  const before = prints();
  write(join(root, 'electron', 'main.ts'), 'the desktop app is not built at start');
  write(join(root, 'renderer', 'dist', 'index.html'), 'a build output');
  assert.deepEqual(prints(), before);
  write(join(root, 'server', 'main.ts'), 'edited');
  assert.notEqual(prints()[0], before[0]);
  assert.equal(prints()[1], before[1]);
  write(join(root, 'renderer', 'src', 'App.tsx'), 'edited');
  assert.notEqual(prints()[1], before[1]);
  assert.ok(!server!.command.some((arg) => arg.includes('tsconfig.build.json')), 'the server build leaves electron/ out');
});

test('an edited server source is what the next start serves (real tsc, incremental, on a two-file server)', () => {
  const root = join(work, 'tsc');
  mkdirSync(root);
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(root, 'node_modules'), 'dir');
  for (const file of ['tsconfig.json', 'tsconfig.server.json']) writeFileSync(join(root, file), readFileSync(join(REPO_ROOT, file)));
  writeFileSync(join(root, 'package.json'), '{ "type": "module" }\n');
  write(join(root, 'server', 'answer.ts'), "export const answer = 'first';\n");
  write(join(root, 'server', 'main.ts'), "import { answer } from './answer.js';\nprocess.stdout.write(answer);\n");
  const server = startTargets(root).filter((target) => target.name === 'server');
  const run = () => execFileSync(process.execPath, [join(root, 'dist', 'server', 'main.js')], { encoding: 'utf8' });
  assert.equal(buildIfChanged(root, server)[0]!.built, true);
  assert.equal(run(), 'first');
  assert.equal(buildIfChanged(root, server)[0]!.built, false);
  write(join(root, 'server', 'answer.ts'), "export const answer = 'edited';\n");
  assert.equal(buildIfChanged(root, server)[0]!.built, true);
  assert.equal(run(), 'edited');
  // Outputs deleted, stamp and .tsbuildinfo kept: tsc --incremental alone would emit nothing.
  rmSync(join(root, 'dist', 'server'), { recursive: true });
  assert.equal(buildIfChanged(root, server)[0]!.reason, 'dist/server/main.js is missing');
  assert.equal(run(), 'edited');
});

test("npm start (build/start.mjs), with nothing changed, runs neither tsc nor vite, checks in well under 0.5 s and serves in the same process", async () => {
  const start = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.start!;
  assert.equal(start, 'node build/start.mjs', 'npm start is one node process: the check, then the server');
  // Brings dist/ up to date with the sources first (builds whatever is stale), as a first start would.
  const first = spawnSync(process.execPath, ['build/buildIfChanged.mjs'], { cwd: REPO_ROOT, encoding: 'utf8' });
  assert.equal(first.status, 0, first.stderr);
  const outputs = ['dist/server/main.js', 'dist/server/startServer.js', 'renderer/dist/index.html'].map((file) => join(REPO_ROOT, file));
  const mtimes = () => outputs.map((file) => statSync(file).mtimeMs);
  const before = mtimes();
  const dataDir = mkdtempSync(join(tmpdir(), 'inferbox-start-'));
  const child = spawn(process.execPath, ['build/start.mjs', '--host', '127.0.0.1', '--port', '0', '--tls', 'off', '--data-dir', dataDir], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not ready within 60 s:\n${output}`)), 60_000);
      const read = (chunk: Buffer) => {
        output += chunk.toString();
        if (/is ready in/.test(output)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout.on('data', read);
      child.stderr.on('data', read);
      child.on('exit', (code) => reject(new Error(`exited with ${code} before ready:\n${output}`)));
    });
  } finally {
    child.kill('SIGINT');
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
  assert.deepEqual(mtimes(), before, 'no output was rewritten: tsc and vite did not run');
  const checks = [...output.matchAll(/build: (server|console): up to date, build skipped \(checked in (\d+) ms\)/g)];
  assert.deepEqual(checks.map((m) => m[1]), ['server', 'console'], output);
  // The check itself (a stat of each input): milliseconds; a tsc run (5 s of CPU) could not pass this.
  for (const [, target, ms] of checks) assert.ok(Number(ms) < 500, `${target} was checked in ${ms} ms`);
});
