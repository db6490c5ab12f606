import Koa from 'koa';
import type { AppState } from './AppContext.js';
import type { AppServices } from './AppServices.js';
import { assignRequestId } from './middleware/assignRequestId.js';
import { handleErrors } from './middleware/handleErrors.js';
import { answerUnrouted, guardOptions, mountRoutes, routeFallbacks, type RouteSpec } from './routeTable.js';
import { cardRoutes } from './routes/cardRoutes.js';
import { consoleRoutes } from './routes/consoleRoutes.js';
import { experimentRoutes } from './routes/experimentRoutes.js';
import { healthRoutes } from './routes/healthRoutes.js';
import { jobRoutes } from './routes/jobRoutes.js';
import { keyRoutes } from './routes/keyRoutes.js';
import { logRoutes } from './routes/logRoutes.js';
import { modelRoutes } from './routes/modelRoutes.js';
import { oipRoutes } from './routes/oipRoutes.js';
import { predictRoutes } from './routes/predictRoutes.js';
import { quantizationRoutes } from './routes/quantizationRoutes.js';
import { systemRoutes } from './routes/systemRoutes.js';

/** Every route the server has; each declares its access rule (see routeTable.ts). */
export function allRoutes(services: AppServices): RouteSpec[] {
  return [
    ...healthRoutes(services),
    ...consoleRoutes(services.consoleDir),
    ...oipRoutes(services),
    ...predictRoutes(services),
    ...cardRoutes(services),
    ...modelRoutes(services),
    ...experimentRoutes(services),
    ...quantizationRoutes(services),
    ...jobRoutes(services),
    ...keyRoutes(services),
    ...logRoutes(services),
    ...systemRoutes(services),
  ];
}

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
  const router = mountRoutes(routes, services.keys);
  app.use(assignRequestId);
  app.use(noStoreForApi);
  app.use(handleErrors(services.logger));
  app.use(answerUnrouted);
  app.use(guardOptions(routes, services.keys));
  app.use(router.routes());
  app.use(routeFallbacks(router));
  return app;
}
