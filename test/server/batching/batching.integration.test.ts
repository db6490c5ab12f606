import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildModel } from '../../../models/lib/onnxGraph.js';
import { mulberry32 } from '../../../server/common/mulberry32.js';
import { startTestServer } from '../../helpers/testServer.js';

/** A batchable model slow enough (tens of ms a row) that concurrent requests queue behind a run. */
function slowBatchableModel(): Uint8Array {
  const random = mulberry32(17);
  const size = 512;
  const layers = 40;
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

    // One large request keeps the only instance busy for a while (hundreds of ms), so the small
    // ones sent meanwhile must queue, whatever the load on this machine.
    const big = server.request('POST', '/v2/models/slowbatch/infer', { json: { inputs: [{ name: 'x', datatype: 'FP32', shape: [200, 512], data: Array.from({ length: 200 * 512 }, (_, i) => Math.cos(i)) }] } });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const responses = await Promise.all(seeds.map(infer));
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
