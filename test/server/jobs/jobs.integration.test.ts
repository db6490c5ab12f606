import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { slowModel } from '../../fixtures/onnxModels.js';
import { startTestServer, type TestServer } from '../../helpers/testServer.js';

interface JobView {
  id: string;
  state: string;
  model: string;
  version: string;
  total: number;
  done: number;
  failed: number;
  results_url: string;
  results?: { index: number; outputs?: unknown[]; error?: string }[];
}

let server: TestServer;
before(async () => { server = await startTestServer(); });
after(() => server.cleanup());

/** Penguin measurements (beak length, beak depth, flipper length, body mass). */
const ROWS = [
  [39.1, 18.7, 181, 3750],
  [46.5, 17.9, 192, 3500],
  [47.5, 15.0, 217, 5076],
  [50.0, 19.5, 196, 3900],
  [45.2, 14.8, 212, 5200],
];
const inferBody = (row: number[]) => ({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: row }] });

async function createKey(scopes: string[]): Promise<string> {
  const response = await server.request('POST', '/api/keys', { json: { name: `k-${scopes.join('-')}`, scopes } });
  assert.equal(response.status, 201);
  return ((await response.json()) as { key: string }).key;
}

/** What the interactive endpoint answers for the same input: a job's result must be exactly this. */
async function directOutputs(row: number[]): Promise<unknown[]> {
  const response = await server.request('POST', '/v2/models/mlp/infer', { json: inferBody(row) });
  assert.equal(response.status, 200);
  return ((await response.json()) as { outputs: unknown[] }).outputs;
}

async function submit(body: string | object, contentType: string, query = '', key?: string): Promise<Response> {
  return server.request('POST', `/api/jobs${query}`, { body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': contentType }, ...(key ? { key } : {}) });
}

async function accepted(response: Response): Promise<JobView> {
  assert.equal(response.status, 202, await response.clone().text());
  const job = (await response.json()) as JobView;
  assert.match(job.id, /^job_[0-9a-f]{32}$/);
  assert.equal(response.headers.get('location'), `/api/jobs/${job.id}`);
  return job;
}

async function waitFor(id: string, done: (job: JobView) => boolean, key?: string): Promise<JobView> {
  for (;;) {
    const job = (await (await server.request('GET', `/api/jobs/${id}`, key ? { key } : {})).json()) as JobView;
    if (done(job)) return job;
    await sleep(20);
  }
}
const finished = (job: JobView) => ['succeeded', 'failed', 'cancelled'].includes(job.state);

async function expectRefused(response: Response, status: number, pattern: RegExp): Promise<void> {
  assert.equal(response.status, status);
  assert.match(((await response.json()) as { error: string }).error, pattern);
}

describe('submitting and running jobs on the bundled mlp', () => {
  test('JSON items: every result equals the direct /v2 answer, inline and downloaded in index order', async () => {
    const job = await accepted(await submit({ model: 'mlp', items: ROWS.map(inferBody) }, 'application/json'));
    assert.deepEqual([job.model, job.version, job.total], ['mlp', '1', ROWS.length]);
    const done = await waitFor(job.id, finished);
    assert.equal(done.state, 'succeeded');
    assert.deepEqual([done.done, done.failed], [ROWS.length, 0]);
    const expected = await Promise.all(ROWS.map(directOutputs));
    assert.deepEqual(done.results, expected.map((outputs, index) => ({ index, outputs })));

    const download = await server.request('GET', done.results_url);
    assert.equal(download.status, 200);
    assert.match(download.headers.get('content-disposition') ?? '', /^attachment; filename="job_[0-9a-f]+-results\.jsonl"$/);
    const lines = (await download.text()).trimEnd().split('\n').map((l) => JSON.parse(l) as unknown);
    assert.deepEqual(lines, expected.map((outputs, index) => ({ index, outputs })));
  });

  test('JSON lines upload (model and version in the query), blank lines skipped', async () => {
    const body = `${JSON.stringify(inferBody(ROWS[0]!))}\n\n${JSON.stringify(inferBody(ROWS[1]!))}\n`;
    const job = await accepted(await submit(body, 'application/x-ndjson', '?model=mlp&version=1'));
    const done = await waitFor(job.id, finished);
    assert.equal(done.state, 'succeeded');
    assert.deepEqual(done.results, [{ index: 0, outputs: await directOutputs(ROWS[0]!) }, { index: 1, outputs: await directOutputs(ROWS[1]!) }]);
  });

  test('CSV upload with a header: one item per row, downloadable as CSV', async () => {
    const csv = `beak_length_mm,beak_depth_mm,flipper_length_mm,body_mass_g\r\n${ROWS.map((r) => r.join(',')).join('\r\n')}\r\n`;
    const job = await accepted(await submit(csv, 'text/csv', '?model=mlp'));
    const done = await waitFor(job.id, finished);
    assert.equal(done.state, 'succeeded');
    const expected = (await Promise.all(ROWS.map(directOutputs))) as { name: string; data: number[] }[][];
    assert.deepEqual(done.results, expected.map((outputs, index) => ({ index, outputs })));

    const download = await server.request('GET', `${done.results_url}?format=csv`);
    assert.match(download.headers.get('content-type') ?? '', /^text\/csv/);
    const [header, ...rows] = (await download.text()).trimEnd().split('\n');
    assert.equal(header, 'index,probabilities_0,probabilities_1,probabilities_2,label,error');
    assert.deepEqual(rows, expected.map((outputs, index) => [index, ...outputs.flatMap((o) => o.data), ''].join(',')));
    // A header-less CSV works too.
    const bare = await accepted(await submit(`${ROWS[2]!.join(',')}\n`, 'text/csv', '?model=mlp'));
    assert.equal((await waitFor(bare.id, finished)).state, 'succeeded');
  });

  test('a bad file is refused whole, naming the line or item; nothing is stored', async () => {
    const before = ((await (await server.request('GET', '/api/jobs')).json()) as { total: number }).total;
    await expectRefused(await submit('1,2,3,4\n5,6,7\n', 'text/csv', '?model=mlp'), 400, /line 2: 3 columns; 'mlp' takes 4/);
    await expectRefused(await submit('a,b,c,d\n1,2,3,4\n\n1,2,x,4\n', 'text/csv', '?model=mlp'), 400, /line 4: column 3 is not a number/);
    await expectRefused(await submit(`${JSON.stringify(inferBody(ROWS[0]!))}\n{"inputs": [\n`, 'application/jsonl', '?model=mlp'), 400, /line 2: not valid JSON/);
    const wrongShape = { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }] };
    await expectRefused(await submit(`${JSON.stringify(inferBody(ROWS[0]!))}\n${JSON.stringify(wrongShape)}\n`, 'application/x-ndjson', '?model=mlp'), 400, /line 2: input 'features': shape \[1,3\]/);
    await expectRefused(await submit({ model: 'mlp', items: [inferBody(ROWS[0]!), { inputs: [] }] }, 'application/json'), 400, /items\[1\]: invalid request: inputs/);
    await expectRefused(await submit('', 'text/csv', '?model=mlp'), 400, /no items/);
    await expectRefused(await submit('1,2,3,4\n', 'text/plain', '?model=mlp'), 415, /text\/plain/);
    await expectRefused(await submit('1,2,3,4\n', 'text/csv'), 400, /name the model/);
    await expectRefused(await submit('1,2,3,4\n', 'text/csv', '?model=nosuch'), 404, /model 'nosuch' not found/);
    await server.request('PUT', '/api/settings', { json: { job_max_items: 2 } });
    try {
      await expectRefused(await submit({ model: 'mlp', items: ROWS.map(inferBody) }, 'application/json'), 413, /5 items; the limit is 2/);
    } finally {
      await server.request('PUT', '/api/settings', { json: { job_max_items: null } });
    }
    const after = ((await (await server.request('GET', '/api/jobs')).json()) as { total: number }).total;
    assert.equal(after, before);
  });
});

describe('access', () => {
  test('submitting needs infer rights on the model; a key sees only its own jobs (404 for others), admin sees all', async () => {
    const other = await createKey(['infer:adder']);
    await expectRefused(await submit({ model: 'mlp', items: [inferBody(ROWS[0]!)] }, 'application/json', '', other), 403, /infer:mlp/);

    const owner = await createKey(['infer:mlp']);
    const job = await accepted(await submit({ model: 'mlp', items: [inferBody(ROWS[0]!)] }, 'application/json', '', owner));
    assert.equal((await waitFor(job.id, finished, owner)).state, 'succeeded');

    const stranger = await createKey(['infer']);
    for (const [method, path] of [['GET', `/api/jobs/${job.id}`], ['GET', `/api/jobs/${job.id}/results`], ['POST', `/api/jobs/${job.id}/cancel`], ['DELETE', `/api/jobs/${job.id}`]] as const) {
      await expectRefused(await server.request(method, path, { key: stranger }), 404, /not found/);
    }
    const listed = async (key?: string) => ((await (await server.request('GET', '/api/jobs', key ? { key } : {})).json()) as { jobs: JobView[] }).jobs.map((j) => j.id);
    assert.deepEqual(await listed(stranger), []);
    assert.deepEqual(await listed(owner), [job.id]);
    assert.equal((await listed())[0], job.id, 'admin sees every job, newest first');
    assert.equal((await server.request('DELETE', `/api/jobs/${job.id}`, { key: owner })).status, 200);
    assert.equal((await server.request('GET', `/api/jobs/${job.id}`)).status, 404);
  });
});

describe('cancellation', () => {
  test('a running job stops at its next items, keeps the results it has, and says cancelled', async () => {
    const upload = await server.request('POST', '/api/models/slow/versions?quantize=false', { body: slowModel(40), headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(upload.status, 201);
    const items = Array.from({ length: 200 }, (_, i) => ({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 64], data: Array.from({ length: 64 }, (_, j) => ((i + j) % 17) / 17) }] }));
    const job = await accepted(await submit({ model: 'slow', items }, 'application/json'));
    await waitFor(job.id, (j) => j.done > 0);
    const cancelled = (await (await server.request('POST', `/api/jobs/${job.id}/cancel`)).json()) as JobView;
    assert.equal(cancelled.state, 'cancelled');
    await sleep(1000);
    const later = await waitFor(job.id, () => true);
    assert.equal(later.state, 'cancelled');
    assert.ok(later.done < 200 && later.done <= cancelled.done + 8, `stopped after the items in flight (${cancelled.done} → ${later.done})`);
    const lines = (await (await server.request('GET', later.results_url)).text()).trimEnd().split('\n').map((l) => (JSON.parse(l) as { index: number }).index);
    assert.equal(lines.length, later.done, 'the results so far are kept');
    assert.deepEqual(lines, [...lines].sort((a, b) => a - b));
    const again = await server.request('POST', `/api/jobs/${job.id}/cancel`);
    assert.equal(again.status, 200, 'cancelling twice is harmless');
    assert.equal(((await again.json()) as JobView).state, 'cancelled');
  });

  test('a job whose pinned version is deleted fails with a clear error', async () => {
    const upload = await server.request('POST', '/api/models/gone/versions?quantize=false', { body: slowModel(40), headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(upload.status, 201);
    const items = Array.from({ length: 400 }, () => ({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 64], data: Array.from({ length: 64 }, () => 0.5) }] }));
    const job = await accepted(await submit({ model: 'gone', items }, 'application/json'));
    await waitFor(job.id, (j) => j.state !== 'queued');
    assert.equal((await server.request('DELETE', '/api/models/gone/versions/1')).status, 200);
    const failed = await waitFor(job.id, finished);
    assert.equal(failed.state, 'failed');
    assert.match((failed as unknown as { error: string }).error, /version is gone: model 'gone' not found|has no version '1'/);
    await expectRefused(await server.request('POST', `/api/jobs/${job.id}/cancel`), 409, /already failed/);
  });
});
