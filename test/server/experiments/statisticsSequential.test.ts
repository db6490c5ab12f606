import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { mulberry32 } from '../../../server/common/mulberry32.js';
import { defaultTau, oneSidedSequencePValue, twoSidedSequence } from '../../../server/experiments/statistics/confidenceSequence.js';
import { compareMetric, sequentialGuardrail, StatisticsInputError, type MetricSample } from '../../../server/experiments/statistics/index.js';

function assertNear(actual: number, expected: number, tolerance: number, label: string): void {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${label}: ${actual} vs ${expected}`);
}

/**
 * Reference: growthbook/growthbook packages/stats (gbstats), commit
 * 8f1db4456915a8e7b7faf23d5632ca7219d2f469. Test data in tests/frequentist/test_tests.py:
 * SampleMeanStatistic(sum=1396.87, sum_squares=52377.9767, n=3000) as control against
 * (sum=2422.7, sum_squares=134698.29, n=3461). τ values are gbstats' `sequential_rho(alpha,
 * tuning, two_sided)` (gbstats/frequentist/tests.py), evaluated with numpy 2.4.6.
 */
const GB_CONTROL: MetricSample = { units: 3000, sum: 1396.87, sumSquares: 52377.9767 };
const GB_TREATMENT: MetricSample = { units: 3461, sum: 2422.7, sumSquares: 134698.29 };
const GB_UNITS = 6461;
const GB_RELATIVE = { estimate: 0.5033610858562358, standardError: 0.3334122146400735 };
const GB_ABSOLUTE = { estimate: 0.23437666666666668, standardError: 0.12983081254184736 };
const RHO_TWO_SIDED_TUNING_1000 = 0.08908509752892212; // sequential_rho(0.05, 1000, True)
const RHO_TWO_SIDED_TUNING_5000 = 0.03984006677137368; // sequential_rho(0.05, 5000, True)
const RHO_ONE_SIDED_TUNING_5000 = 0.03557768852889753; // sequential_rho(0.05, 5000, False)

/** Bernoulli arms filled unit by unit, as the routing would. */
function arm(): MetricSample {
  return { units: 0, sum: 0, sumSquares: 0 };
}
function addUnit(sample: MetricSample, value: number): void {
  sample.units += 1;
  sample.sum += value;
  sample.sumSquares += value * value;
}

describe('statistics: always-valid (sequential) methods', () => {
  test('default τ is GrowthBook\'s sequential_rho for 5,000 units', () => {
    assertNear(defaultTau(0.05, 2), RHO_TWO_SIDED_TUNING_5000, 1e-15, 'two-sided');
    assertNear(defaultTau(0.05, 1), RHO_ONE_SIDED_TUNING_5000, 1e-15, 'one-sided');
  });

  test('two-sided confidence sequence matches gbstats SequentialTwoSidedTTest', () => {
    // test_sequential_test_runs (sequential_tuning_parameter=1000): ci=(-0.55844, 1.56516), rounded to 5 decimals.
    const sequence = twoSidedSequence(GB_RELATIVE.estimate, GB_RELATIVE.standardError, GB_UNITS, 0.05, RHO_TWO_SIDED_TUNING_1000);
    assertNear(sequence.lower, -0.55844, 5e-6, 'lower');
    assertNear(sequence.upper, 1.56516, 5e-6, 'upper');
    assert.equal(sequence.pValue, 1, 'gbstats pValue=1: the e-value is below 1');
  });

  test('one-sided p-value is the exact inverse of gbstats\' one-sided sequence (eq. 134)', () => {
    // test_one_sided_ttest_absolute: ci=(-0.12656844172804982, inf) at alpha 0.05, so the
    // boundary sits at estimate − lower = 0.3609451083947165: an estimate there has p = 0.05 exactly.
    const halfwidth = GB_ABSOLUTE.estimate - -0.12656844172804982;
    assertNear(oneSidedSequencePValue(halfwidth, GB_ABSOLUTE.standardError, GB_UNITS, RHO_ONE_SIDED_TUNING_5000), 0.05, 1e-12, 'p at the boundary');
    // Same test: pValue=0.46316491943359384, found by gbstats by bisection. It stops once the bound
    // is within 1e-6 of 0 but returns the midpoint of the next step: rerunning its loop shows the
    // bound at α = 0.4630428759765626 within 1e-6 of 0 and 0.46316… returned, a step of 1.2e-4.
    const guardrail = sequentialGuardrail(GB_CONTROL, GB_TREATMENT, { higherIsWorse: true });
    assertNear(guardrail.pValue, 0.46316491943359384, 2e-4, 'guardrail p-value');
    assertNear(guardrail.pValue, 0.4630428759765626, 1e-5, 'guardrail p-value against the α gbstats last evaluated');
    assertNear(guardrail.difference, GB_ABSOLUTE.estimate, 1e-14, 'difference');
    assert.equal(guardrail.breached, false);
    const better = sequentialGuardrail(GB_CONTROL, GB_TREATMENT, { higherIsWorse: false });
    assert.deepEqual([better.pValue, better.breached], [1, false], 'a treatment that looks better is never a breach');
  });

  test('the always-valid p-value and interval agree: p < alpha exactly when 0 is outside the interval', () => {
    for (const estimate of [0.02, 0.03, 0.035, 0.04, 0.05]) {
      const sequence = twoSidedSequence(estimate, 0.01, 20_000, 0.05, RHO_TWO_SIDED_TUNING_5000);
      assert.equal(sequence.pValue < 0.05, sequence.lower > 0, `estimate ${estimate}: p ${sequence.pValue}, lower ${sequence.lower}`);
    }
  });

  test('sequential intervals are wider than fixed-horizon ones at every sample size', () => {
    for (const units of [10, 100, 1000, 10_000, 100_000, 1_000_000]) {
      const control = { units, sum: 0.1 * units, sumSquares: 0.1 * units };
      const treatment = { units, sum: 0.12 * units, sumSquares: 0.12 * units };
      const result = compareMetric(control, treatment);
      assert.ok(result.sequential.lower < result.difference.lower && result.sequential.upper > result.difference.upper, `${units} units per arm`);
      assert.ok(result.sequential.pValue >= result.pValue, `${units} units per arm: always-valid p ≥ fixed p`);
    }
  });

  test('over 200 simulated experiments watched at 20 looks, the sequential interval contains the true difference at every look in ≥ 95 %', () => {
    const random = mulberry32(20261101);
    const rates = [0.1, 0.12];
    const truth = rates[1]! - rates[0]!;
    let sequentialMisses = 0;
    let fixedMisses = 0;
    for (let experiment = 0; experiment < 200; experiment++) {
      const arms = [arm(), arm()];
      let sequentialMissed = false;
      let fixedMissed = false;
      for (let look = 1; look <= 20; look++) {
        for (let i = 0; i < 200; i++) arms.forEach((sample, v) => addUnit(sample, random() < rates[v]! ? 1 : 0));
        const result = compareMetric(arms[0]!, arms[1]!);
        if (truth < result.sequential.lower || truth > result.sequential.upper) sequentialMissed = true;
        if (truth < result.difference.lower || truth > result.difference.upper) fixedMissed = true;
      }
      if (sequentialMissed) sequentialMisses += 1;
      if (fixedMissed) fixedMisses += 1;
    }
    assert.ok(sequentialMisses <= 10, `the sequential interval missed the truth in ${sequentialMisses}/200 experiments`);
    assert.ok(fixedMisses > 10, `peeking at the fixed-horizon interval should miss in more than 5 % (${fixedMisses}/200)`);
  });

  test('guardrail: no more than alpha false breaches over continuous looks, and a doubled error rate is caught', () => {
    const random = mulberry32(7);
    const simulate = (rates: number[]) => {
      let breaches = 0;
      for (let experiment = 0; experiment < 200; experiment++) {
        const arms = [arm(), arm()];
        for (let look = 1; look <= 20; look++) {
          for (let i = 0; i < 200; i++) arms.forEach((sample, v) => addUnit(sample, random() < rates[v]! ? 1 : 0));
          if (sequentialGuardrail(arms[0]!, arms[1]!, { higherIsWorse: true }).breached) {
            breaches += 1;
            break;
          }
        }
      }
      return breaches;
    };
    const falseBreaches = simulate([0.02, 0.02]);
    assert.ok(falseBreaches <= 10, `${falseBreaches}/200 A/A experiments breached`);
    const caught = simulate([0.02, 0.04]);
    assert.ok(caught >= 180, `only ${caught}/200 experiments with a doubled error rate breached`);
  });

  test('guardrail degenerate inputs and options', () => {
    assert.deepEqual(sequentialGuardrail({ units: 1, sum: 0, sumSquares: 0 }, { units: 1, sum: 1, sumSquares: 1 }, { higherIsWorse: true }), { breached: false, pValue: 1, difference: 1 });
    const lowerIsWorse = sequentialGuardrail({ units: 5000, sum: 1000, sumSquares: 1000 }, { units: 5000, sum: 800, sumSquares: 800 }, { higherIsWorse: false });
    assert.equal(lowerIsWorse.breached, true, 'an outcome 20 % → 16 % is worse');
    assert.throws(() => sequentialGuardrail(GB_CONTROL, GB_TREATMENT, { higherIsWorse: true, alpha: 0.5 }), StatisticsInputError);
  });
});
