import { modelMetadata } from '../../registry/modelMetadata.js';
import { modelReadiness } from '../../registry/modelReadiness.js';
import { decodeOipRequest, encodeOipResponse, requestParameters, type OipBody } from '../../serving/oipCodec.js';
import type { AppContext } from '../AppContext.js';
import type { AppServices } from '../AppServices.js';
import { inferenceHandler, type HttpInferenceCodec } from '../inferenceRoute.js';
import { readInferBody } from '../readBody.js';
import type { RouteSpec } from '../routeTable.js';

/** KServe Open Inference Protocol v2, REST: server and model metadata, model readiness, inference (shared with gRPC in `serving/`). */
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
  const oip: HttpInferenceCodec<OipBody, ReturnType<typeof decodeOipRequest>> = {
    read: async ({ req }) => {
      const body = await readInferBody(req, services.settings.current.max_infer_body_bytes);
      return { body, bytes: body.bytes, parameters: requestParameters(body.value) };
    },
    decode: decodeOipRequest,
    /** JSON, or the binary extension's JSON header + tensor bytes when outputs were asked for as binary. */
    encode: ({ served, request, result, assignment, requestId }) => {
      const { response, binary } = encodeOipResponse(served, request, result.outputs, assignment ? { variant: assignment, requestId } : null);
      const json = Buffer.from(JSON.stringify(response));
      const reply = binary.length > 0
        ? { type: 'application/octet-stream', body: Buffer.concat([json, ...binary]), headers: { 'Inference-Header-Content-Length': String(json.length) } }
        : { type: 'application/json; charset=utf-8', body: json };
      return { reply, bytes: reply.body.length, json: () => json.toString('utf8') };
    },
    logged: (body) => body.value,
  };
  const infer = inferenceHandler(services, oip);

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
    { method: 'POST', path: '/v2/models/:model/infer', access: 'infer', infer },
    { method: 'POST', path: '/v2/models/:model/versions/:version/infer', access: 'infer', infer },
  ];
}
