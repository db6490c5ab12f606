import type { DeviceListing } from '../../server/service/gpuDeviceAccess.js';

/** Nodes every Linux box has; none of them is a GPU. */
export const PLAIN_DEV = ['null', 'zero', 'full', 'random', 'urandom', 'tty', 'tty0', 'console', 'kvm', 'sda', 'sda1', 'nvme0n1', 'fuse', 'pts', 'shm'];
export const ALL_GROUPS = ['root', 'tty', 'disk', 'video', 'render', 'inferbox'];

/** /dev of a box without a GPU driver. */
export const NO_GPU_BOX: DeviceListing = { dev: PLAIN_DEV, dri: [], groups: ALL_GROUPS };
/** Two NVIDIA cards (CUDA) whose nvidia-drm also made a DRM card and render node. */
export const NVIDIA_BOX: DeviceListing = {
  dev: [...PLAIN_DEV, 'nvidia0', 'nvidia1', 'nvidiactl', 'nvidia-uvm', 'nvidia-uvm-tools', 'dri'],
  dri: ['by-path', 'card0', 'renderD128'],
  groups: ALL_GROUPS,
};
/** An Intel or AMD GPU: a DRM card (display) and a render node. */
export const INTEL_AMD_BOX: DeviceListing = { dev: [...PLAIN_DEV, 'dri'], dri: ['by-path', 'card0', 'renderD128'], groups: ALL_GROUPS };
