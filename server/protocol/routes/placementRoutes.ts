import { inferboxError } from '../../common/errors.js';
import { assertModelName, assertVersion } from '../../common/names.js';
import type { AppContext } from '../AppContext.js';
import type { AppServices } from '../AppServices.js';
import { auditAction } from '../auditAction.js';
import type { RouteSpec } from '../routeTable.js';

/** Where `auto` placed a version (CPU or WebGPU), the measurement that decided it, and measuring again. */
export function placementRoutes(services: AppServices): RouteSpec[] {
  const { registry, store, placements, modelSettings } = services;
  const params = (ctx: AppContext) => ({ name: assertModelName(ctx.params.model!), version: assertVersion(ctx.params.version!) });

  return [
    {
      method: 'GET',
      path: '/api/models/:model/versions/:version/placement',
      access: 'admin',
      handler: (ctx) => {
        const { name, version } = params(ctx);
        const view = registry.getVersion(name, version);
        const row = store.placements.get(name, version);
        ctx.body = {
          name,
          version,
          provider_setting: modelSettings.effective(name).provider,
          placed_by_measurement: placements.autoPlaced(name),
          execution_provider: view.execution_provider,
          report: row?.report ?? null,
          decided_at: row?.decided_at ?? null,
        };
      },
    },
    {
      method: 'POST',
      path: '/api/models/:model/versions/:version/placement',
      access: 'admin',
      handler: (ctx) => {
        const { name, version } = params(ctx);
        registry.getVersion(name, version);
        if (!placements.autoPlaced(name)) {
          throw inferboxError('IBX_ERR_CONFLICT', `'${name}' does not run where a measurement places it: its provider setting is '${modelSettings.effective(name).provider}' or the server's plan uses an accelerator; set its provider to auto on a CPU plan first`);
        }
        void placements.jobs.enqueue(name, version);
        auditAction(services, ctx, 'model.place', `${name}/${version}`);
        ctx.status = 202;
        ctx.body = { name, version, status: 'queued' };
      },
    },
  ];
}
