import assert from 'node:assert/strict';
import { test } from 'node:test';
import { experimentInputSchema } from '../../../server/experiments/experimentConfig.js';
import { pipelineExperimentViolations } from '../../../server/experiments/pipelineExperimentLimits.js';

const input = (spec: Record<string, unknown>) =>
  experimentInputSchema.parse({ name: 'x', model: 'm', variants: [{ name: 'control', version: '1' }, { name: 'candidate', version: '2' }], ...spec });

test('at the cap is allowed, above it is not (weights, every canary step, shadow percent)', () => {
  assert.deepEqual(pipelineExperimentViolations(input({ weights: [0.9, 0.1] }), 0.1), []);
  assert.deepEqual(pipelineExperimentViolations(input({ weights: [0.7, 0.3] }), 0.3), [], '0.7 + 0.3 style float sums are not over');
  assert.deepEqual(pipelineExperimentViolations(input({ canary: { steps: [1, 5, 10] }, shadow: { version: '3', percent: 10 } }), 0.1), []);
  assert.equal(pipelineExperimentViolations(input({ weights: [0.8999, 0.1001] }), 0.1).length, 1);
  assert.match(pipelineExperimentViolations(input({ canary: { steps: [10, 10.5] } }), 0.1).join(), /canary steps 10\.5%/);
  assert.match(pipelineExperimentViolations(input({ weights: [0.9, 0.1], shadow: { version: '3', percent: 11 } }), 0.1).join(), /shadow percent 11/);
  assert.match(pipelineExperimentViolations(input({}), 0.1).join(), /without weights the candidate gets 0\.5/);
  assert.deepEqual(pipelineExperimentViolations(input({}), 1), [], 'with the cap at 1 the equal split is allowed');
});

test('guardrails may be tightened, not switched off or loosened', () => {
  const ok = { weights: [0.9, 0.1] };
  assert.deepEqual(pipelineExperimentViolations(input({ ...ok, guardrails: { error_rate: { alpha: 0.2, min_requests: 10 }, p95_latency: null, circuit_breaker: { window: 5, max_error_rate: 0.1 } } }), 0.1), []);
  for (const guardrails of [{ error_rate: null }, { circuit_breaker: null }, { error_rate: { alpha: 0.001 } }, { error_rate: { min_requests: 51 } }, { circuit_breaker: { window: 21 } }, { circuit_breaker: { max_error_rate: 0.6 } }]) {
    assert.equal(pipelineExperimentViolations(input({ ...ok, guardrails }), 0.1).length, 1, JSON.stringify(guardrails));
  }
});

test('no seed, and no unit id from a header every request carries', () => {
  const ok = { weights: [0.9, 0.1] };
  assert.deepEqual(pipelineExperimentViolations(input({ ...ok, unit_id: { header: 'x-customer-id' } }), 0.1), []);
  assert.deepEqual(pipelineExperimentViolations(input({ ...ok, unit_id: { parameter: 'customer' } }), 0.1), []);
  for (const header of ['host', 'HOST', 'user-agent', 'x-forwarded-for', 'x-real-ip', 'accept', 'content-type', 'origin', 'sec-ch-ua']) {
    assert.match(pipelineExperimentViolations(input({ ...ok, unit_id: { header } }), 0.1).join(), /the unit id cannot come from/, header);
  }
  assert.match(pipelineExperimentViolations(input({ ...ok, seed: 'abc' }), 0.1).join(), /the seed cannot be chosen/);
});
