import { MachineBoundFile } from './MachineBoundFile.js';
import type { WebGpuStatus } from './WebGpuStatus.js';

const FILE = 'webgpu.json';

const isStatus = (value: unknown): value is WebGpuStatus => {
  const status = value as Partial<WebGpuStatus> | undefined;
  return typeof status?.available === 'boolean' && typeof status.checkedAt === 'string';
};

/**
 * The last WebGPU probe, kept in the data dir (`webgpu.json`) so that /api/system and the console
 * say what this machine's WebGPU was from the first request of a restart, marked with when it was
 * checked, instead of "not checked yet". Unlike the CPU, WebGPU can change without the machine
 * changing (a driver installed or upgraded), so the probe runs again on every start, in the
 * background (0.6-1 s here), and its answer replaces this file.
 */
export class WebGpuStatusCache extends MachineBoundFile<WebGpuStatus> {
  constructor(dataDir: string) {
    super(dataDir, FILE, 'status', isStatus);
  }
}
