import type { InferboxError } from '../common/errors.js';
import type { StageTiming } from '../common/StageTiming.js';
import type { InferOutcome } from '../inference/InferenceService.js';
import type { Answer, Assignment, InferCall, OipRequest } from '../oip/InferenceEndpoint.js';
import type { ServedVersion } from '../registry/ModelRegistry.js';
import type { AppContext } from './AppContext.js';
import type { AppServices } from './AppServices.js';

export type { OipRequest } from '../oip/InferenceEndpoint.js';

const ms = (value: number) => value.toFixed(3);

/**
 * What differs between the REST protocols that infer (OIP v2 tensors, named-feature predictions):
 * how the body is read, how it becomes an OIP request for the version that answers, and how the
 * answer is written. Routing, experiments, the data plane, timing, tracing and logging are the
 * shared `InferenceEndpoint`'s (the gRPC service's too).
 */
export interface InferenceExchange<Body, Request extends OipRequest = OipRequest> {
  /** Reads the whole body first: a version resolved before a slow upload finished could be swapped away meanwhile. */
  read(ctx: AppContext): Promise<{ body: Body; bytes: number; parameters: Record<string, unknown> }>;
  /** The OIP request for this version (it may depend on the version: a card, an image size). */
  request(served: ServedVersion, body: Body): Promise<Request> | Request;
  /** Writes the answer to ctx.body; returns its JSON, for payload logging. */
  respond(ctx: AppContext, answer: { served: ServedVersion; request: Request; outcome: InferOutcome; assignment: Assignment | null }): Buffer;
  /** The request as payload logging keeps it. */
  logged(body: Body, request: Request): unknown;
}

/** The request's stages as a Server-Timing header (W3C), which browsers' dev tools and load tools show. */
function serverTiming(t: StageTiming, cache: string): string {
  return `decode;dur=${ms(t.decodeMs)}, queue;dur=${ms(t.queueMs)}, batch;dur=${ms(t.batchMs)};desc="rows=${t.batchRows}", infer;dur=${ms(t.inferMs)}, serialize;dur=${ms(t.serializeMs)}, cache;desc="${cache}"`;
}

/** Who calls and what the URL names, as the endpoint logs it (also for a rate-limited request). */
const callerOf = (ctx: AppContext) => ({
  model: ctx.params.model!,
  version: ctx.params.version,
  requestId: ctx.state.requestId,
  keyId: ctx.state.principal?.keyId ?? null,
  declaredBytes: Number(ctx.get('content-length')) || 0,
});

/**
 * An inference route's handler, a Koa adapter over `services.oip` (`InferenceEndpoint`): the
 * exchange reads the body and writes the answer; the trace context goes back in `traceparent`/
 * `tracestate`, the experiment's choice in `Inferbox-Variant` (both also on errors), the stages in
 * Server-Timing; a shadow copy waits for the response to finish.
 */
export function servedInference<Body, Request extends OipRequest>(services: AppServices, exchange: InferenceExchange<Body, Request>): (ctx: AppContext) => Promise<void> {
  return async (ctx: AppContext) => {
    // The route's pattern (low cardinality, as OpenTelemetry's http.route wants), in OpenAPI's {param} form.
    const route = String(ctx._matchedRoute ?? ctx.path).replace(/:(\w+)/g, '{$1}');
    const call: InferCall<Body, Request, undefined> = {
      ...callerOf(ctx),
      headers: ctx.headers,
      span: { name: `POST ${route}`, attributes: { 'http.request.method': 'POST', 'http.route': route } },
      read: () => exchange.read(ctx),
      request: (served, body) => exchange.request(served, body),
      respond: (answer: Answer<Request>) => {
        const json = exchange.respond(ctx, answer);
        return { reply: undefined, bytesOut: (ctx.body as Buffer).length, json };
      },
      logged: (body, request) => exchange.logged(body, request),
      onTrace: (trace) => {
        ctx.set('traceparent', trace.traceparent);
        if (trace.tracestate) ctx.set('tracestate', trace.tracestate);
      },
      onVariant: (assignment) => ctx.set('Inferbox-Variant', `${assignment.experimentId}/${assignment.variant}`),
      afterResponse: (task) => ctx.res.once('finish', () => setImmediate(task)),
    };
    const { timing, cache } = await services.oip.infer(call);
    ctx.set('Server-Timing', serverTiming(timing, cache));
  };
}

/** Logs a request its key's rate limit refused, with the key, like every other inference request (RouteSpec.onRateLimited). */
export function recordRateLimited(services: AppServices): (ctx: AppContext, error: InferboxError) => void {
  return (ctx, error) => services.oip.recordRateLimited(callerOf(ctx), error);
}
