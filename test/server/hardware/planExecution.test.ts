import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { HardwareProfile } from '../../../server/hardware/HardwareProfile.js';
import {
  EXECUTION_PROVIDERS,
  ExecutionPlanError,
  planExecution,
  type ExecutionPlan,
  type ProviderAvailability,
} from '../../../server/hardware/planExecution.js';
import { FIXTURE_NAMES, loadFixture } from './hardwareFixtures.js';

const CPU_ONLY: ProviderAvailability = { cpu: true };
const EVERYTHING: ProviderAvailability = { cpu: true, cuda: true, dml: true, coreml: true, webgpu: true };

/** The fields that decide how sessions are built, without the prose. */
function shape(plan: ExecutionPlan) {
  const { provider, executionProviders, instances, intraOpThreads, interOpThreads } = plan;
  return { provider, executionProviders, instances, intraOpThreads, interOpThreads };
}

function withCores(profile: HardwareProfile, physicalCores: number): HardwareProfile {
  return { ...profile, cpu: { ...profile.cpu, physicalCores, logicalCores: physicalCores * 2 } };
}

/** Every subset of the accelerator providers, each with cpu. */
function allAvailabilities(): ProviderAvailability[] {
  const accelerators = EXECUTION_PROVIDERS.filter((name) => name !== 'cpu');
  return Array.from({ length: 2 ** accelerators.length }, (_, mask) =>
    Object.fromEntries([['cpu', true], ...accelerators.map((name, bit) => [name, (mask & (1 << bit)) !== 0])]),
  );
}

describe('planExecution: recorded machines', () => {
  const server = loadFixture('linux-nvidia-server');
  const laptop = loadFixture('windows-laptop');
  const mac = loadFixture('macos-m2');
  const vm = loadFixture('linux-2core-vm');

  test('NVIDIA Linux server with the CUDA provider: cuda, 2 instances with few threads', () => {
    const plan = planExecution(server, { cpu: true, cuda: true });
    assert.deepEqual(shape(plan), { provider: 'cuda', executionProviders: ['cuda', 'cpu'], instances: 2, intraOpThreads: 2, interOpThreads: 1 });
    assert.match(plan.reasons.join('\n'), /NVIDIA RTX A6000 with 49140 MB/);
  });

  test('NVIDIA Linux server without the CUDA provider: cpu, 4 instances × 4 threads, and says why', () => {
    const plan = planExecution(server, CPU_ONLY);
    assert.deepEqual(shape(plan), { provider: 'cpu', executionProviders: ['cpu'], instances: 4, intraOpThreads: 4, interOpThreads: 1 });
    assert.match(plan.reasons[0] ?? '', /NVIDIA RTX A6000 .*no cuda provider/);
  });

  test('the server BMC display adapter and the webgpu provider do not make a GPU plan', () => {
    const bmcOnly = { ...server, gpus: server.gpus.filter((gpu) => gpu.vendor === 'other') };
    assert.equal(planExecution(bmcOnly, EVERYTHING).provider, 'cpu');
  });

  test('Windows laptop: CUDA beats DirectML on the NVIDIA dGPU, DirectML without CUDA, CPU without either', () => {
    assert.deepEqual(shape(planExecution(laptop, { cpu: true, cuda: true, dml: true })), {
      provider: 'cuda',
      executionProviders: ['cuda', 'cpu'],
      instances: 2,
      intraOpThreads: 2,
      interOpThreads: 1,
    });
    const dml = planExecution(laptop, { cpu: true, dml: true });
    assert.deepEqual(shape(dml), { provider: 'dml', executionProviders: ['dml', 'cpu'], instances: 2, intraOpThreads: 2, interOpThreads: 1 });
    // Both GPUs are named (DirectML picks the adapter), and the CUDA miss is explained.
    assert.match(dml.reasons[0] ?? '', /^provider dml: Intel.* and NVIDIA GeForce RTX 3050 Ti Laptop GPU with 4096 MB, .*\(NVIDIA .* no cuda provider\)$/);
    // 14 physical cores (6 P + 8 E): 4 instances, floor(14 / 4) = 3 threads each.
    assert.deepEqual(shape(planExecution(laptop, CPU_ONLY)), { provider: 'cpu', executionProviders: ['cpu'], instances: 4, intraOpThreads: 3, interOpThreads: 1 });
  });

  test('Windows with only the Intel iGPU: DirectML, never CUDA', () => {
    const integratedOnly = { ...laptop, gpus: laptop.gpus.filter((gpu) => gpu.vendor === 'intel') };
    const plan = planExecution(integratedOnly, EVERYTHING);
    assert.equal(plan.provider, 'dml');
    assert.match(plan.reasons[0] ?? '', /^provider dml: Intel\(R\) Iris\(R\) Xe Graphics with 128 MB, and/);
  });

  test('DirectML is Windows-only: a Linux box with an AMD GPU stays on cpu', () => {
    const amdLinux: HardwareProfile = { ...server, gpus: [{ vendor: 'amd', model: 'Navi 31 [Radeon RX 7900 XTX]', vramMB: 24560, bus: 'PCIe' }] };
    assert.equal(planExecution(amdLinux, EVERYTHING).provider, 'cpu');
  });

  test('Apple silicon: CoreML when available, else cpu 4 × 2', () => {
    assert.deepEqual(shape(planExecution(mac, { cpu: true, coreml: true })), {
      provider: 'coreml',
      executionProviders: ['coreml', 'cpu'],
      instances: 2,
      intraOpThreads: 2,
      interOpThreads: 1,
    });
    const cpu = planExecution(mac, CPU_ONLY);
    assert.deepEqual(shape(cpu), { provider: 'cpu', executionProviders: ['cpu'], instances: 4, intraOpThreads: 2, interOpThreads: 1 });
    assert.match(cpu.reasons[0] ?? '', /Apple silicon \(Apple M2\) found, but .*no coreml provider/);
  });

  test('CoreML is not planned on an Intel Mac', () => {
    const intelMac: HardwareProfile = { ...mac, os: { ...mac.os, arch: 'x64' }, gpus: [] };
    assert.equal(planExecution(intelMac, EVERYTHING).provider, 'cpu');
  });

  test('2-core VM: one single-threaded instance per core, whatever providers are installed', () => {
    for (const providers of allAvailabilities()) {
      const plan = planExecution(vm, providers);
      assert.deepEqual(shape(plan), { provider: 'cpu', executionProviders: ['cpu'], instances: 2, intraOpThreads: 1, interOpThreads: 1 });
    }
    assert.match(planExecution(vm, CPU_ONLY).reasons.join('\n'), /2\.4–2\.7×/);
  });
});

describe('planExecution: invariants', () => {
  test('without overrides, never more threads than physical cores, at least 1 and 1, cpu last', () => {
    for (const name of FIXTURE_NAMES) {
      for (const cores of [1, 2, 3, 4, 5, 6, 7, 8, 12, 14, 16, 24, 32, 64, 128]) {
        for (const providers of allAvailabilities()) {
          const plan = planExecution(withCores(loadFixture(name), cores), providers);
          const label = `${name}, ${cores} cores, ${JSON.stringify(providers)}`;
          assert.ok(plan.instances >= 1 && plan.intraOpThreads >= 1, label);
          assert.ok(plan.instances * plan.intraOpThreads <= cores, label);
          assert.equal(plan.interOpThreads, 1, label);
          assert.equal(plan.executionProviders.at(-1), 'cpu', label);
          assert.equal(plan.executionProviders[0], plan.provider, label);
          if (plan.provider !== 'cpu') assert.ok(plan.instances <= 2 && plan.intraOpThreads <= 2, label);
        }
      }
    }
  });

  test('small CPU machines get one 1-thread instance per core; larger ones cap instances at 4', () => {
    const vm = loadFixture('linux-2core-vm');
    const sizes = [1, 2, 3, 4, 6, 8, 16, 64].map((cores) => {
      const plan = planExecution(withCores(vm, cores), CPU_ONLY);
      return [cores, plan.instances, plan.intraOpThreads];
    });
    assert.deepEqual(sizes, [
      [1, 1, 1],
      [2, 2, 1],
      [3, 3, 1],
      [4, 4, 1],
      [6, 4, 1],
      [8, 4, 2],
      [16, 4, 4],
      [64, 4, 16],
    ]);
  });

  test('a profile that claims 0 physical cores still plans 1 × 1', () => {
    const plan = planExecution(withCores(loadFixture('linux-2core-vm'), 0), CPU_ONLY);
    assert.equal(plan.instances, 1);
    assert.equal(plan.intraOpThreads, 1);
  });

  test('a partial probe is explained first', () => {
    const vm = loadFixture('linux-2core-vm');
    const partial: HardwareProfile = { ...vm, probe: { status: 'partial', durationMs: 200, errors: ['graphics: timed out after 200 ms'] } };
    assert.match(planExecution(partial, CPU_ONLY).reasons[0] ?? '', /^hardware probe partial \(graphics: timed out after 200 ms\)/);
  });

  test('pure: the same inputs give equal plans and the profile is left alone', () => {
    const server = loadFixture('linux-nvidia-server');
    const before = structuredClone(server);
    assert.deepEqual(planExecution(server, EVERYTHING), planExecution(server, EVERYTHING));
    assert.deepEqual(server, before);
  });
});

describe('planExecution: overrides', () => {
  const server = loadFixture('linux-nvidia-server');
  const vm = loadFixture('linux-2core-vm');

  test('instances win, threads follow the new share, and the reasons say so', () => {
    const plan = planExecution(server, CPU_ONLY, { instances: 2 });
    assert.deepEqual(shape(plan), { provider: 'cpu', executionProviders: ['cpu'], instances: 2, intraOpThreads: 8, interOpThreads: 1 });
    assert.ok(plan.reasons.includes('instances 2 set by override (planned 4)'));
  });

  test('intraOpThreads win', () => {
    const plan = planExecution(server, CPU_ONLY, { intraOpThreads: 1 });
    assert.equal(plan.instances, 4);
    assert.equal(plan.intraOpThreads, 1);
    assert.ok(plan.reasons.includes('intraOpThreads 1 set by override (planned 4)'));
  });

  test('overrides that oversubscribe the cores still win, with a warning', () => {
    const plan = planExecution(vm, CPU_ONLY, { instances: 4, intraOpThreads: 2 });
    assert.equal(plan.instances, 4);
    assert.equal(plan.intraOpThreads, 2);
    assert.match(plan.reasons.join('\n'), /4 instances × 2 threads oversubscribe the 2 physical cores/);
  });

  test('provider cpu on a CUDA machine sizes for the CPU', () => {
    const plan = planExecution(server, { cpu: true, cuda: true }, { provider: 'cpu' });
    assert.deepEqual(shape(plan), { provider: 'cpu', executionProviders: ['cpu'], instances: 4, intraOpThreads: 4, interOpThreads: 1 });
    assert.equal(plan.reasons[0], 'provider cpu set by override');
  });

  test('a provider the build does not list is still used, with the fallback noted', () => {
    const plan = planExecution(vm, CPU_ONLY, { provider: 'webgpu' });
    assert.deepEqual(plan.executionProviders, ['webgpu', 'cpu']);
    assert.match(plan.reasons[0] ?? '', /webgpu set by override; .*fall back to cpu/);
  });

  test('counts that are not positive integers are refused with a typed error', () => {
    for (const overrides of [{ instances: 0 }, { instances: -1 }, { intraOpThreads: 1.5 }, { intraOpThreads: Number.NaN }]) {
      assert.throws(
        () => planExecution(vm, CPU_ONLY, overrides),
        (error: unknown) => error instanceof ExecutionPlanError && error.setting === Object.keys(overrides)[0],
      );
    }
  });
});
