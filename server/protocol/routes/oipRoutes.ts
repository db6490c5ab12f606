import type { InferboxError } from '../../common/errors.js';
import type { StageTiming } from '../../inference/InferenceService.js';
import type { InferCall } from '../../oip/InferenceEndpoint.js';
import { modelMetadata } from '../../oip/modelMetadata.js';
import { modelReadiness } from '../../oip/modelReadiness.js';
import type { AppContext } from '../AppContext.js';
import type { AppServices } from '../AppServices.js';
import { readInferBody } from '../readBody.js';
import type { RouteSpec } from '../routeTable.js';

const ms = (value: number) => value.toFixed(3);

/** The request's stages as a Server-Timing header (W3C), which browsers' dev tools and load tools show. */
function serverTiming(t: StageTiming, cache: string): string {
  return `decode;dur=${ms(t.decodeMs)}, queue;dur=${ms(t.queueMs)}, batch;dur=${ms(t.batchMs)};desc="rows=${t.batchRows}", infer;dur=${ms(t.inferMs)}, serialize;dur=${ms(t.serializeMs)}, cache;desc="${cache}"`;
}

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

  const callOf = (ctx: AppContext): InferCall => ({
    model: ctx.params.model!,
    version: ctx.params.version,
    requestId: ctx.state.requestId,
    keyId: ctx.state.principal?.keyId ?? null,
    headers: ctx.headers,
    body: () => readInferBody(ctx, services.settings.current.max_infer_body_bytes),
    declaredBytes: Number(ctx.get('content-length')) || 0,
    onVariant: (assignment) => ctx.set('Inferbox-Variant', `${assignment.experimentId}/${assignment.variant}`),
    afterResponse: (task) => ctx.res.once('finish', () => setImmediate(task)),
  });

  /** Inference: JSON, or the binary extension's JSON header + tensor bytes when outputs were asked for as binary. */
  const infer = async (ctx: AppContext) => {
    const { timing, cache } = await services.oip.infer(callOf(ctx), (outcome) => {
      const json = JSON.stringify(outcome.response);
      const header = Buffer.from(json);
      if (outcome.binary.length > 0) {
        ctx.set('Inference-Header-Content-Length', String(header.length));
        ctx.type = 'application/octet-stream';
        ctx.body = Buffer.concat([header, ...outcome.binary]);
      } else {
        ctx.type = 'application/json';
        ctx.body = header;
      }
      return { reply: undefined, bytesOut: (ctx.body as Buffer).length, json };
    });
    ctx.set('Server-Timing', serverTiming(timing, cache));
  };

  const recordRateLimited = (ctx: AppContext, error: InferboxError) => services.oip.recordRateLimited(callOf(ctx), error);

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
    { method: 'POST', path: '/v2/models/:model/infer', access: 'infer', handler: infer, onRateLimited: recordRateLimited },
    { method: 'POST', path: '/v2/models/:model/versions/:version/infer', access: 'infer', handler: infer, onRateLimited: recordRateLimited },
  ];
}
