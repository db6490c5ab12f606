import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { delimiter, join } from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import systeminformation from 'systeminformation';
import { probeHardware, type HardwareProfile } from '../../../server/hardware/probeHardware.js';
import type { SystemInformation } from '../../../server/hardware/SystemInformation.js';
import { hardwareProfileSchema, loadFixture } from './hardwareFixtures.js';
import { fakeSystemInformation, NVIDIA_SERVER_RAW } from './recordedSystemInformation.js';

const never = () => new Promise<never>(() => {});
const fail = (message: string) => () => Promise.reject(new Error(message));
const throwNow = (message: string) => () => {
  throw new Error(message);
};
const onLinuxX64 = process.platform === 'linux' && process.arch === 'x64';

/** The probe's result, or 'too slow' if it has not settled within `limitMs` (an unref'd timer, so it holds nothing open). */
async function within(limitMs: number, probe: Promise<HardwareProfile>): Promise<HardwareProfile | 'too slow'> {
  return Promise.race([probe, sleep(limitMs, 'too slow' as const, { ref: false })]);
}

function assertSane(profile: HardwareProfile): void {
  hardwareProfileSchema.parse(profile);
  assert.ok(profile.cpu.physicalCores >= 1);
  assert.ok(profile.cpu.logicalCores >= profile.cpu.physicalCores);
  assert.ok(profile.memory.totalBytes > 0);
  assert.ok(profile.memory.availableBytes <= profile.memory.totalBytes);
  assert.equal(profile.os.platform, process.platform);
  assert.equal(profile.os.arch, process.arch);
}

describe('probeHardware on this machine', () => {
  test('the real probe (one child process per call) returns sane values', async () => {
    const profile = await probeHardware();
    assertSane(profile);
    assert.deepEqual(profile.probe, { status: 'ok', durationMs: profile.probe.durationMs, errors: [] });
    assert.ok(profile.cpu.brand.length > 0);
    assert.ok(profile.cpu.logicalCores <= os.cpus().length);
  });

  test('the systeminformation module itself can be passed in (in-process, unbounded)', async () => {
    const profile = await probeHardware({ si: systeminformation });
    assertSane(profile);
    assert.equal(profile.probe.status, 'ok');
  });
});

describe('probeHardware with recorded systeminformation answers', () => {
  test('the NVIDIA server answers map to the recorded fixture', { skip: !onLinuxX64 && 'platform and arch come from node:os' }, async () => {
    const fixture = loadFixture('linux-nvidia-server');
    const profile = await probeHardware({ si: fakeSystemInformation() });
    assert.deepEqual({ ...profile, probe: { ...profile.probe, durationMs: 0 } }, { ...fixture, probe: { ...fixture.probe, durationMs: 0 } });
  });

  test('"12th Gen Intel® Core™" keeps its manufacturer once and loses the split-off "Gen"', async () => {
    const si = fakeSystemInformation({ cpu: async () => ({ ...NVIDIA_SERVER_RAW.cpu, brand: 'Gen Intel® Core™ i7-12700H' }) });
    assert.equal((await probeHardware({ si })).cpu.brand, 'Intel® Core™ i7-12700H');
  });

  test('GPU vendors are normalized from lspci and WMI spellings; unknown vram is null', async () => {
    const controllers = [
      { vendor: 'Advanced Micro Devices, Inc. [AMD/ATI]', model: 'Navi 31 [Radeon RX 7900 XT/7900 XTX]', bus: 'PCIe', vram: 256 },
      { vendor: 'Intel Corporation', model: 'Intel(R) Iris(R) Xe Graphics', bus: 'PCI', vram: 128.5 },
      { vendor: 'NVIDIA', model: 'NVIDIA GeForce RTX 3050 Ti Laptop GPU', bus: 'PCI', vram: 4096 },
      { vendor: 'Microsoft', model: 'Microsoft Basic Display Adapter', bus: '', vram: null },
    ];
    const profile = await probeHardware({ si: fakeSystemInformation({ graphics: async () => ({ controllers }) }) });
    assert.deepEqual(profile.gpus, [
      { vendor: 'amd', model: 'Navi 31 [Radeon RX 7900 XT/7900 XTX]', vramMB: 256, bus: 'PCIe' },
      { vendor: 'intel', model: 'Intel(R) Iris(R) Xe Graphics', vramMB: 129, bus: 'PCI' },
      { vendor: 'nvidia', model: 'NVIDIA GeForce RTX 3050 Ti Laptop GPU', vramMB: 4096, bus: 'PCI' },
      { vendor: 'other', model: 'Microsoft Basic Display Adapter', vramMB: null },
    ]);
  });
});

describe('probeHardware fallbacks and the time bound', () => {
  test('a graphics() that never resolves is cut off at timeoutMs; the rest of the profile stands', async () => {
    const profile = await within(2000, probeHardware({ timeoutMs: 200, si: fakeSystemInformation({ graphics: never }) }));
    assert.notEqual(profile, 'too slow');
    if (profile === 'too slow') return;
    assertSane(profile);
    assert.equal(profile.probe.status, 'partial');
    assert.deepEqual(profile.probe.errors, ['graphics: timed out after 200 ms']);
    assert.deepEqual(profile.gpus, []);
    assert.equal(profile.cpu.physicalCores, NVIDIA_SERVER_RAW.cpu.physicalCores);
  });

  test('when every call hangs, the whole profile comes from node:os within the bound', async () => {
    const si: SystemInformation = { cpu: never, cpuFlags: never, mem: never, graphics: never, osInfo: never };
    const profile = await within(2000, probeHardware({ timeoutMs: 200, si }));
    assert.notEqual(profile, 'too slow');
    if (profile === 'too slow') return;
    assertSane(profile);
    assert.equal(profile.probe.status, 'fallback');
    assert.equal(profile.probe.errors.length, 5);
    assert.ok(profile.probe.errors.every((error) => error.endsWith('timed out after 200 ms')));
  });

  test('calls that reject or throw synchronously fall back to node:os values and are recorded', async () => {
    const si: SystemInformation = {
      cpu: throwNow('lscpu exploded'),
      cpuFlags: fail('no flags'),
      mem: fail('no /proc/meminfo'),
      graphics: throwNow('no lspci'),
      osInfo: fail('no os-release'),
    };
    const profile = await probeHardware({ timeoutMs: 200, si });
    assertSane(profile);
    assert.equal(profile.probe.status, 'fallback');
    assert.deepEqual(profile.probe.errors, ['cpu: lscpu exploded', 'cpuFlags: no flags', 'mem: no /proc/meminfo', 'graphics: no lspci', 'osInfo: no os-release']);
    assert.equal(profile.cpu.logicalCores, os.availableParallelism());
    assert.equal(profile.cpu.physicalCores, os.availableParallelism());
    assert.equal(profile.memory.totalBytes, os.totalmem());
    assert.deepEqual(profile.gpus, []);
    assert.deepEqual({ distro: profile.os.distro, release: profile.os.release }, { distro: os.type(), release: os.release() });
    // Without a flag string, x86 flags are unknown; other CPUs have none of them.
    assert.equal(profile.cpu.flags === null, process.arch === 'x64' || process.arch === 'ia32');
  });

  test('nonsense answers count as failures: 0 cores, 0 bytes of memory', async () => {
    const si = fakeSystemInformation({
      cpu: async () => ({ ...NVIDIA_SERVER_RAW.cpu, physicalCores: 0 }),
      mem: async () => ({ total: 0, available: 0 }),
    });
    const profile = await probeHardware({ si });
    assertSane(profile);
    assert.equal(profile.probe.status, 'partial');
    assert.deepEqual(profile.probe.errors, ['cpu: reported 0 physical / 32 logical cores', 'mem: reported 0 bytes of memory']);
    assert.equal(profile.cpu.physicalCores, os.availableParallelism());
    assert.equal(profile.memory.totalBytes, os.totalmem());
  });

  test(
    'a hung nvidia-smi (run synchronously by systeminformation) cannot stall the default probe',
    { skip: process.platform !== 'linux' && 'uses shell scripts named lspci and nvidia-smi on PATH' },
    async () => {
      // systeminformation's Linux graphics() runs nvidia-smi with execFileSync once lspci succeeds;
      // in-process, that would block the event loop and every timer with it.
      const bin = await mkdtemp(join(os.tmpdir(), 'inferbox-fake-gpu-tools-'));
      const savedPath = process.env.PATH;
      try {
        await writeFile(join(bin, 'lspci'), '#!/bin/sh\necho "01:00.0 VGA compatible controller: NVIDIA Corporation GA102GL [RTX A6000] (rev a1)"\n');
        await writeFile(join(bin, 'nvidia-smi'), '#!/bin/sh\nsleep 20\n');
        await Promise.all([chmod(join(bin, 'lspci'), 0o755), chmod(join(bin, 'nvidia-smi'), 0o755)]);
        process.env.PATH = `${bin}${delimiter}${savedPath ?? ''}`;
        const profile = await within(6000, probeHardware({ timeoutMs: 2000 }));
        assert.notEqual(profile, 'too slow');
        if (profile === 'too slow') return;
        assertSane(profile);
        assert.notEqual(profile.probe.status, 'ok');
        assert.ok(profile.probe.errors.includes('graphics: timed out after 2000 ms'), profile.probe.errors.join('; '));
      } finally {
        process.env.PATH = savedPath;
        await rm(bin, { recursive: true, force: true });
      }
    },
  );
});
