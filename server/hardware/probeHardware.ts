import os from 'node:os';
import type { CpuProfile, GpuProfile, GpuVendor, HardwareProfile, MemoryProfile, ProbeStatus } from './HardwareProfile.js';
import { HardwareProbeError } from './HardwareProbeError.js';
import { isolatedSystemInformation } from './isolatedSystemInformation.js';
import { parseIsaFlags } from './parseIsaFlags.js';
import type { GraphicsController, SystemInformation, SystemInformationCall } from './SystemInformation.js';

export type { HardwareProfile } from './HardwareProfile.js';

export interface ProbeOptions {
  /** Bound on the whole probe: the calls run concurrently and each one is raced against it. */
  timeoutMs?: number;
  /**
   * Where the data comes from. By default every systeminformation call runs in its own child
   * process (see isolatedSystemInformation); tests pass fakes, and passing the systeminformation
   * module runs the calls in-process, where its synchronous commands cannot be bounded.
   */
  si?: SystemInformation;
  /** Stops the probe early (the server closing): its child processes are killed and the calls fail. */
  signal?: AbortSignal;
}

type Outcome<T> = { ok: true; value: T } | { ok: false; error: HardwareProbeError };

type SiCpu = Awaited<ReturnType<SystemInformation['cpu']>>;
type SiMem = Awaited<ReturnType<SystemInformation['mem']>>;

/**
 * Describes this machine for the execution planner and the status endpoint. Never rejects and
 * never takes much longer than `timeoutMs`: each systeminformation call that throws, hangs or
 * answers nonsense is replaced by node:os values and listed in `probe.errors`.
 */
export async function probeHardware({ timeoutMs = 3000, si, signal }: ProbeOptions = {}): Promise<HardwareProfile> {
  const started = performance.now();
  const abort = new AbortController();
  const stop = () => abort.abort();
  if (signal?.aborted) stop();
  signal?.addEventListener('abort', stop, { once: true });
  const source = si ?? isolatedSystemInformation(abort.signal);
  try {
    const [cpu, flags, mem, graphics, osInfo] = await Promise.all([
      attempt('cpu', () => source.cpu(), timeoutMs, checkCpu),
      attempt('cpuFlags', () => source.cpuFlags(), timeoutMs),
      attempt('mem', () => source.mem(), timeoutMs, checkMem),
      attempt('graphics', () => source.graphics(), timeoutMs),
      attempt('osInfo', () => source.osInfo(), timeoutMs),
    ]);
    const outcomes = [cpu, flags, mem, graphics, osInfo];
    const errors = outcomes.flatMap((outcome) => (outcome.ok ? [] : [outcome.error.message]));
    // node:os, not osInfo(): it cannot fail, and it is what onnxruntime-node picks its binary by.
    const platform = os.platform();
    const arch = os.arch();
    return {
      cpu: {
        ...(cpu.ok ? cpuFromSi(cpu.value) : cpuFromOs()),
        flags: parseIsaFlags(flags.ok ? flags.value : '', platform, arch),
      },
      memory: mem.ok ? memoryFromSi(mem.value) : memoryFromOs(),
      gpus: graphics.ok ? graphics.value.controllers.map(gpuFromController) : [],
      os: {
        platform,
        ...(osInfo.ok ? { distro: osInfo.value.distro, release: osInfo.value.release } : { distro: os.type(), release: os.release() }),
        arch,
      },
      probe: { status: statusOf(errors.length, outcomes.length), durationMs: Math.round(performance.now() - started), errors },
    };
  } finally {
    // Kills the child processes of calls that timed out.
    signal?.removeEventListener('abort', stop);
    abort.abort();
  }
}

/** Runs one call within the time bound and checks its answer; never rejects. */
async function attempt<T>(
  call: SystemInformationCall,
  run: () => Promise<T>,
  timeoutMs: number,
  check?: (value: T) => string | undefined,
): Promise<Outcome<T>> {
  try {
    const value = await withTimeout(call, run, timeoutMs);
    const problem = check?.(value);
    return problem === undefined ? { ok: true, value } : { ok: false, error: new HardwareProbeError(call, 'invalid', problem) };
  } catch (error) {
    if (error instanceof HardwareProbeError) return { ok: false, error };
    const detail = error instanceof Error ? error.message : String(error);
    return { ok: false, error: new HardwareProbeError(call, 'failed', detail, { cause: error }) };
  }
}

/**
 * Races the call against a timer. The timer is cleared as soon as either side settles rather
 * than unref'd: an unref'd timer would let a process with nothing else pending exit while the
 * probe is still unsettled, and a cleared one never holds the process longer than the call.
 */
function withTimeout<T>(call: SystemInformationCall, run: () => Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new HardwareProbeError(call, 'timeout', `timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  // Wrapped so that a call which throws synchronously becomes a rejection like any other failure.
  const result = new Promise<T>((resolve) => resolve(run()));
  return Promise.race([result, timeout]).finally(() => clearTimeout(timer));
}

function checkCpu(cpu: SiCpu): string | undefined {
  const valid = Number.isInteger(cpu.physicalCores) && cpu.physicalCores >= 1 && Number.isInteger(cpu.cores) && cpu.cores >= 1;
  return valid ? undefined : `reported ${cpu.physicalCores} physical / ${cpu.cores} logical cores`;
}

function checkMem(mem: SiMem): string | undefined {
  return mem.total > 0 ? undefined : `reported ${mem.total} bytes of memory`;
}

function cpuFromSi(cpu: SiCpu): Omit<CpuProfile, 'flags'> {
  return {
    brand: fullBrand(cpu.manufacturer, cpu.brand),
    vendor: cpu.manufacturer || cpu.vendor,
    physicalCores: cpu.physicalCores,
    logicalCores: Math.max(cpu.cores, cpu.physicalCores),
    speedGHz: positiveOrNull(cpu.speed),
  };
}

/**
 * systeminformation takes the first word of the model name as the manufacturer and drops it:
 * "Intel® Xeon® Gold 6426Y" becomes "Intel" + "Xeon® Gold 6426Y", but "12th Gen Intel® Core™
 * i7-12700H" becomes "Intel" + "Gen Intel® Core™ i7-12700H".
 */
function fullBrand(manufacturer: string, brand: string): string {
  const rest = brand.replace(/^Gen\s+/, '');
  return rest.toLowerCase().includes(manufacturer.toLowerCase()) ? rest : `${manufacturer} ${rest}`.trim();
}

/**
 * node:os cannot tell SMT siblings from cores, so logical CPUs stand in for physical ones (the
 * planner may then count hyper-threads as cores). availableParallelism() honours CPU affinity.
 */
function cpuFromOs(): Omit<CpuProfile, 'flags'> {
  const first = os.cpus()[0];
  const logical = os.availableParallelism();
  return {
    brand: first?.model.trim() ?? '',
    vendor: '',
    physicalCores: logical,
    logicalCores: logical,
    speedGHz: positiveOrNull((first?.speed ?? 0) / 1000),
  };
}

function memoryFromSi(mem: SiMem): MemoryProfile {
  return { totalBytes: mem.total, availableBytes: mem.available };
}

function memoryFromOs(): MemoryProfile {
  return { totalBytes: os.totalmem(), availableBytes: os.freemem() };
}

function gpuFromController(controller: GraphicsController): GpuProfile {
  const vram = controller.vram;
  return {
    vendor: gpuVendorOf(`${controller.vendor} ${controller.model}`),
    // nvidia-smi's name ("NVIDIA RTX A6000") reads better than the lspci one ("GA102GL [RTX A6000]").
    model: controller.name || controller.model,
    // Windows reports it in fractional MiB (bytes / 1024 / 1024).
    vramMB: typeof vram === 'number' && vram > 0 ? Math.round(vram) : null,
    ...(controller.bus ? { bus: controller.bus } : {}),
  };
}

/** Vendor spellings differ by source: "NVIDIA Corporation" (lspci), "NVIDIA" (WMI), "Advanced Micro Devices, Inc. [AMD/ATI]". */
const GPU_VENDORS: readonly (readonly [RegExp, GpuVendor])[] = [
  [/nvidia/i, 'nvidia'],
  [/advanced micro devices|\bamd\b|\bati\b|radeon/i, 'amd'],
  [/intel/i, 'intel'],
  [/apple/i, 'apple'],
  [/qualcomm|adreno/i, 'qualcomm'],
];

function gpuVendorOf(description: string): GpuVendor {
  return GPU_VENDORS.find(([pattern]) => pattern.test(description))?.[1] ?? 'other';
}

function statusOf(failed: number, total: number): ProbeStatus {
  if (failed === 0) return 'ok';
  return failed === total ? 'fallback' : 'partial';
}

function positiveOrNull(value: number): number | null {
  return Number.isFinite(value) && value > 0 ? value : null;
}
