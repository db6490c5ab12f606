import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mulberry32 } from '../../../server/common/mulberry32.js';
import { measureSpeedup, type Alternative } from '../../../server/measurement/measureSpeedup.js';

/** A clock that only the runs move: A takes `aMs`, B `bMs`, each scaled by its own noise. */
function simulated(aMs: number, bMs: number, noise: number, seed = 3) {
  const random = mulberry32(seed);
  let clock = 0;
  const calls: Alternative[] = [];
  return {
    calls,
    now: () => clock,
    run: (which: Alternative) => {
      calls.push(which);
      clock += (which === 'a' ? aMs : bMs) * (1 + noise * (2 * random() - 1));
    },
  };
}

test('pairs alternate their order, and measuring stops once the interval decides the margin', async () => {
  const box = simulated(2, 1, 0.1);
  const result = await measureSpeedup({ run: box.run, now: box.now, budgetMs: 60_000, margin: 1.05 });
  assert.equal(result.stoppedBy, 'interval clears the margin');
  assert.deepEqual(box.calls.slice(0, 6), ['a', 'b', 'b', 'a', 'a', 'b']);
  assert.equal(result.estimate!.pairs, 30, 'at the first look after the minimum of pairs');
  assert.ok(result.estimate!.low > 1.05 && Math.abs(result.estimate!.ratio - 2) < 0.1, JSON.stringify(result.estimate));
  assert.ok(Math.abs(result.aMedianMs - 2) < 0.1 && Math.abs(result.bMedianMs - 1) < 0.1);
});

test('near the margin it measures until the interval is narrow, and the interval holds the truth', async () => {
  const box = simulated(1.04, 1, 0.05);
  const result = await measureSpeedup({ run: box.run, now: box.now, budgetMs: 60_000, margin: 1.05, halfWidth: 0.005 });
  assert.ok(['interval narrow', 'interval clears the margin'].includes(result.stoppedBy), result.stoppedBy);
  const { low, high, pairs } = result.estimate!;
  assert.ok(pairs > 30, `${pairs} pairs`);
  assert.ok(low <= 1.04 && 1.04 <= high, `[${low}, ${high}]`);
});

test('the time allowed bounds it; a slow model still gets an interval if it can, and none past 4x the time', async () => {
  const noisy = simulated(1.05, 1, 0.5);
  const bounded = await measureSpeedup({ run: noisy.run, now: noisy.now, budgetMs: 200, margin: 1.05 });
  assert.equal(bounded.stoppedBy, 'time budget');
  assert.ok(noisy.now() >= 200 && noisy.now() < 200 + 2 * 1.05 * 1.5 + 1, `stopped at ${noisy.now()} ms`);
  const slow = simulated(100, 100, 0);
  const sixPairs = await measureSpeedup({ run: slow.run, now: slow.now, budgetMs: 300 });
  assert.deepEqual([sixPairs.stoppedBy, sixPairs.estimate?.pairs], ['time budget', 6]);
  const slower = simulated(500, 500, 0);
  const none = await measureSpeedup({ run: slower.run, now: slower.now, budgetMs: 300 });
  assert.deepEqual([none.stoppedBy, none.estimate], ['time budget', null], '2 pairs in 4x the time: no interval');
});

test('a stop abandons the measurement between runs', async () => {
  const box = simulated(2, 1, 0);
  let runs = 0;
  await assert.rejects(
    measureSpeedup({ run: (which) => { runs += 1; box.run(which); }, now: box.now, budgetMs: 60_000, checkStop: () => { if (runs === 7) throw new Error('stopped'); } }),
    /stopped/,
  );
  assert.equal(runs, 7);
});
