import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { gpuDeviceAccess, groupNames, NO_GPU_ACCESS } from '../../../server/service/gpuDeviceAccess.js';
import { ALL_GROUPS, INTEL_AMD_BOX, NO_GPU_BOX, NVIDIA_BOX, PLAIN_DEV } from '../../helpers/deviceListings.js';

const BOTH = { cuda: true, webgpu: true };

describe('gpuDeviceAccess', () => {
  test('no GPU: nothing allowed, no group', () => {
    assert.deepEqual(gpuDeviceAccess(NO_GPU_BOX, BOTH), NO_GPU_ACCESS);
  });

  test('NVIDIA box: each GPU, the control and UVM nodes and the render node; render and video', () => {
    assert.deepEqual(gpuDeviceAccess(NVIDIA_BOX, BOTH), {
      devices: ['/dev/nvidia0', '/dev/nvidia1', '/dev/nvidiactl', '/dev/nvidia-uvm', '/dev/nvidia-uvm-tools', '/dev/dri/renderD128'],
      groups: ['render', 'video'],
    });
  });

  test('Intel/AMD box: the render node only, not the card (display) node; render and video', () => {
    assert.deepEqual(gpuDeviceAccess(INTEL_AMD_BOX, BOTH), { devices: ['/dev/dri/renderD128'], groups: ['render', 'video'] });
  });

  test('groups missing from /etc/group are not named', () => {
    assert.deepEqual(gpuDeviceAccess({ ...INTEL_AMD_BOX, groups: ['root', 'video'] }, BOTH).groups, ['video']);
    assert.deepEqual(gpuDeviceAccess({ ...INTEL_AMD_BOX, groups: ['root', 'render'] }, BOTH).groups, ['render']);
    assert.deepEqual(gpuDeviceAccess({ ...NVIDIA_BOX, groups: ['root'] }, BOTH), { ...gpuDeviceAccess(NVIDIA_BOX, BOTH), groups: [] });
  });

  test('follows the providers of the build: CUDA alone needs no render node nor render group, no GPU provider needs nothing', () => {
    assert.deepEqual(gpuDeviceAccess(NVIDIA_BOX, { cuda: true, webgpu: false }), {
      devices: ['/dev/nvidia0', '/dev/nvidia1', '/dev/nvidiactl', '/dev/nvidia-uvm', '/dev/nvidia-uvm-tools'],
      groups: ['video'],
    });
    assert.deepEqual(gpuDeviceAccess(INTEL_AMD_BOX, { cuda: true, webgpu: false }), NO_GPU_ACCESS);
    assert.deepEqual(gpuDeviceAccess(NVIDIA_BOX, { cuda: false, webgpu: false }), NO_GPU_ACCESS);
  });

  test('UVM nodes are allowed before CUDA first created them; GPUs in numeric order; nvidia-modeset for Vulkan only; nvidiactl alone is no GPU', () => {
    const fresh = { dev: [...PLAIN_DEV, 'nvidia10', 'nvidia2', 'nvidiactl', 'nvidia-modeset'], dri: [], groups: ALL_GROUPS };
    assert.deepEqual(gpuDeviceAccess(fresh, { cuda: true, webgpu: false }).devices, ['/dev/nvidia2', '/dev/nvidia10', '/dev/nvidiactl', '/dev/nvidia-uvm', '/dev/nvidia-uvm-tools']);
    assert.deepEqual(gpuDeviceAccess(fresh, BOTH).devices.at(-1), '/dev/nvidia-modeset');
    assert.deepEqual(gpuDeviceAccess({ dev: [...PLAIN_DEV, 'nvidiactl'], dri: [], groups: ALL_GROUPS }, BOTH), NO_GPU_ACCESS);
  });

  test('groupNames reads the names of /etc/group and skips comments and blank lines', () => {
    assert.deepEqual(groupNames('root:x:0:\n# local\nvideo:x:44:ada\n\nrender:x:105:\n'), ['root', 'video', 'render']);
  });
});
