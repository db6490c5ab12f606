import type { InferboxError } from '../../common/errors.js';
import type { AccessRule } from '../../auth/scopes.js';
import type { Principal } from '../../auth/ApiKeyService.js';
import { authenticateCaller, type Caller } from '../../auth/authenticateCaller.js';
import { bearerTokenOf } from '../../auth/bearerTokenOf.js';
import { authorizeCaller } from '../../auth/authorizeCaller.js';
import type { AppContext } from '../AppContext.js';
import type { AppServices } from '../AppServices.js';

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

/** The route table's access check (`authorizeCaller`); the principal goes to `ctx.state`. */
export function authorize(ctx: AppContext, rule: AccessRule, access: AccessServices, onRateLimited?: (ctx: AppContext, error: InferboxError) => void): void {
  authorizeCaller(callerOf(ctx), rule, access, {
    onPrincipal: (principal) => { ctx.state.principal = principal; },
    ...(onRateLimited ? { onRateLimited: (error: InferboxError) => onRateLimited(ctx, error) } : {}),
  });
}
