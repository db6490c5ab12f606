import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, test } from 'node:test';
import { create, extract, list } from 'tar';
import { GENTOO_FEATURES, makeDataDir, startTestServer, type TestServer } from '../../helpers/testServer.js';

const MAIN = new URL('../../../server/main.ts', import.meta.url).pathname;
const inferBody = JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: GENTOO_FEATURES }] });

/** The real CLI in its own process; resolves with the exit code and output (a refusal is an outcome, not a throw). */
async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', MAIN, ...args], { env: { ...process.env, INFERBOX_LOG_LEVEL: 'silent' } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const scratch = await mkdtemp(join(tmpdir(), 'inferbox-backup-test-'));
const cleanups: (() => Promise<unknown>)[] = [() => rm(scratch, { recursive: true, force: true })];
after(async () => { for (const c of cleanups.reverse()) await c(); });

async function entriesOf(archive: string): Promise<string[]> {
  const names: string[] = [];
  await list({ file: archive, onReadEntry: (entry) => { names.push(entry.path); } });
  return names;
}

/** Unpacks an archive, lets `change` edit it, packs it again with every entry (a tampered or damaged copy). */
async function tampered(archive: string, name: string, change: (dir: string) => Promise<void>): Promise<string> {
  const dir = await mkdtemp(join(scratch, 'tamper-'));
  await extract({ file: archive, cwd: dir });
  const entries = (await entriesOf(archive)).filter((e) => !e.endsWith('/'));
  await change(dir);
  const out = join(scratch, name);
  await create({ gzip: true, file: out, cwd: dir, portable: true }, entries);
  return out;
}

let server: TestServer;
let archive = '';
let appKey = '';

test('POST /api/backup writes one archive (database snapshot, model files, manifest with checksums; no admin.key) while serving', async () => {
  server = await startTestServer();
  cleanups.push(() => server.cleanup());
  const created = await server.request('POST', '/api/keys', { json: { name: 'shop', scopes: ['infer'] } });
  appKey = ((await created.json()) as { key: string }).key;
  assert.equal((await server.request('PUT', '/api/settings', { json: { log_retention_days: 12 } })).status, 200);
  assert.equal((await server.request('POST', '/v2/models/mlp/infer', { key: appKey, body: inferBody })).status, 200);

  // Requests keep being answered while the backup runs (online backup: no downtime).
  const during = Promise.all(Array.from({ length: 20 }, () => server.request('POST', '/v2/models/mlp/infer', { key: appKey, body: inferBody }).then((r) => r.status)));
  const response = await server.request('POST', '/api/backup');
  assert.equal(response.status, 201, await response.clone().text());
  assert.deepEqual(new Set(await during), new Set([200]));
  const file = (await response.json()) as { name: string; size_bytes: number; reason: string; schema_version: number };
  assert.match(file.name, /^inferbox-backup-\d{8}T\d{9}Z-manual\.tar\.gz$/);
  assert.equal(file.reason, 'manual');
  assert.ok(!('path' in file), 'the server path is not sent');

  const listed = (await (await server.request('GET', '/api/backups')).json()) as { directory: string; backups: { name: string; size_bytes: number }[] };
  assert.equal(listed.directory, join(server.dataDir, 'backups'));
  assert.deepEqual(listed.backups.map((b) => b.name), [file.name]);
  archive = join(listed.directory, file.name);
  assert.equal((await stat(archive)).mode & 0o777, 0o600, 'readable by the owner only: it holds the TLS private key');

  const download = await server.request('GET', `/api/backups/${file.name}`);
  assert.equal(download.status, 200);
  assert.match(download.headers.get('content-disposition') ?? '', new RegExp(file.name.replace(/\./g, '\\.')));
  assert.deepEqual(Buffer.from(await download.arrayBuffer()), await readFile(archive));
  assert.equal((await server.request('GET', '/api/backups/..%2Finferbox.db')).status, 404, 'only backup archives can be downloaded');
  assert.equal((await server.request('GET', '/api/backups/inferbox-backup-20260101T000000000Z-manual.tar.gz')).status, 404);

  const entries = await entriesOf(archive);
  assert.equal(entries[0], 'manifest.json');
  assert.ok(entries.includes('inferbox.db'));
  assert.ok(entries.includes('models/mlp/1/model.onnx'), entries.join(', '));
  assert.ok(!entries.some((e) => /admin\.key|server\.json|backups\/|\.incoming/.test(e)), entries.join(', '));

  const audit = (await (await server.request('GET', '/api/audit?action=backup.create')).json()) as { entries: { target: string }[] };
  assert.deepEqual(audit.entries.map((e) => e.target), [file.name]);
  const downloads = (await (await server.request('GET', '/api/audit?action=backup.download')).json()) as { entries: unknown[] };
  assert.equal(downloads.entries.length, 1);
});

test('restore refuses a data dir a running server uses (its server.json names a live process)', async () => {
  const before = await readFile(join(server.dataDir, 'inferbox.db'));
  const refused = await cli(['restore', archive, '--data-dir', server.dataDir]);
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /an Inferbox server \(pid \d+\) is running on .*: stop it \(or the service\) first/);
  assert.deepEqual(await readFile(join(server.dataDir, 'inferbox.db')), before);
});

test('restore into a fresh data dir: checksums verified, data, settings and keys kept, a new admin key, the server serves', async () => {
  await server.stop();
  assert.ok(!(await readdir(server.dataDir)).includes('server.json'), 'a clean stop removes server.json');
  const fresh = join(await makeDataDir(), 'restored');
  cleanups.push(() => rm(join(fresh, '..'), { recursive: true, force: true }));
  const restored = await cli(['restore', archive, '--data-dir', fresh]);
  assert.equal(restored.code, 0, restored.stderr);
  assert.match(restored.stdout, /checksums verified/);

  const again = await startTestServer({ dataDir: fresh });
  cleanups.push(() => again.stop());
  assert.notEqual(again.adminKey, server.adminKey, 'admin.key is not in the backup: restore made a new one');
  const infer = await again.request('POST', '/v2/models/mlp/infer', { key: appKey, body: inferBody });
  assert.equal(infer.status, 200, 'an app key from the backup works (its hash was restored)');
  const settings = (await (await again.request('GET', '/api/settings')).json()) as { effective: { log_retention_days: number } };
  assert.equal(settings.effective.log_retention_days, 12);
  const audit = (await (await again.request('GET', '/api/audit?action=backup.restore')).json()) as { entries: { actor_name: string }[] };
  assert.deepEqual(audit.entries.map((e) => e.actor_name), ['cli']);
  await again.stop();
});

test('restore refuses a damaged, a truncated, a foreign and a newer-format archive, and changes nothing', async () => {
  const target = join(scratch, 'target');
  const damaged = await tampered(archive, 'damaged.tar.gz', async (dir) => {
    const model = join(dir, 'models/mlp/1/model.onnx');
    const bytes = await readFile(model);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 0xff, bytes.length - 1);
    await writeFile(model, bytes);
  });
  const newer = await tampered(archive, 'newer.tar.gz', async (dir) => {
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as { format: number; app_version: string };
    await writeFile(join(dir, 'manifest.json'), JSON.stringify({ ...manifest, format: 2, app_version: '9.0.0' }));
  });
  const truncated = join(scratch, 'truncated.tar.gz');
  const whole = await readFile(archive);
  await writeFile(truncated, whole.subarray(0, Math.floor(whole.length / 2)));
  const foreign = join(scratch, 'foreign.tar.gz');
  await writeFile(join(scratch, 'notes.txt'), 'hello');
  await create({ gzip: true, file: foreign, cwd: scratch }, ['notes.txt']);

  const cases: [string, RegExp][] = [
    [damaged, /'models\/mlp\/1\/model\.onnx' does not match its checksum \(damaged\)\. Nothing was changed/],
    [truncated, /does not unpack as a tar\.gz archive/],
    [foreign, /it has no manifest\.json \(not an Inferbox backup\)/],
    [newer, /was made by a newer Inferbox \(Inferbox 9\.0\.0, archive format 2.*cannot restore it/],
  ];
  for (const [file, message] of cases) {
    const result = await cli(['restore', file, '--data-dir', target]);
    assert.equal(result.code, 2, `${file}: ${result.stderr}`);
    assert.match(result.stderr, message);
    assert.deepEqual(await readdir(target), [], `${file}: nothing is left in the data dir`);
  }
});

test('restore over a stopped server keeps what it held as a pre-restore backup', async () => {
  const result = await cli(['restore', archive, '--data-dir', server.dataDir]);
  assert.equal(result.code, 0, result.stderr);
  const names = await readdir(join(server.dataDir, 'backups'));
  assert.equal(names.filter((n) => n.endsWith('-pre-restore.tar.gz')).length, 1, names.join(', '));
  assert.match(result.stdout, /What the data folder held before is in .*pre-restore\.tar\.gz/);
});

test('the backup CLI writes the same archive from the shell', async () => {
  const out = join(scratch, 'cli-out');
  const result = await cli(['backup', '--data-dir', server.dataDir, '--output', out]);
  assert.equal(result.code, 0, result.stderr);
  const [name] = await readdir(out);
  assert.match(name ?? '', /-manual\.tar\.gz$/);
  assert.ok((await entriesOf(join(out, name!))).includes('models/mlp/1/model.onnx'));
});
