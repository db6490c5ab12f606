import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CapacityAdvisor, type CapacityStatus, type MeasuredCapacity } from '../../../server/tuning/CapacityAdvisor.js';

/** An advisor over counters the test advances, on a clock it sets. */
function advisorWith(capacities: Record<string, MeasuredCapacity | null>) {
  let now = 0;
  const counts = new Map<string, number>();
  const warnings: CapacityStatus[] = [];
  const advisor = new CapacityAdvisor({
    requestCounts: async () => [...counts].map(([model, n]) => ({ model, version: '1', success: n, failure: 0, buckets: [{ le: 0.01, count: n }, { le: Infinity, count: n }] })),
    models: () => Object.keys(capacities),
    capacity: (model) => capacities[model] ?? null,
    warningRatio: () => 0.8,
    onWarning: (status) => warnings.push(status),
    windowMs: 60_000,
    sustainMs: 300_000,
    now: () => now,
  });
  /** Advances `seconds` in 5 s steps at `rps` for `model`, sampling each step. */
  const run = async (model: string, rps: number, seconds: number) => {
    for (let s = 0; s < seconds; s += 5) {
      now += 5000;
      counts.set(model, (counts.get(model) ?? 0) + rps * 5);
      await advisor.sample();
    }
  };
  return { advisor, warnings, run };
}

const mlp: MeasuredCapacity = { version: '1', capacity_rps: 100, objective_p95_ms: 20 };

test('load over the last minute as a share of the measured capacity; a warning once the load stays above the ratio for five minutes, once per episode', async () => {
  const { advisor, warnings, run } = advisorWith({ mlp, untuned: null });
  await advisor.sample();
  await run('mlp', 50, 120);
  const half = advisor.status().find((s) => s.model === 'mlp')!;
  assert.ok(Math.abs(half.ratio - 0.5) < 1e-9 && Math.abs(half.load_rps - 50) < 1e-9, `ratio ${half.ratio}`);
  assert.equal(advisor.status().some((s) => s.model === 'untuned'), false, 'a model without a measured capacity has no ratio');
  await run('mlp', 90, 240);
  assert.equal(warnings.length, 0, 'four minutes above is not yet sustained');
  assert.ok(advisor.status()[0]!.above_since !== null);
  await run('mlp', 90, 120);
  // The minute's rate crossed 80 about 50 s after the load rose to 90; five minutes from there.
  assert.equal(warnings.length, 1, 'five minutes above: one warning');
  assert.deepEqual([warnings[0]!.model, warnings[0]!.warning, Math.round(warnings[0]!.ratio * 100)], ['mlp', true, 90]);
  await run('mlp', 90, 300);
  assert.equal(warnings.length, 1, 'not again while it stays above');
  await run('mlp', 10, 120);
  assert.deepEqual([advisor.status()[0]!.warning, advisor.status()[0]!.above_since], [false, null], 'the episode ends when the load falls');
  await run('mlp', 95, 360);
  assert.equal(warnings.length, 2, 'a new episode warns again');
});

test('a tuned model that gets no requests shows 0% of capacity', async () => {
  const { advisor, run } = advisorWith({ mlp, other: { version: '2', capacity_rps: 10, objective_p95_ms: 5 } });
  await advisor.sample();
  await run('mlp', 20, 30);
  const other = advisor.status().find((s) => s.model === 'other')!;
  assert.deepEqual([other.load_rps, other.ratio, other.version], [0, 0, '2']);
});
