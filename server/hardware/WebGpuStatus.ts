/**
 * What the WebGPU probe (runtime/probeWebGpu) learnt about this machine, in the server's camelCase
 * shape (the HTTP layer maps it). WebGPU is never chosen automatically (see planExecution); this
 * says whether it could be, and on what.
 */
export interface WebGpuStatus {
  /** A WebGPU session of the probe model ran and matched the CPU provider's outputs. */
  available: boolean;
  /** Why not, in words for the admin ("Failed to get a WebGPU adapter: ...", "timed out after 10 s"); null when available. */
  reason: string | null;
  /** The device a session was created on; null when no adapter was obtained. */
  adapter: WebGpuAdapter | null;
  /** Largest |WebGPU − CPU| over the probe model's float outputs; null when it did not run on both. */
  maxAbsDiff: number | null;
  checkedAt: string;
  /** The whole probe: child process start, onnxruntime load, both sessions, one run each. */
  durationMs: number;
}

/** The graphics API Dawn drives under WebGPU: onnxruntime-node asks for Vulkan on Linux, D3D12 on Windows, Metal on macOS. */
export type WebGpuBackend = 'vulkan' | 'd3d12' | 'metal';

/** onnxruntime-node exposes nothing about the adapter (ort.env.webgpu is `{}` in Node): see describeWebGpuAdapter for what is learnt instead. */
export interface WebGpuAdapter {
  /** "Mesa", "AMD", "Intel", "NVIDIA", "Apple", ...; "unknown" where nothing tells. */
  vendor: string;
  /** The device as its driver names it, e.g. "llvmpipe (LLVM 15.0.6, 256 bits)"; "unknown" where nothing tells. */
  name: string;
  backend: WebGpuBackend | 'unknown';
  /** The driver library, e.g. "libvulkan_lvp.so"; "unknown" where nothing tells. */
  driver: string;
  /**
   * A CPU implementation of the graphics API (lavapipe/llvmpipe, WARP, SwiftShader): models run,
   * but slower than on onnxruntime's own CPU provider. null when it cannot be told.
   */
  software: boolean | null;
}
