import type { AppServices } from '../AppServices.js';
import type { RouteSpec } from '../routeTable.js';

/**
 * Prometheus scraping (`GET /metrics`, text exposition format 0.0.4) and the console's short
 * history of the summary; both read the one metrics registry.
 */
export function metricsRoutes(services: AppServices): RouteSpec[] {
  return [
    {
      method: 'GET',
      path: '/metrics',
      access: 'metrics',
      handler: async (ctx) => {
        const { contentType, text } = await services.metrics.exposition();
        ctx.set('Content-Type', contentType);
        ctx.set('Cache-Control', 'no-store');
        ctx.body = text;
      },
    },
    {
      method: 'GET',
      path: '/api/metrics/history',
      access: 'admin',
      // Infinity (the +Inf bucket) is not JSON: it is sent as null, as in the summary.
      handler: (ctx) => { ctx.body = { interval_ms: services.metricsHistory.options.intervalMs, samples: services.metricsHistory.snapshots() }; },
    },
  ];
}
