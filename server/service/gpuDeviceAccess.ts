/** What the installer saw on the machine: names, not paths, as readdir returns them. */
export interface DeviceListing {
  /** Entries of /dev. */
  dev: readonly string[];
  /** Entries of /dev/dri; empty when there is no such directory. */
  dri: readonly string[];
  /** Group names defined in /etc/group. */
  groups: readonly string[];
}

/** The GPU providers this build could run on Linux; the device nodes follow from them. */
export interface LinuxGpuProviders {
  /** The CUDA provider library is installed (`npm run gpu:install`). */
  cuda: boolean;
  /** onnxruntime-node's WebGPU provider (Dawn over Vulkan) is in this build. */
  webgpu: boolean;
}

/** The device nodes the service may open and the groups it needs to open them. */
export interface GpuDeviceAccess {
  /** Absolute device node paths, each allowed read-write. Empty: no GPU, all physical devices hidden. */
  devices: string[];
  /** Supplementary groups of the service user; only groups that exist. */
  groups: string[];
}

export const NO_GPU_ACCESS: GpuDeviceAccess = { devices: [], groups: [] };

/** One node per GPU; nvidiactl is the driver's control node every client opens first. */
const NVIDIA_GPU = /^nvidia\d+$/;
/** Render nodes: unprivileged compute and rendering. Not card*: the primary node is the display (KMS) interface. */
const DRM_RENDER = /^renderD\d+$/;
/**
 * CUDA's unified-memory nodes: the driver creates them on first use (nvidia-modprobe), so a box
 * where nothing ran CUDA since boot lacks them at install time. They are allowed whenever the
 * control node is there; a node still missing when the service starts is skipped, not fatal.
 */
const NVIDIA_UVM = ['nvidia-uvm', 'nvidia-uvm-tools'];

const byNumber = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });

/**
 * The GPU device nodes and groups a service-installed server needs, from a listing of /dev taken at
 * install time (pure, so the tests feed it fixtures). CUDA opens /dev/nvidia<N>, nvidiactl and the
 * UVM nodes; WebGPU on Linux is Dawn over Vulkan, which opens the DRM render nodes and, on an
 * NVIDIA card, the same /dev/nvidia* nodes (plus nvidia-modeset, which NVIDIA's Vulkan driver opens).
 * `render` owns the render nodes; `video` owns them on distributions older than the render group
 * and owns /dev/nvidia* where the driver is set to mode 0660 (NVreg_DeviceFileGID).
 */
export function gpuDeviceAccess(listing: DeviceListing, providers: LinuxGpuProviders): GpuDeviceAccess {
  const devices: string[] = [];
  const dev = new Set(listing.dev);
  if ((providers.cuda || providers.webgpu) && dev.has('nvidiactl') && listing.dev.some((name) => NVIDIA_GPU.test(name))) {
    const gpus = listing.dev.filter((name) => NVIDIA_GPU.test(name)).sort(byNumber);
    const modeset = providers.webgpu && dev.has('nvidia-modeset') ? ['nvidia-modeset'] : [];
    devices.push(...[...gpus, 'nvidiactl', ...NVIDIA_UVM, ...modeset].map((name) => `/dev/${name}`));
  }
  const renderNodes = providers.webgpu ? listing.dri.filter((name) => DRM_RENDER.test(name)).sort(byNumber) : [];
  devices.push(...renderNodes.map((name) => `/dev/dri/${name}`));
  if (devices.length === 0) return NO_GPU_ACCESS;
  const wanted = [...(renderNodes.length > 0 ? ['render'] : []), 'video'];
  const existing = new Set(listing.groups);
  return { devices, groups: wanted.filter((group) => existing.has(group)) };
}

/** Group names from the text of /etc/group (name:password:gid:members). */
export function groupNames(etcGroup: string): string[] {
  return etcGroup.split('\n').flatMap((line) => {
    const name = line.split(':')[0]!.trim();
    return name && !name.startsWith('#') ? [name] : [];
  });
}
