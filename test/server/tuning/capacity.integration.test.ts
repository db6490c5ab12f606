import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { TuningRepository } from '../../../server/store/TuningRepository.js';
import { GENTOO_FEATURES, startTestServer } from '../../helpers/testServer.js';

const INFER = { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: GENTOO_FEATURES }] };

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

test('a tuned model whose load stays above capacity_warning_ratio of its measured capacity: the gauge, GET /api/capacity and one capacity.warning webhook event say so, until the load falls', async () => {
  const events: { type: string; data: Record<string, unknown> }[] = [];
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      events.push(JSON.parse(Buffer.concat(chunks).toString()) as { type: string; data: Record<string, unknown> });
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  // A one-second rate, warned after one second above (five minutes in production).
  const server = await startTestServer({ capacityAdvisor: { windowMs: 1000, sustainMs: 1000, intervalMs: 100 } });
  try {
    const hook = await server.request('POST', '/api/webhooks', { json: { url: `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`, events: ['capacity.warning'] } });
    assert.equal(hook.status, 201);
    assert.deepEqual(((await (await server.request('GET', '/api/capacity')).json()) as { models: unknown[] }).models, [], 'no model has a measured capacity before a tuning run');
    // A finished tuning run of mlp/1 as the tuner stores it: the current serving took 20 requests/s within p95 50 ms.
    const db = new Database(join(server.dataDir, 'inferbox.db'));
    const runs = new TuningRepository(db);
    runs.start({ model_name: 'mlp', version: '1', budget_seconds: 60, objective_p95_ms: 50, plan: { candidates: [{ id: 'current' }] }, started_at: new Date().toISOString() });
    runs.addResult('mlp', '1', { id: 'current', curve: [{ concurrency: 1, rps: 20, p50_ms: 1, p95_ms: 2, errors: 0 }, { concurrency: 2, rps: 30, p50_ms: 50, p95_ms: 80, errors: 0 }], error: null, measured_at: new Date().toISOString() });
    runs.finish('mlp', '1', { status: 'done', choice: { id: 'current' }, error: null, at: new Date().toISOString() });
    db.close();
    const capacity = async () => ((await (await server.request('GET', '/api/capacity')).json()) as { warning_ratio: number; models: { model: string; capacity_rps: number; load_rps: number; ratio: number; warning: boolean }[] });
    const idle = await until('the capacity to show', async () => (await capacity()).models.find((m) => m.model === 'mlp'));
    assert.deepEqual([idle.capacity_rps, idle.ratio, idle.warning], [20, 0, false], 'capacity 20 (the point within the objective), no load');

    // About 50 requests/s, 2.5x the capacity, for three seconds.
    const stopAt = Date.now() + 3000;
    while (Date.now() < stopAt) {
      const answer = await server.request('POST', '/v2/models/mlp/infer', { json: INFER });
      assert.equal(answer.status, 200);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const loaded = (await capacity()).models.find((m) => m.model === 'mlp')!;
    assert.ok(loaded.ratio > 0.8 && loaded.warning, `ratio ${loaded.ratio}, load ${loaded.load_rps}, warning ${loaded.warning}`);
    const metrics = await (await server.request('GET', '/metrics')).text();
    const gauge = Number(/^inferbox_model_capacity_ratio\{model="mlp"\} (\S+)$/m.exec(metrics)?.[1]);
    assert.ok(gauge > 0.8, `gauge ${gauge}`);
    const warning = await until('the capacity.warning event', async () => events.find((e) => e.type === 'capacity.warning'));
    assert.equal(warning.data.model, 'mlp');
    assert.equal(warning.data.capacity_rps, 20);
    assert.equal(warning.data.warning_ratio, 0.8);
    assert.ok((warning.data.ratio as number) > 0.8);

    const calm = await until('the load to fall', async () => (await capacity()).models.find((m) => m.model === 'mlp' && m.load_rps === 0));
    assert.deepEqual([calm.ratio, calm.warning], [0, false]);
    assert.equal(events.filter((e) => e.type === 'capacity.warning').length, 1, 'one event for the episode');
  } finally {
    await server.cleanup();
    await new Promise((resolve) => receiver.close(resolve));
  }
});
