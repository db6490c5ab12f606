import { z } from 'zod';
import { inferboxError } from '../../common/errors.js';
import { parseRequest } from '../../common/parseRequest.js';
import type { Readable } from 'node:stream';
import { isAdmin } from '../../auth/scopes.js';
import type { ExperimentView } from '../../experiments/ExperimentService.js';
import type { VersionView } from '../../registry/ModelRegistry.js';
import { parseJsonText } from '../../common/parseJsonText.js';
import { EXECUTION_FIELDS } from '../../config/modelServingSettings.js';
import { readJsonBody } from '../readBody.js';
import { readModelUpload } from '../readModelUpload.js';
import { registerModelVersion } from '../registerModelVersion.js';
import { uploadMetadataSchema } from '../uploadMetadataSchema.js';
import { assertModelName, assertVersion } from '../../common/names.js';
import type { AppContext } from '../AppContext.js';
import type { AppServices } from '../AppServices.js';
import { auditAction } from '../auditAction.js';
import type { RouteSpec } from '../routeTable.js';

const ONNX_TYPES = ['application/octet-stream', 'application/onnx', 'application/x-onnx'];
/** Room for the metadata part and the part headers when checking a multipart Content-Length against the model limit. */
const MULTIPART_OVERHEAD = 128 * 1024;

/** The `model.registered` webhook's data: what a downstream system needs to act on the new version. */
function modelRegisteredEvent(view: VersionView, experiment: ExperimentView | null): Record<string, unknown> {
  return {
    model: view.name,
    version: view.version,
    sha256: view.sha256,
    size_bytes: view.size_bytes,
    active: view.active,
    labels: view.labels,
    metrics: view.metrics,
    created_by: view.created_by,
    experiment: experiment && { id: experiment.id, name: experiment.name, status: experiment.status },
  };
}

/** Model management under /api/models: upload versions, list, activate, load/unload, delete. */
export function modelRoutes(services: AppServices): RouteSpec[] {
  const { registry } = services;
  const params = (ctx: AppContext) => ({ name: assertModelName(ctx.params.model!), version: assertVersion(ctx.params.version!) });
  const flag = (ctx: AppContext, name: string) => ctx.query[name] === 'true' || ctx.query[name] === '1';

  /**
   * A new version: the ONNX file as the body (the console), or multipart/form-data with a
   * `metadata` JSON part (labels, metrics, an experiment to start) and a `model` file part (a
   * training pipeline, with a `models:write` key). Either way the file streams to disk.
   */
  const upload = async (ctx: AppContext) => {
    const name = assertModelName(ctx.params.model!);
    const activate = flag(ctx, 'activate');
    // Activating changes what every client gets at once: an admin's call. A pipeline rolls out through an experiment.
    if (activate && !isAdmin(ctx.state.principal?.scopes ?? [])) throw inferboxError('IBX_ERR_FORBIDDEN', "activating a version needs the 'admin' scope; a 'models:write' key can start an experiment of its upload instead");
    const type = ctx.request.type;
    const multipart = type === 'multipart/form-data';
    if (!multipart && !ONNX_TYPES.includes(type)) throw inferboxError('IBX_ERR_UNSUPPORTED_MEDIA_TYPE', type || '(none)', 'the ONNX file as application/octet-stream, or multipart/form-data with metadata and model parts');
    const limit = services.settings.current.max_model_bytes;
    const declared = Number(ctx.get('content-length'));
    if (declared > limit + (multipart ? MULTIPART_OVERHEAD : 0)) throw inferboxError('IBX_ERR_BODY_TOO_LARGE', String(limit));
    const receive = (source: Readable) => registry.receiveUpload(source, limit);
    const { upload: received, metadata } = multipart
      ? await readModelUpload(ctx, { receive, discard: (u) => registry.discardUpload(u), parseMetadata: (text) => parseRequest(uploadMetadataSchema, parseJsonText(text, 'metadata')) })
      : { upload: await receive(ctx.req), metadata: undefined };
    const { version: view, experiment } = await registerModelVersion(services, {
      name,
      upload: received,
      metadata: metadata ?? { labels: {}, metrics: {} },
      activate,
      createdBy: ctx.state.principal?.name ?? null,
      // A pipeline's experiment is a small, guarded test of its upload; more is an admin's call.
      pipelineMaxShare: isAdmin(ctx.state.principal?.scopes ?? []) ? null : services.settings.current.pipeline_max_treatment_share,
    });
    auditAction(services, ctx, 'model.upload', `${name}/${view.version}`, { sha256: view.sha256, size_bytes: view.size_bytes, active: view.active, labels: view.labels, metrics: view.metrics });
    if (experiment) {
      auditAction(services, ctx, 'experiment.create', experiment.id, { model: name, name: experiment.name, with_upload: view.version });
      auditAction(services, ctx, 'experiment.start', experiment.id);
    }
    services.webhooks.emit('model.registered', modelRegisteredEvent(view, experiment));
    // The int8 candidate is made and judged in the background; the fp32 version serves meanwhile.
    if (ctx.query.quantize !== 'false') void services.quantization.enqueue(name, view.version);
    services.placements.placeUnmeasured();
    ctx.status = 201;
    ctx.body = experiment ? { ...view, experiment } : view;
  };

  return [
    { method: 'GET', path: '/api/models', access: 'admin', handler: (ctx) => { ctx.body = { models: registry.listModels() }; } },
    // A pipeline reads what it registered (state, labels, metrics); it cannot change the rest.
    { method: 'GET', path: '/api/models/:model', access: 'models:write', handler: (ctx) => { ctx.body = registry.getModel(assertModelName(ctx.params.model!)); } },
    { method: 'POST', path: '/api/models/:model/versions', access: 'models:write', handler: upload },
    {
      method: 'GET',
      path: '/api/models/:model/versions/:version',
      access: 'models:write',
      handler: (ctx) => { const p = params(ctx); ctx.body = registry.getVersion(p.name, p.version); },
    },
    {
      method: 'DELETE',
      path: '/api/models/:model/versions/:version',
      access: 'admin',
      handler: async (ctx) => {
        const p = params(ctx);
        const result = await registry.deleteVersion(p.name, p.version);
        // Its placement row went with it; a model re-created under this name numbers from 1 again.
        services.placements.jobs.forget(p.name, p.version);
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
        const { enabled } = parseRequest(z.object({ enabled: z.boolean() }).strict(), (await readJsonBody(ctx.req, 4096)).value);
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
        const body = (await readJsonBody(ctx.req, 16 * 1024)).value;
        const before = services.modelSettings.effective(name);
        const view = services.modelSettings.update(name, body);
        // Provider and threads are fixed in a session: the loaded versions swap to new ones (no request fails).
        if (EXECUTION_FIELDS.some((field) => view.effective[field] !== before[field])) {
          await registry.applyExecution(name);
          services.placements.placeUnmeasured(); // back on auto: versions never measured are
        }
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
