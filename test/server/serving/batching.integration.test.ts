import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildModel } from '../../../models/lib/onnxGraph.js';
import { mulberry32 } from '../../../server/common/mulberry32.js';
import { startTestServer } from '../../helpers/testServer.js';

/** A batchable model slow enough (tens of ms a row) that concurrent requests queue behind a run. */
function slowBatchableModel(layers = 40): Uint8Array {
  const random = mulberry32(17);
  const size = 512;
  return buildModel({
    inputs: [{ name: 'x', type: 'float32', shape: ['batch', size] }],
    outputs: [{ name: 'y', type: 'float32', shape: ['batch', size] }],
    initializers: [{ name: 'w', type: 'float32', dims: [size, size], data: Float32Array.from({ length: size * size }, () => (random() - 0.5) / Math.sqrt(size)) }],
    nodes: Array.from({ length: layers }, (_, l) => [
      { op: 'MatMul', inputs: [l === 0 ? 'x' : `h${l - 1}`, 'w'], outputs: [`m${l}`] },
      { op: 'Tanh', inputs: [`m${l}`], outputs: [l === layers - 1 ? 'y' : `h${l}`] },
    ]).flat(),
  });
}

type TestServer = Awaited<ReturnType<typeof startTestServer>>;

/** Requests waiting in the model's batcher queue now (inferbox_queue_depth). */
async function queueDepth(server: TestServer, model: string): Promise<number> {
  const text = await (await server.request('GET', '/metrics')).text();
  const line = text.split('\n').find((l) => l.startsWith(`inferbox_queue_depth{model="${model}"`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

/**
 * Sends a small request (again, if it was answered at once) until it is seen waiting in the
 * queue, twice 50 ms apart, while a long run holds the only instance; returns its answer. Polled,
 * not paused for: under CI load a large body may take long to arrive, or the small request may
 * reach the instance first. (Its answer comes wrapped: awaiting this must not wait for it.)
 */
async function queuedBehindLongRun(server: TestServer, model: string, send: () => Promise<Response>): Promise<{ answer: Promise<Response> }> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    let answered = false;
    const answer = send();
    answer.then(() => (answered = true), () => (answered = true));
    let seen = 0;
    while (!answered && seen < 2) {
      assert.ok(Date.now() < deadline, `no request of ${model} stayed queued within 20 s`);
      const queued = (await queueDepth(server, model)) >= 1;
      seen = queued ? seen + 1 : 0;
      await new Promise((resolve) => setTimeout(resolve, queued ? 50 : 5));
    }
    if (!answered) return { answer };
  }
}

test('concurrent requests are batched by the server and each gets exactly its own answer', async () => {
  const server = await startTestServer({ execution: { instances: 1, intraOpThreads: 1 } });
  try {
    const upload = await server.request('POST', '/api/models/slowbatch/versions?quantize=false', { body: slowBatchableModel(), headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(upload.status, 201);
    const row = (seed: number) => Array.from({ length: 512 }, (_, i) => Math.sin(i * seed));
    const infer = (seed: number) =>
      server.request('POST', '/v2/models/slowbatch/infer', { json: { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 512], data: row(seed) }] } });
    const seeds = Array.from({ length: 12 }, (_, i) => i + 1);
    const alone = new Map<number, number[]>();
    for (const seed of seeds) alone.set(seed, ((await (await infer(seed)).json()) as { outputs: { data: number[] }[] }).outputs[0]!.data);

    // One large request keeps the only instance busy (the better part of a second), so the small
    // ones sent meanwhile must queue. Binary tensors, so it is read and decoded in a moment. Rather
    // than trusting a fixed pause (under CI load the big body may not even be read yet), wait
    // until one small request is seen queued behind a run: the instance is busy for a long time
    // then, and the rest queue with it whatever the load on this machine.
    const bigRows = 1200;
    const bigData = Buffer.from(Float32Array.from({ length: bigRows * 512 }, (_, i) => Math.cos(i)).buffer);
    const header = Buffer.from(JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [bigRows, 512], parameters: { binary_data_size: bigData.length } }], parameters: { binary_data_output: true } }));
    const big = server.request('POST', '/v2/models/slowbatch/infer', { body: Buffer.concat([header, bigData]), headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) } });
    const { answer: first } = await queuedBehindLongRun(server, 'slowbatch', () => infer(seeds[0]!));
    const responses = await Promise.all([first, ...seeds.slice(1).map(infer)]);
    assert.equal((await big).status, 200);
    const batchRows = responses.map((r) => Number(/rows=(\d+)/.exec(r.headers.get('server-timing') ?? '')?.[1]));
    assert.ok(batchRows.some((rows) => rows > 1), `some requests shared a run: ${batchRows.join(',')}`);
    for (const [i, response] of responses.entries()) {
      assert.equal(response.status, 200);
      const data = ((await response.json()) as { outputs: { shape: number[]; data: number[] }[] }).outputs[0]!;
      assert.deepEqual(data.shape, [1, 512]);
      const expected = alone.get(seeds[i]!)!;
      const worst = Math.max(...data.data.map((v, j) => Math.abs(v - expected[j]!)));
      assert.ok(worst < 1e-4, `request ${seeds[i]} got its own rows (max difference ${worst})`);
    }
  } finally {
    await server.cleanup();
  }
});

test('per-model queue limits: a request whose timeout runs out in the queue and one beyond max_queue_size get 503 with Retry-After; the rest are answered', async () => {
  const server = await startTestServer({ execution: { instances: 1, intraOpThreads: 1 } });
  try {
    const upload = await server.request('POST', '/api/models/slowbatch/versions?quantize=false', { body: slowBatchableModel(120), headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(upload.status, 201);
    assert.equal((await server.request('PUT', '/api/models/slowbatch/settings', { json: { max_queue_size: 2, max_batch_size: 1 } })).status, 200);
    const small = (parameters?: Record<string, unknown>) =>
      server.request('POST', '/v2/models/slowbatch/infer', { json: { ...(parameters ? { parameters } : {}), inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 512], data: Array.from({ length: 512 }, (_, i) => Math.sin(i)) }] } });
    // The only instance runs one large request for a second or more; everything sent meanwhile queues.
    const rows = 2400; // with 120 layers, ~1.5 s or more of running: longer than a loaded machine takes to queue the rest
    const bigData = Buffer.from(Float32Array.from({ length: rows * 512 }, (_, i) => Math.cos(i)).buffer);
    const header = Buffer.from(JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [rows, 512], parameters: { binary_data_size: bigData.length } }], parameters: { binary_data_output: true } }));
    const started = performance.now();
    const big = server.request('POST', '/v2/models/slowbatch/infer', { body: Buffer.concat([header, bigData]), headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) } });
    // Not a fixed pause (under CI load the big body may not be read yet): a small request waits
    // in the queue, and still waits a moment later, so the large run holds the instance now.
    const { answer: waiting } = await queuedBehindLongRun(server, 'slowbatch', () => small());
    const timeoutAnswer = await small({ timeout: 1000 });
    assert.equal(timeoutAnswer.status, 503);
    assert.equal(timeoutAnswer.headers.get('retry-after'), '1');
    assert.match(((await timeoutAnswer.json()) as { error: string }).error, /waited 1 ms, its timeout/);
    const queued = [small(), small()];
    const [bigAnswer, waitingAnswer, ...rest] = await Promise.all([big, waiting, ...queued]);
    assert.equal(bigAnswer!.status, 200);
    const bigMs = performance.now() - started;
    assert.equal(waitingAnswer!.status, 200, 'no timeout: it waits its turn');
    const statuses = rest.map((r) => r.status).sort();
    assert.deepEqual(statuses, [200, 503], `with the queue holding 2, the fourth request waiting is refused (the large run took ${bigMs.toFixed(0)} ms)`);
  } finally {
    await server.cleanup();
  }
});
