import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { after, before, test } from 'node:test';
import Database from 'better-sqlite3';
import { extract, Header, type HeaderData } from 'tar';
import { listFiles } from '../../../server/backup/listFiles.js';
import { latestSchemaVersion } from '../../../server/store/migrate.js';
import { startTestServer } from '../../helpers/testServer.js';

/**
 * Issue 17 item 5: crafted archives. Each restore runs the real CLI in its own process on a real
 * data dir; archives are written byte by byte here (tar headers + gzip) so that they can hold what
 * createBackup never writes: links, devices, setuid modes, manifest paths outside the archive.
 */

const MAIN = new URL('../../../server/main.ts', import.meta.url).pathname;

async function cli(args: string[], timeout = 60_000): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', MAIN, ...args], { timeout, killSignal: 'SIGKILL', env: { ...process.env, INFERBOX_LOG_LEVEL: 'silent' } });
    return { code: 0, stdout, stderr, ms: Date.now() - started };
  } catch (error) {
    const e = error as { code: number | null; stdout: string; stderr: string };
    return { code: typeof e.code === 'number' ? e.code : null, stdout: e.stdout, stderr: e.stderr, ms: Date.now() - started };
  }
}

interface RawEntry {
  path: string;
  type?: HeaderData['type'];
  body?: Buffer;
  mode?: number;
  linkpath?: string;
  devmaj?: number;
  devmin?: number;
}

interface ManifestFile { path: string; size: number; sha256: string }

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** A tar.gz of `entries` as given (no normalisation), manifest.json first, listing every File entry plus `extra`. */
async function pack(name: string, entries: RawEntry[], options: { schemaVersion: number; extra?: ManifestFile[] }): Promise<string> {
  const files = entries.filter((e) => (e.type ?? 'File') === 'File').map((e) => ({ path: e.path, size: e.body!.length, sha256: sha256(e.body!) }));
  const manifest = { format: 1, app_version: '0.0.0-test', schema_version: options.schemaVersion, created_at: new Date().toISOString(), reason: 'manual', files: [...files, ...(options.extra ?? [])] };
  const blocks: Buffer[] = [];
  for (const entry of [{ path: 'manifest.json', body: Buffer.from(JSON.stringify(manifest)) }, ...entries]) {
    const body = entry.body ?? Buffer.alloc(0);
    const header = new Header({ path: entry.path, type: entry.type ?? 'File', mode: entry.mode ?? 0o644, size: body.length, mtime: new Date(), uid: 0, gid: 0, linkpath: entry.linkpath, devmaj: entry.devmaj ?? 0, devmin: entry.devmin ?? 0 });
    const block = Buffer.alloc(512);
    header.encode(block, 0);
    blocks.push(block, body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  const path = join(scratch, name);
  await writeFile(path, gzipSync(Buffer.concat(blocks)));
  return path;
}

const scratch = await mkdtemp(join(tmpdir(), 'ibx-restore-'));
const cleanups: (() => Promise<unknown>)[] = [() => rm(scratch, { recursive: true, force: true })];
after(async () => { for (const c of cleanups.reverse()) await c(); });

/** A real server's data dir (stopped), and the files of a real backup of it. */
let live = '';
let liveAdminKey = '';
let schemaVersion = 0;
const realFiles: RawEntry[] = [];

before(async () => {
  const server = await startTestServer();
  cleanups.push(() => rm(server.dataDir, { recursive: true, force: true }));
  live = server.dataDir;
  liveAdminKey = server.adminKey;
  await server.stop();
  const out = join(scratch, 'real');
  const made = await cli(['backup', '--data-dir', live, '--output', out]);
  assert.equal(made.code, 0, made.stderr);
  const [archive] = await readdir(out);
  const unpacked = join(scratch, 'real-unpacked');
  await mkdir(unpacked);
  await extract({ file: join(out, archive!), cwd: unpacked });
  const manifest = JSON.parse(await readFile(join(unpacked, 'manifest.json'), 'utf8')) as { schema_version: number };
  schemaVersion = manifest.schema_version;
  for (const path of (await listFiles(unpacked)).filter((f) => f !== 'manifest.json')) realFiles.push({ path, body: await readFile(join(unpacked, path)) });
  await rm(out, { recursive: true, force: true });
});

/** A folder for one restore, at a depth where `../../../../` from its staging folder is `/`. */
async function freshTarget(name: string): Promise<string> {
  const dir = join(scratch, name);
  await mkdir(dir);
  return dir;
}

async function leftovers(dataDir: string): Promise<string[]> {
  return (await readdir(dataDir)).filter((n) => n.startsWith('.restore-'));
}

test('(a) a database with user_version set but no tables is refused before anything is replaced; the live database and admin.key stay and the server starts', { timeout: 180_000 }, async () => {
  const dbBefore = await readFile(join(live, 'inferbox.db'));
  const keyBefore = await readFile(join(live, 'admin.key'), 'utf8');
  const cases: [number, RegExp][] = [
    [latestSchemaVersion(), new RegExp(`its database is not a complete schema-${latestSchemaVersion()} Inferbox database: \\d+ of its \\d+ tables are missing \\(`)],
    [3, /its database is not a complete schema-3 Inferbox database: \d+ of its \d+ tables are missing/],
  ];
  for (const [version, message] of cases) {
    const empty = join(scratch, `empty-${version}.db`);
    const db = new Database(empty);
    db.pragma(`user_version = ${version}`);
    db.close();
    const archive = await pack(`empty-${version}.tar.gz`, [{ path: 'inferbox.db', body: await readFile(empty) }], { schemaVersion: version });
    const result = await cli(['restore', archive, '--data-dir', live]);
    assert.equal(result.code, 2, `schema ${version}: ${result.stderr}`);
    assert.match(result.stderr, message);
    assert.match(result.stderr, /Nothing was changed/);
    assert.deepEqual(await readFile(join(live, 'inferbox.db')), dbBefore, 'the live database is untouched');
    assert.equal(await readFile(join(live, 'admin.key'), 'utf8'), keyBefore, 'admin.key is untouched');
    assert.deepEqual(await leftovers(live), []);
  }

  const again = await startTestServer({ dataDir: live });
  try {
    assert.equal(again.adminKey, liveAdminKey.trim());
    assert.equal((await again.request('GET', '/api/models')).status, 200, 'the old admin key still works on the old database');
  } finally {
    await again.stop();
  }
});

async function refusedAll(target: string, cases: [string, string, RegExp][]): Promise<void> {
  for (const [what, archive, message] of cases) {
    const result = await cli(['restore', archive, '--data-dir', target], 30_000);
    assert.equal(result.code, 2, `${what}: exit ${result.code} after ${result.ms} ms: ${result.stderr}`);
    assert.ok(result.ms < 25_000, `${what}: refused in ${result.ms} ms`);
    assert.match(result.stderr, message, what);
    assert.deepEqual(await readdir(target), [], `${what}: nothing is left in the data dir, no .restore-* folder`);
  }
}

test('(b) a manifest path outside the archive (../../../../etc/hostname with its right checksum) is refused', { timeout: 120_000 }, async () => {
  const outsideFile = existsSync('/etc/hostname') ? '/etc/hostname' : join(scratch, 'outside.txt');
  if (!existsSync(outsideFile)) await writeFile(outsideFile, 'outside\n');
  const target = await freshTarget('b');
  // The staging folder is <target>/.restore-<hex>: from there this is '../../../../etc/hostname' when /tmp is one level deep.
  const escaping = relative(join(target, '.restore-000000000000'), outsideFile);
  const outside = await readFile(outsideFile);
  await refusedAll(target, [
    [escaping, await pack('escape.tar.gz', realFiles, { schemaVersion, extra: [{ path: escaping, size: outside.length, sha256: sha256(outside) }] }),
      new RegExp(`manifest\\.json lists '${escaping.replace(/[.]/g, '\\.')}', which is not a file inside the archive \\(it has a '\\.\\.' segment\\)`)],
  ]);
});

test('(b) /dev/zero in the manifest, links, devices and fifos in the archive are refused quickly and leave no .restore-* folder', { timeout: 300_000 }, async () => {
  const target = await freshTarget('b-devices');
  const empty = sha256(Buffer.alloc(0));
  // stat() gives /dev/zero size 0, so the old check matched the size and then hashed it forever.
  const zero = relative(join(target, '.restore-000000000000'), '/dev/zero');
  await refusedAll(target, [
    [zero, await pack('devzero.tar.gz', realFiles, { schemaVersion, extra: [{ path: zero, size: 0, sha256: empty }] }),
      new RegExp(`manifest\\.json lists '${zero.replace(/[.]/g, '\\.')}', which is not a file inside the archive \\(it has a '\\.\\.' segment\\)`)],
    ['/dev/zero', await pack('devzero-absolute.tar.gz', realFiles, { schemaVersion, extra: [{ path: '/dev/zero', size: 0, sha256: empty }] }),
      /manifest\.json lists '\/dev\/zero', which is not a file inside the archive \(it is absolute\)/],
    ['a symlink to /dev/zero', await pack('symlink.tar.gz', [...realFiles, { path: 'models/zero', type: 'SymbolicLink', linkpath: '/dev/zero' }], { schemaVersion, extra: [{ path: 'models/zero', size: 0, sha256: empty }] }),
      /'models\/zero' is a SymbolicLink \(a backup holds regular files only\)/],
    ['a hard link', await pack('hardlink.tar.gz', [...realFiles, { path: 'models/host', type: 'Link', linkpath: 'inferbox.db' }], { schemaVersion, extra: [{ path: 'models/host', size: 0, sha256: empty }] }),
      /'models\/host' is a Link \(a backup holds regular files only\)/],
    ['a character device', await pack('chardev.tar.gz', [...realFiles, { path: 'models/zero', type: 'CharacterDevice', devmaj: 1, devmin: 5 }], { schemaVersion, extra: [{ path: 'models/zero', size: 0, sha256: empty }] }),
      /'models\/zero' is a CharacterDevice \(a backup holds regular files only\)/],
    ['a fifo', await pack('fifo.tar.gz', [...realFiles, { path: 'models/pipe', type: 'FIFO' }], { schemaVersion, extra: [{ path: 'models/pipe', size: 0, sha256: empty }] }),
      /'models\/pipe' is a FIFO \(a backup holds regular files only\)/],
    ['a WAL file beside the database', await pack('wal.tar.gz', [...realFiles, { path: 'inferbox.db-wal', body: Buffer.from('not a wal') }], { schemaVersion }),
      /manifest\.json lists 'inferbox\.db-wal', which is not a file inside the archive \(a backup holds inferbox\.db, models\/… and tls\.json, tls\.crt only\)/],
  ]);
});

test('(c) a setuid/setgid file or folder in the archive is restored without those bits', { timeout: 180_000 }, async () => {
  const target = await freshTarget('c');
  const entries = realFiles.map((e) => (e.path.endsWith('.onnx') ? { ...e, mode: 0o4755 } : { ...e, mode: 0o2755 }));
  const archive = await pack('setuid.tar.gz', [{ path: 'models/', type: 'Directory', mode: 0o6755 }, ...entries], { schemaVersion });
  const result = await cli(['restore', archive, '--data-dir', target]);
  assert.equal(result.code, 0, result.stderr);
  const restored = await listFiles(join(target, 'models'));
  assert.ok(restored.some((f) => f.endsWith('.onnx')), restored.join(', '));
  for (const path of [...restored.map((f) => join('models', f)), 'inferbox.db']) {
    const mode = (await stat(join(target, path))).mode;
    assert.equal(mode & 0o7000, 0, `${path}: mode ${(mode & 0o7777).toString(8)} has no setuid/setgid/sticky bit`);
    assert.equal(mode & 0o077, 0, `${path}: mode ${(mode & 0o7777).toString(8)} is owner-only`);
  }
  assert.equal((await stat(join(target, 'models'))).mode & 0o7000, 0, 'models/: no setgid');
  assert.deepEqual(await leftovers(target), []);
});
