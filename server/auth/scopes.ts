import { z } from 'zod';

/**
 * Scopes a key can carry:
 * - `admin`: everything, including the admin API under /api;
 * - `infer`: inference and metadata on every model;
 * - `infer:<model>`: inference and metadata on that one model;
 * - `feedback`: only sending business outcomes for A/B tests (a CRM or shop backend that never infers);
 * - `metrics`: only reading `GET /metrics` (a Prometheus scraper: it sees counts per model, never data).
 */
export const scopeSchema = z.string().regex(/^(admin|infer|feedback|metrics|infer:[A-Za-z0-9][A-Za-z0-9_.-]{0,127})$/, {
  message: "a scope is 'admin', 'infer', 'feedback', 'metrics' or 'infer:<model>'",
});

export type Scope = z.infer<typeof scopeSchema>;

/**
 * What a route needs, as declared in the route table. `key`: any valid key; the route narrows it
 * itself (async jobs name their model in the body, and show a key only its own jobs).
 */
export type AccessRule = { kind: 'public' } | { kind: 'key' } | { kind: 'admin' } | { kind: 'feedback' } | { kind: 'metrics' } | { kind: 'infer'; model?: string | undefined };

export function allows(scopes: readonly string[], rule: AccessRule): boolean {
  if (rule.kind === 'public' || rule.kind === 'key' || scopes.includes('admin')) return true;
  if (rule.kind === 'admin') return false;
  // The scraper's scope reaches /metrics and nothing else; no other non-admin scope reaches /metrics.
  if (rule.kind === 'metrics') return scopes.includes('metrics');
  // A model-scoped key passes here; the feedback handler keeps it to its own model's experiments.
  if (rule.kind === 'feedback') return scopes.some((s) => s === 'infer' || s === 'feedback' || s.startsWith('infer:'));
  if (scopes.includes('infer')) return true;
  // A model-scoped key may only reach routes that name its model.
  return rule.model !== undefined && scopes.includes(`infer:${rule.model}`);
}
