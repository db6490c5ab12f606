import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { describeWebGpuAdapter } from '../../../server/hardware/describeWebGpuAdapter.js';
import { readVulkanLoaderLog } from '../../../server/hardware/readVulkanLoaderLog.js';

/** Recorded here (loader 1.3.239, Mesa 25.0.7): a WebGPU session on lavapipe, and one with the drivers hidden (VK_DRIVER_FILES=/nonexistent.json). */
const fixture = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8');

test('the Vulkan loader log names the device WebGPU used and its driver: lavapipe is a software adapter from Mesa', () => {
  const log = readVulkanLoaderLog(fixture('vulkan-loader-lavapipe.txt'));
  assert.deepEqual(log, { loaderRan: true, noDrivers: false, devices: ['llvmpipe (LLVM 15.0.6, 256 bits)'], used: { name: 'llvmpipe (LLVM 15.0.6, 256 bits)', driver: 'libvulkan_lvp.so' } });
  assert.deepEqual(describeWebGpuAdapter('vulkan', 'x64', log), { vendor: 'Mesa', name: 'llvmpipe (LLVM 15.0.6, 256 bits)', backend: 'vulkan', driver: 'libvulkan_lvp.so', software: true });
});

test('hidden drivers: the loader ran and found none', () => {
  assert.deepEqual(readVulkanLoaderLog(fixture('vulkan-loader-no-driver.txt')), { loaderRan: true, noDrivers: true, devices: [], used: null });
  assert.deepEqual(readVulkanLoaderLog(''), { loaderRan: false, noDrivers: false, devices: [], used: null }, 'no loader at all');
});

test('hardware drivers are named by vendor and not software; an older loader without the "Using" line still names a lone device', () => {
  const used = (name: string, driver: string) => readVulkanLoaderLog(`DRIVER:     Using "${name}" with driver: "${driver}"\n`);
  assert.deepEqual(describeWebGpuAdapter('vulkan', 'x64', used('AMD Radeon RX 7600 (RADV NAVI33)', '/usr/lib/x86_64-linux-gnu/libvulkan_radeon.so')), {
    vendor: 'AMD', name: 'AMD Radeon RX 7600 (RADV NAVI33)', backend: 'vulkan', driver: 'libvulkan_radeon.so', software: false,
  });
  assert.equal(describeWebGpuAdapter('vulkan', 'x64', used('NVIDIA GeForce RTX 4070', 'libGLX_nvidia.so.0')).vendor, 'NVIDIA');
  assert.equal(describeWebGpuAdapter('vulkan', 'x64', used('Intel(R) UHD Graphics 770 (ADL-S GT1)', 'libvulkan_intel.so')).vendor, 'Intel');
  assert.equal(describeWebGpuAdapter('vulkan', 'x64', used('SwiftShader Device (Subzero)', 'libvk_swiftshader.so')).software, true);

  const olderLoader = readVulkanLoaderLog('INFO | DRIVER:         Original order:\nINFO | DRIVER:               [0] llvmpipe (LLVM 12.0.0, 256 bits)\n');
  assert.deepEqual(describeWebGpuAdapter('vulkan', 'x64', olderLoader), { vendor: 'Mesa', name: 'llvmpipe (LLVM 12.0.0, 256 bits)', backend: 'vulkan', driver: 'unknown', software: true });
  const twoDevices = readVulkanLoaderLog('DRIVER:   [0] AMD Radeon Pro W6800 (RADV NAVI21)\nDRIVER:   [1] llvmpipe (LLVM 15.0.6, 256 bits)\n');
  assert.deepEqual(describeWebGpuAdapter('vulkan', 'x64', twoDevices), { vendor: 'unknown', name: 'unknown', backend: 'vulkan', driver: 'unknown', software: null }, 'which of two WebGPU took is not guessed');
});

test('D3D12 tells nothing through onnxruntime-node; Metal on Apple silicon is the SoC GPU', () => {
  assert.deepEqual(describeWebGpuAdapter('d3d12', 'x64', null), { vendor: 'unknown', name: 'unknown', backend: 'd3d12', driver: 'unknown', software: null });
  assert.deepEqual(describeWebGpuAdapter('metal', 'arm64', null), { vendor: 'Apple', name: 'unknown', backend: 'metal', driver: 'unknown', software: false });
});
