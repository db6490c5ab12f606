import { z } from 'zod';

/** A condition on request attributes: `header.<name>` (lowercase) or `param.<name>` (OIP request `parameters`). */
export type Condition =
  | { all: Condition[] }
  | { any: Condition[] }
  | { attribute: string; op: 'eq' | 'neq' | 'in' | 'not_in' | 'gt' | 'gte' | 'lt' | 'lte'; value: string | number | boolean | (string | number)[] };

const conditionSchema: z.ZodType<Condition> = z.lazy(() =>
  z.union([
    z.object({ all: z.array(conditionSchema).min(1).max(50) }).strict(),
    z.object({ any: z.array(conditionSchema).min(1).max(50) }).strict(),
    z
      .object({
        attribute: z.string().regex(/^(header|param)\.[A-Za-z0-9_.-]{1,128}$/, { message: "an attribute is 'header.<name>' or 'param.<name>'" }),
        op: z.enum(['eq', 'neq', 'in', 'not_in', 'gt', 'gte', 'lt', 'lte']),
        value: z.union([z.string(), z.number(), z.boolean(), z.array(z.union([z.string(), z.number()])).max(1000)]),
      })
      .strict()
      .refine((c) => (c.op === 'in' || c.op === 'not_in') === Array.isArray(c.value), { message: "'in' and 'not_in' take a list; the other operators one value" })
      .refine((c) => !['gt', 'gte', 'lt', 'lte'].includes(c.op) || typeof c.value === 'number', { message: 'numeric comparisons take a number' }),
  ]),
);

const variantName = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, { message: 'a variant name is 1-64 lowercase letters, digits, _ or -' });
const version = z.string().regex(/^[1-9][0-9]{0,8}$/, { message: 'a version is a positive integer such as "2"' });
const metricName = z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, { message: 'a metric name is 1-64 lowercase letters, digits or _, starting with a letter' });
const probability = z.number().gt(0).lt(1);
/** The default error-rate guardrail; a `models:write` key may tighten it, not loosen it (pipelineExperimentLimits). */
export const DEFAULT_ERROR_RATE = { alpha: 0.01, min_requests: 50 } as const;
/** The default circuit breaker; a `models:write` key may tighten it, not loosen it. */
export const DEFAULT_CIRCUIT_BREAKER = { window: 20, max_error_rate: 0.5 } as const;
/** Headers that carry credentials: unit ids are stored, so these may not be one. */
const SECRET_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization', 'x-api-key']);
/** Targeting nests at most this deep (deeper input would only exhaust the validator's stack). */
export const MAX_TARGETING_DEPTH = 8;

/**
 * What an admin sends to create (or edit, while a draft) an experiment. The first variant is the
 * control: the version that serves the model today. Everything an admin would otherwise have to
 * think about has a default that is safe for a first experiment.
 */
export const experimentInputSchema = z
  .object({
    name: z.string().min(1).max(200),
    model: z.string().min(1).max(128),
    variants: z.array(z.object({ name: variantName, version }).strict()).min(2).max(10),
    /** Traffic share per variant, summing to 1; default equal. */
    weights: z.array(z.number().min(0).max(1)).optional(),
    /** Hash seed; default random. Two experiments with one seed put each unit in the same bucket. */
    seed: z.string().min(1).max(200).optional(),
    /** Where the unit (user, customer, device) id comes from; requests without one go to control, unanalyzed. */
    unit_id: z
      .union([
        z.object({ header: z.string().regex(/^[A-Za-z0-9-]{1,64}$/).refine((h) => !SECRET_HEADERS.has(h.toLowerCase()), { message: 'a credential header cannot be the unit id (it would be stored)' }) }).strict(),
        z.object({ parameter: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/) }).strict(),
      ])
      .default({ header: 'x-unit-id' }),
    /** Only matching requests take part; the others go to control, unanalyzed. */
    targeting: conditionSchema.optional(),
    /** A version that receives a copy of `percent` % of the experiment's requests after they are answered. */
    shadow: z.object({ version, percent: z.number().gt(0).max(100) }).strict().optional(),
    /** Treatment share steps (two variants only); each advances after `min_units_per_step` treatment units pass the guardrails. */
    canary: z
      .object({ steps: z.array(z.number().gt(0).max(100)).min(1).max(20), min_units_per_step: z.number().int().min(1).max(10_000_000).default(100) })
      .strict()
      .refine((c) => c.steps.every((s, i) => i === 0 || s > c.steps[i - 1]!), { message: 'canary steps must increase' })
      .optional(),
    /** Business outcomes the analysis reports (sent to POST /api/feedback). */
    metrics: z.array(z.object({ name: metricName, type: z.enum(['binary', 'numeric']) }).strict()).max(20).default([]),
    primary_metric: metricName.optional(),
    guardrails: z
      .object({
        /**
         * One-sided always-valid test: the treatment's error rate above control's, once both arms
         * have `min_requests` (with a handful, zero variance in one arm makes any difference "certain").
         */
        error_rate: z.object({ alpha: z.number().gt(0).lt(0.5).default(DEFAULT_ERROR_RATE.alpha), min_requests: z.number().int().min(10).default(DEFAULT_ERROR_RATE.min_requests) }).strict().nullable().default(() => ({ ...DEFAULT_ERROR_RATE })),
        /** Treatment p95 latency above `max_ratio` × control's, once both arms have `min_requests`. */
        p95_latency: z.object({ max_ratio: z.number().gt(1).default(2), min_requests: z.number().int().min(10).default(200) }).strict().nullable().default({ max_ratio: 2, min_requests: 200 }),
        /** Circuit breaker: more than `max_error_rate` of the treatment's last `window` requests failed. */
        circuit_breaker: z.object({ window: z.number().int().min(5).max(10_000).default(DEFAULT_CIRCUIT_BREAKER.window), max_error_rate: probability.default(DEFAULT_CIRCUIT_BREAKER.max_error_rate) }).strict().nullable().default(() => ({ ...DEFAULT_CIRCUIT_BREAKER })),
        /** Optional: a declared metric that must not get worse (one-sided always-valid test). */
        outcome: z.object({ metric: metricName, higher_is_better: z.boolean(), alpha: z.number().gt(0).lt(0.5).default(0.01), min_units: z.number().int().min(10).default(100) }).strict().optional(),
      })
      .strict()
      .default(() => ({ error_rate: { ...DEFAULT_ERROR_RATE }, p95_latency: { max_ratio: 2, min_requests: 200 }, circuit_breaker: { ...DEFAULT_CIRCUIT_BREAKER } })),
  })
  .strict()
  .superRefine((input, ctx) => {
    const names = input.variants.map((v) => v.name);
    if (new Set(names).size !== names.length) ctx.addIssue({ code: 'custom', path: ['variants'], message: 'variant names must differ' });
    const versions = input.variants.map((v) => v.version);
    if (new Set(versions).size !== versions.length) ctx.addIssue({ code: 'custom', path: ['variants'], message: 'each variant serves a different version' });
    if (input.weights) {
      if (input.weights.length !== input.variants.length) ctx.addIssue({ code: 'custom', path: ['weights'], message: 'one weight per variant' });
      else if (Math.abs(input.weights.reduce((a, b) => a + b, 0) - 1) > 1e-9) ctx.addIssue({ code: 'custom', path: ['weights'], message: 'weights must sum to 1' });
    }
    if (input.targeting && depthOf(input.targeting) > MAX_TARGETING_DEPTH) ctx.addIssue({ code: 'custom', path: ['targeting'], message: `targeting nests at most ${MAX_TARGETING_DEPTH} levels` });
    if (input.canary && input.variants.length !== 2) ctx.addIssue({ code: 'custom', path: ['canary'], message: 'a canary ramp needs exactly two variants (control and one treatment)' });
    if (input.canary && input.weights) ctx.addIssue({ code: 'custom', path: ['weights'], message: 'with a canary ramp the steps set the weights' });
    if (input.shadow && versions.includes(input.shadow.version)) ctx.addIssue({ code: 'custom', path: ['shadow', 'version'], message: 'the shadow is a version no variant serves' });
    const declared = new Set(input.metrics.map((m) => m.name));
    if (declared.size !== input.metrics.length) ctx.addIssue({ code: 'custom', path: ['metrics'], message: 'metric names must differ' });
    if (input.primary_metric && !declared.has(input.primary_metric)) ctx.addIssue({ code: 'custom', path: ['primary_metric'], message: 'the primary metric must be one of metrics' });
    const outcome = input.guardrails.outcome?.metric;
    if (outcome && !declared.has(outcome)) ctx.addIssue({ code: 'custom', path: ['guardrails', 'outcome', 'metric'], message: 'the guardrail metric must be one of metrics' });
  });

function depthOf(condition: Condition): number {
  if ('all' in condition) return 1 + Math.max(...condition.all.map(depthOf));
  if ('any' in condition) return 1 + Math.max(...condition.any.map(depthOf));
  return 1;
}

/** Nesting of a raw body, checked before the schema: zod recurses once per level. */
export function jsonDepth(value: unknown, limit: number, depth = 0): number {
  if (depth > limit || typeof value !== 'object' || value === null) return depth;
  let deepest = depth;
  for (const child of Object.values(value)) deepest = Math.max(deepest, jsonDepth(child, limit, depth + 1));
  return deepest;
}

export type ExperimentInput = z.infer<typeof experimentInputSchema>;
export type ExperimentConfig = Omit<ExperimentInput, 'name' | 'model' | 'seed' | 'weights'>;
export type ExperimentStatus = 'draft' | 'running' | 'paused' | 'stopped' | 'rolled_back' | 'completed';

/** The weights a variant list starts with: the canary's first step, the admin's, or equal shares. */
export function initialWeights(input: ExperimentInput): number[] {
  if (input.canary) return canaryWeights(input.canary.steps[0]!);
  return input.weights ?? input.variants.map(() => 1 / input.variants.length);
}

export function canaryWeights(treatmentPercent: number): number[] {
  return [1 - treatmentPercent / 100, treatmentPercent / 100];
}
