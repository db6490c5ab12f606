import { rm, stat } from 'node:fs/promises';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { TensorSpec } from '../common/datatypes.js';
import { messageOf } from '../common/errors.js';
import { withoutModelPaths } from '../common/withoutModelPaths.js';
import { HYSTERESIS_BAND } from '../measurement/decideBySpeed.js';
import { compareModels } from '../runtime/compareModels.js';
import type { Precision } from '../store/ModelRepository.js';
import type { QuantizationRepository } from '../store/QuantizationRepository.js';
import { decidePrecision, degenerateComparison, judgeOutput, measureAgreement, type GateThresholds, type OutputAgreement } from './accuracyGate.js';
import { generateInputs } from './generateInputs.js';
import { makeInt8Candidate } from './makeInt8Candidate.js';
import { storedSamples, type DecodeInputs } from './storedSamples.js';

export type { DecodeInputs } from './storedSamples.js';

/** What the jobs need to know about a version; the registry answers (quantization does not import it). */
export interface VersionTarget {
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  files: { fp32: string; int8: string };
  precisionOverride: Precision | null;
  /** What serves now: the override, else the gate's last decision (fp32 before the first). */
  servedPrecision: Precision;
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
  /** The gate decided (and the decision is stored and applied): webhooks. */
  onDecided?: (name: string, version: string, report: QuantizationReport) => void;
  now?: () => Date;
}

/** The report stored per version and shown at GET /api/models/{m}/versions/{v}/quantization. */
export interface QuantizationReport {
  decision: Precision;
  served_precision: Precision;
  precision_override: Precision | null;
  reasons: string[];
  /** Where the comparison inputs came from; `generated` makes the decision unvalidated. */
  validation: 'uploaded' | 'live' | 'uploaded+live' | 'generated' | null;
  unvalidated: boolean;
  samples: number;
  /** The first output's figures (the headline); every output is in `outputs` and must pass. */
  metric: OutputAgreement['metric'] | null;
  agreement: number | null;
  cosine: number | null;
  max_abs_error: number | null;
  outputs: { name: string; metric: string; agreement: number; cosine: number; max_abs_error: number; passes: boolean }[];
  fp32_median_ms: number | null;
  int8_median_ms: number | null;
  /** int8's speed-up over fp32: the median of paired runs' ratios, with its 95% interval. */
  speedup: number | null;
  speedup_interval: [number, number] | null;
  timed_pairs: number | null;
  /** Why timing stopped: the interval was narrow, it cleared the margin, or the time was up. */
  timing_stopped_by: string | null;
  /** The gate's choice before this run: a speed-up whose interval straddles the margin keeps it. */
  previous_decision: Precision;
  /** Why the comparison could tell nothing (fp32 answered every sample alike), or null. */
  degenerate: string | null;
  fp32_bytes: number;
  int8_bytes: number | null;
  size_ratio: number | null;
  quantized_nodes: number;
  skipped_nodes: { node: string; op: string; reason: string }[];
  /** Conv nodes stay fp32: dynamic ConvInteger is ~9× slower on ORT's CPU provider, static QDQ is not built. */
  conv_nodes_left_fp32: number;
  /** hysteresis_band: how far the speed-up's interval must clear min_speedup for the precision to change (decideBySpeed). */
  thresholds: { min_top1_agreement: number; min_cosine: number; min_speedup: number; hysteresis_band: number };
}

/** Validation uses at most this many samples; the timed pairs cycle through the first TIMED_SAMPLES. */
const MAX_SAMPLES = 256;
const GENERATED_SAMPLES = 8;
const TIMED_SAMPLES = 8;
/**
 * Time for the timed pairs (a slow model gets at most 4× this, see measureSpeedup). A background
 * job: ten seconds buy a few hundred pairs of a 10 ms model, enough for a ±1-2% interval here.
 */
const TIMING_BUDGET_MS = 10_000;

class JobStopped extends Error {}

/**
 * Makes and judges the int8 candidate of each new model version, one job at a time in the
 * background: quantize (worker thread) → run fp32 and int8 on the same inputs (worker thread) →
 * accuracy gate on every output → serve int8 only if it keeps the answers and is faster, unless
 * the admin has fixed the precision. Progress and the report are in SQLite; a stop ends the
 * running job's threads and leaves it queued, and unfinished jobs resume on the next start.
 */
export class QuantizationJobs {
  private queue: Promise<void> = Promise.resolve();
  private readonly stop = new AbortController();
  private readonly now: () => Date;

  constructor(private readonly deps: QuantizationJobsDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  private save(name: string, version: string, status: 'queued' | 'running' | 'done' | 'failed', stage: string, progress: number, report: Record<string, unknown> | null = null): void {
    this.deps.repository.upsertJob({ model_name: name, version, status, stage, progress, report, updated_at: this.now().toISOString() });
  }

  /** Queues a job; the returned promise settles when it has run (the API does not wait on it). */
  enqueue(name: string, version: string): Promise<void> {
    // Read before the queued row replaces the report: with an override in place, the last report is the only record of the gate's own choice.
    const previous = this.lastDecision(name, version);
    this.save(name, version, 'queued', 'queued', 0);
    const job = this.queue.then(() => (this.stop.signal.aborted ? undefined : this.run(name, version, previous)));
    this.queue = job.catch(() => undefined);
    return job;
  }

  /** Jobs a stop interrupted start again. */
  resume(): void {
    for (const job of this.deps.repository.unfinishedJobs()) void this.enqueue(job.model_name, job.version);
  }

  /** Ends the running job's worker threads at once (it stays queued for the next start) and starts no more. */
  async close(): Promise<void> {
    this.stop.abort(new JobStopped('the server is stopping'));
    await this.queue;
  }

  private lastDecision(name: string, version: string): Precision | null {
    const decision = this.deps.repository.getJob(name, version)?.report?.decision;
    return decision === 'int8' || decision === 'fp32' ? decision : null;
  }

  private async run(name: string, version: string, previous: Precision | null): Promise<void> {
    const label = `${name}/${version}`;
    try {
      const report = await this.evaluate(name, version, previous);
      this.save(name, version, 'done', 'done', 1, report as unknown as Record<string, unknown>);
      this.deps.onDecided?.(name, version, report);
    } catch (error) {
      if (this.stop.signal.aborted) {
        this.save(name, version, 'queued', 'interrupted by a stop; resumes on the next start', 0);
        return;
      }
      this.deps.onError(error, label);
      // A candidate that did not make it through must never be served: its file goes.
      let files: { fp32: string; int8: string };
      try {
        files = this.deps.target(name, version).files;
      } catch {
        return; // the version itself was deleted meanwhile: nothing left to record
      }
      await rm(files.int8, { force: true });
      try {
        // The report is read over the API: onnxruntime's and the file system's paths stay in the log (onError above).
        this.save(name, version, 'failed', 'failed', 1, { error: withoutModelPaths(messageOf(error), [files.fp32, files.int8]) });
      } catch (saveError) {
        // A full disk can refuse the report too; the job stays unfinished and runs again at the next start.
        this.deps.onError(saveError, label);
      }
    }
  }

  private async evaluate(name: string, version: string, previous: Precision | null): Promise<QuantizationReport> {
    const signal = this.stop.signal;
    const target = this.deps.target(name, version);
    const current = target.precisionOverride === null ? target.servedPrecision : (previous ?? 'fp32');
    const thresholds = this.deps.thresholds();
    const fp32Bytes = (await stat(target.files.fp32)).size;

    this.save(name, version, 'running', 'quantizing', 0.1);
    const candidate = await makeInt8Candidate({ sourcePath: target.files.fp32, targetPath: target.files.int8 }, signal);
    const base = {
      validation: null, unvalidated: false, samples: 0, metric: null, agreement: null, cosine: null, max_abs_error: null, outputs: [] as QuantizationReport['outputs'],
      fp32_median_ms: null, int8_median_ms: null, speedup: null, speedup_interval: null, timed_pairs: null, timing_stopped_by: null,
      previous_decision: current, degenerate: null, fp32_bytes: fp32Bytes, int8_bytes: null, size_ratio: null,
      quantized_nodes: candidate.quantized.length, skipped_nodes: candidate.skipped, conv_nodes_left_fp32: candidate.convNodes,
      thresholds: { min_top1_agreement: thresholds.minTop1, min_cosine: thresholds.minCosine, min_speedup: thresholds.minSpeedup, hysteresis_band: HYSTERESIS_BAND },
    } as const;
    const convNote = candidate.convNodes > 0 ? [`${candidate.convNodes} Conv nodes stay fp32 (dynamic ConvInteger is ~9× slower on ORT's CPU provider; static QDQ is not built)`] : [];
    if (!candidate.written) {
      return this.conclude(name, version, { ...base, decision: 'fp32', reasons: [candidate.reason ?? 'nothing to quantize', ...convNote] });
    }
    const int8Bytes = (await stat(target.files.int8)).size;

    this.save(name, version, 'running', 'validating', 0.4);
    const signature = { name, inputs: target.inputs };
    const real = await storedSamples(this.deps.repository, this.deps.decodeInputs, signature, MAX_SAMPLES);
    const unvalidated = real.samples.length === 0;
    const samples = unvalidated ? generateInputs(target.inputs, GENERATED_SAMPLES) : real.samples;
    const timedSamples = Math.min(samples.length, TIMED_SAMPLES);
    const evaluation = await compareModels(
      {
        baselinePath: target.files.fp32,
        candidatePath: target.files.int8,
        samples,
        outputNames: target.outputs.map((o) => o.name),
        ...this.deps.execution,
        timedSamples,
        timingBudgetMs: TIMING_BUDGET_MS,
        speedupMargin: thresholds.minSpeedup,
      },
      signal,
    );

    this.save(name, version, 'running', 'deciding', 0.9);
    const outputNames = target.outputs.map((o) => o.name);
    const outputs: OutputAgreement[] = [];
    for (const output of outputNames) {
      const agreement = measureAgreement(evaluation.baseline.map((o) => o[output]!), evaluation.candidate.map((o) => o[output]!));
      outputs.push(judgeOutput(output, agreement, thresholds));
      await nextTurn();
    }
    const degenerate = degenerateComparison(evaluation.baseline, outputNames);
    const { estimate } = evaluation.speed;
    const gate = decidePrecision(outputs, estimate, current, thresholds, degenerate);
    const sourceNotes = [
      ...(real.misfits > 0 ? [`${real.misfits} stored samples do not fit this version's inputs and were skipped`] : []),
      ...(unvalidated ? ['measured on generated inputs (no fitting validation samples): the decision is unvalidated'] : []),
    ];
    const headline = outputs[0]!;
    return this.conclude(name, version, {
      ...base,
      decision: gate.decision,
      reasons: [...gate.reasons, ...sourceNotes, ...convNote],
      validation: unvalidated ? 'generated' : real.sources.size === 2 ? 'uploaded+live' : [...real.sources][0]!,
      unvalidated,
      samples: samples.length,
      metric: headline.metric,
      agreement: headline.agreement,
      cosine: headline.cosine,
      max_abs_error: headline.maxAbsError,
      outputs: outputs.map((o) => ({ name: o.name, metric: o.metric, agreement: o.agreement, cosine: o.cosine, max_abs_error: o.maxAbsError, passes: o.passes })),
      fp32_median_ms: evaluation.speed.aMedianMs,
      int8_median_ms: evaluation.speed.bMedianMs,
      speedup: estimate?.ratio ?? null,
      speedup_interval: estimate ? [estimate.low, estimate.high] : null,
      timed_pairs: estimate?.pairs ?? null,
      timing_stopped_by: evaluation.speed.stoppedBy,
      degenerate,
      int8_bytes: int8Bytes,
      size_ratio: fp32Bytes / int8Bytes,
    });
  }

  /**
   * Serves what the gate decided unless the admin fixed the precision. A rejected int8 file stays
   * beside the original (it loads and runs: the comparison just did), so the admin can choose it.
   */
  private async conclude(name: string, version: string, report: Omit<QuantizationReport, 'served_precision' | 'precision_override'>): Promise<QuantizationReport> {
    const { precisionOverride } = this.deps.target(name, version);
    const served = precisionOverride ?? report.decision;
    await this.deps.serve(name, version, served);
    return { ...report, served_precision: served, precision_override: precisionOverride };
  }
}
