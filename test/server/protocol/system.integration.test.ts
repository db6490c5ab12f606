import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ListenError } from '../../../server/common/ListenError.js';
import { GENTOO_FEATURES, startTestServer, type TestServer } from '../../helpers/testServer.js';

let server: TestServer;
before(async () => { server = await startTestServer(); });
after(() => server.cleanup());

test('GET /api/system describes hardware and plan in snake_case', async () => {
  const info = (await (await server.request('GET', '/api/system')).json()) as Record<string, Record<string, unknown>>;
  const cpu = info.hardware!.cpu as Record<string, unknown>;
  assert.ok(typeof cpu.physical_cores === 'number' && cpu.physical_cores >= 1);
  if (cpu.flags !== null) assert.ok(typeof (cpu.flags as Record<string, unknown>).avx2 === 'boolean');
  assert.equal((info.execution_plan!.execution_providers as string[]).at(-1), 'cpu', 'CPU is always the fallback');
  assert.equal(info.execution_plan!.intra_op_threads, 1, 'the test server asks for 1 thread per instance');
  assert.equal(info.providers!.cpu, true);
  assert.doesNotMatch(JSON.stringify(info), /"[a-z]+[A-Z]\w*":/, 'no camelCase keys');
  assert.deepEqual(info.webgpu, { checking: false, available: false, reason: 'not checked: the WebGPU probe is off for this run', adapter: null, max_abs_diff: null, checked_at: null, duration_ms: null }, 'the test helper starts no WebGPU probe unless asked');
  assert.equal(info.providers!.webgpu, false);
});

/** GET /api/system's webgpu once its probe has answered. */
async function webgpuWhenChecked(target: TestServer): Promise<Record<string, unknown>> {
  for (let start = Date.now(); Date.now() - start < 20_000; await new Promise((resolve) => setTimeout(resolve, 100))) {
    const info = (await (await target.request('GET', '/api/system')).json()) as { webgpu: Record<string, unknown>; providers: Record<string, boolean> };
    if (info.webgpu.checking === false) return { ...info.webgpu, provider_listed: info.providers.webgpu };
  }
  throw new Error('the WebGPU probe did not answer within 20 s');
}

test('a machine without a Vulkan driver: the server starts as before and says why WebGPU is unavailable; a restart shows that answer at once', { skip: process.platform !== 'linux' || process.arch !== 'x64' ? 'Vulkan is the WebGPU backend only on Linux' : false }, async () => {
  const noVulkan = { env: { VK_DRIVER_FILES: '/nonexistent/icd.json', VK_ICD_FILENAMES: '/nonexistent/icd.json' } };
  const first = await startTestServer({ webgpuProbe: noVulkan });
  try {
    const webgpu = await webgpuWhenChecked(first);
    assert.equal(webgpu.available, false);
    assert.match(String(webgpu.reason), /^Failed to get a WebGPU adapter: No supported adapters \(the Vulkan loader found no driver/);
    assert.equal(webgpu.adapter, null);
    assert.equal(webgpu.provider_listed, false);
    assert.equal((await first.request('POST', '/v2/models/mlp/infer', { json: { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: GENTOO_FEATURES }] } })).status, 200, 'and serves on the CPU');
    await first.stop();
    // A hanging probe this time: until it answers, the last start's answer shows, marked as being checked again.
    const again = await startTestServer({ dataDir: first.dataDir, webgpuProbe: { command: { file: process.execPath, args: ['-e', 'setInterval(() => {}, 1000)'] }, timeoutMs: 60_000 } });
    try {
      const { webgpu: shown } = (await (await again.request('GET', '/api/system')).json()) as { webgpu: Record<string, unknown> };
      const { checking, ...cached } = shown;
      const { checking: _, provider_listed: __, ...probed } = webgpu;
      assert.deepEqual(cached, probed);
      assert.equal(checking, true);
    } finally {
      await again.stop();
    }
  } finally {
    await first.cleanup();
  }
});

test('a WebGPU probe that hangs delays nothing: /api/system answers while it runs, then shows the time-out as the reason', async () => {
  const hanging = await startTestServer({ webgpuProbe: { command: { file: process.execPath, args: ['-e', 'setInterval(() => {}, 1000)'] }, timeoutMs: 1500, platform: 'linux', arch: 'x64' } });
  try {
    const { webgpu } = (await (await hanging.request('GET', '/api/system')).json()) as { webgpu: Record<string, unknown> };
    assert.deepEqual({ checking: webgpu.checking, available: webgpu.available, reason: webgpu.reason }, { checking: true, available: false, reason: 'not checked yet: the probe runs in the background' });
    const checked = await webgpuWhenChecked(hanging);
    assert.equal(checked.reason, 'the probe timed out after 1.5 s');
    assert.equal(checked.available, false);
  } finally {
    await hanging.cleanup();
  }
});


test('settings: validated partial updates, saved, and the restart-only ones are named', async () => {
  const bad = await server.request('PUT', '/api/settings', { json: { port: 'x', colour: 'blue' } });
  assert.equal(bad.status, 400);
  assert.match(((await bad.json()) as { error: string }).error, /port/);
  const put = await server.request('PUT', '/api/settings', { json: { port: 9100, log_retention_days: 10 } });
  assert.equal(put.status, 200);
  const body = (await put.json()) as { restart_required: string[]; saved: Record<string, unknown>; effective: Record<string, unknown> };
  assert.deepEqual(body.restart_required, ['port']);
  assert.deepEqual(body.saved, { port: 9100, log_retention_days: 10 });
  assert.equal(body.effective.log_retention_days, 10, 'takes effect at once');
  assert.equal(body.effective.port, 0, 'the running port stays until a restart');
  const reset = (await (await server.request('PUT', '/api/settings', { json: { port: null } })).json()) as { saved: Record<string, unknown> };
  assert.deepEqual(reset.saved, { log_retention_days: 10 });
});

test('settings name what a flag or environment variable sets for this run', async () => {
  const view = (await (await server.request('GET', '/api/settings')).json()) as { overridden: string[] };
  assert.deepEqual(view.overridden.sort(), ['host', 'port'], 'the test server passes host and port as overrides, like --host/--port');
});

test('first-run wizard state: not done on a fresh data dir, done once (audited once), admin only', async () => {
  const { key: inferKey } = (await (await server.request('POST', '/api/keys', { json: { name: 'app', scopes: ['infer'] } })).json()) as { key: string };
  assert.equal((await server.request('GET', '/api/setup', { key: inferKey })).status, 403);
  assert.equal((await server.request('POST', '/api/setup/complete', { key: inferKey })).status, 403);
  assert.deepEqual(await (await server.request('GET', '/api/setup')).json(), { completed_at: null });
  const first = (await (await server.request('POST', '/api/setup/complete')).json()) as { completed_at: string };
  assert.ok(!Number.isNaN(Date.parse(first.completed_at)));
  const again = (await (await server.request('POST', '/api/setup/complete')).json()) as { completed_at: string };
  assert.equal(again.completed_at, first.completed_at, 'finishing twice keeps the first time');
  assert.deepEqual(await (await server.request('GET', '/api/setup')).json(), first);
  const audit = (await (await server.request('GET', '/api/audit?limit=1000')).json()) as { entries: { action: string }[] };
  assert.equal(audit.entries.filter((e) => e.action === 'setup.complete').length, 1);
  const settings = (await (await server.request('GET', '/api/settings')).json()) as { saved: Record<string, unknown> };
  assert.ok(!('first_run_completed_at' in settings.saved), 'not a setting: it stays out of the settings view');
});

test('an address that cannot be bound fails the start with a clear error and leaves nothing running', async () => {
  await assert.rejects(startTestServer({ dataDir: server.dataDir, overrides: { host: '127.0.0.1', port: server.running.port } }), (e: unknown) => e instanceof ListenError && /EADDRINUSE/.test(e.message));
  assert.equal((await server.request('GET', '/v2/health/live', { key: null })).status, 200, 'the running server is untouched');
});
