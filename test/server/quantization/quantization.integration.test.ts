import assert from 'node:assert/strict';
import { readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildMlpStack } from '../../../models/lib/mlpStack.js';
import { Store } from '../../../server/store/Store.js';
import { makeDataDir, startTestServer, type TestServer } from '../../helpers/testServer.js';

const STACK = { layers: 2, hidden: 64, inner: 256, tokens: 4, seed: 21 };
const ONNX = { 'content-type': 'application/octet-stream' };

interface QuantizationStatus {
  status: string;
  served_precision: string;
  report: Record<string, unknown> & { decision?: string; reasons?: string[]; speedup?: number; agreement?: number; metric?: string };
}

async function finished(server: TestServer, model: string, version: string): Promise<QuantizationStatus> {
  for (let i = 0; i < 300; i++) {
    const body = (await (await server.request('GET', `/api/models/${model}/versions/${version}/quantization`)).json()) as QuantizationStatus;
    if (body.status === 'done' || body.status === 'failed') return body;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`quantization of ${model}/${version} did not finish`);
}

const stackInput = (seed: number) => ({ name: 'x', datatype: 'FP32', shape: [1, STACK.tokens, STACK.hidden], data: Array.from({ length: STACK.tokens * STACK.hidden }, (_, i) => Math.sin(i * seed)) });

/**
 * The report's decision follows its own figures: every output passes, the comparison is not
 * degenerate, and the speed-up's whole interval is above the margin by the hysteresis band (or,
 * with int8 in place before, not wholly below it by as much).
 */
function assertConsistent(report: QuantizationStatus['report']): void {
  const thresholds = report.thresholds as { min_top1_agreement: number; min_cosine: number; min_speedup: number; hysteresis_band: number };
  const outputs = report.outputs as { metric: string; agreement: number; passes: boolean }[];
  assert.ok(outputs.length > 0);
  for (const o of outputs) if (o.metric === 'cosine') assert.equal(o.passes, o.agreement >= thresholds.min_cosine);
  const [low, high] = report.speedup_interval as [number, number];
  assert.ok(low <= report.speedup! && report.speedup! <= high, `interval [${low}, ${high}] holds ${report.speedup}`);
  assert.ok((report.timed_pairs as number) >= 6);
  const band = 1 + thresholds.hysteresis_band;
  const bySpeed = low > thresholds.min_speedup * band ? 'int8' : high < thresholds.min_speedup / band ? 'fp32' : report.previous_decision;
  const expected = outputs.every((o) => o.passes) && report.degenerate === null ? bySpeed : 'fp32';
  assert.equal(report.decision, expected, JSON.stringify(report));
}

let server: TestServer;
before(async () => { server = await startTestServer(); });
after(() => server.cleanup());

describe('int8 candidates', () => {
  test('the bundled model goes through the gate on its own held-out samples', async () => {
    const result = await finished(server, 'mlp', '1');
    assert.equal(result.status, 'done');
    assert.equal(result.report.validation, 'uploaded');
    assert.equal(result.report.unvalidated, false);
    assert.equal(result.report.samples, 69);
    assert.equal(result.report.metric, 'top1');
    assertConsistent(result.report);
    assert.equal(result.served_precision, result.report.decision, 'what the gate decides is what ships');
  });

  test('an upload gets a candidate judged on generated inputs (marked unvalidated); fp32 serves meanwhile', async () => {
    const upload = await server.request('POST', '/api/models/stack/versions', { body: buildMlpStack(STACK), headers: ONNX });
    assert.equal(upload.status, 201);
    const first = await server.request('POST', '/v2/models/stack/infer', { json: { inputs: [stackInput(1)] } });
    assert.equal(first.status, 200, 'the version serves while its candidate is made');
    const result = await finished(server, 'stack', '1');
    assert.equal(result.status, 'done');
    assert.equal(result.report.validation, 'generated');
    assert.equal(result.report.unvalidated, true);
    assert.ok(result.report.reasons!.some((r) => /unvalidated/.test(r)));
    assert.equal(result.report.quantized_nodes, 4);
    assert.ok((result.report.size_ratio as number) > 3, `size ratio ${result.report.size_ratio}`);
    assertConsistent(result.report);
    assert.ok((await stat(join(server.dataDir, 'models', 'stack', '1', 'model.int8.onnx'))).size > 0, 'the int8 file lives beside the original');
  });

  test('samples are checked against the model, and a re-run uses them', async () => {
    const bad = await server.request('POST', '/api/models/stack/samples', { json: { samples: [{ inputs: [stackInput(1)] }, { inputs: [{ ...stackInput(2), shape: [1, 2] }] }] } });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: string }).error, /samples\.1: input 'x': shape \[1,2\]/);
    assert.equal(((await (await server.request('GET', '/api/models/stack/samples')).json()) as { samples: unknown[] }).samples.length, 0, 'nothing stored from a refused batch');
    const good = await server.request('POST', '/api/models/stack/samples', { json: { samples: [1, 2, 3, 4].map((seed) => ({ inputs: [stackInput(seed)] })) } });
    assert.equal(good.status, 201);
    assert.equal((await server.request('POST', '/api/models/stack/versions/1/quantization')).status, 202);
    const result = await finished(server, 'stack', '1');
    assert.equal(result.report.validation, 'uploaded');
    assert.equal(result.report.samples, 4);
    assert.equal(result.report.unvalidated, false);
  });

  test('a re-run starts from the choice the last run left, and never flips back', async () => {
    let previous = (await finished(server, 'stack', '1')).report;
    const decisions = [previous.decision];
    for (let run = 0; run < 3; run++) {
      assert.equal((await server.request('POST', '/api/models/stack/versions/1/quantization')).status, 202);
      const { report } = await finished(server, 'stack', '1');
      assert.equal(report.previous_decision, previous.decision);
      assertConsistent(report);
      decisions.push(report.decision);
      previous = report;
    }
    // A change needs the interval 3% clear of the margin, and a change back 3% clear the other way: at most one change here.
    const changes = decisions.slice(1).filter((d, i) => d !== decisions[i]).length;
    assert.ok(changes <= 1, decisions.join(' → '));
  });

  test('generated inputs that fp32 answers all alike make a degenerate comparison: fp32 serves, and the report says why', async () => {
    const upload = await server.request('POST', '/api/models/tabular/versions', { body: await readFile(new URL('../../../models/mlp/model.onnx', import.meta.url)), headers: ONNX });
    assert.equal(upload.status, 201);
    const result = await finished(server, 'tabular', '1');
    assert.equal(result.report.validation, 'generated');
    assert.match(String(result.report.degenerate), /answers all 8 samples alike on every output/);
    assert.equal(result.report.reasons![0], result.report.degenerate);
    assert.deepEqual([result.report.decision, result.served_precision], ['fp32', 'fp32']);
  });

  test('the admin override wins, swaps without failing a request, and auto returns to the gate', async () => {
    const gate = (await finished(server, 'stack', '1')).report.decision;
    const requests: Promise<Response>[] = [];
    const load = setInterval(() => requests.push(server.request('POST', '/v2/models/stack/infer', { json: { inputs: [stackInput(3)] } })), 2);
    try {
      for (const precision of ['int8', 'fp32', 'int8']) {
        const response = await server.request('PUT', '/api/models/stack/versions/1/precision', { json: { precision } });
        assert.equal(response.status, 200);
        const view = (await response.json()) as { served_precision: string; precision_override: string };
        assert.deepEqual([view.served_precision, view.precision_override], [precision, precision]);
      }
    } finally {
      clearInterval(load);
    }
    const statuses = await Promise.all(requests.map((r) => r.then((res) => res.status)));
    assert.ok(statuses.length > 5);
    assert.deepEqual([...new Set(statuses)], [200], 'no request failed during the swaps');
    const answer = (await (await server.request('POST', '/v2/models/stack/infer', { json: { inputs: [stackInput(3)] } })).json()) as { parameters: { precision: string } };
    assert.deepEqual(answer.parameters, { precision: 'int8' });
    const auto = (await (await server.request('PUT', '/api/models/stack/versions/1/precision', { json: { precision: 'auto' } })).json()) as { served_precision: string; precision_override: null };
    assert.deepEqual([auto.served_precision, auto.precision_override], [gate, null]);
    assert.equal((await server.request('PUT', '/api/models/stack/versions/1/precision', { json: { precision: 'int4' } })).status, 400);
  });

  test('?quantize=false skips the candidate; int8 cannot be forced without one', async () => {
    await server.request('POST', '/api/models/plain/versions?quantize=false', { body: buildMlpStack(STACK), headers: ONNX });
    const status = (await (await server.request('GET', '/api/models/plain/versions/1/quantization')).json()) as QuantizationStatus;
    assert.deepEqual([status.status, status.served_precision], ['not_requested', 'fp32']);
    assert.equal((await server.request('PUT', '/api/models/plain/versions/1/precision', { json: { precision: 'int8' } })).status, 409);
  });
});

test('a job a stop interrupted resumes on the next start', async () => {
  const dataDir = await makeDataDir();
  const first = await startTestServer({ dataDir });
  await finished(first, 'mlp', '1');
  await first.stop();
  const store = Store.open(join(dataDir, 'inferbox.db'));
  store.quantization.upsertJob({ model_name: 'mlp', version: '1', status: 'running', stage: 'validating', progress: 0.4, report: null, updated_at: new Date().toISOString() });
  store.close();
  const second = await startTestServer({ dataDir });
  try {
    const result = await finished(second, 'mlp', '1');
    assert.equal(result.status, 'done');
    assert.equal(result.report.samples, 69);
  } finally {
    await second.cleanup();
  }
});

test('opt-in recording keeps live inputs as samples up to the limit, and the gate uses them', async () => {
  const server = await startTestServer();
  try {
    await server.request('POST', '/api/models/rec/versions?quantize=false', { body: buildMlpStack(STACK), headers: ONNX });
    const infer = (seed: number) => server.request('POST', '/v2/models/rec/infer', { json: { inputs: [stackInput(seed)] } });
    await infer(1);
    assert.equal(((await (await server.request('GET', '/api/models/rec/samples')).json()) as { samples: unknown[] }).samples.length, 0, 'off by default');
    const set = await server.request('PUT', '/api/models/rec/samples/recording', { json: { limit: 3 } });
    assert.deepEqual(await set.json(), { limit: 3, recorded: 0 });
    for (const seed of [2, 3, 4, 5, 6]) assert.equal((await infer(seed)).status, 200);
    await server.request('POST', '/v2/models/rec/infer', { json: { inputs: [{ ...stackInput(7), shape: [9] }] } });
    const samples = ((await (await server.request('GET', '/api/models/rec/samples')).json()) as { samples: { source: string; inputs: { data: number[] }[] }[] }).samples;
    assert.deepEqual(samples.map((s) => s.source), ['live', 'live', 'live'], 'only successful requests, up to the limit');
    assert.deepEqual(samples[0]!.inputs[0]!.data, stackInput(2).data.map((v) => v));
    await server.request('POST', '/api/models/rec/versions/1/quantization');
    const result = await finished(server, 'rec', '1');
    assert.deepEqual([result.report.validation, result.report.samples], ['live', 3]);
  } finally {
    await server.cleanup();
  }
});

test('an int8 file that cannot be loaded at start falls back to fp32 and says why', async () => {
  const dataDir = await makeDataDir();
  const first = await startTestServer({ dataDir });
  await first.request('POST', '/api/models/stack/versions', { body: buildMlpStack(STACK), headers: ONNX });
  await finished(first, 'stack', '1');
  assert.equal((await first.request('PUT', '/api/models/stack/versions/1/precision', { json: { precision: 'int8' } })).status, 200);
  await first.stop();
  await rm(join(dataDir, 'models', 'stack', '1', 'model.int8.onnx'));
  const second = await startTestServer({ dataDir });
  try {
    const view = (await (await second.request('GET', '/api/models/stack/versions/1')).json()) as { state: string; served_precision: string; fallback_reason: string };
    assert.deepEqual([view.state, view.served_precision], ['ready', 'fp32']);
    assert.match(view.fallback_reason, /int8 file could not be loaded/);
    const answer = (await (await second.request('POST', '/v2/models/stack/infer', { json: { inputs: [stackInput(1)] } })).json()) as { parameters: { precision: string } };
    assert.equal(answer.parameters.precision, 'fp32');
  } finally {
    await second.cleanup();
  }
});
