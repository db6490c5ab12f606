import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { slowModel } from '../../fixtures/onnxModels.js';
import { makeDataDir, startTestServer, type TestServer } from '../../helpers/testServer.js';
import { spawnServe, waitForServeBanner } from '../../helpers/serveProcess.js';

const ITEMS = 48;
/** Distinct inputs, so a result at the wrong index would not match. */
const items = Array.from({ length: ITEMS }, (_, i) => ({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 64], data: Array.from({ length: 64 }, (_, j) => Math.sin(i * 64 + j)) }] }));

interface JobView { id: string; state: string; total: number; done: number; failed: number }

const getJob = async (base: string, key: string, id: string) => (await (await fetch(`${base}/api/jobs/${id}`, { headers: { authorization: `Bearer ${key}` } })).json()) as JobView;

async function waitFor(base: string, key: string, id: string, done: (job: JobView) => boolean): Promise<JobView> {
  for (;;) {
    const job = await getJob(base, key, id);
    if (done(job)) return job;
    await sleep(10);
  }
}

/** The database's own account: rows per index, and the job's counters, read straight from SQLite. */
function databaseCount(dataDir: string, id: string) {
  const db = new Database(join(dataDir, 'inferbox.db'), { readonly: true });
  try {
    const rows = db.prepare('SELECT COUNT(*) AS n, COUNT(DISTINCT idx) AS distinct_n FROM job_results WHERE job_id = ?').get(id) as { n: number; distinct_n: number };
    const job = db.prepare('SELECT state, done, failed FROM jobs WHERE id = ?').get(id) as { state: string; done: number; failed: number };
    const inputs = (db.prepare('SELECT COUNT(*) AS n FROM job_inputs WHERE job_id = ?').get(id) as { n: number }).n;
    return { ...rows, ...job, inputs };
  } finally {
    db.close();
  }
}

/** After the restart: succeeded, every index once, each value what the interactive endpoint answers. */
async function assertExactlyOnce(server: TestServer, id: string): Promise<void> {
  const done = await waitFor(server.baseUrl, server.adminKey, id, (j) => j.state !== 'queued' && j.state !== 'running');
  assert.deepEqual([done.state, done.done, done.failed], ['succeeded', ITEMS, 0]);
  const lines = (await (await server.request('GET', `/api/jobs/${id}/results`)).text()).trimEnd().split('\n').map((l) => JSON.parse(l) as { index: number; outputs: unknown[] });
  assert.deepEqual(lines.map((l) => l.index), Array.from({ length: ITEMS }, (_, i) => i), 'every index exactly once, in order');
  const direct = await Promise.all(items.map(async (item) => ((await (await server.request('POST', '/v2/models/slow/infer', { json: item })).json()) as { outputs: unknown[] }).outputs));
  assert.deepEqual(lines.map((l) => l.outputs), direct, 'each result is what the interactive endpoint answers for its input');
  await server.stop();
  const db = databaseCount(server.dataDir, id);
  assert.deepEqual(db, { n: ITEMS, distinct_n: ITEMS, state: 'succeeded', done: ITEMS, failed: 0, inputs: 0 }, 'one result row per item; the inputs are dropped once the job ends');
}

async function submitSlowJob(base: string, key: string): Promise<string> {
  const headers = { authorization: `Bearer ${key}` };
  const upload = await fetch(`${base}/api/models/slow/versions?quantize=false`, { method: 'POST', headers: { ...headers, 'content-type': 'application/octet-stream' }, body: slowModel(20) });
  assert.equal(upload.status, 201, await upload.text());
  const submitted = await fetch(`${base}/api/jobs`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'slow', items }) });
  assert.equal(submitted.status, 202, await submitted.clone().text());
  return ((await submitted.json()) as JobView).id;
}

test('Jobs: restart mid-job resumes and finishes with every result exactly once (SIGKILL of the real CLI)', async () => {
  const dataDir = await makeDataDir();
  const cli = spawnServe(dataDir, { args: ['--instances', '2', '--threads', '1'], stderr: 'inherit' });
  try {
    const base = (await waitForServeBanner(cli)).url!;
    const key = (await readFile(join(dataDir, 'admin.key'), 'utf8')).trim();
    const id = await submitSlowJob(base, key);
    await waitFor(base, key, id, (j) => j.done >= 5);
    cli.kill('SIGKILL');
    await once(cli, 'exit');

    const killed = databaseCount(dataDir, id);
    assert.equal(killed.state, 'running');
    assert.ok(killed.done < ITEMS, `killed mid-job (${killed.done} of ${ITEMS} done)`);
    assert.equal(killed.n, killed.done, 'every committed result is counted, and nothing else');
    assert.equal(killed.distinct_n, killed.n);

    const restarted = await startTestServer({ dataDir });
    await assertExactlyOnce(restarted, id);
  } finally {
    cli.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('Jobs: a graceful stop mid-job lets the items in flight commit and the rest run after the next start', async () => {
  const first = await startTestServer();
  try {
    const id = await submitSlowJob(first.baseUrl, first.adminKey);
    await waitFor(first.baseUrl, first.adminKey, id, (j) => j.done >= 5);
    await first.stop();
    const stopped = databaseCount(first.dataDir, id);
    assert.equal(stopped.state, 'running');
    assert.ok(stopped.done < ITEMS, `stopped mid-job (${stopped.done} of ${ITEMS} done)`);
    assert.equal(stopped.n, stopped.done);

    const second = await startTestServer({ dataDir: first.dataDir });
    await assertExactlyOnce(second, id);
  } finally {
    await first.cleanup();
  }
});
