import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RuntimeTensor, TensorSpec } from '../../../server/common/datatypes.js';
import { decidePrecision, isClassifierLike, judgeOutput, measureAgreement } from '../../../server/quantization/accuracyGate.js';
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

test('int8 is chosen only when every output keeps its answers and it is faster', () => {
  const good = judgeOutput('p', { metric: 'top1', agreement: 0.995, cosine: 0.999, maxAbsError: 0.01 });
  assert.equal(decidePrecision([good], 1.5).decision, 'int8');
  assert.equal(decidePrecision([good], 0.9).decision, 'fp32');
  assert.equal(decidePrecision([good], 1.03).decision, 'fp32', 'a gain within timing noise is not faster');
  assert.equal(decidePrecision([judgeOutput('p', { metric: 'top1', agreement: 0.98, cosine: 0.999, maxAbsError: 0.01 })], 3).decision, 'fp32');
  const embedding = judgeOutput('e', { metric: 'top1', agreement: 1, cosine: 0.646, maxAbsError: 95 });
  assert.equal(decidePrecision([embedding], 3).decision, 'fp32', 'a 2-D output whose values are wrong fails despite top-1');
  const broken = judgeOutput('y', { metric: 'cosine', agreement: 0, cosine: 0, maxAbsError: 1 });
  const exact = judgeOutput('shape', { metric: 'exact', agreement: 1, cosine: 1, maxAbsError: 0 });
  const decision = decidePrecision([exact, broken], 3.5);
  assert.equal(decision.decision, 'fp32', 'every output must pass, not only the first');
  assert.deepEqual(decision.reasons, ['shape: exact agreement 1.0000 meets 1', 'y: cosine agreement 0.0000 misses 0.995', 'speed-up 3.50× > 1.05×']);
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
