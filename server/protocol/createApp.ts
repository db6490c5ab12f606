import type { RequestListener } from 'node:http';
import Koa from 'koa';
import type { AppState } from './AppContext.js';
import type { AppServices } from './AppServices.js';
import { allowListedOrigins } from './middleware/allowListedOrigins.js';
import { assignRequestId } from './middleware/assignRequestId.js';
import { handleErrors } from './middleware/handleErrors.js';
import { allRoutes } from './allRoutes.js';
import { securityHeaders } from './middleware/securityHeaders.js';
import { answerUnrouted, type RouteSpec, guardOptions, mountRoutes, routeFallbacks } from './routeTable.js';
import { dispatchRequests } from './dispatchRequests.js';

/** Admin data (keys shown once, payloads, logs) must not sit in browser or proxy caches. */
async function noStoreForApi(ctx: { path: string; set(name: string, value: string): void }, next: () => Promise<unknown>): Promise<void> {
  if (ctx.path.startsWith('/api/')) ctx.set('Cache-Control', 'no-store');
  await next();
}

/**
 * The server's request listener: inference requests go straight to their handlers
 * (dispatchRequests), everything else through the Koa app.
 */
export function createApp(services: AppServices): RequestListener {
  const routes = allRoutes(services);
  return dispatchRequests(routes, koaApp(services, routes).callback(), () => services.settings.current.cors_allowed_origins.length > 0);
}

/** Only chains middleware and mounts the routes; behaviour lives in the routes and services. */
function koaApp(services: AppServices, routes: RouteSpec[]): Koa<AppState> {
  const app = new Koa<AppState>({ proxy: false });
  app.silent = true; // errors are logged by handleErrors, once
  const router = mountRoutes(routes, services);
  app.use(assignRequestId);
  app.use(securityHeaders);
  app.use(noStoreForApi);
  app.use(allowListedOrigins(() => services.settings.current.cors_allowed_origins));
  app.use(handleErrors(services.logger));
  app.use(answerUnrouted);
  app.use(guardOptions(routes, router, services));
  app.use(router.routes());
  app.use(routeFallbacks(router));
  return app;
}
