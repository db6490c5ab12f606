import type { ExecutionProviderName } from '../common/executionProviders.js';
import type { GpuProfile, GpuVendor, HardwareProfile } from './HardwareProfile.js';

export { EXECUTION_PROVIDERS, type ExecutionProviderName } from '../common/executionProviders.js';

/** Which providers this onnxruntime-node build has installed; a missing key means no. CPU is always there. */
export type ProviderAvailability = Readonly<Partial<Record<ExecutionProviderName, boolean>>>;

/** Operator settings; each one wins over the planned value. */
export interface PlanOverrides {
  provider?: ExecutionProviderName;
  instances?: number;
  intraOpThreads?: number;
}

export interface ExecutionPlan {
  provider: ExecutionProviderName;
  /** Preference order handed to onnxruntime, always ending in 'cpu' as the fallback. */
  executionProviders: ExecutionProviderName[];
  /** Worker threads, each with its own session of every loaded model. */
  instances: number;
  intraOpThreads: number;
  interOpThreads: number;
  /** Why each value was chosen, one sentence each, for logs and GET /api/system. */
  reasons: string[];
}

type CountSetting = 'instances' | 'intraOpThreads';

/** An override that cannot make a plan (e.g. 0 instances). */
export class ExecutionPlanError extends Error {
  override readonly name = 'ExecutionPlanError';
  readonly setting: CountSetting;

  constructor(setting: CountSetting, value: unknown) {
    super(`override ${setting} must be a positive integer, got ${String(value)}`);
    this.setting = setting;
  }
}

/**
 * Each instance holds its own copy of every loaded model, so more instances cost memory while
 * concurrent batch-1 requests rarely need more than a few; cores beyond this go to intra-op threads.
 */
const MAX_CPU_INSTANCES = 4;
/**
 * A GPU runs one request at a time, so a second instance only overlaps one request's host-side
 * work (input copies, ops left to the CPU) with the other's GPU time; a third would just queue
 * and hold another copy of the weights in VRAM.
 */
const MAX_ACCELERATOR_INSTANCES = 2;
/** With a GPU provider the CPU only runs the few ops the provider does not take. */
const MAX_ACCELERATOR_THREADS = 2;

/** Vendors with D3D12 compute drivers; 'other' is display-only (Microsoft Basic Display Adapter, ASPEED/Matrox BMC chips). */
const DIRECTML_VENDORS: ReadonlySet<GpuVendor> = new Set(['nvidia', 'amd', 'intel', 'qualcomm']);

interface AcceleratorRule {
  provider: Exclude<ExecutionProviderName, 'cpu'>;
  /** Describes the hardware this provider would use here, or undefined when there is none. */
  hardware(profile: HardwareProfile): string | undefined;
}

/**
 * In order of preference; the first whose hardware is present and whose provider is installed
 * wins. WebGPU is never chosen automatically: onnxruntime-node bundles it on some platforms, but
 * it is experimental there and its op coverage is narrower; an operator can still select it.
 */
const ACCELERATOR_RULES: readonly AcceleratorRule[] = [
  // CUDA first: on an NVIDIA GPU its kernels cover more ops and run faster than DirectML's,
  // including on Windows where both may be installed.
  { provider: 'cuda', hardware: (profile) => describeGpus(profile.gpus.filter((gpu) => gpu.vendor === 'nvidia')) },
  // DirectML is Windows-only (DirectX 12) and drives any vendor's GPU, integrated ones included.
  // All are listed: unless told otherwise it runs on DXGI adapter 0, which on laptops is usually the iGPU.
  {
    provider: 'dml',
    hardware: (profile) => (profile.os.platform === 'win32' ? describeGpus(profile.gpus.filter((gpu) => DIRECTML_VENDORS.has(gpu.vendor))) : undefined),
  },
  // CoreML reaches the Neural Engine and GPU of Apple silicon. Intel Macs have no Neural Engine,
  // and CoreML's CPU path there is rarely faster than onnxruntime's own kernels.
  {
    provider: 'coreml',
    hardware: (profile) => (profile.os.platform === 'darwin' && profile.os.arch === 'arm64' ? `Apple silicon (${profile.cpu.brand})` : undefined),
  },
];

/**
 * Chooses the execution provider, the number of worker instances and the threads of each, from
 * the probed hardware and the providers installed. Pure: the same inputs give the same plan.
 * Throws ExecutionPlanError when an override is not a positive integer.
 */
export function planExecution(profile: HardwareProfile, providers: ProviderAvailability, overrides: PlanOverrides = {}): ExecutionPlan {
  const instancesOverride = positiveIntegerOrUndefined('instances', overrides.instances);
  const threadsOverride = positiveIntegerOrUndefined('intraOpThreads', overrides.intraOpThreads);
  const cores = Math.max(1, profile.cpu.physicalCores);
  const reasons: string[] = [];
  if (profile.probe.status !== 'ok') {
    reasons.push(`hardware probe ${profile.probe.status} (${profile.probe.errors.join('; ')}): the missing parts come from node:os`);
  }

  const choice = overrides.provider === undefined ? chooseProvider(profile, providers) : overriddenProvider(overrides.provider, providers);
  reasons.push(choice.reason);
  const onCpu = choice.provider === 'cpu';

  const plannedInstances = onCpu ? Math.min(cores, MAX_CPU_INSTANCES) : Math.min(cores, MAX_ACCELERATOR_INSTANCES);
  const instances = instancesOverride ?? plannedInstances;
  const share = Math.max(1, Math.floor(cores / instances));
  const plannedThreads = onCpu ? share : Math.min(share, MAX_ACCELERATOR_THREADS);
  const intraOpThreads = threadsOverride ?? plannedThreads;

  reasons.push(sizingReason(onCpu, cores, instances, intraOpThreads));
  if (instancesOverride !== undefined) reasons.push(`instances ${instances} set by override (planned ${plannedInstances})`);
  if (threadsOverride !== undefined) reasons.push(`intraOpThreads ${intraOpThreads} set by override (planned ${plannedThreads})`);
  if (instances * intraOpThreads > cores) {
    reasons.push(`${instances} instances × ${intraOpThreads} threads oversubscribe the ${cores} physical cores; expect threads to contend`);
  }
  // onnxruntime's default sequential execution mode never uses inter-op threads; 1 avoids an idle pool.
  reasons.push('interOpThreads 1: nodes run in sequence inside a session, so parallelism comes from instances and intra-op threads');

  return {
    provider: choice.provider,
    executionProviders: choice.provider === 'cpu' ? ['cpu'] : [choice.provider, 'cpu'],
    instances,
    intraOpThreads,
    interOpThreads: 1,
    reasons,
  };
}

interface ProviderChoice {
  provider: ExecutionProviderName;
  reason: string;
}

function chooseProvider(profile: HardwareProfile, providers: ProviderAvailability): ProviderChoice {
  const missing: string[] = [];
  for (const rule of ACCELERATOR_RULES) {
    const hardware = rule.hardware(profile);
    if (hardware === undefined) continue;
    if (providers[rule.provider] === true) {
      const passedOver = missing.map((note) => ` (${note})`).join('');
      return { provider: rule.provider, reason: `provider ${rule.provider}: ${hardware}, and this onnxruntime build has the ${rule.provider} provider${passedOver}` };
    }
    missing.push(`${hardware} found, but this onnxruntime build has no ${rule.provider} provider`);
  }
  const why = missing.length > 0 ? missing.join('; ') : 'no GPU that cuda, dml or coreml can use was found';
  return { provider: 'cpu', reason: `provider cpu: ${why}` };
}

/** The operator's choice stands even if the build does not list it: the worker falls back to CPU when it fails to load. */
function overriddenProvider(provider: ExecutionProviderName, providers: ProviderAvailability): ProviderChoice {
  const installed = provider === 'cpu' || providers[provider] === true;
  const caveat = installed ? '' : `; this onnxruntime build does not list it, so sessions will fall back to cpu if it fails to load`;
  return { provider, reason: `provider ${provider} set by override${caveat}` };
}

function sizingReason(onCpu: boolean, cores: number, instances: number, threads: number): string {
  const shape = `${instances} instance${instances === 1 ? '' : 's'} × ${threads} intra-op thread${threads === 1 ? '' : 's'} on ${cores} physical cores`;
  if (!onCpu) {
    return `${shape}: the accelerator serializes requests, so at most ${MAX_ACCELERATOR_INSTANCES} instances overlap host-side work, and the CPU only runs the ops the provider leaves it`;
  }
  if (cores <= MAX_CPU_INSTANCES) {
    // Measured on 2 cores at batch 1: two 1-thread instances beat one 2-thread session by 2.4–2.7×. A batch-1
    // request gives each op little work to split, while separate instances run whole requests side by side.
    return `${shape}: on small machines one single-threaded instance per core beats multi-threaded sessions (2.4–2.7× measured on 2 cores at batch 1)`;
  }
  return `${shape}: instances are capped at ${MAX_CPU_INSTANCES} because each holds its own copy of every model, and the remaining cores become intra-op threads`;
}

/** "NVIDIA RTX A6000 with 49140 MB and ..."; undefined when there is none. */
function describeGpus(gpus: GpuProfile[]): string | undefined {
  if (gpus.length === 0) return undefined;
  return gpus.map((gpu) => `${gpu.model || `${gpu.vendor} GPU`}${gpu.vramMB === null ? '' : ` with ${gpu.vramMB} MB`}`).join(' and ');
}

function positiveIntegerOrUndefined(setting: CountSetting, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 1) throw new ExecutionPlanError(setting, value);
  return value;
}
