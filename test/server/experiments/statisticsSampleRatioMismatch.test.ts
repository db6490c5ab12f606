import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sampleRatioMismatch, StatisticsInputError } from '../../../server/experiments/statistics/index.js';

function assertClose(actual: number, expected: number, label: string): void {
  assert.ok(Math.abs(actual - expected) <= 1e-11 * Math.abs(expected), `${label}: ${actual} vs ${expected}`);
}

// Reference values: SciPy 1.17.1, scipy.stats.chisquare(observed, f_exp) (Pearson, k − 1 degrees of freedom).
describe('statistics: sampleRatioMismatch', () => {
  test('a 50/50 split off by 200 in 10,200 units is not a mismatch at p < 0.001', () => {
    const result = sampleRatioMismatch([5000, 5200], [0.5, 0.5]);
    assertClose(result.chiSquare, 3.9215686274509802, 'chi-square');
    assertClose(result.pValue, 0.0476703806561615, 'p-value');
    assert.equal(result.checked, true);
    assert.equal(result.mismatch, false);
  });

  test('a 50/50 split off by 400 in 10,400 units is one', () => {
    const result = sampleRatioMismatch([5000, 5400], [0.5, 0.5]);
    assertClose(result.chiSquare, 15.384615384615385, 'chi-square');
    assertClose(result.pValue, 8.769942375590228e-5, 'p-value');
    assert.equal(result.mismatch, true);
  });

  test('three uneven variants; weights are normalized by their sum', () => {
    const result = sampleRatioMismatch([1900, 3050, 5050], [0.2, 0.3, 0.5]); // f_exp = [2000, 3000, 5000]
    assertClose(result.chiSquare, 6.333333333333333, 'chi-square');
    assertClose(result.pValue, 0.042143843509276406, 'p-value');
    assert.equal(result.mismatch, false);
    assert.deepEqual(sampleRatioMismatch([1900, 3050, 5050], [2, 3, 5]), result);
    assert.equal(sampleRatioMismatch([1900, 3050, 5050], [0.2, 0.3, 0.5], { threshold: 0.05 }).mismatch, true);
  });

  test('fewer than 8 expected units in a variant: computed but not checked; a starved variant is checked', () => {
    const few = sampleRatioMismatch([3, 12], [0.5, 0.5]); // 7.5 expected each
    assertClose(few.chiSquare, 5.4, 'chi-square');
    assertClose(few.pValue, 0.02013675155034633, 'p-value');
    assert.deepEqual([few.checked, few.mismatch], [false, false]);
    const starved = sampleRatioMismatch([0, 20], [0.5, 0.5]);
    assertClose(starved.pValue, 7.744216431044088e-6, 'p-value');
    assert.deepEqual([starved.checked, starved.mismatch], [true, true]);
    assert.deepEqual(sampleRatioMismatch([0, 0], [0.5, 0.5]), { checked: false, chiSquare: 0, pValue: 1, mismatch: false });
    assert.equal(sampleRatioMismatch([5, 6], [0.5, 0.5], { minUnitsPerVariant: 5 }).checked, true);
  });

  test('inconsistent inputs are refused', () => {
    assert.throws(() => sampleRatioMismatch([10, 10], [1]), StatisticsInputError);
    assert.throws(() => sampleRatioMismatch([10], [1]), StatisticsInputError);
    assert.throws(() => sampleRatioMismatch([10, -1], [0.5, 0.5]), StatisticsInputError);
    assert.throws(() => sampleRatioMismatch([10, 10], [1, 0]), StatisticsInputError);
  });
});
