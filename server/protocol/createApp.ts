import Koa from 'koa';
import type { AppState } from './AppContext.js';
import type { AppServices } from './AppServices.js';
import { allowListedOrigins } from './middleware/allowListedOrigins.js';
import { assignRequestId } from './middleware/assignRequestId.js';
import { handleErrors } from './middleware/handleErrors.js';
import { allRoutes } from './allRoutes.js';
import { securityHeaders } from './middleware/securityHeaders.js';
import { answerUnrouted, guardOptions, mountRoutes, routeFallbacks } from './routeTable.js';

/** Admin data (keys shown once, payloads, logs) must not sit in browser or proxy caches. */
async function noStoreForApi(ctx: { path: string; set(name: string, value: string): void }, next: () => Promise<unknown>): Promise<void> {
  if (ctx.path.startsWith('/api/')) ctx.set('Cache-Control', 'no-store');
  await next();
}

/** Only chains middleware and mounts the routes; behaviour lives in the routes and services. */
export function createApp(services: AppServices): Koa<AppState> {
  const app = new Koa<AppState>({ proxy: false });
  app.silent = true; // errors are logged by handleErrors, once
  const routes = allRoutes(services);
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
