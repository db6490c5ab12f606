import { assertVersion } from '../../common/names.js';
import type { AppContext } from '../AppContext.js';
import type { AppServices } from '../AppServices.js';
import { readInferBody } from '../readBody.js';
import type { RouteSpec } from '../routeTable.js';
import { recordRateLimited, servedInference, type InferenceExchange } from '../servedInference.js';

/** The OIP request's `parameters`, which targeting rules may read (`param.<name>`). */
function requestParameters(body: unknown): Record<string, unknown> {
  const parameters = (body as { parameters?: unknown } | null)?.parameters;
  return typeof parameters === 'object' && parameters !== null && !Array.isArray(parameters) ? (parameters as Record<string, unknown>) : {};
}

/** KServe Open Inference Protocol v2, REST: server and model metadata, model readiness, inference. */
export function oipRoutes(services: AppServices): RouteSpec[] {
  const versionParam = (ctx: AppContext) => (ctx.params.version === undefined ? undefined : assertVersion(ctx.params.version));

  /** The named version, else the active one (a model always has at least one version). */
  const modelMetadata = (ctx: AppContext) => {
    const model = services.registry.getModel(ctx.params.model!);
    const version = versionParam(ctx) ?? model.active_version ?? model.versions.at(-1)!.version;
    const chosen = services.registry.getVersion(model.name, version);
    ctx.body = {
      name: model.name,
      versions: model.versions.map((v) => v.version),
      platform: 'onnxruntime_onnx',
      inputs: chosen.inputs,
      outputs: chosen.outputs,
    };
  };

  const modelReady = (ctx: AppContext) => {
    const name = ctx.params.model!;
    const version = versionParam(ctx);
    const model = services.registry.getModel(name);
    const chosen = version ?? model.active_version;
    const view = chosen === null ? undefined : services.registry.getVersion(name, chosen);
    // An idle-unloaded version is ready: its next request loads it again and is answered.
    const ready = view?.state === 'ready' || view?.state === 'idle';
    ctx.status = ready ? 200 : 503;
    ctx.body = { name, ...(chosen ? { version: chosen } : {}), ready };
  };

  /** OIP v2 JSON, or JSON + binary tensors: the body is the request itself, whatever version answers. */
  const oip: InferenceExchange<{ value: unknown; binary: Buffer }> = {
    read: async (ctx) => {
      const body = await readInferBody(ctx, services.settings.current.max_infer_body_bytes);
      return { body, bytes: body.bytes, parameters: requestParameters(body.value) };
    },
    request: (_served, body) => body,
    respond: (ctx, { outcome, assignment }) => {
      if (assignment) {
        // request_id is what POST /api/feedback names (the caller's own `id` is echoed as OIP says).
        outcome.response.parameters = { ...outcome.response.parameters, experiment: assignment.experimentId, variant: assignment.variant, request_id: ctx.state.requestId };
        outcome.response.id ??= ctx.state.requestId;
      }
      const json = Buffer.from(JSON.stringify(outcome.response));
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
    { method: 'GET', path: '/v2/models/:model', access: 'infer', handler: modelMetadata },
    { method: 'GET', path: '/v2/models/:model/versions/:version', access: 'infer', handler: modelMetadata },
    { method: 'GET', path: '/v2/models/:model/ready', access: 'infer', handler: modelReady },
    { method: 'GET', path: '/v2/models/:model/versions/:version/ready', access: 'infer', handler: modelReady },
    { method: 'POST', path: '/v2/models/:model/infer', access: 'infer', handler: infer, onRateLimited: rateLimited },
    { method: 'POST', path: '/v2/models/:model/versions/:version/infer', access: 'infer', handler: infer, onRateLimited: rateLimited },
  ];
}
