import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { buildMlpStack } from '../../models/lib/mlpStack.js';
import { mountSmallTmpfs } from '../helpers/smallTmpfs.js';
import { GENTOO_FEATURES, startTestServer, type TestServer } from '../helpers/testServer.js';

/** One 512→2048→512 layer: an 8 MB file whose int8 candidate is about 2 MB. */
const STACK = buildMlpStack({ layers: 1, hidden: 512, inner: 2048, tokens: 2, seed: 3 });
const MB = 1024 * 1024;

interface Storage { free_bytes: number; low_space: boolean; warnings: string[] }
const storage = async (server: TestServer) => ((await (await server.request('GET', '/api/system')).json()) as { storage: Storage }).storage;

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

const quantizationOf = async (server: TestServer, model: string) =>
  (await (await server.request('GET', `/api/models/${model}/versions/1/quantization`)).json()) as { status: string; report: { error?: string } | null };

async function inferMlp(server: TestServer, count: number): Promise<number[]> {
  return Promise.all(Array.from({ length: count }, async () => {
    const response = await server.request('POST', '/v2/models/mlp/infer', { json: { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: GENTOO_FEATURES }] } });
    await response.arrayBuffer();
    return response.status;
  }));
}

const upload = (server: TestServer, model: string) =>
  server.request('POST', `/api/models/${model}/versions?quantize=false`, { body: STACK, headers: { 'content-type': 'application/octet-stream' } });

test('disk full: uploads, int8 candidates, database and request-log writes fail cleanly while inference goes on; all recover when space returns', async () => {
  const disk = await mountSmallTmpfs(64 * MB);
  let server: TestServer | undefined;
  try {
    server = await startTestServer({ dataDir: disk.path });
    await until('the bundled model\'s int8 job', async () => ((await quantizationOf(server!, 'mlp')).status === 'done' ? true : undefined));
    assert.equal((await upload(server, 'stack')).status, 201);
    assert.equal((await server.request('PUT', '/api/settings', { json: { disk_low_space_warning_bytes: 16 * MB } })).status, 200);
    const roomy = await storage(server);
    assert.ok(roomy.free_bytes > 16 * MB && !roomy.low_space, JSON.stringify(roomy));
    assert.deepEqual(roomy.warnings, []);

    // 1 MB left: less than an upload (8 MB) or an int8 candidate (2 MB) needs.
    disk.fill(1 * MB);
    const refused = await upload(server, 'stack2');
    assert.equal(refused.status, 507);
    assert.match(((await refused.json()) as { error: string }).error, /not enough disk space in the data directory to store the uploaded model; nothing of it was kept/);
    assert.deepEqual(await readdir(join(disk.path, 'models', '.incoming')), [], 'no partial upload left behind');
    assert.equal(existsSync(join(disk.path, 'models', 'stack2')), false);
    assert.equal((await server.request('GET', '/api/models/stack2')).status, 404);

    assert.equal((await server.request('POST', '/api/models/stack/versions/1/quantization')).status, 202);
    const failed = await until('the int8 job to fail', async () => {
      const job = await quantizationOf(server!, 'stack');
      return job.status === 'failed' ? job : undefined;
    });
    assert.match(failed.report?.error ?? '', /not enough disk space in the data directory to write the int8 candidate/);
    assert.deepEqual((await readdir(join(disk.path, 'models', 'stack', '1'))).sort(), ['model.onnx'], 'no int8 file or half-written temp file');

    // A backup holds every model file (the 8 MB stack among them): it cannot fit in 1 MB.
    const backup = await server.request('POST', '/api/backup');
    assert.equal(backup.status, 507);
    assert.match(((await backup.json()) as { error: string }).error, /not enough disk space/);
    const backupsDir = join(disk.path, 'backups');
    assert.deepEqual(existsSync(backupsDir) ? await readdir(backupsDir) : [], [], 'no archive and no partial file left behind');

    assert.deepEqual(await inferMlp(server, 20), Array(20).fill(200), 'inference goes on');
    const low = await storage(server);
    assert.equal(low.low_space, true);
    assert.match(low.warnings.join('\n'), /Low disk space: .* free in the data directory/);

    // Nothing left at all, and an empty WAL, so the next SQLite write must grow a file: it fails.
    const db = new Database(join(disk.path, 'inferbox.db'));
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    disk.fill();
    assert.deepEqual(await inferMlp(server, 50), Array(50).fill(200), 'inference goes on with a full disk');
    const logFailing = await until('the request-log warning', async () => {
      const now = await storage(server!);
      return now.warnings.some((w) => w.startsWith('The request log cannot be written')) ? now : undefined;
    });
    assert.match(logFailing.warnings.join('\n'), /database or disk is full\): \d+ rows lost since/);
    const key = await server.request('POST', '/api/keys', { json: { name: 'during-full-disk', scopes: ['infer'] } });
    assert.equal(key.status, 507, 'a database write on a full disk is a clear 507, not a 500');
    assert.match(((await key.json()) as { error: string }).error, /not enough disk space in the data directory to complete POST \/api\/keys/);
    assert.deepEqual(await inferMlp(server, 20), Array(20).fill(200), 'the server survived the failed writes');

    await disk.release();
    await until('the request log to write again', async () => {
      await inferMlp(server!, 5);
      return (await storage(server!)).warnings.length === 0 ? true : undefined;
    });
    assert.equal((await upload(server, 'stack2')).status, 201, 'uploads work again once there is room');
    assert.equal((await server.request('POST', '/api/keys', { json: { name: 'after', scopes: ['infer'] } })).status, 201);
    await server.stop();

    const check = new Database(join(disk.path, 'inferbox.db'), { readonly: true });
    try {
      assert.equal(check.pragma('integrity_check', { simple: true }), 'ok');
      assert.deepEqual(check.prepare('SELECT name FROM api_keys WHERE name IN (?, ?)').all('during-full-disk', 'after'), [{ name: 'after' }], 'the refused key was never half-stored');
    } finally {
      check.close();
    }
  } finally {
    await server?.stop();
    await disk.unmount();
  }
});
