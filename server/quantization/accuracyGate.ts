import type { RuntimeTensor } from '../common/datatypes.js';
import type { Precision } from '../common/SessionKey.js';
import { decideBySpeed, describeSpeedup } from '../measurement/decideBySpeed.js';
import type { RatioEstimate } from '../measurement/PairedRatio.js';

export type GateMetric = 'top1' | 'cosine' | 'exact';

export interface GateThresholds {
  /** Share of rows whose arg-max must agree, for classifier-like outputs. */
  minTop1: number;
  /** Mean cosine similarity the int8 outputs must reach, for other outputs. */
  minCosine: number;
  /** int8's speed-up over fp32 (paired runs) must exceed this by HYSTERESIS_BAND throughout its 95% interval to replace fp32, and fall below it by as much to be replaced. */
  minSpeedup: number;
}

/** The same defaults as the settings (server/config/serverSettings.ts), for callers without settings (the benchmark). */
export const DEFAULT_GATE: GateThresholds = { minTop1: 0.99, minCosine: 0.995, minSpeedup: 1.05 };

export interface Agreement {
  metric: GateMetric;
  /** The metric's value: top-1 agreement share or mean cosine, 0–1. */
  agreement: number;
  cosine: number;
  maxAbsError: number;
}

const isFloat = (t: RuntimeTensor) => t.type === 'float32' || t.type === 'float64' || t.type === 'float16';

/**
 * Classifier-like: class scores along the last axis. Either a [batch, classes] float output
 * (logits or probabilities), or rows that are probability distributions (non-negative, summing to
 * 1), which covers per-position classifiers such as OCR recognisers ([batch, steps, alphabet]).
 * A [1, 128, 768] hidden state is neither, and is judged by cosine similarity.
 */
export function isClassifierLike(tensor: RuntimeTensor): boolean {
  const width = tensor.dims.at(-1) ?? 0;
  if (!isFloat(tensor) || tensor.dims.length < 2 || width < 2) return false;
  if (tensor.dims.length === 2) return true;
  const v = values(tensor);
  for (let start = 0; start < v.length; start += width) {
    let sum = 0;
    for (let i = start; i < start + width; i++) {
      if (v[i]! < 0) return false;
      sum += v[i]!;
    }
    if (Math.abs(sum - 1) > 1e-3) return false;
  }
  return true;
}

function values(t: RuntimeTensor): ArrayLike<number> {
  return t.data as unknown as ArrayLike<number>;
}

function argmaxRows(t: RuntimeTensor): number[] {
  const width = t.dims.at(-1)!;
  const v = values(t);
  const rows: number[] = [];
  for (let start = 0; start < v.length; start += width) {
    let best = start;
    for (let i = start + 1; i < start + width; i++) if (v[i]! > v[best]!) best = i;
    rows.push(best - start);
  }
  return rows;
}

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) { dot += a[i]! * b[i]!; na += a[i]! ** 2; nb += b[i]! ** 2; }
  if (na === 0 && nb === 0) return 1;
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/**
 * Compares one output of fp32 and int8 over all samples (same inputs, same run). Top-1 agreement
 * for classifier-like outputs (every row: batch rows, or sequence positions), mean cosine
 * similarity for other float outputs, the share of exactly equal samples for integer outputs;
 * cosine and the largest absolute error are always reported.
 */
export function measureAgreement(baseline: RuntimeTensor[], candidate: RuntimeTensor[]): Agreement {
  if (baseline.length === 0 || baseline.length !== candidate.length) throw new Error('the gate needs the same, non-empty set of outputs from both models');
  const classifier = baseline.every(isClassifierLike);
  const float = baseline.every(isFloat);
  let agreeing = 0, rows = 0, cosineSum = 0, maxAbsError = 0;
  baseline.forEach((b, i) => {
    const c = candidate[i]!;
    const [vb, vc] = [values(b), values(c)];
    const equal = vb.length === vc.length && Array.from(vb).every((x, j) => x === vc[j]);
    cosineSum += float ? cosine(vb, vc) : equal ? 1 : 0;
    for (let j = 0; j < vb.length; j++) maxAbsError = Math.max(maxAbsError, Math.abs(Number(vb[j]) - Number(vc[j])));
    if (classifier) {
      const [rb, rc] = [argmaxRows(b), argmaxRows(c)];
      rows += rb.length;
      agreeing += rb.filter((r, j) => r === rc[j]).length;
    }
  });
  const meanCosine = cosineSum / baseline.length;
  if (classifier && rows > 0) return { metric: 'top1', agreement: agreeing / rows, cosine: meanCosine, maxAbsError };
  return { metric: float ? 'cosine' : 'exact', agreement: meanCosine, cosine: meanCosine, maxAbsError };
}

/**
 * Below this cosine an output is broken whatever its arg-max says: a 2-D embedding or regression
 * output looks like class scores, and top-1 alone would pass it (seen: top-1 1.0 at cosine 0.65).
 */
export const CLASSIFIER_MIN_COSINE = 0.9;

export interface OutputAgreement extends Agreement {
  name: string;
  passes: boolean;
}

export interface GateDecision {
  decision: Precision;
  reasons: string[];
}

function passes(a: Agreement, thresholds: GateThresholds): boolean {
  if (a.metric === 'top1') return a.agreement >= thresholds.minTop1 && a.cosine >= CLASSIFIER_MIN_COSINE;
  if (a.metric === 'cosine') return a.agreement >= thresholds.minCosine;
  return a.agreement === 1;
}

export function judgeOutput(name: string, agreement: Agreement, thresholds: GateThresholds = DEFAULT_GATE): OutputAgreement {
  return { name, ...agreement, passes: passes(agreement, thresholds) };
}

/** Float outputs within this (relative to the value, absolute below 1) count as the same answer. */
const SAME_ANSWER = 1e-6;

function sameAnswer(a: RuntimeTensor, b: RuntimeTensor): boolean {
  const [va, vb] = [values(a), values(b)];
  if (va.length !== vb.length) return false;
  for (let i = 0; i < va.length; i++) {
    const [x, y] = [Number(va[i]), Number(vb[i])];
    if (Math.abs(x - y) > SAME_ANSWER * Math.max(1, Math.abs(x))) return false;
  }
  return true;
}

/**
 * Why a comparison can tell nothing, or null: when the baseline (fp32; the CPU) gives every sample the same answer on
 * every output, the inputs never reached the part of the model that quantization changes (seen:
 * generated standard-normal inputs saturated a tabular model's softmax, and the gate "passed" at a
 * max abs error of 3e-21). One sample alone is not judged.
 */
export function degenerateComparison(baseline: Record<string, RuntimeTensor>[], outputNames: string[], names = { baseline: 'fp32', candidate: 'int8' }): string | null {
  if (baseline.length < 2 || outputNames.length === 0) return null;
  const first = baseline[0]!;
  const constant = outputNames.every((name) => baseline.every((sample) => sameAnswer(first[name]!, sample[name]!)));
  return constant
    ? `${names.baseline} answers all ${baseline.length} samples alike on every output: these inputs do not exercise the model, so the comparison cannot show whether ${names.candidate} keeps its answers (upload samples of real inputs)`
    : null;
}

/**
 * A candidate (int8, WebGPU) replaces the baseline (fp32, the CPU) only when the comparison means
 * something, every output keeps its answers, and the speed-up clears the margin by the hysteresis
 * of decideBySpeed; in between, `current` (the choice in place) stays. When the answers are not
 * kept, or nothing could be compared, the baseline serves whatever the speed.
 */
export function decideByComparison<Choice extends string>(
  outputs: OutputAgreement[],
  speed: RatioEstimate | null,
  current: Choice,
  choices: { baseline: Choice; candidate: Choice },
  margin: number,
  thresholds: GateThresholds = DEFAULT_GATE,
  degenerate: string | null = null,
): { decision: Choice; reasons: string[] } {
  const keepsAnswers = outputs.length > 0 && outputs.every((o) => o.passes);
  const needed = (o: OutputAgreement) => (o.metric === 'top1' ? `${thresholds.minTop1} (and cosine ≥ ${CLASSIFIER_MIN_COSINE})` : o.metric === 'cosine' ? String(thresholds.minCosine) : '1');
  const reasons = [
    ...(degenerate ? [degenerate] : []),
    ...outputs.map((o) => `${o.name}: ${o.metric} agreement ${o.agreement.toFixed(4)} ${o.passes ? 'meets' : 'misses'} ${needed(o)}`),
  ];
  const { baseline, candidate } = choices;
  if (degenerate || !keepsAnswers) return { decision: baseline, reasons: [...reasons, `${candidate} vs ${baseline}: ${describeSpeedup(speed)}; ${baseline} serves, whatever the speed`] };
  const bySpeed = decideBySpeed(current, { a: baseline, b: candidate }, speed, margin);
  return { decision: bySpeed.choice, reasons: [...reasons, bySpeed.reason] };
}

/** The int8 gate: decideByComparison of fp32 and int8 with the settings' min_speedup as the margin. */
export function decidePrecision(
  outputs: OutputAgreement[],
  speed: RatioEstimate | null,
  current: Precision,
  thresholds: GateThresholds = DEFAULT_GATE,
  degenerate: string | null = null,
): GateDecision {
  return decideByComparison(outputs, speed, current, { baseline: 'fp32', candidate: 'int8' }, thresholds.minSpeedup, thresholds, degenerate);
}
