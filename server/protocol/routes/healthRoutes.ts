import type { AppServices } from '../AppServices.js';
import type { RouteSpec } from '../routeTable.js';

/** OIP v2 health: live as long as the process answers; ready when every model meant to be loaded is. */
export function healthRoutes(services: AppServices): RouteSpec[] {
  return [
    { method: 'GET', path: '/v2/health/live', access: 'public', handler: (ctx) => { ctx.body = { live: true }; } },
    {
      method: 'GET',
      path: '/v2/health/ready',
      access: 'public',
      handler: (ctx) => {
        const ready = services.registry.isReady();
        ctx.status = ready ? 200 : 503;
        ctx.body = { ready };
      },
    },
  ];
}
