import assert from 'node:assert/strict';
import { type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { buildMlpStack } from '../../models/lib/mlpStack.js';
import { slowModel } from '../fixtures/onnxModels.js';
import { spawnServe, waitForServeBanner } from '../helpers/serveProcess.js';
import { GENTOO_FEATURES, makeDataDir } from '../helpers/testServer.js';

const ROUNDS = 3;
const MLP_FILE = new URL('../../models/mlp/model.onnx', import.meta.url).pathname;
/** A 2 MB upload: long enough to be in flight when the kill comes, now and then. */
const UPLOAD = buildMlpStack({ layers: 1, hidden: 256, inner: 1024, tokens: 2, seed: 5 });
const UPLOAD_SHA = createHash('sha256').update(UPLOAD).digest('hex');
const JOB_ITEMS = 40;
const jobItems = Array.from({ length: JOB_ITEMS }, (_, i) => ({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 64], data: Array.from({ length: 64 }, (_, j) => Math.cos(i * 64 + j)) }] }));
const mlpRequest = JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: GENTOO_FEATURES }] });

interface Server { child: ChildProcess; base: string }
interface Acknowledged {
  /** Unit id → the variant its 2xx answer named. */
  units: Map<string, string>;
  /** Keys the API returned (201). */
  keys: string[];
  /** Model name → sha256 of what a 201 acknowledged. */
  uploads: Map<string, string>;
  /** Jobs a 202 acknowledged, with the most results the client saw done. */
  jobs: Map<string, number>;
}

async function startCli(dataDir: string): Promise<Server> {
  const child = spawnServe(dataDir, { args: ['--instances', '2', '--threads', '1'], stderr: 'inherit' });
  return { child, base: (await waitForServeBanner(child)).url! };
}

function client(base: string, key: string) {
  return (method: string, path: string, body?: RequestInit['body'], headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${key}`, ...headers }, body: body ?? null });
}

/** What the database holds right after the kill, read with SQLite's own recovery (as the next start would). */
function afterKill(dataDir: string) {
  const db = new Database(join(dataDir, 'inferbox.db'));
  try {
    return {
      integrity: db.pragma('integrity_check', { simple: true }),
      versions: db.prepare('SELECT model_name || \'/\' || version AS id, sha256 FROM model_versions').all() as { id: string; sha256: string }[],
      results: new Map((db.prepare('SELECT job_id, COUNT(*) AS n, COUNT(DISTINCT idx) AS d FROM job_results GROUP BY job_id').all() as { job_id: string; n: number; d: number }[]).map((r) => [r.job_id, r])),
      jobs: new Set((db.prepare('SELECT id FROM jobs').all() as { id: string }[]).map((r) => r.id)),
      units: new Map((db.prepare('SELECT unit_id, variant FROM experiment_units').all() as { unit_id: string; variant: string }[]).map((r) => [r.unit_id, r.variant])),
    };
  } finally {
    db.close();
  }
}

/** Mixed traffic until `stop` aborts: every 2xx is recorded as acknowledged before anything else happens. */
async function traffic(server: Server, adminKey: string, round: number, ack: Acknowledged, stop: AbortSignal): Promise<void> {
  const call = client(server.base, adminKey);
  const guard = async (work: () => Promise<void>) => {
    while (!stop.aborted) {
      try {
        await work();
      } catch {
        return; // the connection died with the server
      }
    }
  };
  let n = 0;
  const inferences = Array.from({ length: 6 }, (_, c) => guard(async () => {
    const unit = `r${round}-c${c}-${n++ % 8}`;
    const response = await call('POST', '/v2/models/mlp/infer', mlpRequest, { 'content-type': 'application/json', 'x-unit-id': unit });
    await response.arrayBuffer();
    if (response.ok) ack.units.set(unit, response.headers.get('inferbox-variant')!);
  }));
  let k = 0;
  const keys = guard(async () => {
    const response = await call('POST', '/api/keys', JSON.stringify({ name: `r${round}-k${k++}`, scopes: ['infer'] }), { 'content-type': 'application/json' });
    if (response.status === 201) ack.keys.push(((await response.json()) as { key: string }).key);
    await sleep(100);
  });
  let u = 0;
  const uploads = guard(async () => {
    const name = `up-r${round}-${u++}`;
    const response = await call('POST', `/api/models/${name}/versions?quantize=false`, UPLOAD, { 'content-type': 'application/octet-stream' });
    await response.arrayBuffer();
    if (response.status === 201) ack.uploads.set(name, UPLOAD_SHA);
  });
  const jobs = guard(async () => {
    for (const [id] of ack.jobs) {
      const response = await call('GET', `/api/jobs/${id}`);
      if (response.ok) ack.jobs.set(id, Math.max(ack.jobs.get(id)!, ((await response.json()) as { done: number }).done));
    }
    await sleep(50);
  });
  await Promise.all([...inferences, keys, uploads, jobs]);
}

test('kill -9 during inferences, uploads, key creation, a job and an experiment, 3 times: nothing acknowledged is lost, nothing unacknowledged is half-present, serving resumes', async () => {
  const dataDir = await makeDataDir();
  let server: Server | undefined;
  const ack: Acknowledged = { units: new Map(), keys: [], uploads: new Map(), jobs: new Map() };
  try {
    server = await startCli(dataDir);
    const adminKey = (await readFile(join(dataDir, 'admin.key'), 'utf8')).trim();
    let call = client(server.base, adminKey);
    const json = { 'content-type': 'application/json' };
    const octets = { 'content-type': 'application/octet-stream' };
    assert.equal((await call('POST', '/api/models/mlp/versions?quantize=false', await readFile(MLP_FILE), octets)).status, 201);
    assert.equal((await call('POST', '/api/models/slow/versions?quantize=false', slowModel(20), octets)).status, 201);
    const created = await call('POST', '/api/experiments', JSON.stringify({ name: 'crash', model: 'mlp', variants: [{ name: 'control', version: '1' }, { name: 'candidate', version: '2' }] }), json);
    assert.equal(created.status, 201, await created.clone().text());
    const experiment = ((await created.json()) as { id: string }).id;
    assert.equal((await call('POST', `/api/experiments/${experiment}/start`)).status, 200);

    for (let round = 1; round <= ROUNDS; round++) {
      const submitted = await call('POST', '/api/jobs', JSON.stringify({ model: 'slow', items: jobItems }), json);
      assert.equal(submitted.status, 202);
      ack.jobs.set(((await submitted.json()) as { id: string }).id, 0);

      const stop = new AbortController();
      const load = traffic(server, adminKey, round, ack, stop.signal);
      await sleep(700 + 300 * round); // a different moment each round
      server.child.kill('SIGKILL');
      await once(server.child, 'exit');
      stop.abort();
      await load;

      const db = afterKill(dataDir);
      assert.equal(db.integrity, 'ok', `round ${round}: PRAGMA integrity_check`);
      for (const [name, sha] of ack.uploads) assert.ok(db.versions.some((v) => v.id === `${name}/1` && v.sha256 === sha), `round ${round}: acknowledged upload ${name} is in the database`);
      for (const [id, done] of ack.jobs) {
        assert.ok(db.jobs.has(id), `round ${round}: acknowledged job ${id} is stored`);
        const results = db.results.get(id) ?? { n: 0, d: 0 };
        assert.ok(results.n >= done, `round ${round}: job ${id}: ${results.n} results stored, the client saw ${done} done`);
        assert.equal(results.n, results.d, 'no item has two results');
      }
      for (const [unit, variant] of db.units) {
        const seen = ack.units.get(unit);
        if (seen !== undefined) assert.equal(`${experiment}/${variant}`, seen, `round ${round}: unit ${unit} stored with the variant it was answered with`);
      }

      server = await startCli(dataDir);
      call = client(server.base, adminKey);
    }

    // After the last restart: every version on disk has its row and file, and every row its file.
    const db = afterKill(dataDir);
    const onDisk: string[] = [];
    for (const model of await readdir(join(dataDir, 'models'))) {
      if (model === '.incoming') continue;
      for (const version of await readdir(join(dataDir, 'models', model))) onDisk.push(`${model}/${version}`);
    }
    assert.deepEqual(onDisk.sort(), db.versions.map((v) => v.id).sort(), 'no model files without a row, no row without files (unacknowledged uploads are whole or gone)');
    for (const version of db.versions) {
      const bytes = await readFile(join(dataDir, 'models', version.id, 'model.onnx'));
      assert.equal(createHash('sha256').update(bytes).digest('hex'), version.sha256, `${version.id}: the file is whole`);
    }
    assert.equal(await readdir(join(dataDir, 'models', '.incoming')).then((f) => f.length, () => 0), 0, 'no upload leftovers');

    // Serving resumes, with every acknowledged key, unit assignment, upload and job.
    for (const key of ack.keys) {
      const response = await client(server.base, key)('POST', '/v2/models/mlp/infer', mlpRequest, json);
      assert.equal(response.status, 200, 'an acknowledged key works after the crashes');
      await response.arrayBuffer();
    }
    for (const [unit, variant] of ack.units) {
      const response = await call('POST', '/v2/models/mlp/infer', mlpRequest, { ...json, 'x-unit-id': unit });
      await response.arrayBuffer();
      assert.equal(response.headers.get('inferbox-variant'), variant, `unit ${unit} keeps its variant`);
    }
    for (const name of ack.uploads.keys()) {
      const version = (await (await call('GET', `/api/models/${name}/versions/1`)).json()) as { state: string };
      assert.equal(version.state, 'ready', `acknowledged upload ${name} serves`);
    }
    for (const id of ack.jobs.keys()) {
      let job: { state: string; done: number; failed: number };
      do {
        await sleep(100);
        job = (await (await call('GET', `/api/jobs/${id}`)).json()) as typeof job;
      } while (job.state === 'queued' || job.state === 'running');
      assert.deepEqual([job.state, job.done, job.failed], ['succeeded', JOB_ITEMS, 0], `job ${id} finished exactly once per item`);
    }
    assert.ok(ack.units.size > 0 && ack.keys.length > 0 && ack.jobs.size === ROUNDS, `traffic was acknowledged (${ack.units.size} units, ${ack.keys.length} keys, ${ack.uploads.size} uploads)`);
  } finally {
    server?.child.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  }
});
