import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

import type { ProviderAvailability } from '../hardware/planExecution.js';
import type { WebGpuStatus } from '../hardware/WebGpuStatus.js';

/**
 * Found without loading onnxruntime on the main thread: DirectML and CoreML ship inside the
 * Windows and macOS builds; CUDA only when its provider library was installed (the opt-in GPU
 * install step; `npm ci` here skips it). Whether the GPU really works is learnt when a session loads.
 * WebGPU is bundled on several platforms but needs a driver, so it counts only when the last
 * WebGPU probe (probeWebGpu, a child process) ran a session on it.
 */
export function detectProviders(platform: NodeJS.Platform = process.platform, arch: string = process.arch, webgpu: WebGpuStatus | null = null): ProviderAvailability {
  const require = createRequire(import.meta.url);
  const packageDir = dirname(require.resolve('onnxruntime-node/package.json'));
  const binDir = join(packageDir, 'bin', 'napi-v6', platform, arch);
  const cudaLibrary = platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';
  return {
    cpu: true,
    cuda: (platform === 'linux' || platform === 'win32') && existsSync(join(binDir, cudaLibrary)),
    dml: platform === 'win32',
    coreml: platform === 'darwin',
    webgpu: webgpu?.available === true,
  };
}
