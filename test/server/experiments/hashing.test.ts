import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assignVariant, bucketRanges, chooseVariation, fnv1a32, hashV2 } from '../../../server/experiments/hashing.js';

/**
 * GrowthBook's published SDK test vectors: packages/sdk-js/test/cases.json (specVersion 0.8.0) in
 * github.com/growthbook/growthbook at commit 8f1db4456915a8e7b7faf23d5632ca7219d2f469, arrays
 * `hash`, `getBucketRange` and `chooseVariation`, copied as published (names included).
 */
const HASH_V2_CASES: [seed: string, value: string, expected: number][] = [
  ['seed', 'a', 0.0505],
  ['seed', 'b', 0.2696],
  ['foo', 'ab', 0.2575],
  ['foo', 'def', 0.2019],
  ['89123klj', '8952klfjas09ujkasdf', 0.124],
  ['90850943850283058242805', '123', 0.7516],
  ['()**(%$##$%#$#', '___)((*":&', 0.0128],
];

/**
 * cases.json has no version-2 vector with an empty seed; its empty-seed vectors are version 1,
 * `(fnv32a(value + seed) % 1000) / 1000`, which test fnv1a32 itself on the same inputs.
 */
const HASH_V1_CASES: [seed: string, value: string, expected: number][] = [
  ['', 'a', 0.22],
  ['', 'b', 0.077],
  ['b', 'a', 0.946],
  ['ef', 'd', 0.652],
  ['asdf', '8952klfjas09ujk', 0.549],
  ['', '123', 0.011],
  ['', '___)((*":&', 0.563],
];

/**
 * Version 2 with an empty seed, computed by running GrowthBook's own `hash(seed, value, 2)`
 * (sdk-js src/util.ts at the commit above) under Node 20.
 */
const HASH_V2_EMPTY_SEED_CASES: [seed: string, value: string, expected: number][] = [
  ['', 'a', 0.0216],
  ['', 'b', 0.9054],
  ['', '123', 0.4547],
  ['', '___)((*":&', 0.5034],
];

/**
 * cases.json getBucketRange: [name, [numVariations, coverage, weights | null], expected]. Our
 * bucketRanges takes the weights themselves, so `null` becomes equal weights; the case
 * "weights.length not equal to num variations" cannot be expressed (the weights are the variations).
 */
const BUCKET_RANGE_CASES: [name: string, args: [number, number, number[] | null], expected: [number, number][]][] = [
  ['normal 50/50', [2, 1, null], [[0, 0.5], [0.5, 1]]],
  ['reduced coverage', [2, 0.5, null], [[0, 0.25], [0.5, 0.75]]],
  ['zero coverage', [2, 0, null], [[0, 0], [0.5, 0.5]]],
  ['4 variations', [4, 1, null], [[0, 0.25], [0.25, 0.5], [0.5, 0.75], [0.75, 1]]],
  ['uneven weights', [2, 1, [0.4, 0.6]], [[0, 0.4], [0.4, 1]]],
  ['uneven weights, 3 variations', [3, 1, [0.2, 0.3, 0.5]], [[0, 0.2], [0.2, 0.5], [0.5, 1]]],
  ['uneven weights, reduced coverage, 3 variations', [3, 0.2, [0.2, 0.3, 0.5]], [[0, 0.04], [0.2, 0.26], [0.5, 0.6]]],
  ['negative coverage', [2, -0.2, null], [[0, 0], [0.5, 0.5]]],
  ['coverage above 1', [2, 1.5, null], [[0, 0.5], [0.5, 1]]],
  ['weights sum below 1', [2, 1, [0.4, 0.1]], [[0, 0.5], [0.5, 1]]],
  ['weights sum above 1', [2, 1, [0.7, 0.6]], [[0, 0.5], [0.5, 1]]],
  ['weights sum almost equals 1', [2, 1, [0.4, 0.5999]], [[0, 0.4], [0.4, 0.9999]]],
];

/** cases.json chooseVariation: [name, n, ranges, expected]. */
const CHOOSE_VARIATION_CASES: [name: string, n: number, ranges: [number, number][], expected: number][] = [
  ['even range, 0.2', 0.2, [[0, 0.5], [0.5, 1]], 0],
  ['even range, 0.4', 0.4, [[0, 0.5], [0.5, 1]], 0],
  ['even range, 0.6', 0.6, [[0, 0.5], [0.5, 1]], 1],
  ['even range, 0.8', 0.8, [[0, 0.5], [0.5, 1]], 1],
  ['even range, 0', 0, [[0, 0.5], [0.5, 1]], 0],
  ['even range, 0.5', 0.5, [[0, 0.5], [0.5, 1]], 1],
  ['reduced range, 0.2', 0.2, [[0, 0.25], [0.5, 0.75]], 0],
  ['reduced range, 0.4', 0.4, [[0, 0.25], [0.5, 0.75]], -1],
  ['reduced range, 0.6', 0.6, [[0, 0.25], [0.5, 0.75]], 1],
  ['reduced range, 0.8', 0.8, [[0, 0.25], [0.5, 0.75]], -1],
  ['reduced range, 0.25', 0.25, [[0, 0.25], [0.5, 0.75]], -1],
  ['reduced range, 0.5', 0.5, [[0, 0.25], [0.5, 0.75]], 1],
  ['zero range', 0.5, [[0, 0.5], [0.5, 0.5], [0.5, 1]], 2],
];

describe('hashing (GrowthBook-compatible sticky assignment)', () => {
  test('fnv1a32 matches the FNV-1a 32-bit reference values (draft-eastlake-fnv, test vectors)', () => {
    assert.equal(fnv1a32(''), 0x811c9dc5);
    assert.equal(fnv1a32('a'), 0xe40c292c);
    assert.equal(fnv1a32('foobar'), 0xbf9cf968);
  });

  test('fnv1a32 reproduces GrowthBook hash version 1 vectors, including empty seeds', () => {
    for (const [seed, value, expected] of HASH_V1_CASES) {
      assert.equal((fnv1a32(value + seed) % 1000) / 1000, expected, `v1 hash('${seed}', '${value}')`);
    }
  });

  test('hashV2 reproduces GrowthBook hash version 2 vectors', () => {
    for (const [seed, value, expected] of [...HASH_V2_CASES, ...HASH_V2_EMPTY_SEED_CASES]) {
      assert.equal(hashV2(seed, value), expected, `hashV2('${seed}', '${value}')`);
    }
  });

  test('bucketRanges reproduces GrowthBook getBucketRange vectors', () => {
    for (const [name, [count, coverage, weights], expected] of BUCKET_RANGE_CASES) {
      const ranges = bucketRanges(weights ?? Array.from({ length: count }, () => 1 / count), coverage);
      assert.equal(ranges.length, expected.length, name);
      ranges.forEach(([start, end], i) => {
        // GrowthBook rounds before comparing; float sums like 0.4 + 0.5999 differ in the last bit.
        assert.ok(Math.abs(start - expected[i]![0]) < 1e-9 && Math.abs(end - expected[i]![1]) < 1e-9, `${name}: range ${i} is [${start}, ${end})`);
      });
    }
    assert.deepEqual(bucketRanges([0.5, 0.5]), [[0, 0.5], [0.5, 1]], 'coverage defaults to 1');
  });

  test('chooseVariation reproduces GrowthBook chooseVariation vectors', () => {
    for (const [name, n, ranges, expected] of CHOOSE_VARIATION_CASES) {
      assert.equal(chooseVariation(n, ranges), expected, name);
    }
  });

  test('the same (seed, unit) always gets the same variant; another seed reshuffles', () => {
    const weights = [0.2, 0.3, 0.5];
    const first = Array.from({ length: 1000 }, (_, i) => assignVariant('exp-sticky', `u${i}`, weights));
    const again = Array.from({ length: 1000 }, (_, i) => assignVariant('exp-sticky', `u${i}`, weights));
    assert.deepEqual(again, first);
    const otherSeed = Array.from({ length: 1000 }, (_, i) => assignVariant('exp-other', `u${i}`, weights));
    assert.ok(otherSeed.filter((v, i) => v !== first[i]).length > 400, 'an independent seed moves most units');
  });

  for (const weights of [[0.5, 0.5], [0.2, 0.3, 0.5]]) {
    test(`over 100,000 units the split follows weights [${weights.join(', ')}] within 4.5 binomial standard errors`, () => {
      const units = 100_000;
      const counts = weights.map(() => 0);
      for (let i = 0; i < units; i++) counts[assignVariant('exp-split', `u${i}`, weights)]! += 1;
      weights.forEach((w, v) => {
        const standardError = Math.sqrt(units * w * (1 - w));
        const deviation = Math.abs(counts[v]! - units * w) / standardError;
        assert.ok(deviation < 4.5, `variant ${v}: ${counts[v]} units, ${deviation.toFixed(2)} standard errors from ${units * w}`);
      });
    });
  }
});
