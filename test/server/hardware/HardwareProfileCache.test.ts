import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { HardwareProfileCache } from '../../../server/hardware/HardwareProfileCache.js';
import type { HardwareProfile, ProbeStatus } from '../../../server/hardware/HardwareProfile.js';

const dataDir = mkdtempSync(join(tmpdir(), 'inferbox-hwcache-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));

const profile = (status: ProbeStatus, brand: string): HardwareProfile => ({
  cpu: { brand, vendor: 'Intel', physicalCores: 2, logicalCores: 2, speedGHz: 2.1, flags: null },
  memory: { totalBytes: 8e9, availableBytes: 4e9 },
  gpus: [],
  os: { platform: 'linux', distro: 'Debian', release: '12', arch: 'x64' },
  probe: { status, durationMs: 300, errors: [] },
});

test('a restart on the same machine reads the last probe; another machine or a broken file probes again', () => {
  const cache = new HardwareProfileCache(dataDir);
  assert.equal(cache.read(), null, 'first start: nothing cached');
  cache.write(profile('ok', 'Xeon'));
  assert.equal(new HardwareProfileCache(dataDir).read()?.cpu.brand, 'Xeon');
  cache.write(profile('fallback', 'node:os only'));
  assert.equal(cache.read()?.cpu.brand, 'Xeon', 'a probe where every call failed does not replace a real answer');
  cache.write(profile('partial', 'Xeon, graphics timed out'));
  assert.equal(cache.read()?.cpu.brand, 'Xeon, graphics timed out');

  const path = join(dataDir, 'hardware.json');
  const saved = JSON.parse(readFileSync(path, 'utf8')) as { machine: string };
  writeFileSync(path, JSON.stringify({ ...saved, machine: '["linux","x64",64,"another CPU",1]' }));
  assert.equal(cache.read(), null, 'a data dir moved to another machine probes again');
  writeFileSync(path, '{ not json');
  assert.equal(cache.read(), null);
});
