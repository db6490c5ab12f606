import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { WebGpuStatusCache } from '../../../server/hardware/WebGpuStatusCache.js';
import type { WebGpuStatus } from '../../../server/hardware/WebGpuStatus.js';

const dataDir = mkdtempSync(join(tmpdir(), 'inferbox-webgpucache-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));

const status: WebGpuStatus = {
  available: true,
  reason: null,
  adapter: { vendor: 'Mesa', name: 'llvmpipe (LLVM 15.0.6, 256 bits)', backend: 'vulkan', driver: 'libvulkan_lvp.so', software: true },
  maxAbsDiff: 6e-8,
  checkedAt: '2026-12-07T20:00:00.000Z',
  durationMs: 420,
};

test('a restart on the same machine reads the last WebGPU answer; another machine or a broken file has none', () => {
  const cache = new WebGpuStatusCache(dataDir);
  assert.equal(cache.read(), null, 'first start: nothing cached');
  cache.write(status);
  assert.deepEqual(new WebGpuStatusCache(dataDir).read(), status);
  const unavailable = { ...status, available: false, reason: 'Failed to get a WebGPU adapter: No supported adapters', adapter: null, maxAbsDiff: null };
  cache.write(unavailable);
  assert.deepEqual(cache.read(), unavailable, 'a driver removed since: the newer answer replaces it');

  const path = join(dataDir, 'webgpu.json');
  assert.equal(statSync(path).mode & 0o777, 0o600);
  const saved = JSON.parse(readFileSync(path, 'utf8')) as { machine: string };
  writeFileSync(path, JSON.stringify({ ...saved, machine: '["linux","x64",64,"another CPU",1]' }));
  assert.equal(cache.read(), null, 'a data dir moved to another machine probes again');
  writeFileSync(path, '{ not json');
  assert.equal(cache.read(), null);
});
