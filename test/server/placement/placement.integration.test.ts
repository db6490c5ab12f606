import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { GENTOO_FEATURES, startTestServer, type TestServer } from '../../helpers/testServer.js';

/** .ci/run sets it: there a missing WebGPU adapter fails these tests instead of skipping them. */
const REQUIRED = process.env.CI_REQUIRE_WEBGPU === '1';

interface Placement {
  provider_setting: string;
  placed_by_measurement: boolean;
  execution_provider: string | null;
  report: null | { provider: string; previous_provider: string; reasons: string[]; validation: string; speedup: number; speedup_interval: [number, number]; timed_pairs: number; margin: number; outputs: { passes: boolean }[] };
  decided_at: string | null;
}

let server: TestServer;
before(async () => { server = await startTestServer({ webgpuProbe: {} }); });
after(() => server.cleanup());

const placement = async () => (await (await server.request('GET', '/api/models/mlp/versions/1/placement')).json()) as Placement;

/** The next decision after `previous` (null: the first): the job runs in the background. */
async function decided(previous: string | null): Promise<Placement> {
  for (let i = 0; i < 600; i++) {
    const now = await placement();
    if (now.decided_at !== null && now.decided_at !== previous) return now;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('no placement was decided');
}

test('on a software WebGPU device, auto keeps the bundled model on the CPU by measurement, and re-runs keep that decision', async (t) => {
  let webgpu: { available: boolean; reason: string | null } | undefined;
  for (let i = 0; i < 300 && !webgpu; i++) {
    const system = (await (await server.request('GET', '/api/system')).json()) as { webgpu: { checking: boolean; available: boolean; reason: string | null } };
    if (!system.webgpu.checking) webgpu = system.webgpu;
    else await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (!webgpu?.available) {
    if (REQUIRED) assert.fail(`no WebGPU adapter: ${webgpu?.reason}`);
    t.skip(`no WebGPU adapter here: ${webgpu?.reason}`);
    return;
  }
  let now = await decided(null);
  assert.deepEqual([now.provider_setting, now.placed_by_measurement], ['auto', true]);
  const check = (p: Placement) => {
    const report = p.report!;
    assert.equal(report.validation, 'samples', 'measured on its 69 held-out samples');
    assert.ok(report.outputs.every((o) => o.passes), 'WebGPU answers as the CPU does');
    assert.ok(report.speedup_interval[1] < report.margin / 1.03, `lavapipe is slower than the CPU throughout: ${JSON.stringify(report.speedup_interval)}`);
    assert.equal(report.provider, 'cpu');
    assert.match(report.reasons.at(-1)!, /^webgpu vs cpu: speed-up .* is below 1\.068× \(1\.100× less 3%\) throughout$/);
    assert.equal(p.execution_provider, 'cpu');
  };
  check(now);
  for (let run = 0; run < 3; run++) {
    assert.equal((await server.request('POST', '/api/models/mlp/versions/1/placement')).status, 202);
    now = await decided(now.decided_at);
    assert.equal(now.report!.previous_provider, 'cpu');
    check(now);
  }
  const answer = await server.request('POST', '/v2/models/mlp/infer', { json: { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: GENTOO_FEATURES }] } });
  assert.equal(answer.status, 200);
});

test('a model whose provider is forced is not placed by measurement', async () => {
  assert.equal((await server.request('PUT', '/api/models/mlp/settings', { json: { provider: 'cpu' } })).status, 200);
  const refused = await server.request('POST', '/api/models/mlp/versions/1/placement');
  assert.equal(refused.status, 409);
  assert.match(((await refused.json()) as { error: string }).error, /provider setting is 'cpu'/);
  assert.equal((await placement()).placed_by_measurement, false);
  assert.equal((await server.request('PUT', '/api/models/mlp/settings', { json: { provider: null } })).status, 200);
});
