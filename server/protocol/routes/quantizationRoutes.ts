import { z } from 'zod';
import { inferboxError } from '../../common/errors.js';
import { assertModelName, assertVersion } from '../../common/names.js';
import { parseRequest } from '../../common/parseRequest.js';
import type { AppContext } from '../AppContext.js';
import type { AppServices } from '../AppServices.js';
import { auditAction } from '../auditAction.js';
import { readJsonBody } from '../readBody.js';
import type { RouteSpec } from '../routeTable.js';
import { existsSync } from 'node:fs';

const precisionSchema = z.object({ precision: z.enum(['int8', 'fp32', 'auto']) }).strict();
const oipInput = z.object({ name: z.string().min(1), datatype: z.string(), shape: z.array(z.number().int().nonnegative()), data: z.array(z.unknown()) });
const recordingSchema = z.object({ limit: z.number().int().min(0).max(10_000) }).strict();
const samplesSchema = z.object({ samples: z.array(z.object({ inputs: z.array(oipInput).min(1) })).min(1).max(1000) }).strict();

/** The int8 candidate: its report and progress, re-running it, the admin's precision override, validation samples. */
export function quantizationRoutes(services: AppServices): RouteSpec[] {
  const { registry, quantization, store } = services;
  const params = (ctx: AppContext) => ({ name: assertModelName(ctx.params.model!), version: assertVersion(ctx.params.version!) });

  return [
    {
      method: 'GET',
      path: '/api/models/:model/versions/:version/quantization',
      access: 'admin',
      handler: (ctx) => {
        const { name, version } = params(ctx);
        const view = registry.getVersion(name, version);
        const job = store.quantization.getJob(name, version);
        ctx.body = {
          name,
          version,
          served_precision: view.served_precision,
          precision_override: view.precision_override,
          status: job?.status ?? 'not_requested',
          stage: job?.stage ?? null,
          progress: job?.progress ?? 0,
          report: job?.report ?? null,
          updated_at: job?.updated_at ?? null,
        };
      },
    },
    {
      method: 'POST',
      path: '/api/models/:model/versions/:version/quantization',
      access: 'admin',
      handler: (ctx) => {
        const { name, version } = params(ctx);
        registry.getVersion(name, version);
        void quantization.enqueue(name, version);
        auditAction(services, ctx, 'model.quantize', `${name}/${version}`);
        ctx.status = 202;
        ctx.body = { name, version, status: 'queued' };
      },
    },
    {
      method: 'PUT',
      path: '/api/models/:model/versions/:version/precision',
      access: 'admin',
      handler: async (ctx) => {
        const { name, version } = params(ctx);
        const { precision } = parseRequest(precisionSchema, (await readJsonBody(ctx.req, 4096)).value);
        const job = store.quantization.getJob(name, version);
        // Only a candidate that went through a finished comparison (it loaded and ran) may be served.
        if (precision === 'int8' && (job?.status !== 'done' || !existsSync(registry.filesOf(name, version).int8))) {
          throw inferboxError('IBX_ERR_CONFLICT', `version ${version} of '${name}' has no int8 candidate that finished its comparison; run its quantization first`);
        }
        const decided = job?.report?.decision;
        const served = precision === 'auto' ? (decided === 'int8' ? 'int8' : 'fp32') : precision;
        ctx.body = await registry.setServedPrecision(name, version, served, precision === 'auto' ? null : precision);
        auditAction(services, ctx, 'model.precision', `${name}/${version}`, { precision });
      },
    },
    {
      method: 'GET',
      path: '/api/models/:model/samples',
      access: 'admin',
      handler: (ctx) => {
        const name = registry.getModel(assertModelName(ctx.params.model!)).name;
        ctx.body = { samples: store.quantization.listSamples(name, 1000) };
      },
    },
    {
      method: 'POST',
      path: '/api/models/:model/samples',
      access: 'admin',
      handler: async (ctx) => {
        const name = assertModelName(ctx.params.model!);
        const { samples } = parseRequest(samplesSchema, (await readJsonBody(ctx.req, services.settings.current.max_infer_body_bytes)).value);
        const active = registry.resolveSignature(name);
        samples.forEach((sample, i) => {
          try {
            services.decodeInputs(sample.inputs, active);
          } catch (error) {
            throw inferboxError('IBX_ERR_INVALID_REQUEST', `samples.${i}: ${(error as Error).message}`);
          }
        });
        const ids = store.quantization.addSamples(name, 'uploaded', samples.map((s) => s.inputs), new Date().toISOString());
        auditAction(services, ctx, 'model.samples_add', name, { count: ids.length });
        ctx.status = 201;
        ctx.body = { ids };
      },
    },
    {
      method: 'PUT',
      path: '/api/models/:model/samples/recording',
      access: 'admin',
      handler: async (ctx) => {
        const name = registry.getModel(assertModelName(ctx.params.model!)).name;
        const { limit } = parseRequest(recordingSchema, (await readJsonBody(ctx.req, 4096)).value);
        ctx.body = services.liveSamples.setLimit(name, limit);
        auditAction(services, ctx, 'model.samples_recording', name, { limit });
      },
    },
    {
      method: 'DELETE',
      path: '/api/models/:model/samples',
      access: 'admin',
      handler: (ctx) => {
        const name = registry.getModel(assertModelName(ctx.params.model!)).name;
        const deleted = store.quantization.deleteSamples(name);
        services.liveSamples.forget(name);
        auditAction(services, ctx, 'model.samples_delete', name, { count: deleted });
        ctx.body = { deleted };
      },
    },
  ];
}
