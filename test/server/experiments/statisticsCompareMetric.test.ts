import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compareMetric, StatisticsInputError, type MetricSample } from '../../../server/experiments/statistics/index.js';

function assertNear(actual: number, expected: number, tolerance: number, label: string): void {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${label}: ${actual} vs ${expected}`);
}

const Z_975 = 1.959963984540054; // scipy.stats.norm.ppf(0.975)

describe('statistics: compareMetric (fixed horizon)', () => {
  test('two proportions, 100/1000 against 130/1000: z statistic, p-value and intervals match SciPy', () => {
    // Reference: SciPy 1.17.1, scipy.stats.ttest_ind(treatment, control, equal_var=False) on the raw
    // 0/1 arrays gives the Welch statistic 2.104015995356242 (= our z: unpooled variances with
    // n − 1); p = 2·norm.sf(2.104015995356242); intervals from norm.interval(0.95, mean, sem).
    const result = compareMetric({ units: 1000, sum: 100, sumSquares: 100 }, { units: 1000, sum: 130, sumSquares: 130 });
    assertNear(result.pValue, 0.03537705174766032, 1e-13, 'p-value');
    assertNear(result.difference.estimate, 0.03, 1e-15, 'difference');
    assertNear(result.difference.lower, 0.0020539579233350494, 1e-13, 'difference lower');
    assertNear(result.difference.upper, 0.05794604207666495, 1e-13, 'difference upper');
    assertNear(result.control.lower, 0.0813968451268688, 1e-13, 'control lower');
    assertNear(result.control.upper, 0.11860315487313121, 1e-13, 'control upper');
    assertNear(result.treatment.lower, 0.10914565041731049, 1e-13, 'treatment lower');
    assertNear(result.treatment.upper, 0.15085434958268953, 1e-13, 'treatment upper');
    assert.equal(result.control.units, 1000);
    assert.equal(result.treatment.mean, 0.13);
  });

  test('Welch difference of means on latency-like data matches SciPy', () => {
    // Reference: numpy default_rng(20261101), control = round(lognormal(3.0, 0.5, 500), 3),
    // treatment = round(lognormal(3.1, 0.6, 400), 3); the sums below are of those arrays.
    // SciPy 1.17.1 ttest_ind(treatment, control, equal_var=False).statistic = 3.2686466592347108,
    // p = 2·norm.sf(statistic), difference interval ±1.959963984540054·difference/statistic.
    const control: MetricSample = { units: 500, sum: 11453.486, sumSquares: 342510.78685000003 };
    const treatment: MetricSample = { units: 400, sum: 10466.857, sumSquares: 381393.26349900005 };
    const result = compareMetric(control, treatment);
    assertNear(result.pValue, 0.001080631577102836, 1e-12, 'p-value');
    assertNear(result.difference.estimate, 3.2601704999999974, 1e-12, 'difference');
    assertNear(result.difference.lower, 1.3052890369311245, 1e-10, 'difference lower');
    assertNear(result.difference.upper, 5.21505196306887, 1e-10, 'difference upper');
    assertNear(result.control.lower, 21.796125571240427, 1e-10, 'control lower');
    assertNear(result.treatment.upper, 27.775738703639185, 1e-10, 'treatment upper');
  });

  test('standard error of the difference and delta-method relative lift match GrowthBook gbstats', () => {
    // Reference: growthbook/growthbook packages/stats/tests/frequentist/test_tests.py (commit
    // 8f1db4456915a8e7b7faf23d5632ca7219d2f469): SampleMeanStatistic(sum=1396.87,
    // sum_squares=52377.9767, n=3000) against (sum=2422.7, sum_squares=134698.29, n=3461):
    // absolute uplift mean 0.23437666666666668, stddev 0.12983081254184736
    // (TestSequentialOneSidedGreaterTTest.test_one_sided_ttest_absolute); relative uplift mean
    // 0.5033610858562358, stddev 0.3334122146400735 (…test_one_sided_ttest).
    const result = compareMetric({ units: 3000, sum: 1396.87, sumSquares: 52377.9767 }, { units: 3461, sum: 2422.7, sumSquares: 134698.29 });
    assertNear(result.difference.estimate, 0.23437666666666668, 1e-14, 'difference');
    assertNear((result.difference.upper - result.difference.lower) / (2 * Z_975), 0.12983081254184736, 1e-12, 'standard error of the difference');
    const lift = result.relativeLift!;
    assertNear(lift.estimate, 0.5033610858562358, 1e-13, 'relative lift');
    assertNear((lift.upper - lift.lower) / (2 * Z_975), 0.3334122146400735, 1e-12, 'delta-method standard error of the lift');
  });

  test('alpha sets the interval level', () => {
    const control = { units: 1000, sum: 100, sumSquares: 100 };
    const treatment = { units: 1000, sum: 130, sumSquares: 130 };
    const at95 = compareMetric(control, treatment);
    const at99 = compareMetric(control, treatment, { alpha: 0.01 });
    // 2.5758293035489004 / 1.959963984540054: scipy norm.ppf(0.995) / norm.ppf(0.975)
    assertNear((at99.difference.upper - at99.difference.lower) / (at95.difference.upper - at95.difference.lower), 2.5758293035489004 / Z_975, 1e-12, 'width ratio');
    assert.equal(at99.pValue, at95.pValue);
    assert.throws(() => compareMetric(control, treatment, { alpha: 0 }), StatisticsInputError);
    assert.throws(() => compareMetric(control, treatment, { alpha: 1 }), StatisticsInputError);
  });

  test('degenerate inputs give unbounded intervals or exact limits, never NaN', () => {
    const noNaN = (value: unknown) => assert.ok(!JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && Number.isNaN(v) ? 'NaN!' : v)).includes('NaN!'), JSON.stringify(value));
    const empty = compareMetric({ units: 0, sum: 0, sumSquares: 0 }, { units: 0, sum: 0, sumSquares: 0 });
    noNaN(empty);
    assert.equal(empty.relativeLift, null, 'control mean 0: no relative lift');
    assert.deepEqual([empty.difference.lower, empty.difference.upper, empty.pValue], [-Infinity, Infinity, 1]);
    assert.deepEqual([empty.sequential.lower, empty.sequential.upper, empty.sequential.pValue], [-Infinity, Infinity, 1]);
    assert.deepEqual([empty.control.mean, empty.control.lower, empty.control.upper], [0, -Infinity, Infinity]);

    const single = compareMetric({ units: 1, sum: 2, sumSquares: 4 }, { units: 5, sum: 15, sumSquares: 55 });
    noNaN(single);
    assert.deepEqual(single.relativeLift, { estimate: 0.5, lower: -Infinity, upper: Infinity });

    const bothZero = compareMetric({ units: 500, sum: 0, sumSquares: 0 }, { units: 500, sum: 0, sumSquares: 0 });
    noNaN(bothZero);
    assert.deepEqual(bothZero.difference, { estimate: 0, lower: 0, upper: 0 });
    assert.equal(bothZero.pValue, 1);
    assert.equal(bothZero.sequential.pValue, 1);
    assert.equal(bothZero.relativeLift, null);

    const constantApart = compareMetric({ units: 500, sum: 500, sumSquares: 500 }, { units: 500, sum: 1000, sumSquares: 2000 });
    noNaN(constantApart);
    assert.equal(constantApart.pValue, 0, 'no noise at all and a difference: certain');
    assert.equal(constantApart.sequential.pValue, 0);
    assert.deepEqual(constantApart.relativeLift, { estimate: 1, lower: 1, upper: 1 });

    const zeroControlRate = compareMetric({ units: 1000, sum: 0, sumSquares: 0 }, { units: 1000, sum: 5, sumSquares: 5 });
    noNaN(zeroControlRate);
    assert.equal(zeroControlRate.relativeLift, null);
    assert.ok(zeroControlRate.pValue > 0 && zeroControlRate.pValue < 1);
  });

  test('impossible samples are refused with StatisticsInputError', () => {
    const ok = { units: 10, sum: 1, sumSquares: 1 };
    assert.throws(() => compareMetric({ units: -1, sum: 0, sumSquares: 0 }, ok), StatisticsInputError);
    assert.throws(() => compareMetric({ units: 2.5, sum: 0, sumSquares: 0 }, ok), StatisticsInputError);
    assert.throws(() => compareMetric(ok, { units: 10, sum: Number.NaN, sumSquares: 1 }), StatisticsInputError);
  });
});
