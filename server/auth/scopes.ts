import { z } from 'zod';

/**
 * Scopes a key can carry:
 * - `admin`: everything, including the admin API under /api;
 * - `infer`: inference and metadata on every model;
 * - `infer:<model>`: inference and metadata on that one model;
 * - `feedback`: only sending business outcomes for A/B tests (a CRM or shop backend that never infers);
 * - `metrics`: only reading `GET /metrics` (a Prometheus scraper: it sees counts per model, never data).
 * - `models:write`: what a training pipeline needs (issue 9): register new versions with labels and
 *   metrics (any model, new ones included), start an A/B experiment of its own upload against the
 *   active version in the same call, and read models and versions (to see what it registered).
 *   That experiment stays within `pipeline_max_treatment_share` with its guardrails on
 *   (experiments/pipelineExperimentLimits.ts). Not: activating a version, deleting,
 *   loading/unloading, precision, serving settings, editing, widening, stopping or promoting
 *   experiments, keys, settings, webhooks, logs, inference. A key may carry it beside `infer`.
 */
export const scopeSchema = z.string().regex(/^(admin|infer|feedback|metrics|models:write|infer:[A-Za-z0-9][A-Za-z0-9_.-]{0,127})$/, {
  message: "a scope is 'admin', 'infer', 'feedback', 'metrics', 'models:write' or 'infer:<model>'",
});

export type Scope = z.infer<typeof scopeSchema>;

/**
 * What a route needs, as declared in the route table. `key`: any valid key; the route narrows it
 * itself (async jobs name their model in the body, and show a key only its own jobs).
 */
export type AccessRule = { kind: 'public' } | { kind: 'key' } | { kind: 'admin' } | { kind: 'feedback' } | { kind: 'metrics' } | { kind: 'modelsWrite' } | { kind: 'infer'; model?: string | undefined };

/** Whether a key may do what only admins may do with its own upload (activate it on upload, say). */
export const isAdmin = (scopes: readonly string[]): boolean => scopes.includes('admin');

export function allows(scopes: readonly string[], rule: AccessRule): boolean {
  if (rule.kind === 'public' || rule.kind === 'key' || scopes.includes('admin')) return true;
  if (rule.kind === 'admin') return false;
  // The scraper's scope reaches /metrics and nothing else; no other non-admin scope reaches /metrics.
  if (rule.kind === 'metrics') return scopes.includes('metrics');
  if (rule.kind === 'modelsWrite') return scopes.includes('models:write');
  // A model-scoped key passes here; the feedback handler keeps it to its own model's experiments.
  if (rule.kind === 'feedback') return scopes.some((s) => s === 'infer' || s === 'feedback' || s.startsWith('infer:'));
  if (scopes.includes('infer')) return true;
  // A model-scoped key may only reach routes that name its model.
  return rule.model !== undefined && scopes.includes(`infer:${rule.model}`);
}
