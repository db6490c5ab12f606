import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { cleanOrtMessage, probeWebGpu } from '../../../server/runtime/probeWebGpu.js';

/**
 * The WebGPU probe with real child processes and the real onnxruntime-node: on this machine (Mesa's
 * software Vulkan device, see .ci/run), with the Vulkan drivers hidden, and with children that
 * hang, crash or fail instead of probing.
 */
const MODEL = join(import.meta.dirname, '../../../models/mlp/model.onnx');
/** Set by .ci/run, which installs the Vulkan driver: there a missing adapter fails the test instead of being reported. */
const REQUIRE_WEBGPU = process.env.CI_REQUIRE_WEBGPU === '1';
/** Hides every Vulkan driver from the loader (1.3.239 honours both; VK_ICD_FILENAMES is the older name). */
const NO_VULKAN = { VK_DRIVER_FILES: '/nonexistent/icd.json', VK_ICD_FILENAMES: '/nonexistent/icd.json' };
const WEBGPU_BUILD = ['linux-x64', 'win32-x64', 'win32-arm64', 'darwin-arm64'].includes(`${process.platform}-${process.arch}`);

let scratch: string;
before(async () => { scratch = await mkdtemp(join(tmpdir(), 'inferbox-webgpu-test-')); });
after(() => rm(scratch, { recursive: true, force: true }));

const node = (script: string) => ({ file: process.execPath, args: ['-e', script] });
const gone = (pid: number) => {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
};

test('this machine: a WebGPU session runs on an adapter the loader names, with the CPU provider\'s answers (software lavapipe here)', async (t) => {
  const status = await probeWebGpu({ modelPath: MODEL });
  t.diagnostic(JSON.stringify(status));
  if (!status.available) {
    if (REQUIRE_WEBGPU) assert.fail(`CI installs a Vulkan driver (.ci/run), but WebGPU is unavailable: ${status.reason}`);
    t.skip(`no WebGPU adapter here: ${status.reason}`);
    return;
  }
  assert.equal(status.reason, null);
  assert.ok(status.maxAbsDiff !== null && status.maxAbsDiff < 1e-4, `outputs within 1e-4 of the CPU's: ${status.maxAbsDiff}`);
  assert.ok(status.durationMs > 0 && status.durationMs < 10_000);
  const adapter = status.adapter!;
  if (process.platform === 'linux') {
    assert.equal(adapter.backend, 'vulkan');
    assert.notEqual(adapter.name, 'unknown', 'loader 1.3.239 names the device it created');
    assert.notEqual(adapter.driver, 'unknown');
    if (/llvmpipe|lavapipe/.test(adapter.name)) {
      assert.deepEqual({ vendor: adapter.vendor, driver: adapter.driver, software: adapter.software }, { vendor: 'Mesa', driver: 'libvulkan_lvp.so', software: true });
    } else {
      assert.equal(adapter.software, false, `a hardware device: ${adapter.name}`);
    }
  }
  if (REQUIRE_WEBGPU && process.platform === 'linux') {
    // .ci/run's machine has no GPU: Mesa's software device is what it installs.
    assert.match(adapter.name, /llvmpipe/);
  }
});

test('with the Vulkan drivers hidden: unavailable, with Dawn\'s reason and what the loader saw', { skip: process.platform !== 'linux' || process.arch !== 'x64' ? 'Vulkan is the WebGPU backend only on Linux' : false }, async () => {
  const status = await probeWebGpu({ modelPath: MODEL, env: NO_VULKAN });
  assert.equal(status.available, false);
  assert.match(status.reason ?? '', /^Failed to get a WebGPU adapter: No supported adapters \(the Vulkan loader found no driver: install mesa-vulkan-drivers/);
  assert.equal(status.adapter, null);
  assert.equal(status.maxAbsDiff, null);
});

test('a probe that hangs is killed at the time bound and becomes the reason', async () => {
  const pidFile = join(scratch, 'hung.pid');
  const started = performance.now();
  const status = await probeWebGpu({ modelPath: MODEL, timeoutMs: 800, command: node(`require('node:fs').writeFileSync(${JSON.stringify(pidFile)}, String(process.pid)); setInterval(() => {}, 1000);`), platform: 'linux', arch: 'x64' });
  assert.deepEqual({ available: status.available, reason: status.reason, adapter: status.adapter }, { available: false, reason: 'the probe timed out after 0.8 s', adapter: null });
  assert.ok(performance.now() - started < 3000, 'answered soon after the bound');
  assert.ok(gone(Number(await readFile(pidFile, 'utf8'))), 'the hung child was killed');
});

test('a probe that crashes (a driver\'s segfault) or exits with an error becomes the reason, with what it printed', async () => {
  const crashed = await probeWebGpu({ modelPath: MODEL, command: node(`console.error('vkCreateDevice: driver bug'); process.kill(process.pid, 'SIGSEGV');`), platform: 'linux', arch: 'x64' });
  assert.equal(crashed.available, false);
  assert.equal(crashed.reason, 'the probe crashed with signal SIGSEGV: vkCreateDevice: driver bug');
  const failed = await probeWebGpu({ modelPath: MODEL, command: node(`console.error('boom'); process.exit(3);`), platform: 'linux', arch: 'x64' });
  assert.equal(failed.reason, 'the probe exited with code 3: boom');
  const silent = await probeWebGpu({ modelPath: MODEL, command: node(''), platform: 'linux', arch: 'x64' });
  assert.equal(silent.reason, 'the probe ended without an answer');
  const missing = await probeWebGpu({ modelPath: MODEL, command: { file: join(scratch, 'no-such-program'), args: [] }, platform: 'linux', arch: 'x64' });
  assert.match(missing.reason ?? '', /^the probe could not start: spawn .* ENOENT$/);
});

test('stopping the probe (the server closing) kills its child', async () => {
  const pidFile = join(scratch, 'stopped.pid');
  const stop = new AbortController();
  const probe = probeWebGpu({ modelPath: MODEL, signal: stop.signal, command: node(`require('node:fs').writeFileSync(${JSON.stringify(pidFile)}, String(process.pid)); setInterval(() => {}, 1000);`), platform: 'linux', arch: 'x64' });
  let pid: number | undefined;
  for (let start = Date.now(); pid === undefined && Date.now() - start < 5000; await new Promise((resolve) => setTimeout(resolve, 50))) {
    pid = Number(await readFile(pidFile, 'utf8').catch(() => '')) || undefined;
  }
  stop.abort();
  assert.equal((await probe).reason, 'the probe was stopped (the server is closing)');
  assert.ok(pid !== undefined && gone(pid));
});

test('the child gets a private XDG_RUNTIME_DIR when it has none, the loader\'s log on, and onnxruntime\'s telemetry off', async () => {
  const runtimeDir = join(scratch, 'data', 'xdg-runtime');
  const report = `const d = process.env.XDG_RUNTIME_DIR; process.send({ stage: 'session', error: [d, (require('node:fs').statSync(d).mode & 0o777).toString(8), process.env.VK_LOADER_DEBUG, process.env.ORT_DISABLE_TELEMETRY].join(' ') }, () => process.exit(0));`;
  const status = await probeWebGpu({ modelPath: MODEL, runtimeDir, env: { XDG_RUNTIME_DIR: '', ORT_DISABLE_TELEMETRY: '0' }, command: node(report), platform: 'linux', arch: 'x64' });
  assert.ok(status.reason?.startsWith(`${runtimeDir} 700 driver 1 `), status.reason ?? '');
  const own = await probeWebGpu({ modelPath: MODEL, runtimeDir, env: { XDG_RUNTIME_DIR: scratch }, command: node(report), platform: 'linux', arch: 'x64' });
  assert.ok(own.reason?.startsWith(`${scratch} 700 driver 1 `), `an XDG_RUNTIME_DIR that is set is kept: ${own.reason}`);
});

test('a build without the WebGPU provider answers at once, without a child', async () => {
  for (const [platform, arch] of [['linux', 'arm64'], ['darwin', 'x64']] as const) {
    const status = await probeWebGpu({ modelPath: MODEL, platform, arch, command: node('process.kill(process.pid, "SIGSEGV")') });
    assert.deepEqual({ available: status.available, reason: status.reason }, { available: false, reason: `this onnxruntime-node build (${platform}-${arch}) has no WebGPU provider` });
  }
  assert.equal(WEBGPU_BUILD || !REQUIRE_WEBGPU, true, `CI_REQUIRE_WEBGPU is set on ${process.platform}-${process.arch}, which has no WebGPU build`);
});

test('onnxruntime\'s failed checks keep only what the admin needs', () => {
  const raw = '/onnxruntime_src/onnxruntime/core/providers/webgpu/webgpu_context.cc:136 onnxruntime::webgpu::WebGpuContext::Initialize(const onnxruntime::webgpu::WebGpuContextConfig&)::<lambda()> adapter_result.status == wgpu::RequestAdapterStatus::Success was false. Failed to get a WebGPU adapter: No supported adapters';
  assert.equal(cleanOrtMessage(raw), 'Failed to get a WebGPU adapter: No supported adapters');
  assert.equal(cleanOrtMessage('Load model from x failed: Protobuf parsing failed.'), 'Load model from x failed: Protobuf parsing failed.');
});
