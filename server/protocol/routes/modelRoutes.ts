import { z } from 'zod';
import { inferboxError } from '../../common/errors.js';
import { parseRequest } from '../../common/parseRequest.js';
import { readJsonBody } from '../readBody.js';
import { assertModelName, assertVersion } from '../../common/names.js';
import type { AppContext } from '../AppContext.js';
import type { AppServices } from '../AppServices.js';
import { auditAction } from '../auditAction.js';
import type { RouteSpec } from '../routeTable.js';

const ONNX_TYPES = ['application/octet-stream', 'application/onnx', 'application/x-onnx'];

/** Model management under /api/models: upload versions, list, activate, load/unload, delete. */
export function modelRoutes(services: AppServices): RouteSpec[] {
  const { registry } = services;
  const params = (ctx: AppContext) => ({ name: assertModelName(ctx.params.model!), version: assertVersion(ctx.params.version!) });
  const flag = (ctx: AppContext, name: string) => ctx.query[name] === 'true' || ctx.query[name] === '1';

  const upload = async (ctx: AppContext) => {
    const name = assertModelName(ctx.params.model!);
    const type = ctx.request.type;
    if (!ONNX_TYPES.includes(type)) throw inferboxError('IBX_ERR_UNSUPPORTED_MEDIA_TYPE', type || '(none)', 'the ONNX file as application/octet-stream');
    const limit = services.settings.current.max_model_bytes;
    const declared = Number(ctx.get('content-length'));
    if (declared > limit) throw inferboxError('IBX_ERR_BODY_TOO_LARGE', String(limit));
    const view = await registry.addVersion({
      name,
      source: ctx.req,
      maxBytes: limit,
      activate: flag(ctx, 'activate'),
      createdBy: ctx.state.principal?.name ?? null,
    });
    auditAction(services, ctx, 'model.upload', `${name}/${view.version}`, { sha256: view.sha256, size_bytes: view.size_bytes, active: view.active });
    // The int8 candidate is made and judged in the background; the fp32 version serves meanwhile.
    if (ctx.query.quantize !== 'false') void services.quantization.enqueue(name, view.version);
    ctx.status = 201;
    ctx.body = view;
  };

  return [
    { method: 'GET', path: '/api/models', access: 'admin', handler: (ctx) => { ctx.body = { models: registry.listModels() }; } },
    { method: 'GET', path: '/api/models/:model', access: 'admin', handler: (ctx) => { ctx.body = registry.getModel(assertModelName(ctx.params.model!)); } },
    { method: 'POST', path: '/api/models/:model/versions', access: 'admin', handler: upload },
    {
      method: 'GET',
      path: '/api/models/:model/versions/:version',
      access: 'admin',
      handler: (ctx) => { const p = params(ctx); ctx.body = registry.getVersion(p.name, p.version); },
    },
    {
      method: 'DELETE',
      path: '/api/models/:model/versions/:version',
      access: 'admin',
      handler: async (ctx) => {
        const p = params(ctx);
        const result = await registry.deleteVersion(p.name, p.version);
        // A model re-created under this name starts with recording off (its own opt-in).
        if (result.modelDeleted) services.liveSamples.forget(p.name);
        auditAction(services, ctx, 'model.delete_version', `${p.name}/${p.version}`, { model_deleted: result.modelDeleted });
        ctx.body = { deleted: true, model_deleted: result.modelDeleted };
      },
    },
    {
      method: 'PUT',
      path: '/api/models/:model/cache',
      access: 'admin',
      handler: async (ctx) => {
        const name = assertModelName(ctx.params.model!);
        const { enabled } = parseRequest(z.object({ enabled: z.boolean() }).strict(), (await readJsonBody(ctx, 4096)).value);
        ctx.body = registry.setCacheEnabled(name, enabled);
        auditAction(services, ctx, 'model.cache', name, { enabled });
      },
    },
    {
      method: 'GET',
      path: '/api/models/:model/settings',
      access: 'admin',
      handler: (ctx) => { ctx.body = services.modelSettings.view(assertModelName(ctx.params.model!)); },
    },
    {
      method: 'PUT',
      path: '/api/models/:model/settings',
      access: 'admin',
      handler: async (ctx) => {
        const name = assertModelName(ctx.params.model!);
        const body = (await readJsonBody(ctx, 16 * 1024)).value;
        const before = services.modelSettings.effective(name);
        const view = services.modelSettings.update(name, body);
        // Before and after of each field named: who switched payload logging on, and when, stays on record.
        const fields = Object.keys(body as object) as (keyof typeof before)[];
        const pick = (from: typeof before) => Object.fromEntries(fields.map((f) => [f, from[f]]));
        auditAction(services, ctx, 'model.settings', name, { changes: body, before: pick(before), after: pick(view.effective) });
        ctx.body = view;
      },
    },
    ...(['activate', 'load', 'unload'] as const).map((action): RouteSpec => ({
      method: 'POST',
      path: `/api/models/:model/versions/:version/${action}`,
      access: 'admin',
      handler: async (ctx) => {
        const p = params(ctx);
        ctx.body = await registry[action](p.name, p.version);
        auditAction(services, ctx, `model.${action}`, `${p.name}/${p.version}`);
      },
    })),
  ];
}
