import type { AppServices } from '../AppServices.js';
import { auditAction } from '../auditAction.js';
import { readJsonBody } from '../readBody.js';
import type { RouteSpec } from '../routeTable.js';

/** Hardware, execution plan, TLS fingerprint and addresses; saved settings. */
export function systemRoutes(services: AppServices): RouteSpec[] {
  return [
    { method: 'GET', path: '/api/system', access: 'admin', handler: (ctx) => { ctx.body = services.systemInfo(); } },
    {
      method: 'GET',
      path: '/api/metrics/summary',
      access: 'admin',
      // Infinity (the +Inf bucket) is not JSON: it is sent as null.
      handler: async (ctx) => { ctx.body = { at: new Date().toISOString(), models: await services.metrics.summary() }; },
    },
    // The console's first-run wizard (hardware, data location, LAN or this computer, first app key)
    // shows until the admin finishes or skips it; its steps use the other admin routes.
    { method: 'GET', path: '/api/setup', access: 'admin', handler: (ctx) => { ctx.body = { completed_at: services.firstRun.completedAt() }; } },
    {
      method: 'POST',
      path: '/api/setup/complete',
      access: 'admin',
      handler: (ctx) => {
        const { completed_at, already } = services.firstRun.complete();
        if (!already) auditAction(services, ctx, 'setup.complete', null, {});
        ctx.body = { completed_at };
      },
    },
    { method: 'GET', path: '/api/settings', access: 'admin', handler: (ctx) => { ctx.body = services.settings.view(); } },
    {
      method: 'PUT',
      path: '/api/settings',
      access: 'admin',
      handler: async (ctx) => {
        const { value } = await readJsonBody(ctx.req, 64 * 1024);
        const result = services.settings.update(value);
        auditAction(services, ctx, 'settings.update', null, { changes: value as Record<string, unknown> });
        ctx.body = { ...services.settings.view(), ...result };
      },
    },
  ];
}
