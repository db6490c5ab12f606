import type { RuntimeTensor, TensorSpec } from '../common/datatypes.js';
import { messageOf } from '../common/errors.js';
import { withoutModelPaths } from '../common/withoutModelPaths.js';
import { HYSTERESIS_BAND } from '../measurement/decideBySpeed.js';
import { decideByComparison, degenerateComparison, judgeOutput, measureAgreement, type GateThresholds } from '../quantization/accuracyGate.js';
import { generateInputs } from '../quantization/generateInputs.js';
import type { SessionComparison } from '../runtime/compareSessions.js';
import type { CompareRequest, SessionSettings } from '../runtime/workerProtocol.js';
import type { PlacedProvider, PlacementRepository } from '../store/PlacementRepository.js';

/** What placement needs to know about a version; the registry answers (placement does not import it). */
export interface PlacementTarget {
  /** The file that serves now (its served precision). */
  path: string;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}

export interface PlacementDeps {
  repository: PlacementRepository;
  target: (name: string, version: string) => PlacementTarget;
  /** Stored samples of real inputs that fit the version (uploaded or recorded), decoded; empty when none. */
  samples: (signature: { name: string; inputs: TensorSpec[] }) => Promise<Record<string, RuntimeTensor>[]>;
  /** Times the file on the CPU against WebGPU (in a child process); `signal` ends it. */
  compare: (request: CompareRequest, signal: AbortSignal) => Promise<SessionComparison>;
  /** null when WebGPU can be used here; else why not (the probe's reason). */
  webgpuUnavailable: () => string | null;
  /** The served versions of the model take their new placement (sessions swap, no request fails). */
  apply: (name: string) => Promise<void>;
  thresholds: () => GateThresholds;
  /** The intra-op threads both sessions are timed with (the model's). */
  intraOpThreads: (name: string) => number;
  onError: (error: unknown, job: string) => void;
  now?: () => Date;
}

/** The report stored per version and shown at GET /api/models/{m}/versions/{v}/placement. */
export interface PlacementReport {
  provider: PlacedProvider;
  previous_provider: PlacedProvider;
  reasons: string[];
  validation: 'samples' | 'generated' | null;
  samples: number;
  /** WebGPU's speed-up over the CPU (CPU time / WebGPU time, paired runs) and its 95% interval. */
  speedup: number | null;
  speedup_interval: [number, number] | null;
  timed_pairs: number | null;
  cpu_median_ms: number | null;
  webgpu_median_ms: number | null;
  outputs: { name: string; metric: string; agreement: number; max_abs_error: number; passes: boolean }[];
  margin: number;
  /** How far the interval must clear the margin for the placement to change (decideBySpeed). */
  hysteresis_band: number;
}

/**
 * WebGPU must be this much faster throughout its interval (and HYSTERESIS_BAND more) to take a model from the CPU: moving a
 * model costs a swap and a GPU's copies to and from the device, so a few percent is not worth it.
 */
export const WEBGPU_MARGIN = 1.1;
/** Time for the timed pairs of a background job (4× for a slow model, see measureSpeedup). */
const TIMING_BUDGET_MS = 5000;
const GENERATED_SAMPLES = 8;
const TIMED_SAMPLES = 8;

/**
 * Where a version runs when its model's provider is `auto` and WebGPU can be used here: it stays
 * on the CPU unless a measurement on its own samples (else generated inputs, as the int8 gate
 * does) shows WebGPU faster by WEBGPU_MARGIN throughout the 95% interval, with outputs that agree
 * with the CPU's within the gate's tolerances. The choice in place stays while the interval
 * straddles the margin (decideBySpeed), so re-runs do not flip it. One job at a time.
 */
export class PlacementJobs {
  private queue: Promise<void> = Promise.resolve();
  private readonly placed = new Map<string, PlacedProvider>();
  private readonly stop = new AbortController();
  private readonly now: () => Date;

  constructor(private readonly deps: PlacementDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /** Where `auto` placed the version (read at every session decision, so kept in memory). */
  providerOf(name: string, version: string): PlacedProvider {
    const key = `${name}/${version}`;
    let provider = this.placed.get(key);
    if (provider === undefined) {
      provider = this.deps.repository.get(name, version)?.provider ?? 'cpu';
      this.placed.set(key, provider);
    }
    return provider;
  }

  /** Whether the version was ever measured (a start places the ones that were not). */
  measured(name: string, version: string): boolean {
    return this.deps.repository.get(name, version) !== undefined;
  }

  /** Queues a measurement; the promise settles when it has run (the API does not wait on it). */
  enqueue(name: string, version: string): Promise<void> {
    const job = this.queue.then(() => (this.stop.signal.aborted ? undefined : this.run(name, version)));
    this.queue = job.catch(() => undefined);
    return job;
  }

  /** Starts no more jobs and ends the running one (its child process is killed; nothing of it is saved). */
  close(): void {
    this.stop.abort();
  }

  /** A deleted version's decision (held in memory) must not come back with a re-created model's version of that number. */
  forget(name: string, version: string): void {
    this.placed.delete(`${name}/${version}`);
  }

  private async run(name: string, version: string): Promise<void> {
    try {
      const report = await this.measure(name, version);
      if (this.stop.signal.aborted) return;
      this.deps.repository.save({ model_name: name, version, provider: report.provider, report: report as unknown as Record<string, unknown>, decided_at: this.now().toISOString() });
      const before = this.providerOf(name, version);
      this.placed.set(`${name}/${version}`, report.provider);
      if (before !== report.provider) await this.deps.apply(name);
    } catch (error) {
      if (!this.stop.signal.aborted) this.deps.onError(error, `${name}/${version}`);
    }
  }

  private async measure(name: string, version: string): Promise<PlacementReport> {
    const target = this.deps.target(name, version);
    const current = this.providerOf(name, version);
    const base: PlacementReport = {
      provider: 'cpu', previous_provider: current, reasons: [], validation: null, samples: 0, speedup: null, speedup_interval: null,
      timed_pairs: null, cpu_median_ms: null, webgpu_median_ms: null, outputs: [], margin: WEBGPU_MARGIN, hysteresis_band: HYSTERESIS_BAND,
    };
    const unavailable = this.deps.webgpuUnavailable();
    if (unavailable) return { ...base, reasons: [`WebGPU cannot be used here: ${unavailable}`] };
    const real = await this.deps.samples({ name, inputs: target.inputs });
    const samples = real.length > 0 ? real : generateInputs(target.inputs, GENERATED_SAMPLES);
    const threads = this.deps.intraOpThreads(name);
    const settings = (executionProviders: string[]): SessionSettings => ({ executionProviders, intraOpThreads: threads, interOpThreads: 1 });
    const outputNames = target.outputs.map((o) => o.name);
    let comparison: SessionComparison;
    try {
      comparison = await this.deps.compare({
        path: target.path, baseline: settings(['cpu']), candidate: settings(['webgpu']), samples, outputNames,
        timing: { timedSamples: Math.min(samples.length, TIMED_SAMPLES), budgetMs: TIMING_BUDGET_MS, margin: WEBGPU_MARGIN },
      }, this.stop.signal);
    } catch (error) {
      if (this.stop.signal.aborted) throw error;
      return { ...base, reasons: [`webgpu failed: ${withoutModelPaths(messageOf(error), [target.path])}`] };
    }
    const thresholds = this.deps.thresholds();
    const outputs = outputNames.map((output) => judgeOutput(output, measureAgreement(comparison.baseline.map((o) => o[output]!), comparison.candidate.map((o) => o[output]!)), thresholds));
    const degenerate = degenerateComparison(comparison.baseline, outputNames, { baseline: 'the CPU', candidate: 'WebGPU' });
    const { estimate } = comparison.speed;
    const decided = decideByComparison<PlacedProvider>(outputs, estimate, current, { baseline: 'cpu', candidate: 'webgpu' }, WEBGPU_MARGIN, thresholds, degenerate);
    const reasons = [...decided.reasons, ...(real.length === 0 ? ['measured on generated inputs (no stored samples fit)'] : [])];
    return {
      ...base,
      provider: decided.decision,
      reasons,
      validation: real.length > 0 ? 'samples' : 'generated',
      samples: samples.length,
      speedup: estimate?.ratio ?? null,
      speedup_interval: estimate ? [estimate.low, estimate.high] : null,
      timed_pairs: estimate?.pairs ?? null,
      cpu_median_ms: comparison.speed.aMedianMs,
      webgpu_median_ms: comparison.speed.bMedianMs,
      outputs: outputs.map((o) => ({ name: o.name, metric: o.metric, agreement: o.agreement, max_abs_error: o.maxAbsError, passes: o.passes })),
    };
  }
}
