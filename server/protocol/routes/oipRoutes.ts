import { namingExperiment, requestParameters } from '../../oip/InferenceEndpoint.js';
import { modelMetadata } from '../../oip/modelMetadata.js';
import { modelReadiness } from '../../oip/modelReadiness.js';
import type { AppContext } from '../AppContext.js';
import type { AppServices } from '../AppServices.js';
import { readInferBody } from '../readBody.js';
import type { RouteSpec } from '../routeTable.js';
import { recordRateLimited, servedInference, type InferenceExchange } from '../servedInference.js';

/** KServe Open Inference Protocol v2, REST: server and model metadata, model readiness, inference (shared with gRPC in `oip/`). */
export function oipRoutes(services: AppServices): RouteSpec[] {
  const modelMetadataRoute = (ctx: AppContext) => {
    ctx.body = modelMetadata(services.registry, ctx.params.model!, ctx.params.version);
  };

  const modelReady = (ctx: AppContext) => {
    const name = ctx.params.model!;
    const { version, ready } = modelReadiness(services.registry, name, ctx.params.version);
    ctx.status = ready ? 200 : 503;
    ctx.body = { name, ...(version ? { version } : {}), ready };
  };

  /** OIP v2 JSON, or JSON + binary tensors: the body is the request itself, whatever version answers. */
  const oip: InferenceExchange<{ value: unknown; binary: Buffer }> = {
    read: async (ctx) => {
      const body = await readInferBody(ctx, services.settings.current.max_infer_body_bytes);
      return { body, bytes: body.bytes, parameters: requestParameters(body.value) };
    },
    request: (_served, body) => body,
    /** JSON, or the binary extension's JSON header + tensor bytes when outputs were asked for as binary. */
    respond: (ctx, { outcome, assignment }) => {
      const json = Buffer.from(JSON.stringify(namingExperiment(outcome.response, assignment, ctx.state.requestId)));
      if (outcome.binary.length > 0) {
        ctx.set('Inference-Header-Content-Length', String(json.length));
        ctx.type = 'application/octet-stream';
        ctx.body = Buffer.concat([json, ...outcome.binary]);
      } else {
        ctx.type = 'application/json';
        ctx.body = json;
      }
      return json;
    },
    logged: (body) => body.value,
  };
  const infer = servedInference(services, oip);
  const rateLimited = recordRateLimited(services);

  return [
    {
      method: 'GET',
      path: '/v2',
      access: 'infer',
      handler: (ctx) => { ctx.body = { name: 'inferbox', version: services.serverVersion, extensions: [] }; },
    },
    { method: 'GET', path: '/v2/models/:model', access: 'infer', handler: modelMetadataRoute },
    { method: 'GET', path: '/v2/models/:model/versions/:version', access: 'infer', handler: modelMetadataRoute },
    { method: 'GET', path: '/v2/models/:model/ready', access: 'infer', handler: modelReady },
    { method: 'GET', path: '/v2/models/:model/versions/:version/ready', access: 'infer', handler: modelReady },
    { method: 'POST', path: '/v2/models/:model/infer', access: 'infer', handler: infer, onRateLimited: rateLimited },
    { method: 'POST', path: '/v2/models/:model/versions/:version/infer', access: 'infer', handler: infer, onRateLimited: rateLimited },
  ];
}
