import Router from '@koa/router';
import { InferboxError, inferboxError } from '../common/errors.js';
import type { AccessRule } from '../auth/scopes.js';
import type { AppContext, AppState } from './AppContext.js';
import type { InferenceHandler } from './inferenceRoute.js';
import { authenticateRequest, authorize, type AccessServices } from './middleware/authorize.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/**
 * Every route declares who may call it; a route cannot be mounted without a rule.
 * - public: no key (health probes, the console's static files);
 * - admin: a key with the `admin` scope;
 * - infer: `infer`, or `infer:<model>` for the model named in the path;
 * - key: any valid key; the handler checks the rest (async jobs: infer rights on the job's model,
 *   and only the key's own jobs unless it is an admin key);
 * - metrics: a key with the `metrics` scope (or admin); with `metrics_loopback_without_key` on, also
 *   a request from this machine that sends no key.
 * - models:write: a training pipeline's key (`models:write`) or admin; the handler refuses what
 *   only an admin may add to the call (activating the upload).
 */
export type RouteSpec = KoaRoute | InferenceRoute;

interface RouteBase {
  method: HttpMethod;
  path: string;
  access: 'public' | 'admin' | 'infer' | 'key' | 'feedback' | 'metrics' | 'models:write';
}

/** A route served through Koa's middleware stack; the access check runs before the handler. */
export interface KoaRoute extends RouteBase {
  handler: (ctx: AppContext) => Promise<void> | void;
}

/**
 * An inference route (`POST`, access `infer`): served on node:http by `dispatchRequests` without
 * Koa's middleware stack, which cost most of a small request's time. Its handler checks the key
 * against the same rule itself, answers errors in the same shape and sends the same headers.
 */
export interface InferenceRoute extends RouteBase {
  method: 'POST';
  access: 'infer';
  infer: InferenceHandler;
}

export const isInferenceRoute = (spec: RouteSpec): spec is InferenceRoute => 'infer' in spec;

function ruleFor(spec: RouteSpec, ctx: AppContext): AccessRule {
  if (spec.access === 'infer') return { kind: 'infer', model: ctx.params.model };
  if (spec.access === 'models:write') return { kind: 'modelsWrite' };
  return { kind: spec.access };
}

/** The route pattern in OpenAPI's {param} form, as spans and errors name it. */
export const openApiPath = (path: string) => path.replace(/:(\w+)/g, '{$1}');

/**
 * Mounts every route on the router. An inference route reaches Koa only when the dispatcher
 * passes it on (CORS is configured, or the path is not in its exact form, e.g. a trailing slash):
 * the middleware has set the request id and headers, and the route's own handler does the rest.
 */
export function mountRoutes(routes: readonly RouteSpec[], access: AccessServices): Router<AppState> {
  const router = new Router<AppState>();
  for (const spec of routes) {
    if (isInferenceRoute(spec)) {
      const route = openApiPath(spec.path);
      router.register(spec.path, [spec.method], async (ctx: AppContext) => {
        ctx.respond = false;
        await spec.infer({ req: ctx.req, res: ctx.res, params: ctx.params, requestId: ctx.state.requestId, route });
      });
      continue;
    }
    router.register(spec.path, [spec.method], async (ctx: AppContext) => {
      authorize(ctx, ruleFor(spec, ctx), access);
      await spec.handler(ctx);
    });
  }
  return router;
}

/**
 * OPTIONS is answered by the router from the route table (the Allow header); outside the public
 * routes it needs a valid key like everything else (failures count against the address), so the
 * API cannot be mapped anonymously. CORS preflights of listed origins are answered before this. A
 * path is public when every route pattern it matches is (the router's own matching, so
 * `/assets/:file` covers each asset).
 */
export function guardOptions(routes: readonly RouteSpec[], router: Router<AppState>, access: AccessServices) {
  const publicPaths = new Set<string | RegExp>(routes.filter((r) => r.access === 'public').map((r) => r.path));
  return async (ctx: AppContext, next: () => Promise<unknown>): Promise<void> => {
    if (ctx.method === 'OPTIONS') {
      const matched = router.match(ctx.path, 'OPTIONS').path;
      const isPublic = matched.length > 0 && matched.every((layer) => publicPaths.has(layer.path));
      if (!isPublic) authenticateRequest(ctx, access);
    }
    await next();
  };
}

/** Lets the router mark 405 (with an Allow header) and 501; `answerUnrouted` turns them into OIP errors. */
export function routeFallbacks(router: Router<AppState>) {
  return router.allowedMethods({ throw: false });
}

/** Wraps the router: a request no route answered gets a 404/405 in the OIP error shape. */
export async function answerUnrouted(ctx: AppContext, next: () => Promise<unknown>): Promise<void> {
  await next();
  if (ctx.body != null) return;
  if (ctx.status === 404) throw inferboxError('IBX_ERR_ROUTE_NOT_FOUND', ctx.method, ctx.path);
  if (ctx.status === 405 || ctx.status === 501) {
    const allowed = ctx.response.get('Allow') || 'GET, POST, PUT, DELETE';
    throw new InferboxError('IBX_ERR_METHOD_NOT_ALLOWED', [ctx.method, ctx.path, allowed], { headers: { Allow: allowed } });
  }
}
