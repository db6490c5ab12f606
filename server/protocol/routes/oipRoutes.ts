import { performance } from 'node:perf_hooks';
import { InferboxError, messageOf } from '../../common/errors.js';
import { assertVersion } from '../../common/names.js';
import type { InferOutcome, StageTiming } from '../../inference/InferenceService.js';
import { outputsAgree } from '../../inference/outputsAgree.js';
import type { AppContext } from '../AppContext.js';
import type { AppServices } from '../AppServices.js';
import { readInferBody } from '../readBody.js';
import type { RouteSpec } from '../routeTable.js';

const ms = (value: number) => value.toFixed(3);

const PAYLOAD_LIMIT = 64 * 1024;

/**
 * The logged payload (payload logging on for the model): the request's JSON and the response's JSON header, each
 * cut at 64 KiB; binary tensor bytes are left out (only their size is in the JSON).
 */
function payloadRecord(body: { value: unknown; binary: Buffer }, responseJson: Buffer): string {
  const cut = (text: string) => (text.length > PAYLOAD_LIMIT ? `${text.slice(0, PAYLOAD_LIMIT)}… (${text.length} characters in all)` : text);
  return JSON.stringify({ request: cut(JSON.stringify(body.value)), response: cut(responseJson.toString('utf8')) });
}

/** Overload and shutdown answers: the server's state, not the variant's fault. */
const NOT_THE_VARIANT = new Set(['IBX_ERR_QUEUE_FULL', 'IBX_ERR_QUEUE_TIMEOUT', 'IBX_ERR_SHUTTING_DOWN']);

/** Whether a request's outcome belongs to the variant that served it: 200s, model refusals and server errors. */
function countsForVariant(status: number, code: string | null): boolean {
  if (status === 200) return true;
  if (code !== null && NOT_THE_VARIANT.has(code)) return false;
  return status >= 500 || code === 'IBX_ERR_INFERENCE_FAILED';
}

/** The OIP request's `parameters`, which targeting rules may read (`param.<name>`). */
function requestParameters(body: unknown): Record<string, unknown> {
  const parameters = (body as { parameters?: unknown } | null)?.parameters;
  return typeof parameters === 'object' && parameters !== null && !Array.isArray(parameters) ? (parameters as Record<string, unknown>) : {};
}

/** The request's stages as a Server-Timing header (W3C), which browsers' dev tools and load tools show. */
function serverTiming(t: StageTiming, cache: string): string {
  return `decode;dur=${ms(t.decodeMs)}, queue;dur=${ms(t.queueMs)}, batch;dur=${ms(t.batchMs)};desc="rows=${t.batchRows}", infer;dur=${ms(t.inferMs)}, serialize;dur=${ms(t.serializeMs)}, cache;desc="${cache}"`;
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

  /**
   * Sends a copy of an experiment request to its shadow version once the response has gone out,
   * so the shadow never delays it; its latency, failure and agreement with the served answer count
   * for the experiment. Background priority: interactive requests go first.
   */
  const mirrorAfterResponse = (ctx: AppContext, model: string, experimentId: string, shadowVersion: string, body: { value: unknown; binary: Buffer }, served: InferOutcome) => {
    ctx.res.once('finish', () => {
      setImmediate(() => {
        const started = performance.now();
        void services.inference
          .resolve(model, shadowVersion)
          .then((shadow) => services.inference.infer(shadow, body.value, body.binary, 'background'))
          .then(
            (outcome) => services.experiments.monitor.recordShadow(experimentId, { failed: false, latencyMs: performance.now() - started, agreed: outputsAgree(served, outcome) }),
            () => services.experiments.monitor.recordShadow(experimentId, { failed: true, latencyMs: performance.now() - started, agreed: false }),
          );
      });
    });
  };

  /** The request's W3C trace context, answered on every outcome (also on errors: headers set before a throw stay). */
  const beginTrace = (ctx: AppContext, started: number, route: string) => {
    const requestTrace = services.tracer.begin(ctx.get('traceparent'), ctx.get('tracestate'), started, `POST ${route}`);
    ctx.set('traceparent', requestTrace.traceparent);
    if (requestTrace.tracestate) ctx.set('tracestate', requestTrace.tracestate);
    return requestTrace;
  };

  /** Inference; every request, answered or refused, is counted, logged and traced once. */
  const infer = async (ctx: AppContext) => {
    const started = performance.now();
    const route = ctx.params.version === undefined ? '/v2/models/{model}/infer' : '/v2/models/{model}/versions/{version}/infer';
    const requestTrace = beginTrace(ctx, started, route);
    let stagesStartedAt: number | undefined;
    const model = ctx.params.model!;
    let version: string | null = ctx.params.version ?? null;
    let resolved = false;
    let bytesIn = 0;
    let timing: Partial<StageTiming> = {};
    let cache: 'hit' | 'miss' | 'off' | undefined;
    let status = 500;
    let error: string | null = null;
    let bytesOut = 0;
    let assignment: ReturnType<AppServices['experiments']['route']> = null;
    let routedAt = started;
    let payload: string | undefined;
    let errorCode: string | null = null;
    try {
      // The body first: a version resolved before a slow upload finished could be swapped away meanwhile.
      const body = await readInferBody(ctx, services.settings.current.max_infer_body_bytes);
      bytesIn = body.bytes;
      const named = versionParam(ctx);
      // A versioned URL bypasses experiments; an unversioned one goes through the model's running experiment.
      if (named === undefined) assignment = services.experiments.route(model, { headers: ctx.headers, parameters: requestParameters(body.value) });
      if (assignment) {
        routedAt = performance.now(); // a variant's latency starts here: a slow upload is the caller's, not the model's
        ctx.set('Inferbox-Variant', `${assignment.experimentId}/${assignment.variant}`);
      }
      const served = await services.inference.resolve(model, assignment?.version ?? named);
      [version, resolved] = [served.version, true];
      stagesStartedAt = performance.now();
      const outcome = await services.inference.infer(served, body.value, body.binary);
      const writeStarted = performance.now();
      if (assignment) {
        // request_id is what POST /api/feedback names (the caller's own `id` is echoed as OIP says).
        outcome.response.parameters = { ...outcome.response.parameters, experiment: assignment.experimentId, variant: assignment.variant, request_id: ctx.state.requestId };
        outcome.response.id ??= ctx.state.requestId;
        if (assignment.shadowVersion !== null) mirrorAfterResponse(ctx, served.name, assignment.experimentId, assignment.shadowVersion, body, outcome);
      }
      cache = outcome.cache;
      // Recorded samples are replayed from JSON later, so only all-JSON requests are kept.
      if (body.binary.length === 0) services.liveSamples.offer(served.name, (body.value as { inputs: unknown[] }).inputs, ctx.state.requestId);
      const json = Buffer.from(JSON.stringify(outcome.response));
      timing = { ...outcome.timing, serializeMs: outcome.timing.serializeMs + performance.now() - writeStarted };
      ctx.set('Server-Timing', serverTiming(timing as StageTiming, outcome.cache));
      if (outcome.binary.length > 0) {
        ctx.set('Inference-Header-Content-Length', String(json.length));
        ctx.type = 'application/octet-stream';
        ctx.body = Buffer.concat([json, ...outcome.binary]);
      } else {
        ctx.type = 'application/json';
        ctx.body = json;
      }
      bytesOut = (ctx.body as Buffer).length;
      status = 200;
      if (services.modelSettings.effective(served.name).log_payloads) payload = payloadRecord(body, json);
    } catch (caught) {
      status = caught instanceof InferboxError ? caught.status : 500;
      errorCode = caught instanceof InferboxError ? caught.code : null;
      error = messageOf(caught);
      throw caught;
    } finally {
      const totalMs = performance.now() - started;
      // The variant answers for what it caused: answers and its own failures. A caller's bad input
      // or a full queue says nothing about the model (and must not let a client roll an experiment back).
      if (assignment && countsForVariant(status, errorCode)) services.experiments.monitor.record(assignment, { failed: status !== 200, latencyMs: performance.now() - routedAt });
      requestTrace.end({
        status,
        error,
        stagesStartedAt,
        stages: timing,
        attributes: {
          'http.request.method': 'POST',
          'http.route': route,
          'inferbox.model': model,
          ...(resolved && version !== null ? { 'inferbox.model_version': version } : {}),
          'inferbox.request_id': ctx.state.requestId,
          ...(cache ? { 'inferbox.cache': cache } : {}),
          ...(assignment ? { 'inferbox.experiment': assignment.experimentId, 'inferbox.variant': assignment.variant } : {}),
        },
      });
      services.recorder.record({
        requestId: ctx.state.requestId,
        model,
        version,
        resolved,
        keyId: ctx.state.principal?.keyId ?? null,
        status,
        error,
        totalMs,
        experiment: assignment ? { id: assignment.experimentId, variant: assignment.variant, unitId: assignment.unitId } : undefined,
        payload,
        timing,
        cache,
        traceId: requestTrace.traceId,
        bytesIn: bytesIn || Number(ctx.get('content-length')) || 0,
        bytesOut,
      });
    }
  };

  /** A request its key's rate limit refused: logged with the key, like every other inference request. */
  const recordRateLimited = (ctx: AppContext, error: InferboxError) =>
    services.recorder.record({
      requestId: ctx.state.requestId,
      model: ctx.params.model!,
      version: ctx.params.version ?? null,
      resolved: false,
      keyId: ctx.state.principal?.keyId ?? null,
      status: error.status,
      error: error.message,
      totalMs: 0,
      timing: {},
      bytesIn: Number(ctx.get('content-length')) || 0,
      bytesOut: 0,
    });

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
    { method: 'POST', path: '/v2/models/:model/infer', access: 'infer', handler: infer, onRateLimited: recordRateLimited },
    { method: 'POST', path: '/v2/models/:model/versions/:version/infer', access: 'infer', handler: infer, onRateLimited: recordRateLimited },
  ];
}
