import { InferboxError, inferboxError, isInferboxError } from '../../common/errors.js';
import { allows, type AccessRule } from '../../auth/scopes.js';
import type { Principal } from '../../auth/ApiKeyService.js';
import { resolveRateLimit } from '../../auth/KeyRateLimiter.js';
import type { AppContext } from '../AppContext.js';
import type { AppServices } from '../AppServices.js';
import { isLoopbackHost } from '../../tls/isLoopbackHost.js';

/** What the access checks need from the composition root. */
export type AccessServices = Pick<AppServices, 'keys' | 'failedAuth' | 'rateLimiter' | 'settings' | 'metrics'>;

export function bearerToken(ctx: AppContext): string | undefined {
  const header = ctx.get('authorization');
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1] : '';
}

/**
 * The socket's peer, never X-Forwarded-For (the app runs with `proxy: false`): behind a reverse
 * proxy every client is the proxy's address. IPv4 clients of a dual-stack socket show as IPv4.
 */
export function clientAddress(ctx: AppContext): string {
  const address = ctx.req.socket.remoteAddress ?? 'unknown';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

/**
 * 401 when the key is missing or not valid (counted against the client's address); 429 without
 * looking at the key while that address backs off or is blocked after too many such failures.
 */
export function authenticateRequest(ctx: AppContext, access: AccessServices): Principal {
  const address = clientAddress(ctx);
  const refusal = access.failedAuth.refusal(address);
  if (refusal) {
    access.metrics.countThrottled(refusal.state === 'blocked' ? 'auth_blocked' : 'auth_backoff');
    const seconds = String(refusal.retryAfterSeconds);
    throw new InferboxError('IBX_ERR_AUTH_THROTTLED', [address, refusal.state === 'blocked' ? 'the address is blocked' : 'requests are paused', seconds], { headers: { 'Retry-After': seconds } });
  }
  try {
    return access.keys.authenticate(bearerToken(ctx));
  } catch (error) {
    if (isInferboxError(error) && error.code === 'IBX_ERR_UNAUTHENTICATED') access.failedAuth.recordFailure(address);
    throw error;
  }
}

/** 429 with Retry-After (whole seconds, rounded up) when the key is over its rate limit. */
function enforceRateLimit(principal: Principal, access: AccessServices): void {
  const settings = access.settings.current;
  const limit = resolveRateLimit(principal.rateLimit, { perSecond: settings.key_rate_limit_per_second, burst: settings.key_rate_limit_burst });
  const wait = access.rateLimiter.take(principal.keyId, limit);
  if (wait === 0) return;
  access.metrics.countThrottled('key_rate_limit');
  const seconds = String(Math.ceil(wait));
  throw new InferboxError('IBX_ERR_RATE_LIMITED', [principal.name, limit.perSecond, limit.burst, seconds], { headers: { 'Retry-After': seconds } });
}

/**
 * `metrics_loopback_without_key`: a scraper on this machine (a local Prometheus or node agent) may
 * read /metrics without a key. Only when it sends none: a wrong key from loopback is refused and
 * counted against the address like any other. The peer address is the socket's, so a reverse proxy
 * on this machine would make every client loopback (the setting says not to combine the two).
 */
function scrapesFromLoopbackWithoutKey(ctx: AppContext, access: AccessServices): boolean {
  return access.settings.current.metrics_loopback_without_key && ctx.get('authorization') === '' && isLoopbackHost(clientAddress(ctx));
}

/**
 * 401 when the key is missing or not valid, 429 when its address must wait or the key is over its
 * rate limit (`onRateLimited` sees that refusal first: inference routes log it), 403 when it is
 * valid but lacks the scope.
 */
export function authorize(ctx: AppContext, rule: AccessRule, access: AccessServices, onRateLimited?: (ctx: AppContext, error: InferboxError) => void): void {
  if (rule.kind === 'public') return;
  if (rule.kind === 'metrics' && scrapesFromLoopbackWithoutKey(ctx, access)) return;
  const principal = authenticateRequest(ctx, access);
  ctx.state.principal = principal;
  try {
    enforceRateLimit(principal, access);
  } catch (error) {
    if (onRateLimited && error instanceof InferboxError) onRateLimited(ctx, error);
    throw error;
  }
  if (!allows(principal.scopes, rule)) {
    const need = rule.kind === 'admin' ? "the 'admin' scope" : rule.kind === 'metrics' ? "the 'metrics' scope" : rule.kind === 'modelsWrite' ? "the 'models:write' or 'admin' scope" : `the 'infer' or 'infer:${(rule.kind === 'infer' && rule.model) || '<model>'}' scope`;
    throw inferboxError('IBX_ERR_FORBIDDEN', `this key ('${principal.name}') does not have ${need}`);
  }
}
