import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GENTOO_FEATURES, makeDataDir, startTestServer, type TestServer } from '../../helpers/testServer.js';

interface Point { concurrency: number; rps: number; p50_ms: number; p95_ms: number; errors: number }
interface TuningView {
  status: string;
  objective_p95_ms: number | null;
  progress: { measured: number; planned: number };
  candidates: { id: string; measured: boolean; error: string | null; curve: Point[]; capacity: { rps: number; concurrency: number; p95_ms: number } | null; confirmation: { capacity: { rps: number } | null } | null; max_batch_size: number; min_instances: number; max_instances: number; intra_op_threads: number; max_queue_delay_micros: number; precision: string }[];
  choice: { id: string; by: string; capacity: { rps: number } | null; reason: string; confirmed: boolean | null } | null;
  predicted_capacity_rps: number | null;
  applied: { candidate: string } | null;
  error: string | null;
}

const TUNING = '/api/models/mlp/versions/1/tuning';

async function view(server: TestServer): Promise<TuningView> {
  const answer = await server.request('GET', TUNING);
  assert.equal(answer.status, 200);
  return (await answer.json()) as TuningView;
}

async function waitFor(server: TestServer, done: (v: TuningView) => boolean, what: string, timeoutMs = 120_000): Promise<TuningView> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const current = await view(server);
    if (done(current)) return current;
    if (Date.now() > until) assert.fail(`${what}: still ${JSON.stringify({ status: current.status, progress: current.progress })}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function auditActions(server: TestServer): Promise<string[]> {
  const body = (await (await server.request('GET', '/api/audit?limit=1000')).json()) as { entries: { action: string }[] };
  return body.entries.map((e) => e.action);
}

const overrides = async (server: TestServer) => ((await (await server.request('GET', '/api/models/mlp/settings')).json()) as { overrides: Record<string, unknown> }).overrides;

test('a tuning run measures candidates on a tuning server of its own, chooses within the objective, and its apply and revert change only the model settings (audited)', async () => {
  const server = await startTestServer();
  try {
    assert.deepEqual(await view(server), { name: 'mlp', version: '1', status: 'none' });
    assert.equal((await server.request('GET', `${TUNING}/result`)).status, 409, 'no result before a run');
    assert.equal((await server.request('PUT', '/api/models/mlp/settings', { json: { latency_objective_p95_ms: 50 } })).status, 200);
    const started = await server.request('POST', TUNING, { json: { budget_seconds: 60 } });
    assert.equal(started.status, 202);
    const planned = (await started.json()) as TuningView;
    assert.equal(planned.status, 'running');
    assert.equal(planned.objective_p95_ms, 50);
    assert.equal(planned.candidates[0]!.id, 'current', 'the current serving is the baseline, measured first');
    assert.ok(planned.candidates.length >= 3, `candidates: ${planned.candidates.map((c) => c.id).join(', ')}`);
    assert.equal((await server.request('POST', TUNING, { json: {} })).status, 409, 'one run per version at a time');
    assert.equal((await server.request('GET', `${TUNING}/result`)).status, 409, 'no result while it runs');
    // Live requests are answered while it runs (the tuning server is another process).
    const live = await server.request('POST', '/v2/models/mlp/infer', { json: { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: GENTOO_FEATURES }] } });
    assert.equal(live.status, 200);

    const done = await waitFor(server, (v) => v.status !== 'running', 'the run to finish');
    assert.equal(done.status, 'done', `ended ${done.status}: ${done.error}`);
    const measured = done.candidates.filter((c) => c.measured && c.error === null);
    assert.ok(measured.length >= 2 && measured[0]!.id === 'current', `measured: ${done.candidates.map((c) => `${c.id} ${c.measured} ${c.error}`).join('; ')}`);
    for (const candidate of measured) {
      const concurrencies = candidate.curve.map((p) => p.concurrency);
      assert.equal(concurrencies[0], 1, `${candidate.id} starts at one request at a time`);
      assert.ok(concurrencies.every((c, i) => i === 0 || c === concurrencies[i - 1]! * 2), `${candidate.id} doubles: ${concurrencies.join(',')}`);
      assert.ok(candidate.curve.every((p) => p.errors === 0 && p.rps > 0 && p.p95_ms >= p.p50_ms && p.p50_ms > 0), `${candidate.id}: ${JSON.stringify(candidate.curve)}`);
      if (candidate.capacity) assert.ok(candidate.capacity.p95_ms <= 50 && candidate.curve.some((p) => p.rps === candidate.capacity!.rps), `${candidate.id}'s capacity is a point of its curve within the objective`);
    }
    assert.ok(done.choice && measured.some((c) => c.id === done.choice!.id), `chosen: ${JSON.stringify(done.choice)}`);
    assert.equal(done.choice.by, 'capacity');
    const chosen = measured.find((c) => c.id === done.choice!.id)!;
    const current = measured[0]!;
    // Against the measurement that decided: the second one where the choice was measured again.
    const decidingCapacity = (c: typeof chosen) => (done.choice!.confirmed ? c.confirmation?.capacity : c.capacity)?.rps ?? 0;
    assert.ok(decidingCapacity(chosen) >= decidingCapacity(current), 'never below the current capacity');
    if (done.choice.id !== 'current' || done.choice.confirmed === true) {
      assert.equal(done.choice.confirmed, true, `a change is decided on a second measurement (${done.choice.reason})`);
      assert.ok(chosen.confirmation && current.confirmation, 'both measured again');
    }
    assert.equal(done.predicted_capacity_rps, done.choice.capacity ? Math.round(done.choice.capacity.rps) : null);
    if (done.choice.capacity) assert.equal(Math.round(done.choice.capacity.rps), Math.round(decidingCapacity(chosen)), 'the prediction is the deciding measurement');
    assert.deepEqual(await overrides(server), { latency_objective_p95_ms: 50 }, 'tuning alone changes nothing');
    assert.equal((await server.request('GET', `${TUNING}/result`)).status, 200);

    // Apply a measured candidate other than the current serving, then put it back.
    const other = measured.find((c) => c.id !== 'current' && c.precision === 'fp32')!;
    assert.ok(other, 'an fp32 candidate besides the current one was measured');
    const applied = await server.request('POST', `${TUNING}/apply`, { json: { candidate: other.id } });
    assert.equal(applied.status, 200, await applied.clone().text());
    assert.deepEqual(((await applied.json()) as TuningView).applied?.candidate, other.id);
    const after = await overrides(server);
    for (const field of ['max_batch_size', 'max_queue_delay_micros', 'min_instances', 'max_instances', 'intra_op_threads'] as const) {
      const current = measured[0]![field];
      if (other[field] !== current) assert.equal(after[field], other[field], `${field} set as the candidate measured it`);
      else assert.equal(field in after, false, `${field}: unchanged, not pinned`);
    }
    const answered = await server.request('POST', '/v2/models/mlp/infer', { json: { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: GENTOO_FEATURES }] } });
    assert.equal(answered.status, 200, 'serving goes on with the applied settings');
    assert.equal((await server.request('POST', `${TUNING}/revert`)).status, 200);
    assert.deepEqual(await overrides(server), { latency_objective_p95_ms: 50 }, 'revert puts back what the apply replaced');
    assert.equal((await view(server)).applied, null);
    assert.equal((await server.request('POST', `${TUNING}/revert`)).status, 409, 'nothing left to revert');
    assert.equal((await server.request('POST', `${TUNING}/apply`, { json: { candidate: 'nope' } })).status, 400);
    const actions = await auditActions(server);
    for (const action of ['model.tuning.start', 'model.tuning.apply', 'model.tuning.revert']) assert.ok(actions.includes(action), `${action} audited`);
  } finally {
    await server.cleanup();
  }
});

test('a tuning run can be cancelled (what it measured stays), and one a stop interrupted resumes at the next start with the candidates it had not measured', async () => {
  const dataDir = await makeDataDir();
  let server = await startTestServer({ dataDir });
  try {
    assert.equal((await server.request('POST', TUNING, { json: { budget_seconds: 60 } })).status, 202);
    await waitFor(server, (v) => v.progress.measured >= 1, 'a first candidate');
    assert.equal((await server.request('DELETE', TUNING)).status, 202);
    const cancelled = await waitFor(server, (v) => v.status !== 'running', 'the cancel');
    assert.equal(cancelled.status, 'cancelled');
    assert.ok(cancelled.progress.measured >= 1 && cancelled.progress.measured < cancelled.progress.planned, `kept ${cancelled.progress.measured} of ${cancelled.progress.planned}`);
    assert.equal((await server.request('DELETE', TUNING)).status, 409, 'nothing to cancel');
    assert.ok((await auditActions(server)).includes('model.tuning.cancel'));

    assert.equal((await server.request('POST', TUNING, { json: { budget_seconds: 60 } })).status, 202);
    const before = await waitFor(server, (v) => v.progress.measured >= 1, 'a first candidate of the second run');
    await server.stop();
    server = await startTestServer({ dataDir });
    const resumed = await waitFor(server, (v) => v.status !== 'running', 'the resumed run to finish');
    assert.equal(resumed.status, 'done', `${resumed.status}: ${resumed.error}`);
    const ids = resumed.candidates.filter((c) => c.measured).map((c) => c.id);
    assert.ok(ids.length > before.progress.measured, `measured after the restart: ${ids.join(', ')}`);
    for (const c of before.candidates.filter((x) => x.measured)) assert.deepEqual(resumed.candidates.find((x) => x.id === c.id)!.curve, c.curve, `${c.id} was kept, not measured again`);
    assert.ok(resumed.choice, 'and it chose');
  } finally {
    await server.cleanup();
  }
});
