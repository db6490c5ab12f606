import { useEffect } from 'react';

/** GET /api/system's `webgpu`: the last WebGPU probe (a child process that runs a small model on it), and whether one runs now. */
export interface WebGpuInfo {
  checking: boolean;
  available: boolean;
  reason: string | null;
  adapter: { vendor: string; name: string; backend: string; driver: string; software: boolean | null } | null;
  checked_at: string | null;
}

const BACKENDS: Record<string, string> = { vulkan: 'Vulkan', d3d12: 'Direct3D 12', metal: 'Metal' };
const known = (value: string | undefined) => (value && value !== 'unknown' ? value : undefined);

/**
 * One line for the hardware panel and the first-run wizard, e.g. "llvmpipe (LLVM 15.0.6, 256 bits):
 * software Vulkan device (Mesa, libvulkan_lvp.so), slower than the CPU" or "unavailable: Failed to
 * get a WebGPU adapter: ...". Unknown parts (onnxruntime-node tells little) are left out.
 */
export function describeWebGpu(webgpu: WebGpuInfo): string {
  if (webgpu.checked_at === null) return webgpu.checking ? 'checking…' : `not checked (${webgpu.reason ?? 'no probe'})`;
  const again = webgpu.checking ? ' (checking again…)' : '';
  const { adapter } = webgpu;
  if (!webgpu.available || !adapter) return `unavailable: ${webgpu.reason ?? 'unknown reason'}${again}`;
  const backend = BACKENDS[adapter.backend] ?? 'unknown backend';
  const name = known(adapter.name) ?? (known(adapter.vendor) ? `${adapter.vendor} adapter` : 'an adapter');
  const source = [known(adapter.vendor), known(adapter.driver)].filter(Boolean).join(', ');
  const from = source ? ` (${source})` : '';
  if (adapter.software === true) return `${name}: software ${backend} device${from}, slower than the CPU${again}`;
  if (adapter.software === false) return `${name}: ${backend} GPU${from}${again}`;
  return `${name} through ${backend}${from}; whether it is a GPU or a software device is unknown${again}`;
}

/** While a probe runs, loads /api/system again every second instead of waiting for the page's own refresh. */
export function useWebGpuRecheck(webgpu: WebGpuInfo | undefined, reload: () => Promise<void>) {
  useEffect(() => {
    if (!webgpu?.checking) return undefined;
    const timer = setTimeout(() => void reload(), 1000);
    return () => clearTimeout(timer);
  }, [webgpu, reload]);
}
