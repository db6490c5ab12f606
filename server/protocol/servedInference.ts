import { performance } from 'node:perf_hooks';
import { InferboxError, messageOf } from '../common/errors.js';
import { assertVersion } from '../common/names.js';
import type { InferOutcome, StageTiming } from '../inference/InferenceService.js';
import { outputsAgree } from '../inference/outputsAgree.js';
import type { ServedVersion } from '../registry/ModelRegistry.js';
import type { AppContext } from './AppContext.js';
import type { AppServices } from './AppServices.js';

const ms = (value: number) => value.toFixed(3);

const PAYLOAD_LIMIT = 64 * 1024;

/** An experiment's choice for a request (null: no running experiment, or a versioned URL). */
export type Assignment = ReturnType<AppServices['experiments']['route']>;

/** An OIP v2 infer request body for the data plane, with binary tensor data after it when any. */
export interface OipRequest {
  value: unknown;
  binary: Buffer;
}

/**
 * What differs between the protocols that infer (OIP v2 tensors, named-feature predictions):
 * how the body is read, how it becomes an OIP request for the version that answers, and how the
 * answer is written. Routing, experiments, the data plane, timing and logging are shared.
 */
export interface InferenceExchange<Body, Request extends OipRequest = OipRequest> {
  /** Reads the whole body first: a version resolved before a slow upload finished could be swapped away meanwhile. */
  read(ctx: AppContext): Promise<{ body: Body; bytes: number; parameters: Record<string, unknown> }>;
  /** The OIP request for this version (it may depend on the version: a card, an image size). */
  request(served: ServedVersion, body: Body): Promise<Request> | Request;
  /** Writes the answer to ctx.body; returns its JSON, for payload logging. */
  respond(ctx: AppContext, answer: { served: ServedVersion; request: Request; outcome: InferOutcome; assignment: Assignment }): Buffer;
  /** The request as payload logging keeps it. */
  logged(body: Body, request: Request): unknown;
}

/**
 * The logged payload (payload logging on for the model): the request's JSON and the response's JSON, each cut at
 * 64 KiB; binary tensor bytes are left out (only their size is in the JSON).
 */
function payloadRecord(request: unknown, responseJson: Buffer): string {
  const cut = (text: string) => (text.length > PAYLOAD_LIMIT ? `${text.slice(0, PAYLOAD_LIMIT)}… (${text.length} characters in all)` : text);
  return JSON.stringify({ request: cut(JSON.stringify(request)), response: cut(responseJson.toString('utf8')) });
}

/** Overload and shutdown answers: the server's state, not the variant's fault. */
const NOT_THE_VARIANT = new Set(['IBX_ERR_QUEUE_FULL', 'IBX_ERR_QUEUE_TIMEOUT', 'IBX_ERR_SHUTTING_DOWN']);

/** Whether a request's outcome belongs to the variant that served it: 200s, model refusals and server errors. */
function countsForVariant(status: number, code: string | null): boolean {
  if (status === 200) return true;
  if (code !== null && NOT_THE_VARIANT.has(code)) return false;
  return status >= 500 || code === 'IBX_ERR_INFERENCE_FAILED';
}

/** The request's stages as a Server-Timing header (W3C), which browsers' dev tools and load tools show. */
function serverTiming(t: StageTiming, cache: string): string {
  return `decode;dur=${ms(t.decodeMs)}, queue;dur=${ms(t.queueMs)}, batch;dur=${ms(t.batchMs)};desc="rows=${t.batchRows}", infer;dur=${ms(t.inferMs)}, serialize;dur=${ms(t.serializeMs)}, cache;desc="${cache}"`;
}

/**
 * An inference route's handler: read the body, let the model's running experiment pick the
 * version for an unversioned URL (`Inferbox-Variant`), run it through the data plane (batching,
 * cache, served precision), answer with Server-Timing; every request, answered or refused, is
 * counted and logged once, and an experiment's shadow gets a copy after the response.
 */
export function servedInference<Body, Request extends OipRequest>(services: AppServices, exchange: InferenceExchange<Body, Request>): (ctx: AppContext) => Promise<void> {
  /**
   * Sends a copy of an experiment request to its shadow version once the response has gone out,
   * so the shadow never delays it; its latency, failure and agreement with the served answer count
   * for the experiment. Background priority: interactive requests go first.
   */
  const mirrorAfterResponse = (ctx: AppContext, model: string, experimentId: string, shadowVersion: string, body: Body, served: InferOutcome) => {
    ctx.res.once('finish', () => {
      setImmediate(() => {
        const started = performance.now();
        void services.inference
          .resolve(model, shadowVersion)
          .then(async (shadow) => {
            const request = await exchange.request(shadow, body);
            return services.inference.infer(shadow, request.value, request.binary, 'background');
          })
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

  return async (ctx: AppContext) => {
    const started = performance.now();
    // The route's pattern (low cardinality, as OpenTelemetry's http.route wants), in OpenAPI's {param} form.
    const route = String(ctx._matchedRoute ?? ctx.path).replace(/:(\w+)/g, '{$1}');
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
    let assignment: Assignment = null;
    let routedAt = started;
    let payload: string | undefined;
    let errorCode: string | null = null;
    try {
      const { body, bytes, parameters } = await exchange.read(ctx);
      bytesIn = bytes;
      const named = ctx.params.version === undefined ? undefined : assertVersion(ctx.params.version);
      // A versioned URL bypasses experiments; an unversioned one goes through the model's running experiment.
      if (named === undefined) assignment = services.experiments.route(model, { headers: ctx.headers, parameters });
      if (assignment) {
        routedAt = performance.now(); // a variant's latency starts here: a slow upload is the caller's, not the model's
        ctx.set('Inferbox-Variant', `${assignment.experimentId}/${assignment.variant}`);
      }
      const served = await services.inference.resolve(model, assignment?.version ?? named);
      [version, resolved] = [served.version, true];
      const encodeStarted = performance.now();
      const request = await exchange.request(served, body);
      const encodeMs = performance.now() - encodeStarted;
      stagesStartedAt = performance.now();
      const outcome = await services.inference.infer(served, request.value, request.binary);
      const writeStarted = performance.now();
      if (assignment?.shadowVersion) mirrorAfterResponse(ctx, served.name, assignment.experimentId, assignment.shadowVersion, body, outcome);
      cache = outcome.cache;
      // Recorded samples are replayed from JSON later, so only all-JSON requests are kept.
      if (request.binary.length === 0) services.liveSamples.offer(served.name, (request.value as { inputs: unknown[] }).inputs, ctx.state.requestId);
      const json = exchange.respond(ctx, { served, request, outcome, assignment });
      timing = { ...outcome.timing, decodeMs: outcome.timing.decodeMs + encodeMs, serializeMs: outcome.timing.serializeMs + performance.now() - writeStarted };
      ctx.set('Server-Timing', serverTiming(timing as StageTiming, outcome.cache));
      bytesOut = (ctx.body as Buffer).length;
      status = 200;
      if (services.modelSettings.effective(served.name).log_payloads) payload = payloadRecord(exchange.logged(body, request), json);
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
}

/** Logs a request its key's rate limit refused, with the key, like every other inference request (RouteSpec.onRateLimited). */
export function recordRateLimited(services: AppServices): (ctx: AppContext, error: InferboxError) => void {
  return (ctx, error) =>
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
}
