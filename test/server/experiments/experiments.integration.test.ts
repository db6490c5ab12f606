import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { failingPenguinModel, slowPenguinModel } from '../../fixtures/onnxModels.js';
import { GENTOO_FEATURES, makeDataDir, startTestServer, type TestServer } from '../../helpers/testServer.js';

const MLP = join(import.meta.dirname, '../../../models/mlp/model.onnx');
const gentoo = { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: GENTOO_FEATURES }] };

interface Answer { status: number; variant: string | null; body: { id?: string; parameters?: Record<string, unknown>; outputs?: unknown[]; error?: string } }

async function upload(server: TestServer, bytes: Uint8Array): Promise<string> {
  const response = await server.request('POST', '/api/models/mlp/versions?quantize=false', { body: bytes, headers: { 'content-type': 'application/octet-stream' } });
  assert.equal(response.status, 201, await response.clone().text());
  return ((await response.json()) as { version: string }).version;
}

async function infer(server: TestServer, headers: Record<string, string> = {}, path = '/v2/models/mlp/infer', body: unknown = gentoo): Promise<Answer> {
  const response = await server.request('POST', path, { json: body, headers });
  return { status: response.status, variant: response.headers.get('inferbox-variant'), body: (await response.json()) as Answer['body'] };
}

async function create(server: TestServer, experiment: Record<string, unknown>): Promise<{ id: string; status: string }> {
  const response = await server.request('POST', '/api/experiments', { json: { name: 'test', model: 'mlp', ...experiment } });
  assert.equal(response.status, 201, await response.clone().text());
  return (await response.json()) as { id: string; status: string };
}

async function act(server: TestServer, id: string, action: string, expected = 200): Promise<Record<string, unknown>> {
  const response = await server.request('POST', `/api/experiments/${id}/${action}`);
  const body = (await response.json()) as Record<string, unknown>;
  assert.equal(response.status, expected, JSON.stringify(body));
  return body;
}

const until = async <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

describe('A/B experiments through the real server', () => {
  test('validation and lifecycle: one running experiment per model, control must be the active version, drafts only are edited', async () => {
    const server = await startTestServer();
    try {
      const v2 = await upload(server, await readFile(MLP));
      const variants = [{ name: 'control', version: '1' }, { name: 'candidate', version: v2 }];
      for (const bad of [
        { variants: [{ name: 'control', version: '1' }] },
        { variants, weights: [0.5, 0.6] },
        { variants: [...variants, { name: 'third', version: '1' }] },
        { variants, canary: { steps: [50, 10] } },
        { variants, metrics: [{ name: 'converted', type: 'binary' }], primary_metric: 'revenue' },
        { variants, targeting: { attribute: 'cookie.x', op: 'eq', value: 'a' } },
        { variants, targeting: { attribute: 'header.x-age', op: 'gt', value: 'old' } },
      ]) {
        const response = await server.request('POST', '/api/experiments', { json: { name: 'bad', model: 'mlp', ...bad } });
        assert.equal(response.status, 400, JSON.stringify(bad));
      }
      assert.equal((await server.request('POST', '/api/experiments', { json: { name: 'x', model: 'nope', variants } })).status, 404);

      const wrongControl = await create(server, { variants: [{ name: 'a', version: v2 }, { name: 'b', version: '1' }] });
      const refused = await act(server, wrongControl.id, 'start', 409);
      assert.match(String(refused.error), /control variant must serve the active version/);

      const first = await create(server, { variants });
      const edited = await server.request('PUT', `/api/experiments/${first.id}`, { json: { name: 'renamed', model: 'mlp', variants, weights: [0.8, 0.2] } });
      assert.equal(edited.status, 200);
      assert.deepEqual(((await edited.json()) as { variants: { weight: number }[] }).variants.map((v) => v.weight), [0.8, 0.2]);
      assert.equal((await act(server, first.id, 'start')).status, 'running');
      assert.equal((await server.request('PUT', `/api/experiments/${first.id}`, { json: { name: 'late', model: 'mlp', variants } })).status, 409, 'a running design is fixed');
      const second = await create(server, { variants });
      assert.match(String((await act(server, second.id, 'start', 409)).error), /already running/);
      assert.equal((await server.request('DELETE', `/api/experiments/${first.id}`)).status, 409);
      assert.equal((await act(server, first.id, 'pause')).status, 'paused');
      assert.equal((await infer(server, { 'x-unit-id': 'u1' })).variant, null, 'a paused experiment routes nothing');
      assert.equal((await act(server, first.id, 'resume')).status, 'running');
      assert.equal((await act(server, first.id, 'stop')).status, 'stopped');
      assert.equal((await server.request('DELETE', `/api/experiments/${first.id}`)).status, 200);
      assert.equal((await server.request('GET', `/api/experiments/${first.id}`)).status, 404);
      const audit = (await (await server.request('GET', '/api/audit?limit=100')).json()) as { entries: { action: string }[] };
      for (const action of ['experiment.create', 'experiment.update', 'experiment.start', 'experiment.pause', 'experiment.stop', 'experiment.delete']) {
        assert.ok(audit.entries.some((e) => e.action === action), action);
      }
    } finally {
      await server.cleanup();
    }
  });

  test('routing: sticky per unit (also across a restart), targeting, no unit id → control, versioned URLs bypass, kill switch', async () => {
    const dataDir = await makeDataDir();
    let server = await startTestServer({ dataDir });
    try {
      const v2 = await upload(server, await readFile(MLP));
      const experiment = await create(server, {
        variants: [{ name: 'control', version: '1' }, { name: 'candidate', version: v2 }],
        targeting: { any: [{ attribute: 'header.x-country', op: 'in', value: ['de', 'at'] }, { attribute: 'param.tier', op: 'eq', value: 'gold' }] },
      });
      await act(server, experiment.id, 'start');
      const units = Array.from({ length: 60 }, (_, i) => `customer-${i}`);
      const seen = new Map<string, string>();
      for (const unit of units) {
        const answer = await infer(server, { 'x-unit-id': unit, 'x-country': 'de' });
        assert.equal(answer.status, 200);
        assert.match(answer.variant ?? '', new RegExp(`^${experiment.id}/(control|candidate)$`));
        assert.deepEqual({ experiment: answer.body.parameters?.experiment, variant: answer.body.parameters?.variant }, { experiment: experiment.id, variant: answer.variant!.split('/')[1] });
        assert.ok(answer.body.id, 'the response carries an id');
        assert.equal(answer.body.parameters?.request_id, answer.body.id, 'and the request id feedback can name');
        seen.set(unit, answer.variant!);
      }
      assert.equal(new Set(seen.values()).size, 2, 'both variants serve');
      for (const unit of units.slice(0, 10)) assert.equal((await infer(server, { 'x-unit-id': unit, 'x-country': 'at' })).variant, seen.get(unit), 'sticky');

      const candidateUnit = units.find((u) => seen.get(u)!.endsWith('/candidate'))!;
      assert.equal((await infer(server, { 'x-unit-id': candidateUnit, 'x-country': 'fr' })).variant, `${experiment.id}/control`, 'not targeted → control');
      const gold = await infer(server, { 'x-unit-id': candidateUnit }, '/v2/models/mlp/infer', { ...gentoo, parameters: { tier: 'gold' } });
      assert.equal(gold.variant, `${experiment.id}/candidate`, 'an OIP parameter can target too');
      assert.equal((await infer(server, { 'x-country': 'de' })).variant, `${experiment.id}/control`, 'no unit id → control');
      assert.equal((await infer(server, { 'x-country': 'de', 'x-unit-id': 'x'.repeat(201) })).variant, `${experiment.id}/control`, 'an over-long unit id counts as none');
      const versioned = await infer(server, { 'x-unit-id': candidateUnit, 'x-country': 'de' }, '/v2/models/mlp/versions/1/infer');
      assert.equal(versioned.variant, null, 'a versioned URL bypasses the experiment');

      const off = await server.request('PUT', `/api/experiments/${experiment.id}/flag`, { json: { enabled: false } });
      assert.equal(off.status, 200);
      assert.equal((await infer(server, { 'x-unit-id': candidateUnit, 'x-country': 'de' })).variant, `${experiment.id}/control`, 'kill switch: all traffic to control at once');
      await server.request('PUT', `/api/experiments/${experiment.id}/flag`, { json: { enabled: true } });

      await server.stop();
      server = await startTestServer({ dataDir });
      for (const unit of units.slice(0, 20)) assert.equal((await infer(server, { 'x-unit-id': unit, 'x-country': 'de' })).variant, seen.get(unit), 'sticky across a restart');

      const results = (await (await server.request('GET', `/api/experiments/${experiment.id}/results`)).json()) as { variants: { name: string; units: number; requests: number }[] };
      const analyzed = results.variants.reduce((n, v) => n + v.units, 0);
      assert.equal(analyzed, 60, 'each targeted unit counted once; untargeted, unit-less and versioned requests are not');
    } finally {
      await server.cleanup();
    }
  });

  test('feedback by request id and by unit id reaches the analysis; results report estimates, lift, p-values and the sample-ratio check', async () => {
    const server = await startTestServer();
    try {
      const v2 = await upload(server, await readFile(MLP));
      const experiment = await create(server, {
        variants: [{ name: 'control', version: '1' }, { name: 'candidate', version: v2 }],
        metrics: [{ name: 'converted', type: 'binary' }, { name: 'revenue', type: 'numeric' }],
        primary_metric: 'converted',
      });
      await act(server, experiment.id, 'start');
      const { key } = (await (await server.request('POST', '/api/keys', { json: { name: 'crm', scopes: ['feedback'] } })).json()) as { key: string };
      let sent = 0;
      for (let i = 0; i < 40; i++) {
        const answer = await infer(server, { 'x-unit-id': `u${i}` });
        if (i % 3 !== 0) continue;
        const byRequest = i % 2 === 0 ? { request_id: answer.body.parameters?.request_id } : { unit_id: `u${i}` };
        const response = await server.request('POST', '/api/feedback', { key, json: { ...byRequest, metric: 'converted', value: 1 } });
        assert.equal(response.status, 200, await response.clone().text());
        sent += 1;
        await server.request('POST', '/api/feedback', { key, json: { unit_id: `u${i}`, metric: 'revenue', value: 12.5 } });
      }
      assert.equal((await server.request('POST', '/api/feedback', { key, json: { unit_id: 'never-seen', metric: 'converted', value: 1 } })).status, 404);
      const scoped = async (model: string) => ((await (await server.request('POST', '/api/keys', { json: { name: `only-${model}`, scopes: [`infer:${model}`] } })).json()) as { key: string }).key;
      assert.equal((await server.request('POST', '/api/feedback', { key: await scoped('other'), json: { unit_id: 'u1', metric: 'revenue', value: 1 } })).status, 404, "a key for another model cannot report on this model's experiment");
      assert.equal((await server.request('POST', '/api/feedback', { key: await scoped('mlp'), json: { unit_id: 'u1', metric: 'revenue', value: 0 } })).status, 200, "an infer:mlp key reports on mlp's experiment");
      assert.equal((await server.request('POST', '/api/feedback', { key, json: { unit_id: 'u0', metric: 'converted', value: 3 } })).status, 400, 'a binary metric takes 0 or 1');
      assert.equal((await server.request('POST', '/api/feedback', { key, json: { unit_id: 'u0', metric: 'converted' } })).status, 400);
      assert.equal((await server.request('POST', '/api/feedback', { key, json: { unit_id: 'u1', metric: 'revenue', value: 1e200 } })).status, 400, 'values are bounded: sums of squares must stay finite');
      assert.equal((await server.request('GET', `/api/experiments/${experiment.id}/results`, { key })).status, 403, 'a feedback key cannot read results');

      const results = (await (await server.request('GET', `/api/experiments/${experiment.id}/results`)).json()) as {
        variants: { name: string; units: number; requests: number; latency_ms: { p50: number | null } }[];
        metrics: { name: string; primary: boolean; comparisons: { variant: string; control: { units: number; mean: number }; treatment: { units: number; mean: number }; pValue: number; sequential: { pValue: number } }[] }[];
        sample_ratio_mismatch: { checked: boolean; mismatch: boolean };
      };
      assert.equal(results.variants.reduce((n, v) => n + v.units, 0), 40);
      assert.ok(results.variants.every((v) => v.latency_ms.p50 !== null && v.requests === v.units));
      const converted = results.metrics.find((m) => m.name === 'converted')!;
      assert.equal(converted.primary, true);
      const comparison = converted.comparisons[0]!;
      assert.equal(comparison.variant, 'candidate');
      const conversions = comparison.control.mean * comparison.control.units + comparison.treatment.mean * comparison.treatment.units;
      assert.ok(Math.abs(conversions - sent) < 1e-9, `every conversion counted once (${conversions} of ${sent})`);
      assert.ok(comparison.pValue >= 0 && comparison.pValue <= 1 && comparison.sequential.pValue >= comparison.pValue - 1e-12);
      const revenue = results.metrics.find((m) => m.name === 'revenue')!.comparisons[0]!;
      assert.ok(Math.abs(revenue.control.mean * revenue.control.units + revenue.treatment.mean * revenue.treatment.units - 12.5 * sent) < 1e-6);
      assert.equal(results.sample_ratio_mismatch.checked, true);
    } finally {
      await server.cleanup();
    }
  });

  test('a slow variant is rolled back automatically by the p95 guardrail, with an audit entry; traffic returns to control', async () => {
    const server = await startTestServer();
    try {
      const slow = await upload(server, slowPenguinModel(100, 1024));
      const experiment = await create(server, {
        variants: [{ name: 'control', version: '1' }, { name: 'slow', version: slow }],
        guardrails: { p95_latency: { max_ratio: 2, min_requests: 30 }, error_rate: { alpha: 0.01, min_requests: 50 }, circuit_breaker: { window: 20, max_error_rate: 0.5 } },
      });
      await act(server, experiment.id, 'start');
      const rolledBack = await until('the rollback', async () => {
        // One at a time: concurrent requests would queue control behind the slow runs on the shared workers.
        for (let i = 0; i < 10; i++) await infer(server, { 'x-unit-id': `user-${Math.random()}-${i}` });
        const view = (await (await server.request('GET', `/api/experiments/${experiment.id}`)).json()) as { status: string; end_reason: string; variants: { weight: number }[] };
        return view.status === 'rolled_back' ? view : undefined;
      }, 30_000);
      assert.match(rolledBack.end_reason, /p95_latency/);
      assert.deepEqual(rolledBack.variants.map((v) => v.weight), [1, 0], "the treatment's weight is 0");
      const audit = (await (await server.request('GET', '/api/audit?action=experiment.rollback')).json()) as { entries: { actor_name: string; target: string }[] };
      assert.ok(audit.entries.some((e) => e.actor_name === 'system' && e.target === experiment.id));
      const after = await infer(server, { 'x-unit-id': 'anyone' });
      assert.equal(after.status, 200);
      assert.equal(after.variant, null, 'the model serves its active (control) version again');
    } finally {
      await server.cleanup();
    }
  });

  test('a broken variant (onnxruntime refuses every request) trips the circuit breaker and is rolled back; its versions cannot be pulled while it runs; bad input never counts', async () => {
    const server = await startTestServer();
    try {
      const broken = await upload(server, failingPenguinModel());
      const experiment = await create(server, { variants: [{ name: 'control', version: '1' }, { name: 'broken', version: broken }] });
      await act(server, experiment.id, 'start');
      for (const [method, path] of [['POST', `/api/models/mlp/versions/${broken}/unload`], ['DELETE', `/api/models/mlp/versions/${broken}`], ['POST', `/api/models/mlp/versions/${broken}/activate`]] as const) {
        const refused = await server.request(method, path);
        assert.equal(refused.status, 409, `${method} ${path} while the experiment runs`);
        assert.match(((await refused.json()) as { error: string }).error, /part of running experiment/);
      }
      // A caller's malformed requests are the caller's: they never count against a variant.
      for (let i = 0; i < 40; i++) {
        const bad = await infer(server, { 'x-unit-id': `bad-${i}` }, '/v2/models/mlp/infer', { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }] });
        assert.equal(bad.status, 400);
      }
      assert.equal(((await (await server.request('GET', `/api/experiments/${experiment.id}`)).json()) as { status: string }).status, 'running');
      const failures: number[] = [];
      await until('the breaker', async () => {
        const answer = await infer(server, { 'x-unit-id': `u-${Math.random()}` });
        if (answer.status !== 200) failures.push(answer.status);
        const view = (await (await server.request('GET', `/api/experiments/${experiment.id}`)).json()) as { status: string };
        return view.status === 'rolled_back' ? true : undefined;
      });
      assert.ok(failures.length >= 10 && failures.every((s) => s === 400), `the broken variant's runs were refused by onnxruntime (${failures.length})`);
      const view = (await (await server.request('GET', `/api/experiments/${experiment.id}`)).json()) as { end_reason: string };
      assert.match(view.end_reason, /circuit_breaker/);
      for (let i = 0; i < 10; i++) assert.equal((await infer(server, { 'x-unit-id': `later-${i}` })).status, 200);
      assert.equal((await server.request('POST', `/api/models/mlp/versions/${broken}/unload`)).status, 200, 'after the rollback the version may go');
    } finally {
      await server.cleanup();
    }
  });

  test('a shadow gets its copy after the response: it never delays it, and its agreement and latency are reported; promote completes', async () => {
    const server = await startTestServer();
    try {
      const v2 = await upload(server, await readFile(MLP));
      // ~10x the layers of the served model's work: a shadow run takes long enough (hundreds of ms)
      // that a response which had waited for it would find it already counted.
      const slow = await upload(server, slowPenguinModel(1000, 1024));
      const experiment = await create(server, { variants: [{ name: 'control', version: '1' }, { name: 'copy', version: v2 }], shadow: { version: slow, percent: 100 } });
      await act(server, experiment.id, 'start');
      const shadowCount = async () => ((await (await server.request('GET', `/api/experiments/${experiment.id}/results`)).json()) as { shadow: { requests: number } }).shadow.requests;
      for (let i = 0; i < 10; i++) {
        const answer = await infer(server, { 'x-unit-id': `s${i}` });
        assert.equal(answer.status, 200);
        // Causal, not timed: right after the answer its shadow copy has not finished yet (had the
        // response waited for it, it would be counted already); then it does finish and count.
        assert.equal(await shadowCount(), i, `request ${i}: the response did not wait for its shadow copy`);
        await until('the shadow copy', async () => ((await shadowCount()) > i ? true : undefined));
      }
      const shadow = await until('the shadow copies', async () => {
        const results = (await (await server.request('GET', `/api/experiments/${experiment.id}/results`)).json()) as { shadow: { requests: number; errors: number; agreement_rate: number | null; latency_ms: { p50: number } } };
        return results.shadow.requests >= 10 ? results.shadow : undefined;
      });
      assert.equal(shadow.errors, 0);
      assert.ok(shadow.agreement_rate !== null && shadow.agreement_rate >= 0 && shadow.agreement_rate <= 1);
      assert.ok(shadow.latency_ms.p50 > 0);

      const promoted = await server.request('POST', `/api/experiments/${experiment.id}/promote`, { json: { variant: 'copy' } });
      assert.equal(promoted.status, 200);
      assert.equal(((await promoted.json()) as { status: string }).status, 'completed');
      const model = (await (await server.request('GET', '/api/models/mlp')).json()) as { active_version: string };
      assert.equal(model.active_version, v2, 'the winning variant is the active version');
    } finally {
      await server.cleanup();
    }
  });

  test('a canary ramp advances step by step once each step has its treatment units and the guardrails pass; treatment units stay treatment', async () => {
    const server = await startTestServer();
    try {
      const v2 = await upload(server, await readFile(MLP));
      const experiment = await create(server, { variants: [{ name: 'control', version: '1' }, { name: 'canary', version: v2 }], canary: { steps: [10, 50, 100], min_units_per_step: 5 },
        // A step advances only when every guardrail has enough data to judge; small numbers keep the test short.
        guardrails: { p95_latency: { max_ratio: 20, min_requests: 10 }, error_rate: { alpha: 0.01, min_requests: 10 }, circuit_breaker: { window: 20, max_error_rate: 0.5 } } });
      const started = await act(server, experiment.id, 'start');
      assert.deepEqual((started.variants as { weight: number }[]).map((v) => v.weight), [0.9, 0.1]);
      const treated = new Set<string>();
      let unit = 0;
      const view = await until('the last canary step', async () => {
        for (let i = 0; i < 10; i++, unit++) {
          const answer = await infer(server, { 'x-unit-id': `c${unit}` });
          if (answer.variant?.endsWith('/canary')) treated.add(`c${unit}`);
        }
        const current = (await (await server.request('GET', `/api/experiments/${experiment.id}`)).json()) as { canary_step: number; variants: { weight: number }[] };
        return current.canary_step === 2 ? current : undefined;
      }, 20_000);
      assert.deepEqual(view.variants.map((v) => v.weight), [0, 1]);
      for (const id of [...treated].slice(0, 10)) assert.ok((await infer(server, { 'x-unit-id': id })).variant?.endsWith('/canary'), 'a unit that saw the canary keeps it as the ramp grows');
      const audit = (await (await server.request('GET', '/api/audit?action=experiment.canary_advance')).json()) as { entries: { details: { step: number } }[] };
      assert.deepEqual(audit.entries.map((e) => e.details.step).sort(), [1, 2]);
      const results = (await (await server.request('GET', `/api/experiments/${experiment.id}/results`)).json()) as { canary: { step: number; treatment_percent: number } };
      assert.deepEqual({ step: results.canary.step, percent: results.canary.treatment_percent }, { step: 2, percent: 100 });
    } finally {
      await server.cleanup();
    }
  });
});
