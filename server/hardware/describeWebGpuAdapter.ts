import type { VulkanLoaderLog } from './readVulkanLoaderLog.js';
import type { WebGpuAdapter, WebGpuBackend } from './WebGpuStatus.js';

const UNKNOWN = 'unknown';

/**
 * Mesa's and the vendors' Vulkan driver libraries (the ICD manifests' library_path), by vendor.
 * Lavapipe (`lvp`) and SwiftShader are CPU rasterizers; virtio/venus, gfxstream and dzn forward
 * to a host GPU that the name may tell.
 */
const VULKAN_DRIVERS: readonly (readonly [RegExp, string])[] = [
  [/_lvp\b/, 'Mesa'],
  [/swiftshader/i, 'Google'],
  [/radeon|amdvlk/i, 'AMD'],
  [/intel/i, 'Intel'],
  [/nvidia|nouveau/i, 'NVIDIA'],
  [/freedreno/i, 'Qualcomm'],
  [/panfrost|panvk/i, 'Arm'],
  [/powervr/i, 'Imagination'],
  [/asahi/i, 'Apple'],
  [/broadcom|v3dv/i, 'Broadcom'],
];

/** Device names, where the driver did not tell (an older loader, or a forwarding driver). */
const DEVICE_VENDORS: readonly (readonly [RegExp, string])[] = [
  [/llvmpipe|lavapipe/i, 'Mesa'],
  [/swiftshader/i, 'Google'],
  [/\bamd\b|radeon/i, 'AMD'],
  [/intel/i, 'Intel'],
  [/nvidia|geforce|quadro|\brtx\b/i, 'NVIDIA'],
  [/adreno/i, 'Qualcomm'],
  [/mali/i, 'Arm'],
  [/apple/i, 'Apple'],
  [/microsoft basic render|\bwarp\b/i, 'Microsoft'],
];

/** CPU implementations: lavapipe (Mesa's, its devices are named "llvmpipe (LLVM ...)"), SwiftShader, Windows' WARP. */
const SOFTWARE_DEVICE = /llvmpipe|lavapipe|softpipe|swiftshader|microsoft basic render|\bwarp\b/i;
const SOFTWARE_DRIVER = /_lvp\b|swiftshader/i;

/**
 * The WebGPU adapter, from what can be learnt outside onnxruntime-node (it exposes nothing):
 * - Linux (Vulkan): the Vulkan loader's log of the probe process names the device and its driver.
 * - macOS on Apple silicon (Metal): the only GPU is the SoC's, and Metal has no software device;
 *   its model name is not learnt here (the hardware profile's GPUs list it).
 * - Windows (D3D12): nothing; Dawn may pick any DXGI adapter, so even whether it is WARP is unknown.
 */
export function describeWebGpuAdapter(backend: WebGpuBackend, arch: string, loader: VulkanLoaderLog | null): WebGpuAdapter {
  if (backend === 'vulkan') {
    // Without the "Using ... with driver" line, the device is known only if the loader listed one.
    const name = loader?.used?.name ?? (loader?.devices.length === 1 ? loader.devices[0]! : UNKNOWN);
    const driver = loader?.used?.driver ?? UNKNOWN;
    const vendor = VULKAN_DRIVERS.find(([pattern]) => pattern.test(driver))?.[1] ?? DEVICE_VENDORS.find(([pattern]) => pattern.test(name))?.[1] ?? UNKNOWN;
    const software = SOFTWARE_DRIVER.test(driver) || SOFTWARE_DEVICE.test(name) ? true : name === UNKNOWN && driver === UNKNOWN ? null : false;
    return { vendor, name, backend, driver, software };
  }
  if (backend === 'metal' && arch === 'arm64') return { vendor: 'Apple', name: UNKNOWN, backend, driver: UNKNOWN, software: false };
  return { vendor: UNKNOWN, name: UNKNOWN, backend, driver: UNKNOWN, software: null };
}
