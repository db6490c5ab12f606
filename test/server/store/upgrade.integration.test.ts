import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { cp, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { extract } from 'tar';
import { MIGRATIONS } from '../../../server/store/migrations/index.js';
import { spawnServe, waitForServeBanner } from '../../helpers/serveProcess.js';
import { GENTOO_FEATURES } from '../../helpers/testServer.js';

/**
 * A data dir written by an older Inferbox, committed as it was: commit 7ee6dbf (schema version 2,
 * before migration 003) served with `--host 127.0.0.1 --data-dir …`, then `keys create --name shop
 * --scopes infer:mlp`, PUT /api/settings {"log_retention_days": 12}, three inferences with that key,
 * SIGTERM. Its bundled mlp (version 1, with the int8 candidate the old gate made) and this key:
 */
const FIXTURE = new URL('../../fixtures/datadir-schema2', import.meta.url).pathname;
const SHOP_KEY = 'ibx_b2e7fbe1865c_UsVuTndcILFrbyVKzrkjaMzbQGsXN30oAz9ltxY7kD8';
const LATEST = MIGRATIONS.at(-1)!.version;
const inferBody = JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: GENTOO_FEATURES }] });

const scratch = await mkdtemp(join(tmpdir(), 'inferbox-upgrade-'));
after(() => rm(scratch, { recursive: true, force: true }));

function serve(dataDir: string) {
  return spawnServe(dataDir);
}

/** How the server ended after SIGTERM: a clean drain is `{ code: 0, signal: null }` (a signal name says it died instead). */
async function stopped(child: ReturnType<typeof serve>): Promise<{ code: number | null; signal: string | null }> {
  const exit = once(child, 'exit');
  child.kill('SIGTERM');
  const [code, signal] = (await exit) as [number | null, string | null];
  return { code, signal };
}

/** Every file under `dir` with its SHA-256: a refused start must leave all of them, and add none. */
async function fingerprint(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    files[relative(dir, path)] = createHash('sha256').update(await readFile(path)).digest('hex');
  }
  return files;
}

test('an older data dir upgrades in place: a pre-migration backup first, then migrations; data, keys and settings kept; the server serves', async () => {
  const dataDir = join(scratch, 'upgrade');
  await cp(FIXTURE, dataDir, { recursive: true });
  const server = serve(dataDir);
  try {
    const { url, output } = await waitForServeBanner(server);
    assert.ok(url, output);
    const infer = await fetch(`${url}/v2/models/mlp/infer`, { method: 'POST', headers: { authorization: `Bearer ${SHOP_KEY}` }, body: inferBody });
    assert.equal(infer.status, 200, 'the app key made by the old version works');
    assert.deepEqual(((await infer.json()) as { outputs: { name: string; data: number[] }[] }).outputs.find((o) => o.name === 'label')?.data, [2]);
    const admin = (await readFile(join(dataDir, 'admin.key'), 'utf8')).trim();
    const get = async (path: string) => (await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${admin}` } })).json() as Promise<Record<string, unknown>>;
    assert.equal(((await get('/api/settings')) as { effective: { log_retention_days: number } }).effective.log_retention_days, 12);
    const { logs } = (await get('/api/logs?model=mlp')) as { logs: { id: number; key_id: string }[] };
    assert.deepEqual(logs.filter((l) => l.id <= 3).map((l) => l.key_id), Array(3).fill('b2e7fbe1865c'), 'the old request log is kept');
  } finally {
    assert.deepEqual(await stopped(server), { code: 0, signal: null });
  }

  const db = new Database(join(dataDir, 'inferbox.db'), { readonly: true });
  assert.equal(db.pragma('user_version', { simple: true }), LATEST);
  db.close();
  const backups = (await readdir(join(dataDir, 'backups'))).filter((n) => n.endsWith('-pre-migration.tar.gz'));
  assert.equal(backups.length, 1, 'one automatic backup before migrating');
  const unpacked = join(scratch, 'pre-migration');
  await mkdir(unpacked);
  await extract({ file: join(dataDir, 'backups', backups[0]!), cwd: unpacked });
  const manifest = JSON.parse(await readFile(join(unpacked, 'manifest.json'), 'utf8')) as { schema_version: number; reason: string };
  assert.equal(manifest.schema_version, 2);
  assert.equal(manifest.reason, 'pre-migration');
  const old = new Database(join(unpacked, 'inferbox.db'), { readonly: true });
  assert.equal(old.pragma('user_version', { simple: true }), 2, 'the backup holds the database as the old version left it');
  assert.equal((old.prepare('SELECT COUNT(*) AS n FROM request_log').get() as { n: number }).n, 3);
  old.close();

  // Already current: the next start migrates nothing and makes no further backup.
  const again = serve(dataDir);
  await waitForServeBanner(again);
  assert.deepEqual(await stopped(again), { code: 0, signal: null });
  assert.equal((await readdir(join(dataDir, 'backups'))).filter((n) => n.endsWith('-pre-migration.tar.gz')).length, 1);
});

test('a database written by a newer Inferbox is refused with a clear message and left byte-for-byte as it was', async () => {
  const dataDir = join(scratch, 'newer');
  await cp(FIXTURE, dataDir, { recursive: true });
  const db = new Database(join(dataDir, 'inferbox.db'));
  db.pragma(`user_version = ${LATEST + 3}`);
  db.close();
  const before = await fingerprint(dataDir);

  const server = serve(dataDir);
  let stderr = '';
  server.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const [code] = (await once(server, 'exit')) as [number | null];
  assert.equal(code, 2, stderr);
  assert.match(stderr, new RegExp(`the database has schema version ${LATEST + 3}, newer than this Inferbox knows \\(${LATEST}\\): a newer Inferbox wrote it\\. It was left untouched`));
  assert.doesNotMatch(stderr, /\n\s+at /, 'a clear message, not a stack trace');
  assert.deepEqual(await fingerprint(dataDir), before, 'no file changed, none added (no -wal, no backup, no server.json)');
});
