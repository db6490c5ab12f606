/**
 * What the hardware probe found, in the server's own camelCase shape (the HTTP layer maps it).
 * Every field is filled even when systeminformation fails: node:os values stand in, and
 * `probe` says how much of the profile is first-hand.
 */
export interface HardwareProfile {
  cpu: CpuProfile;
  memory: MemoryProfile;
  gpus: GpuProfile[];
  os: OsProfile;
  probe: ProbeReport;
}

export interface CpuProfile {
  /** Marketing name, e.g. "Intel Xeon® Gold 6426Y", "Apple M2". */
  brand: string;
  /** Manufacturer, e.g. "Intel", "AMD", "Apple"; empty when only node:os answered. */
  vendor: string;
  physicalCores: number;
  logicalCores: number;
  /** Base clock; null when the platform does not report one (many VMs say 0). */
  speedGHz: number | null;
  /** null when this platform's flag source cannot tell (see parseIsaFlags). */
  flags: IsaFlags | null;
}

/** The x86 extensions that onnxruntime's CPU kernels dispatch on (fp32 GEMM, int8 dot products, AMX tiles). */
export interface IsaFlags {
  avx2: boolean;
  avx512: boolean;
  avx512Vnni: boolean;
  avxVnni: boolean;
  amx: boolean;
}

export interface MemoryProfile {
  totalBytes: number;
  /** What new allocations can get without swapping (Linux MemAvailable), not just free pages. */
  availableBytes: number;
}

/** Normalized so the planner can match vendors without parsing lspci/WMI/system_profiler spellings. */
export type GpuVendor = 'nvidia' | 'amd' | 'intel' | 'apple' | 'qualcomm' | 'other';

export interface GpuProfile {
  vendor: GpuVendor;
  /** The driver's name where known (nvidia-smi), else the PCI/WMI/system_profiler model. */
  model: string;
  /** Dedicated memory in MiB; null when unknown. For integrated GPUs it is only the reserved aperture. */
  vramMB: number | null;
  /** As systeminformation reports it: 'PCIe', 'Onboard', 'Built-In', 'PCI'; absent when unknown. */
  bus?: string;
}

export interface OsProfile {
  platform: NodeJS.Platform;
  distro: string;
  release: string;
  arch: string;
}

/**
 * 'ok': every systeminformation call answered; 'partial': some fell back to node:os;
 * 'fallback': none answered, the whole profile comes from node:os.
 */
export type ProbeStatus = 'ok' | 'partial' | 'fallback';

export interface ProbeReport {
  status: ProbeStatus;
  durationMs: number;
  /** One line per failed call, e.g. "graphics: timed out after 3000 ms". */
  errors: string[];
}
