import { stat } from 'node:fs/promises';
import type { RuntimeTensor, TensorSpec } from '../common/datatypes.js';
import { messageOf } from '../common/errors.js';
import { compareModels } from '../runtime/compareModels.js';
import type { Precision } from '../store/ModelRepository.js';
import type { QuantizationRepository } from '../store/QuantizationRepository.js';
import { decidePrecision, measureAgreement, type GateThresholds } from './accuracyGate.js';
import { decodeSamples, type DecodeInputs } from './decodeSample.js';
import { generateInputs } from './generateInputs.js';
import { makeInt8Candidate } from './makeInt8Candidate.js';

/** What the jobs need to know about a version; the registry answers (quantization does not import it). */
export interface VersionTarget {
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  files: { fp32: string; int8: string };
  precisionOverride: Precision | null;
}

export interface QuantizationJobsDeps {
  repository: QuantizationRepository;
  target: (name: string, version: string) => VersionTarget;
  /** Applies the served precision (the registry swaps sessions atomically). */
  serve: (name: string, version: string, precision: Precision) => Promise<void>;
  decodeInputs: DecodeInputs;
  thresholds: () => GateThresholds;
  /** Session settings of the serving workers, so measured latencies are what will be served. */
  execution: { executionProviders: string[]; intraOpThreads: number };
  onError: (error: unknown, job: string) => void;
  now?: () => Date;
}

/** The report stored per version and shown at GET /api/models/{m}/versions/{v}/quantization. */
export interface QuantizationReport {
  decision: Precision;
  served_precision: Precision;
  precision_override: Precision | null;
  reasons: string[];
  validation: 'samples' | 'generated' | null;
  /** True when the decision rests on generated inputs only. */
  unvalidated: boolean;
  samples: number;
  metric: 'top1' | 'cosine' | null;
  agreement: number | null;
  cosine: number | null;
  max_abs_error: number | null;
  fp32_median_ms: number | null;
  int8_median_ms: number | null;
  speedup: number | null;
  fp32_bytes: number;
  int8_bytes: number | null;
  size_ratio: number | null;
  quantized_nodes: number;
  skipped_nodes: { node: string; op: string; reason: string }[];
  thresholds: { min_top1_agreement: number; min_cosine: number; min_speedup: number };
}

/** Validation uses at most this many samples; latency is the median of at least this many runs each. */
const MAX_SAMPLES = 256;
const GENERATED_SAMPLES = 8;
const TIMED_SAMPLES = 8;
const MIN_TIMED_RUNS = 40;

/**
 * Makes and judges the int8 candidate of each new model version, one job at a time in the
 * background: quantize (worker thread) → run fp32 and int8 on the same inputs (worker thread) →
 * accuracy gate → serve int8 only if it keeps the answers and is faster, unless the admin has
 * fixed the precision. Progress and the report are in SQLite, so they survive a restart and
 * unfinished jobs resume.
 */
export class QuantizationJobs {
  private queue: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly now: () => Date;

  constructor(private readonly deps: QuantizationJobsDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  private save(name: string, version: string, status: 'queued' | 'running' | 'done' | 'failed', stage: string, progress: number, report: Record<string, unknown> | null = null): void {
    this.deps.repository.upsertJob({ model_name: name, version, status, stage, progress, report, updated_at: this.now().toISOString() });
  }

  /** Queues a job; the returned promise settles when it has run (tests and the CLI wait on it; the API does not). */
  enqueue(name: string, version: string): Promise<void> {
    this.save(name, version, 'queued', 'queued', 0);
    const job = this.queue.then(() => (this.closed ? undefined : this.run(name, version)));
    this.queue = job.catch(() => undefined);
    return job;
  }

  /** Jobs a stop interrupted start again. */
  resume(): void {
    for (const job of this.deps.repository.unfinishedJobs()) void this.enqueue(job.model_name, job.version);
  }

  /** Finishes the job in progress (its files stay consistent) and starts no more. */
  async close(): Promise<void> {
    this.closed = true;
    await this.queue;
  }

  private async run(name: string, version: string): Promise<void> {
    const label = `${name}/${version}`;
    try {
      const report = await this.evaluate(name, version);
      this.save(name, version, 'done', 'done', 1, report as unknown as Record<string, unknown>);
    } catch (error) {
      this.deps.onError(error, label);
      this.save(name, version, 'failed', 'failed', 1, { error: messageOf(error) });
    }
  }

  private async evaluate(name: string, version: string): Promise<QuantizationReport> {
    let target = this.deps.target(name, version);
    const thresholds = this.deps.thresholds();
    const fp32Bytes = (await stat(target.files.fp32)).size;
    const base = {
      validation: null, unvalidated: false, samples: 0, metric: null, agreement: null, cosine: null, max_abs_error: null,
      fp32_median_ms: null, int8_median_ms: null, speedup: null, fp32_bytes: fp32Bytes, int8_bytes: null, size_ratio: null,
      thresholds: { min_top1_agreement: thresholds.minTop1, min_cosine: thresholds.minCosine, min_speedup: thresholds.minSpeedup },
    } as const;

    this.save(name, version, 'running', 'quantizing', 0.1);
    const candidate = await makeInt8Candidate({ sourcePath: target.files.fp32, targetPath: target.files.int8 });
    const nodes = { quantized_nodes: candidate.quantized.length, skipped_nodes: candidate.skipped };
    if (!candidate.written) {
      return this.conclude(name, version, { ...base, ...nodes, decision: 'fp32', reasons: [candidate.reason ?? 'nothing to quantize'] });
    }
    const int8Bytes = (await stat(target.files.int8)).size;

    this.save(name, version, 'running', 'validating', 0.4);
    const stored = this.deps.repository.listSamples(name, MAX_SAMPLES);
    const signature = { name, inputs: target.inputs };
    const samples: Record<string, RuntimeTensor>[] = stored.length > 0 ? decodeSamples(stored, signature, this.deps.decodeInputs) : generateInputs(target.inputs, GENERATED_SAMPLES);
    const timedSamples = Math.min(samples.length, TIMED_SAMPLES);
    const evaluation = await compareModels({
      baselinePath: target.files.fp32,
      candidatePath: target.files.int8,
      samples,
      outputNames: target.outputs.map((o) => o.name),
      ...this.deps.execution,
      timedSamples,
      timingRepeats: Math.ceil(MIN_TIMED_RUNS / timedSamples),
    });
    this.save(name, version, 'running', 'deciding', 0.9);
    const primary = target.outputs[0]!.name;
    const agreement = measureAgreement(evaluation.baseline.outputs.map((o) => o[primary]!), evaluation.candidate.outputs.map((o) => o[primary]!));
    const speedup = evaluation.baseline.medianMs / evaluation.candidate.medianMs;
    const gate = decidePrecision(agreement, speedup, thresholds);
    const unvalidated = stored.length === 0;
    const reasons = unvalidated ? [...gate.reasons, 'measured on generated inputs (no validation samples): the decision is unvalidated'] : gate.reasons;
    target = this.deps.target(name, version); // the admin may have set an override meanwhile
    return this.conclude(name, version, {
      ...base,
      ...nodes,
      decision: gate.decision,
      reasons,
      validation: unvalidated ? 'generated' : 'samples',
      unvalidated,
      samples: samples.length,
      metric: agreement.metric,
      agreement: agreement.agreement,
      cosine: agreement.cosine,
      max_abs_error: agreement.maxAbsError,
      fp32_median_ms: evaluation.baseline.medianMs,
      int8_median_ms: evaluation.candidate.medianMs,
      speedup,
      int8_bytes: int8Bytes,
      size_ratio: fp32Bytes / int8Bytes,
    });
  }

  /**
   * Serves what the gate decided unless the admin fixed the precision. A rejected int8 file stays
   * beside the original, so the admin can still choose it.
   */
  private async conclude(name: string, version: string, report: Omit<QuantizationReport, 'served_precision' | 'precision_override'>): Promise<QuantizationReport> {
    const { precisionOverride } = this.deps.target(name, version);
    const served = precisionOverride ?? report.decision;
    await this.deps.serve(name, version, served);
    return { ...report, served_precision: served, precision_override: precisionOverride };
  }
}
