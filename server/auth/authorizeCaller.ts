import { InferboxError, inferboxError } from '../common/errors.js';
import type { Principal } from './ApiKeyService.js';
import { authenticateCaller, type Caller, type CallerAccess } from './authenticateCaller.js';
import { resolveRateLimit } from './KeyRateLimiter.js';
import { allows, type AccessRule } from './scopes.js';

/** 429 with Retry-After (whole seconds, rounded up) when the key is over its rate limit. */
function enforceRateLimit(principal: Principal, access: CallerAccess): void {
  const settings = access.settings.current;
  const limit = resolveRateLimit(principal.rateLimit, { perSecond: settings.key_rate_limit_per_second, burst: settings.key_rate_limit_burst });
  const wait = access.rateLimiter.take(principal.keyId, limit);
  if (wait === 0) return;
  access.metrics.countThrottled('key_rate_limit');
  const seconds = String(Math.ceil(wait));
  throw new InferboxError('IBX_ERR_RATE_LIMITED', [principal.name, limit.perSecond, limit.burst, seconds], { headers: { 'Retry-After': seconds } });
}

/**
 * The one access check of every protocol: null for a public rule; else 401 when the key is missing
 * or not valid (429 instead while its address must wait), 429 when the key is over its rate limit (`onRateLimited`
 * sees that refusal first, with the principal: inference logs it), 403 when it is valid but lacks
 * the scope. `onPrincipal` hears who it is as soon as the key checks out.
 */
export function authorizeCaller(
  caller: Caller,
  rule: AccessRule,
  access: CallerAccess,
  hooks: { onPrincipal?: (principal: Principal) => void; onRateLimited?: (error: InferboxError, principal: Principal) => void } = {},
): Principal | null {
  if (rule.kind === 'public') return null;
  const principal = authenticateCaller(caller, access);
  hooks.onPrincipal?.(principal);
  return authorizePrincipal(principal, rule, access, hooks.onRateLimited);
}

/**
 * The second half of `authorizeCaller`, for a key already authenticated: 429 over its rate limit
 * (`onRateLimited` first), 403 without the scope. Its own entry because gRPC authenticates a call
 * from its metadata, before its message names the model the rule depends on (kept in this file:
 * it is the same check, and REST's inference path counts its files).
 */
export function authorizePrincipal(principal: Principal, rule: Exclude<AccessRule, { kind: 'public' }>, access: CallerAccess, onRateLimited?: (error: InferboxError, principal: Principal) => void): Principal {
  try {
    enforceRateLimit(principal, access);
  } catch (error) {
    if (onRateLimited && error instanceof InferboxError) onRateLimited(error, principal);
    throw error;
  }
  if (!allows(principal.scopes, rule)) {
    const need = rule.kind === 'admin' ? "the 'admin' scope" : rule.kind === 'metrics' ? "the 'metrics' scope" : rule.kind === 'modelsWrite' ? "the 'models:write' or 'admin' scope" : `the 'infer' or 'infer:${(rule.kind === 'infer' && rule.model) || '<model>'}' scope`;
    throw inferboxError('IBX_ERR_FORBIDDEN', `this key ('${principal.name}') does not have ${need}`);
  }
  return principal;
}
