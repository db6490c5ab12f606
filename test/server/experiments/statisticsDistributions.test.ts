import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { chiSquareSurvival } from '../../../server/experiments/statistics/chiSquare.js';
import { logGamma } from '../../../server/experiments/statistics/gamma.js';
import { normalCdf, normalQuantile, normalTwoSidedPValue } from '../../../server/experiments/statistics/normal.js';
import { StatisticsInputError } from '../../../server/experiments/statistics/StatisticsInputError.js';

/** |actual − expected| within `relative` of |expected| (tail probabilities must be right in relative terms). */
function assertClose(actual: number, expected: number, relative: number, label: string): void {
  assert.ok(Math.abs(actual - expected) <= relative * Math.abs(expected) + 1e-300, `${label}: ${actual} vs ${expected}`);
}

// Reference values: SciPy 1.17.1 (scipy.stats.norm.cdf / norm.sf / norm.ppf, scipy.stats.chi2.sf),
// python3 3.11.7 on this machine; the central quantiles agree with Python's
// statistics.NormalDist().inv_cdf to 1e-15.
const CDF: [z: number, expected: number][] = [
  [-8, 6.22096057427174e-16],
  [-5, 2.866515718791933e-7],
  [-3, 0.0013498980316300933],
  [-1.959963984540054, 0.025],
  [-1, 0.15865525393145707],
  [-0.5, 0.3085375387259869],
  [0, 0.5],
  [0.5, 0.6914624612740131],
  [1, 0.8413447460685429],
  [2.5, 0.9937903346742238],
  [3, 0.9986501019683699],
];

const QUANTILE: [p: number, expected: number][] = [
  [1e-10, -6.361340902404056],
  [1e-4, -3.7190164854556804],
  [0.001, -3.090232306167813],
  [0.025, -1.9599639845400545],
  [0.05, -1.6448536269514729],
  [0.3, -0.5244005127080409],
  [0.5, 0],
  [0.8, 0.8416212335729143],
  [0.975, 1.959963984540054],
  [0.995, 2.5758293035489004],
  [0.9999, 3.719016485455709],
];

const CHI_SQUARE_SURVIVAL: [x: number, df: number, expected: number][] = [
  [0.5, 1, 0.47950012218695337],
  [3.841458820694124, 1, 0.05],
  [10, 1, 0.001565402258002549],
  [5.991464547107979, 2, 0.05],
  [2, 3, 0.5724067044708798],
  [30, 4, 4.894437128029217e-6],
  [100, 10, 5.4497019829205215e-17],
  [0.01, 5, 0.9999994699729957],
];

describe('statistics: distributions', () => {
  test('normalCdf matches SciPy, including the far tails to relative precision', () => {
    for (const [z, expected] of CDF) assertClose(normalCdf(z), expected, 1e-12, `Φ(${z})`);
    assertClose(normalCdf(-10), 7.61985302416047e-24, 1e-12, 'Φ(−10)'); // scipy norm.cdf(-10)
    assertClose(normalTwoSidedPValue(6), 1.973175290075389e-9, 1e-12, 'P(|Z| ≥ 6)'); // 2·scipy norm.sf(6)
    assert.equal(normalTwoSidedPValue(0), 1);
    assert.equal(normalTwoSidedPValue(Infinity), 0);
  });

  test('normalQuantile matches SciPy norm.ppf to 1e-13 and inverts normalCdf', () => {
    for (const [p, expected] of QUANTILE) assert.ok(Math.abs(normalQuantile(p) - expected) < 1e-13, `Φ⁻¹(${p}) = ${normalQuantile(p)} vs ${expected}`);
    for (const p of [1e-8, 0.01, 0.2, 0.6, 0.99]) assertClose(normalCdf(normalQuantile(p)), p, 1e-13, `Φ(Φ⁻¹(${p}))`);
    assert.equal(normalQuantile(0), -Infinity);
    assert.equal(normalQuantile(1), Infinity);
    assert.throws(() => normalQuantile(1.5), StatisticsInputError);
    assert.throws(() => normalQuantile(Number.NaN), StatisticsInputError);
  });

  test('chiSquareSurvival matches SciPy chi2.sf', () => {
    for (const [x, df, expected] of CHI_SQUARE_SURVIVAL) assertClose(chiSquareSurvival(x, df), expected, 1e-11, `χ²(${df}) sf(${x})`);
    assert.equal(chiSquareSurvival(0, 3), 1);
  });

  test('logGamma matches exact values (Γ(1/2) = √π, Γ(5) = 24, Γ(0.1) = 9.513507698668732 from scipy.special.gamma)', () => {
    assertClose(logGamma(0.5), Math.log(Math.sqrt(Math.PI)), 1e-14, 'lnΓ(1/2)');
    assertClose(logGamma(5), Math.log(24), 1e-14, 'lnΓ(5)');
    assertClose(logGamma(0.1), Math.log(9.513507698668732), 1e-13, 'lnΓ(0.1)');
  });
});
