/** What the Vulkan loader's own log says about one process's use of Vulkan. */
export interface VulkanLoaderLog {
  /** The loader wrote anything at all: it is installed and the process reached it. */
  loaderRan: boolean;
  /** The loader found no driver manifest that loads (no ICD installed, or all hidden). */
  noDrivers: boolean;
  /** Physical devices the loader listed, in its order. */
  devices: string[];
  /** The device a VkDevice was created on, and its driver library (basename); null when none was. */
  used: { name: string; driver: string } | null;
}

/**
 * Reads the stderr of a process run with `VK_LOADER_DEBUG=driver`: onnxruntime-node says nothing
 * about the WebGPU adapter, but on Linux Dawn reaches the GPU through the Vulkan loader, and the
 * loader names the devices it lists and the one a device is created on, e.g.
 * `Using "llvmpipe (LLVM 15.0.6, 256 bits)" with driver: "libvulkan_lvp.so"` (loader 1.3.239).
 * Older loaders lack that line; then only the device list is known.
 */
export function readVulkanLoaderLog(stderr: string): VulkanLoaderLog {
  const devices: string[] = [];
  for (const [, name] of stderr.matchAll(/DRIVER:\s+\[\d+\] (.+?)\s*$/gm)) {
    if (name && !devices.includes(name)) devices.push(name);
  }
  const uses = [...stderr.matchAll(/Using "([^"]*)" with driver: "([^"]*)"/g)];
  const last = uses.at(-1);
  return {
    loaderRan: /DRIVER:/.test(stderr),
    noDrivers: /Found no drivers/.test(stderr),
    devices,
    used: last ? { name: last[1]!, driver: last[2]!.split(/[\\/]/).at(-1)! } : null,
  };
}
