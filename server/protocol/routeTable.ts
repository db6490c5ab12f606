import Router from '@koa/router';
import { inferboxError } from '../common/errors.js';
import type { AccessRule } from '../auth/scopes.js';
import type { AppContext, AppState } from './AppContext.js';
import { authorize } from './middleware/authorize.js';
import type { ApiKeyService } from '../auth/ApiKeyService.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/**
 * Every route declares who may call it; a route cannot be mounted without a rule.
 * - public: no key (health probes, the console's static files);
 * - admin: a key with the `admin` scope;
 * - infer: `infer`, or `infer:<model>` for the model named in the path.
 */
export interface RouteSpec {
  method: HttpMethod;
  path: string;
  access: 'public' | 'admin' | 'infer';
  handler: (ctx: AppContext) => Promise<void> | void;
}

function ruleFor(spec: RouteSpec, ctx: AppContext): AccessRule {
  if (spec.access === 'infer') return { kind: 'infer', model: ctx.params.model };
  return { kind: spec.access };
}

export function mountRoutes(routes: readonly RouteSpec[], keys: ApiKeyService): Router<AppState> {
  const router = new Router<AppState>();
  for (const spec of routes) {
    router.register(spec.path, [spec.method], async (ctx: AppContext) => {
      authorize(ctx, ruleFor(spec, ctx), keys);
      await spec.handler(ctx);
    });
  }
  return router;
}

/** 405 with the allowed methods, 404 for unknown paths, both in the OIP error shape. */
export function routeFallbacks(router: Router<AppState>) {
  return router.allowedMethods({
    throw: true,
    methodNotAllowed: () => inferboxError('IBX_ERR_METHOD_NOT_ALLOWED', 'this method', 'this path', 'see the Allow header'),
    notImplemented: () => inferboxError('IBX_ERR_METHOD_NOT_ALLOWED', 'this method', 'this server', 'GET, POST, PUT, DELETE'),
  });
}

/** Wraps the router: a request no route answered is a 404 in the OIP error shape. */
export async function routeNotFound(ctx: AppContext, next: () => Promise<unknown>): Promise<void> {
  await next();
  if (ctx.status === 404 && ctx.body == null) throw inferboxError('IBX_ERR_ROUTE_NOT_FOUND', ctx.method, ctx.path);
}
