import type { AccessRule } from '../../auth/scopes.js';
import type { Principal } from '../../auth/ApiKeyService.js';
import { authenticateCaller, type Caller } from '../../auth/authenticateCaller.js';
import { bearerTokenOf } from '../../auth/bearerTokenOf.js';
import { authorizeCaller } from '../../auth/authorizeCaller.js';
import type { AppContext } from '../AppContext.js';
import type { AppServices } from '../AppServices.js';
import { isLoopbackHost } from '../../tls/isLoopbackHost.js';

/** What the access checks need from the composition root. */
export type AccessServices = Pick<AppServices, 'keys' | 'failedAuth' | 'rateLimiter' | 'settings' | 'metrics'>;

/**
 * The socket's peer, never X-Forwarded-For (the app runs with `proxy: false`): behind a reverse
 * proxy every client is the proxy's address.
 */
const callerOf = (ctx: AppContext): Caller => ({ token: bearerTokenOf(ctx.get('authorization')), address: ctx.req.socket.remoteAddress ?? 'unknown' });

/** 401 / 429 as `authenticateCaller` says, for a request's bearer key and socket address. */
export function authenticateRequest(ctx: AppContext, access: AccessServices): Principal {
  return authenticateCaller(callerOf(ctx), access);
}

/**
 * `metrics_loopback_without_key`: a scraper on this machine (a local Prometheus or node agent) may
 * read /metrics without a key. Only when it sends none: a wrong key from loopback is refused and
 * counted against the address like any other. The peer address is the socket's, so a reverse proxy
 * on this machine would make every client loopback (the setting says not to combine the two).
 */
function scrapesFromLoopbackWithoutKey(ctx: AppContext, access: AccessServices): boolean {
  return access.settings.current.metrics_loopback_without_key && ctx.get('authorization') === '' && isLoopbackHost(callerOf(ctx).address);
}

/** The route table's access check (`authorizeCaller`); the principal goes to `ctx.state`. */
export function authorize(ctx: AppContext, rule: AccessRule, access: AccessServices): void {
  if (rule.kind === 'metrics' && scrapesFromLoopbackWithoutKey(ctx, access)) return;
  authorizeCaller(callerOf(ctx), rule, access, {
    onPrincipal: (principal) => { ctx.state.principal = principal; },
  });
}
