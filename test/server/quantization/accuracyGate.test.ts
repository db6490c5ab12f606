import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RuntimeTensor, TensorSpec } from '../../../server/common/datatypes.js';
import type { RatioEstimate } from '../../../server/measurement/PairedRatio.js';
import { decidePrecision, degenerateComparison, isClassifierLike, judgeOutput, measureAgreement } from '../../../server/quantization/accuracyGate.js';
import { generateInputs } from '../../../server/quantization/generateInputs.js';

const f32 = (dims: number[], values: number[]): RuntimeTensor => ({ type: 'float32', dims, data: Float32Array.from(values) });

test('classifier-like outputs are judged by top-1 agreement over every row', () => {
  const fp32 = [f32([2, 3], [0.1, 0.7, 0.2, 0.5, 0.3, 0.2]), f32([1, 3], [0.3, 0.3, 0.4])];
  const int8 = [f32([2, 3], [0.1, 0.6, 0.3, 0.2, 0.5, 0.3]), f32([1, 3], [0.3, 0.29, 0.41])];
  const result = measureAgreement(fp32, int8);
  assert.equal(result.metric, 'top1');
  assert.equal(result.agreement, 2 / 3, 'rows 1 and 3 agree, row 2 flips');
  assert.ok(Math.abs(result.maxAbsError - 0.3) < 1e-6);
  assert.ok(isClassifierLike(fp32[0]!));
  assert.ok(!isClassifierLike(f32([4], [1, 2, 3, 4])));
});

test('other outputs are judged by mean cosine similarity', () => {
  const hidden = measureAgreement([f32([1, 2, 2], [1, -2, 3, 4])], [f32([1, 2, 2], [1, -2, 3, 4.1])]);
  assert.equal(hidden.metric, 'cosine', 'a hidden state is not class scores');
  assert.ok(hidden.agreement > 0.999);
  const perPosition = measureAgreement([f32([1, 2, 2], [0.9, 0.1, 0.3, 0.7])], [f32([1, 2, 2], [0.8, 0.2, 0.6, 0.4])]);
  assert.deepEqual([perPosition.metric, perPosition.agreement], ['top1', 0.5], 'probability rows per position are class scores');
  const vector = measureAgreement([f32([4], [1, 0, 0, 0])], [f32([4], [0, 1, 0, 0])]);
  assert.deepEqual([vector.metric, vector.agreement], ['cosine', 0]);
});

const interval = (ratio: number, low: number, high: number): RatioEstimate => ({ ratio, low, high, pairs: 100 });

test('int8 is chosen only when every output keeps its answers and its whole speed-up interval clears the margin', () => {
  const good = judgeOutput('p', { metric: 'top1', agreement: 0.995, cosine: 0.999, maxAbsError: 0.01 });
  assert.equal(decidePrecision([good], interval(1.5, 1.45, 1.55), 'fp32').decision, 'int8');
  assert.equal(decidePrecision([good], interval(0.9, 0.88, 0.92), 'fp32').decision, 'fp32');
  assert.equal(decidePrecision([good], interval(1.07, 1.04, 1.1), 'fp32').decision, 'fp32', 'an interval that reaches below the margin does not replace fp32');
  assert.equal(decidePrecision([good], null, 'fp32').decision, 'fp32', 'no interval, no change');
  assert.equal(decidePrecision([judgeOutput('p', { metric: 'top1', agreement: 0.98, cosine: 0.999, maxAbsError: 0.01 })], interval(3, 2.9, 3.1), 'fp32').decision, 'fp32');
  const embedding = judgeOutput('e', { metric: 'top1', agreement: 1, cosine: 0.646, maxAbsError: 95 });
  assert.equal(decidePrecision([embedding], interval(3, 2.9, 3.1), 'fp32').decision, 'fp32', 'a 2-D output whose values are wrong fails despite top-1');
  const broken = judgeOutput('y', { metric: 'cosine', agreement: 0, cosine: 0, maxAbsError: 1 });
  const exact = judgeOutput('shape', { metric: 'exact', agreement: 1, cosine: 1, maxAbsError: 0 });
  const decision = decidePrecision([exact, broken], interval(3.5, 3.4, 3.6), 'int8');
  assert.equal(decision.decision, 'fp32', 'every output must pass, not only the first, whatever was served before');
  assert.deepEqual(decision.reasons, [
    'shape: exact agreement 1.0000 meets 1',
    'y: cosine agreement 0.0000 misses 0.995',
    'int8 vs fp32: speed-up 3.500× (95% interval 3.400×-3.600×, 100 pairs); fp32 serves, whatever the speed',
  ]);
});

test('a speed-up whose interval straddles the margin keeps the choice in place (no flipping with noise)', () => {
  const good = judgeOutput('p', { metric: 'top1', agreement: 1, cosine: 1, maxAbsError: 0 });
  // The five measured speed-ups of one job that flipped the old gate: 1.074, 1.072, 1.045, 1.074, 1.025.
  for (const ratio of [1.074, 1.072, 1.045, 1.074, 1.025]) {
    const near = interval(ratio, ratio - 0.03, ratio + 0.03);
    assert.equal(decidePrecision([good], near, 'fp32').decision, 'fp32', `${ratio} from fp32`);
    assert.equal(decidePrecision([good], near, 'int8').decision, 'int8', `${ratio} from int8`);
  }
  const kept = decidePrecision([good], interval(1.04, 1.02, 1.06), 'int8');
  assert.match(kept.reasons.at(-1)!, /is not clear of 1\.050× by 3% either way: int8 stays \(the choice in place\)/);
  // Runs differ by more than one run's interval says: the interval must clear the margin by 3% (1.0815×, 1.0194×).
  assert.equal(decidePrecision([good], interval(1.07, 1.06, 1.08), 'fp32').decision, 'fp32', 'wholly above 1.05× but not by 3%');
  assert.equal(decidePrecision([good], interval(1.09, 1.085, 1.095), 'fp32').decision, 'int8');
  assert.equal(decidePrecision([good], interval(1.03, 1.02, 1.04), 'int8').decision, 'int8', 'wholly below 1.05× but not by 3%');
  assert.equal(decidePrecision([good], interval(0.99, 0.97, 1.01), 'int8').decision, 'fp32', 'a whole interval 3% below the margin replaces int8');
});

test('a comparison in which fp32 answers every sample alike is degenerate, and int8 does not pass on it', () => {
  const saturated = [0, 1, 2].map((i) => ({ p: f32([1, 3], [1, 3e-21 * i, 1e-30]), label: { type: 'int64' as const, dims: [1], data: BigInt64Array.from([0n]) } }));
  const reason = degenerateComparison(saturated, ['p', 'label']);
  assert.match(reason ?? '', /answers all 3 samples alike on every output/);
  const varied = [...saturated, { p: f32([1, 3], [0.2, 0.7, 0.1]), label: { type: 'int64' as const, dims: [1], data: BigInt64Array.from([1n]) } }];
  assert.equal(degenerateComparison(varied, ['p', 'label']), null, 'one sample that differs makes the comparison mean something');
  assert.equal(degenerateComparison(saturated.slice(0, 1), ['p', 'label']), null, 'one sample alone is not judged');
  const good = judgeOutput('p', { metric: 'top1', agreement: 1, cosine: 1, maxAbsError: 3e-21 });
  const decision = decidePrecision([good], interval(2, 1.9, 2.1), 'fp32', undefined, reason);
  assert.equal(decision.decision, 'fp32');
  assert.equal(decision.reasons[0], reason);
});

test('generated inputs follow the signature, repeat for a seed, and use 1 for a dynamic batch', () => {
  const specs: TensorSpec[] = [
    { name: 'x', datatype: 'FP32', shape: [-1, 3, -1] },
    { name: 'ids', datatype: 'INT64', shape: [2] },
    { name: 'flag', datatype: 'BOOL', shape: [1] },
  ];
  const [a] = generateInputs(specs, 1, 9);
  const [b] = generateInputs(specs, 1, 9);
  assert.deepEqual(a!.x!.dims, [1, 3, 32]);
  assert.equal((a!.x!.data as Float32Array).length, 96);
  assert.ok(a!.ids!.data instanceof BigInt64Array);
  assert.ok(a!.flag!.data instanceof Uint8Array);
  assert.deepEqual(a, b);
});
