import { InferboxError, inferboxError } from '../common/errors.js';
import type { ApiKeyService, Principal } from './ApiKeyService.js';
import type { FailedAuthThrottle } from './FailedAuthThrottle.js';
import type { KeyRateLimiter } from './KeyRateLimiter.js';

/** Why a request was refused with 429 before reaching its route, as the metrics count it. */
export type ThrottledBy = 'key_rate_limit' | 'auth_backoff' | 'auth_blocked';

/**
 * What the access checks need, whatever the protocol (REST routes, the gRPC service). The settings
 * and metrics are structural, so this module does not depend on config or metrics: the
 * composition root's services fit as they are.
 */
export interface CallerAccess {
  keys: ApiKeyService;
  failedAuth: FailedAuthThrottle;
  rateLimiter: KeyRateLimiter;
  settings: { readonly current: { key_rate_limit_per_second: number; key_rate_limit_burst: number } };
  metrics: { countThrottled(reason: ThrottledBy): void };
}

/** Who is calling: the bearer key as sent ('' for a malformed header, undefined for none) and the peer's address. */
export interface Caller {
  token: string | undefined;
  /** The socket's peer (never a forwarded-for header): failed authentication is throttled per address. */
  address: string;
}

/**
 * The key is checked first (in memory, cheap enough for a flood): a valid one is served whatever
 * its address did before. A missing or not valid key counts against the caller's address: 401, or
 * 429 with Retry-After while that address backs off or is blocked after too many such failures.
 */
export function authenticateCaller(caller: Caller, access: CallerAccess): Principal {
  const checked = access.keys.verify(caller.token);
  if (!('refused' in checked)) return checked;
  // IPv4 clients of a dual-stack socket count as their IPv4 address.
  const address = caller.address.startsWith('::ffff:') ? caller.address.slice(7) : caller.address;
  const throttled = access.failedAuth.recordFailure(address);
  if (!throttled) throw inferboxError('IBX_ERR_UNAUTHENTICATED', checked.refused);
  access.metrics.countThrottled(throttled.state === 'blocked' ? 'auth_blocked' : 'auth_backoff');
  const seconds = String(throttled.retryAfterSeconds);
  throw new InferboxError('IBX_ERR_AUTH_THROTTLED', [address, throttled.state === 'blocked' ? 'the address is blocked' : 'requests are paused', seconds], { headers: { 'Retry-After': seconds } });
}
