import { inferboxError } from '../common/errors.js';
import { DEFAULT_CIRCUIT_BREAKER, DEFAULT_ERROR_RATE, type ExperimentInput } from './experimentConfig.js';

/**
 * Request headers that say nothing about a unit (user, customer, device): every request carries
 * them, usually with one value for a whole app (`host`, `user-agent`) or one per proxy
 * (`x-forwarded-for` behind a NAT). As a unit id they put every request in one bucket, so a
 * treatment share of 10% of units becomes 0% or 100% of the traffic (issue 17, item 4).
 */
const TRANSPORT_HEADERS = new Set([
  'host', 'user-agent', 'accept', 'accept-encoding', 'accept-language', 'accept-charset', 'connection', 'keep-alive',
  'content-type', 'content-length', 'content-encoding', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'expect',
  'origin', 'referer', 'forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-forwarded-port',
  'x-real-ip', 'via', 'cache-control', 'pragma', 'dnt', 'priority',
]);

/** Float slack when comparing a share with the cap (0.1 + 0.2 style sums). */
const EPSILON = 1e-9;

/**
 * What an experiment started by a non-admin key (`models:write`, on upload) breaks of the
 * pipeline limits, as messages (empty: within them). The caller may start only a small test of
 * its upload that the guardrails can stop; taking more traffic, or switching the guardrails off,
 * is an admin's decision:
 * - the treatment's share (its weight, each canary step, and the shadow copy's percent) is at most
 *   `maxShare` (the admin setting `pipeline_max_treatment_share`); the default equal split is above it;
 * - the `error_rate` and `circuit_breaker` guardrails stay on, no looser than their defaults
 *   (a huge `min_requests` or `window` would switch them off as surely as null);
 * - no `seed` (with a chosen seed the caller picks which units get its upload) and no unit id
 *   from a header every request carries (`host`: one unit, so all traffic or none).
 */
export function pipelineExperimentViolations(input: ExperimentInput, maxShare: number): string[] {
  const problems: string[] = [];
  const share = (value: number) => `${+value.toFixed(6)}`;
  if (input.canary) {
    const over = input.canary.steps.filter((step) => step / 100 > maxShare + EPSILON);
    if (over.length > 0) problems.push(`canary steps ${over.map((s) => `${s}%`).join(', ')} are above ${share(maxShare * 100)}%`);
  } else {
    const weights = input.weights ?? input.variants.map(() => 1 / input.variants.length);
    const treatment = weights.slice(1).reduce((a, b) => a + b, 0);
    if (treatment > maxShare + EPSILON) {
      problems.push(input.weights
        ? `weights give the candidate ${share(treatment)} of the traffic, above ${share(maxShare)}`
        : `without weights the candidate gets ${share(treatment)} of the traffic, above ${share(maxShare)}: send weights such as [${share(1 - maxShare)}, ${share(maxShare)}]`);
    }
  }
  if (input.shadow && input.shadow.percent / 100 > maxShare + EPSILON) problems.push(`shadow percent ${input.shadow.percent} is above ${share(maxShare * 100)}`);
  const { error_rate: errorRate, circuit_breaker: breaker } = input.guardrails;
  if (errorRate === null) problems.push('the error_rate guardrail cannot be null');
  else if (errorRate.alpha < DEFAULT_ERROR_RATE.alpha || errorRate.min_requests > DEFAULT_ERROR_RATE.min_requests) {
    problems.push(`the error_rate guardrail may be tightened, not loosened (alpha at least ${DEFAULT_ERROR_RATE.alpha}, min_requests at most ${DEFAULT_ERROR_RATE.min_requests})`);
  }
  if (breaker === null) problems.push('the circuit_breaker guardrail cannot be null');
  else if (breaker.window > DEFAULT_CIRCUIT_BREAKER.window || breaker.max_error_rate > DEFAULT_CIRCUIT_BREAKER.max_error_rate) {
    problems.push(`the circuit_breaker guardrail may be tightened, not loosened (window at most ${DEFAULT_CIRCUIT_BREAKER.window}, max_error_rate at most ${DEFAULT_CIRCUIT_BREAKER.max_error_rate})`);
  }
  if (input.seed !== undefined) problems.push('the seed cannot be chosen (it decides which units get the candidate)');
  const header = 'header' in input.unit_id ? input.unit_id.header.toLowerCase() : null;
  if (header !== null && (TRANSPORT_HEADERS.has(header) || header.startsWith('sec-'))) {
    problems.push(`the unit id cannot come from the '${header}' header (every request carries it, mostly with one value: one unit would take all the traffic or none); use a per-user header such as x-unit-id`);
  }
  return problems;
}

/** Throws 403 IBX_ERR_PIPELINE_LIMIT naming every violation (see pipelineExperimentViolations). */
export function assertWithinPipelineLimits(input: ExperimentInput, maxShare: number): void {
  const problems = pipelineExperimentViolations(input, maxShare);
  if (problems.length > 0) throw inferboxError('IBX_ERR_PIPELINE_LIMIT', problems.join('; '), String(maxShare));
}
