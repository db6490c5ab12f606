import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mulberry32 } from '../../../server/common/mulberry32.js';
import { MIN_PAIRS_FOR_INTERVAL, PairedRatio } from '../../../server/measurement/PairedRatio.js';

/** Pairs whose B is `truth`× faster than A, each time scaled by its own log-normal noise of `sigma`. */
function noisyPairs(truth: number, sigma: number, pairs: number, seed: number): PairedRatio {
  const random = mulberry32(seed);
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const ratio = new PairedRatio();
  for (let i = 0; i < pairs; i++) ratio.add(2 * truth * Math.exp(sigma * gaussian()), 2 * Math.exp(sigma * gaussian()));
  return ratio;
}

test('no interval below the minimum of pairs; pairs a timer could not see are dropped', () => {
  const ratio = new PairedRatio();
  for (let i = 0; i < MIN_PAIRS_FOR_INTERVAL - 1; i++) ratio.add(2, 1);
  ratio.add(0, 1);
  ratio.add(1, Number.NaN);
  assert.equal(ratio.pairs, MIN_PAIRS_FOR_INTERVAL - 1);
  assert.equal(ratio.estimate(), null);
  ratio.add(2, 1);
  assert.deepEqual(ratio.estimate(), { ratio: 2, low: 2, high: 2, pairs: MIN_PAIRS_FOR_INTERVAL });
  assert.deepEqual(ratio.medians(), { aMs: 2, bMs: 1 });
});

test('a pause that hits one run moves one pair, not the estimate', () => {
  const ratio = noisyPairs(1.3, 0.02, 99, 4);
  const before = ratio.estimate()!;
  ratio.add(500, 2); // a 250x slower A run: a GC pause or another process
  const after = ratio.estimate()!;
  assert.ok(Math.abs(after.ratio / before.ratio - 1) < 0.01, `${before.ratio} -> ${after.ratio}`);
});

test('the 95% interval holds the true ratio about 95% of the time, and narrows with more pairs', () => {
  let covered = 0;
  const trials = 400;
  for (let seed = 1; seed <= trials; seed++) {
    const { low, high } = noisyPairs(1.3, 0.1, 60, seed).estimate()!;
    if (low <= 1.3 && 1.3 <= high) covered += 1;
  }
  // Order statistics round the interval outwards, so coverage sits at or a little above 95%.
  assert.ok(covered / trials >= 0.92 && covered / trials <= 0.99, `coverage ${covered / trials}`);
  const width = (pairs: number) => { const e = noisyPairs(1.3, 0.1, pairs, 7).estimate()!; return e.high / e.low; };
  assert.ok(width(600) < width(60), `${width(600)} vs ${width(60)}`);
  assert.ok(width(600) < 1.03, `±1.5% after 600 pairs at 10% noise per run: ${width(600)}`);
});
