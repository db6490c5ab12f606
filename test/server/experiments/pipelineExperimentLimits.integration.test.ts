import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { GENTOO_FEATURES, startTestServer, type TestServer } from '../../helpers/testServer.js';

// Issue 17, item 4: a `models:write` key could take all traffic through the experiment it starts
// with its upload. Its experiments are held to `pipeline_max_treatment_share` with the guardrails on.

const MLP = join(import.meta.dirname, '../../../models/mlp/model.onnx');
const gentoo = { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: GENTOO_FEATURES }] };

/** The request from the issue: all traffic to the upload, a unit id every request carries, every guardrail off. */
const TAKEOVER = { name: 'takeover', weights: [0, 1], unit_id: { header: 'host' }, guardrails: { error_rate: null, p95_latency: null, circuit_breaker: null } };

interface ExperimentAnswer { version: string; experiment: { id: string; status: string; variants: { name: string; version: string; weight: number }[]; config: Record<string, unknown> } }

let server: TestServer;
let pipelineKey: string;
let mlpBytes: Buffer;

before(async () => {
  server = await startTestServer();
  mlpBytes = await readFile(MLP);
  const created = await server.request('POST', '/api/keys', { json: { name: 'training pipeline', scopes: ['models:write'] } });
  assert.equal(created.status, 201);
  pipelineKey = ((await created.json()) as { key: string }).key;
});
after(() => server.cleanup());

function upload(experiment: Record<string, unknown>, key = pipelineKey): Promise<Response> {
  const body = new FormData();
  body.append('metadata', JSON.stringify({ labels: { run: String(experiment.name) }, experiment }));
  body.append('model', new Blob([mlpBytes]), 'model.onnx');
  return server.request('POST', '/api/models/mlp/versions?quantize=false', { key, body });
}

async function json<T = Record<string, unknown>>(response: Response, status: number): Promise<T> {
  const text = await response.text();
  assert.equal(response.status, status, text);
  return JSON.parse(text) as T;
}

async function refused(experiment: Record<string, unknown>, message: RegExp): Promise<string> {
  const versions = await versionCount();
  const error = (await json<{ error: string }>(await upload(experiment), 403)).error;
  assert.match(error, /^a 'models:write' key cannot start this experiment: /);
  assert.match(error, message, JSON.stringify(experiment));
  assert.equal(await versionCount(), versions, 'the upload is not kept');
  return error;
}

const versionCount = async () => (await json<{ versions: unknown[] }>(await server.request('GET', '/api/models/mlp'), 200)).versions.length;
const running = async () => (await json<{ experiments: { id: string; status: string }[] }>(await server.request('GET', '/api/experiments?model=mlp'), 200)).experiments.filter((e) => e.status === 'running');
const stop = async (id: string) => assert.equal((await server.request('POST', `/api/experiments/${id}/stop`)).status, 200);

describe("a 'models:write' key's experiments stay small and guarded (pipeline_max_treatment_share)", () => {
  test('the takeover from the issue (weights [0, 1], unit id from host, every guardrail null) is refused with 403; the active version keeps answering', async () => {
    const error = await refused(TAKEOVER, /weights give the candidate 1 of the traffic, above 0\.1/);
    assert.match(error, /the error_rate guardrail cannot be null/);
    assert.match(error, /the circuit_breaker guardrail cannot be null/);
    assert.match(error, /the unit id cannot come from the 'host' header/);
    assert.match(error, /pipeline_max_treatment_share is 0\.1/);
    assert.deepEqual(await running(), [], 'no experiment was started');
    for (let i = 0; i < 5; i++) {
      const response = await server.request('POST', '/v2/models/mlp/infer', { json: gentoo });
      const body = (await response.json()) as { model_version: string };
      assert.equal(response.status, 200);
      assert.equal(body.model_version, '1', 'the active version answers, not the upload');
      assert.equal(response.headers.get('inferbox-variant'), null);
    }
    // Each part alone is refused too.
    await refused({ name: 'weights', weights: [0, 1] }, /weights give the candidate 1 of the traffic/);
    await refused({ name: 'host', weights: [0.9, 0.1], unit_id: { header: 'Host' } }, /'host' header/);
    await refused({ name: 'forwarded', weights: [0.9, 0.1], unit_id: { header: 'x-forwarded-for' } }, /'x-forwarded-for' header/);
    await refused({ name: 'seed', weights: [0.9, 0.1], seed: 'chosen' }, /the seed cannot be chosen/);
  });

  test('the default equal split, canary steps and a shadow percent above the cap are refused', async () => {
    await refused({ name: 'equal' }, /without weights the candidate gets 0\.5 of the traffic, above 0\.1: send weights such as \[0\.9, 0\.1\]/);
    await refused({ name: 'slightly over', weights: [0.89, 0.11] }, /weights give the candidate 0\.11 of the traffic/);
    await refused({ name: 'canary', canary: { steps: [5, 10, 50, 100] } }, /canary steps 50%, 100% are above 10%/);
    await refused({ name: 'shadow', weights: [0.9, 0.1], shadow: { version: '99', percent: 50 } }, /shadow percent 50 is above 10/);
  });

  test('the error_rate and circuit_breaker guardrails cannot be switched off or loosened', async () => {
    await refused({ name: 'no error rate', weights: [0.9, 0.1], guardrails: { error_rate: null } }, /the error_rate guardrail cannot be null/);
    await refused({ name: 'no breaker', weights: [0.9, 0.1], guardrails: { circuit_breaker: null } }, /the circuit_breaker guardrail cannot be null/);
    await refused({ name: 'late error rate', weights: [0.9, 0.1], guardrails: { error_rate: { min_requests: 1_000_000_000 } } }, /the error_rate guardrail may be tightened, not loosened/);
    await refused({ name: 'wide breaker', weights: [0.9, 0.1], guardrails: { circuit_breaker: { window: 10_000, max_error_rate: 0.99 } } }, /the circuit_breaker guardrail may be tightened, not loosened/);
  });

  test('within the cap it starts; the key cannot widen, promote, switch or stop it, nor create or edit experiments', async () => {
    const view = await json<ExperimentAnswer>(await upload({
      name: 'small canary',
      canary: { steps: [1, 5, 10], min_units_per_step: 100 },
      guardrails: { error_rate: { alpha: 0.05, min_requests: 20 }, p95_latency: null, circuit_breaker: { window: 10, max_error_rate: 0.2 } },
      unit_id: { header: 'x-customer' },
    }), 201);
    const { id } = view.experiment;
    assert.equal(view.experiment.status, 'running');
    assert.deepEqual(view.experiment.variants.map((v) => v.weight), [0.99, 0.01]);
    const before = await json(await server.request('GET', `/api/experiments/${id}`), 200);
    const variants = [{ name: 'control', version: '1' }, { name: 'candidate', version: view.version }];
    for (const [method, path, body] of [
      ['PUT', `/api/experiments/${id}`, { name: 'wider', model: 'mlp', variants, weights: [0, 1] }],
      ['POST', `/api/experiments/${id}/promote`, { variant: 'candidate' }],
      ['PUT', `/api/experiments/${id}/flag`, { enabled: false }],
      ['POST', `/api/experiments/${id}/pause`, {}],
      ['POST', `/api/experiments/${id}/resume`, {}],
      ['POST', `/api/experiments/${id}/stop`, {}],
      ['POST', `/api/experiments/${id}/start`, {}],
      ['DELETE', `/api/experiments/${id}`, undefined],
      ['POST', '/api/experiments', { name: 'own', model: 'mlp', variants, weights: [0, 1] }],
      ['POST', `/api/models/mlp/versions/${view.version}/activate`, {}],
    ] as const) {
      const response = await server.request(method, path, { key: pipelineKey, ...(body === undefined ? {} : { json: body }) });
      assert.equal(response.status, 403, `${method} ${path}: ${await response.text()}`);
    }
    assert.deepEqual(await json(await server.request('GET', `/api/experiments/${id}`), 200), before, 'the experiment is unchanged');
    assert.equal((await json<{ active_version: string }>(await server.request('GET', '/api/models/mlp'), 200)).active_version, '1');
    await stop(id);

    // Exactly at the cap is allowed: weight 0.1, shadow 10%.
    const atCap = await json<ExperimentAnswer>(await upload({ name: 'at cap', weights: [0.9, 0.1], shadow: { version: view.version, percent: 10 } }), 201);
    assert.deepEqual(atCap.experiment.variants.map((v) => v.weight), [0.9, 0.1]);
    await stop(atCap.experiment.id);
  });

  test('an admin can still start all of it, the takeover shape included', async () => {
    const takeover = await json<ExperimentAnswer>(await upload(TAKEOVER, server.adminKey), 201);
    assert.equal(takeover.experiment.status, 'running');
    assert.deepEqual(takeover.experiment.variants.map((v) => v.weight), [0, 1]);
    await stop(takeover.experiment.id);
    const wide = await json<ExperimentAnswer>(await upload({ name: 'wide', canary: { steps: [50, 100] }, seed: 's', shadow: { version: takeover.version, percent: 100 }, guardrails: { error_rate: null, circuit_breaker: null } }, server.adminKey), 201);
    assert.equal(wide.experiment.status, 'running');
    assert.deepEqual(wide.experiment.variants.map((v) => v.weight), [0.5, 0.5]);
    assert.equal((await json<{ status: string }>(await server.request('POST', `/api/experiments/${wide.experiment.id}/promote`, { json: { variant: 'candidate' } }), 200)).status, 'completed');
    // Promotion made the upload active; put version 1 back for the tests that follow.
    assert.equal((await server.request('POST', '/api/models/mlp/versions/1/activate')).status, 200);
  });

  test('the admin setting: listed with its default, validated 0..1, changes audited and applied at once', async () => {
    const settings = await json<{ effective: Record<string, unknown>; defaults: Record<string, unknown> }>(await server.request('GET', '/api/settings'), 200);
    assert.equal(settings.defaults.pipeline_max_treatment_share, 0.1);
    assert.equal(settings.effective.pipeline_max_treatment_share, 0.1);
    for (const bad of [-0.1, 1.5, '0.5', true]) {
      assert.equal((await server.request('PUT', '/api/settings', { json: { pipeline_max_treatment_share: bad } })).status, 400, JSON.stringify(bad));
    }
    assert.equal((await server.request('PUT', '/api/settings', { key: pipelineKey, json: { pipeline_max_treatment_share: 1 } })).status, 403, 'the pipeline cannot raise its own cap');

    await json(await server.request('PUT', '/api/settings', { json: { pipeline_max_treatment_share: 0.5 } }), 200);
    const audit = await json<{ entries: { action: string; actor_name: string; details: { changes?: Record<string, unknown> } }[] }>(await server.request('GET', '/api/audit?action=settings.update'), 200);
    assert.ok(audit.entries.some((e) => e.details.changes?.pipeline_max_treatment_share === 0.5), JSON.stringify(audit.entries));
    const half = await json<ExperimentAnswer>(await upload({ name: 'half' }), 201);
    assert.deepEqual(half.experiment.variants.map((v) => v.weight), [0.5, 0.5]);
    await stop(half.experiment.id);
    await refused({ name: 'still guarded', weights: [0.5, 0.5], guardrails: { circuit_breaker: null } }, /pipeline_max_treatment_share is 0\.5/);

    await json(await server.request('PUT', '/api/settings', { json: { pipeline_max_treatment_share: 0 } }), 200);
    await refused({ name: 'none', weights: [0.9, 0.1] }, /weights give the candidate 0\.1 of the traffic, above 0 \(pipeline_max_treatment_share is 0;/);
    await json(await server.request('PUT', '/api/settings', { json: { pipeline_max_treatment_share: null } }), 200);
    assert.equal((await json<{ effective: Record<string, unknown> }>(await server.request('GET', '/api/settings'), 200)).effective.pipeline_max_treatment_share, 0.1, 'null puts the default back');
  });
});
