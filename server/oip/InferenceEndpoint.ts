import { performance } from 'node:perf_hooks';
import { InferboxError, messageOf } from '../common/errors.js';
import { assertVersion } from '../common/names.js';
import type { ExperimentService } from '../experiments/ExperimentService.js';
import type { InferenceRecorder } from '../inference/InferenceRecorder.js';
import type { StageTiming } from '../common/StageTiming.js';
import type { InferenceService, InferOutcome, InferResponse } from '../inference/InferenceService.js';
import { outputsAgree } from '../inference/outputsAgree.js';
import type { ServedVersion } from '../registry/ModelRegistry.js';
import type { RequestTrace, RequestTracer, TracedOutcome } from '../tracing/RequestTracer.js';

/** An OIP v2 infer request for the data plane: the JSON value, with binary tensor data after it when any. */
export interface OipRequest {
  value: unknown;
  binary: Buffer;
}

/** An OIP request as it came (REST's JSON, or a gRPC message turned into it), with its bytes on the wire. */
export interface InferBody extends OipRequest {
  bytes: number;
}

/** An experiment's choice for a request. */
export type Assignment = NonNullable<ReturnType<ExperimentService['route']>>;

/** What the protocol is told to answer with. */
export interface Answer<Request extends OipRequest> {
  served: ServedVersion;
  request: Request;
  outcome: InferOutcome;
  /** null: no running experiment, or a named version. */
  assignment: Assignment | null;
}

/** What the protocol made of the answer. */
export interface WrittenReply<R> {
  reply: R;
  bytesOut: number;
  /** The response's JSON (REST has it already), for payload logging; made from the outcome's response when absent. */
  json?: string | Buffer | undefined;
}

/**
 * One inference request as any protocol hands it over (REST OIP v2, REST named-feature predictions,
 * gRPC): who calls, what they name, and how the body becomes an OIP request for the version that
 * answers and the answer a reply. Everything else (routing, experiments, the data plane, timing,
 * tracing, logging) is the endpoint's.
 */
export interface InferCall<Body, Request extends OipRequest, R> {
  model: string;
  /** The version the caller named (URL path, `model_version`); undefined: the experiment's variant or the active version. */
  version: string | undefined;
  requestId: string;
  keyId: string | null;
  /**
   * HTTP headers or gRPC metadata (lowercase names): experiments read targeting attributes and unit
   * ids from them, the trace continues the caller's `traceparent`/`tracestate`.
   */
  headers: Record<string, string | string[] | undefined>;
  /** The request span's name (`POST /v2/models/{model}/infer`, `inference.GRPCInferenceService/ModelInfer`) and protocol attributes. */
  span: { name: string; attributes: TracedOutcome['attributes'] };
  /**
   * Reads (REST) or converts (gRPC) the whole body first: a version resolved before a slow upload
   * finished could be swapped away meanwhile. A refusal here is recorded like every other.
   * `parameters` are what targeting rules read (`param.<name>`).
   */
  read(): Promise<{ body: Body; bytes: number; parameters: Record<string, unknown> }>;
  /** The OIP request for this version (it may depend on the version: a card, an image size). */
  request(served: ServedVersion, body: Body): Promise<Request> | Request;
  /** Writes the answer in the protocol's form. */
  respond(answer: Answer<Request>): WrittenReply<R>;
  /** The request as payload logging keeps it. */
  logged(body: Body, request: Request): unknown;
  /** Bytes to log when the request is refused before its body is read. */
  declaredBytes: number;
  /** Told the trace context to answer with, before anything can fail (REST: headers; gRPC: metadata). */
  onTrace(trace: Pick<RequestTrace, 'traceparent' | 'tracestate'>): void;
  /** Told the variant as soon as an experiment picks it (REST names it in a header, also on errors). */
  onVariant(assignment: Assignment): void;
  /** Runs the task once the answer has gone out: shadow copies must never delay it. */
  afterResponse(task: () => void): void;
}

const PAYLOAD_LIMIT = 64 * 1024;

/**
 * The logged payload (payload logging on for the model): the request's JSON and the response's JSON, each
 * cut at 64 KiB; binary tensor bytes are left out (only their size is in the JSON).
 */
function payloadRecord(request: unknown, responseJson: string): string {
  const cut = (text: string) => (text.length > PAYLOAD_LIMIT ? `${text.slice(0, PAYLOAD_LIMIT)}… (${text.length} characters in all)` : text);
  return JSON.stringify({ request: cut(JSON.stringify(request)), response: cut(responseJson) });
}

/** Overload and shutdown answers: the server's state, not the variant's fault. */
const NOT_THE_VARIANT = new Set(['IBX_ERR_QUEUE_FULL', 'IBX_ERR_QUEUE_TIMEOUT', 'IBX_ERR_SHUTTING_DOWN']);

/** Whether a request's outcome belongs to the variant that served it: 200s, model refusals and server errors. */
function countsForVariant(status: number, code: string | null): boolean {
  if (status === 200) return true;
  if (code !== null && NOT_THE_VARIANT.has(code)) return false;
  return status >= 500 || code === 'IBX_ERR_INFERENCE_FAILED';
}

const headerText = (value: string | string[] | undefined) => (typeof value === 'string' ? value : '');

/** The OIP request's `parameters`, which targeting rules may read (`param.<name>`). */
export function requestParameters(body: unknown): Record<string, unknown> {
  const parameters = (body as { parameters?: unknown } | null)?.parameters;
  return typeof parameters === 'object' && parameters !== null && !Array.isArray(parameters) ? (parameters as Record<string, unknown>) : {};
}

/**
 * An OIP response an experiment routed names its experiment, variant and request id (what
 * POST /api/feedback names); the caller's own `id` is echoed as OIP says. The same over REST and gRPC.
 */
export function namingExperiment(response: InferResponse, assignment: Assignment | null, requestId: string): InferResponse {
  if (!assignment) return response;
  response.parameters = { ...response.parameters, experiment: assignment.experimentId, variant: assignment.variant, request_id: requestId };
  response.id ??= requestId;
  return response;
}

/**
 * Inference whatever the protocol (the REST routes, OIP v2 and named-feature predictions, and the
 * gRPC service all call it; it knows no protocol): the request's W3C trace begins (continuing the
 * caller's), the experiment picks the variant of an unversioned request, the data plane answers,
 * the protocol writes the reply, and every request, answered or refused, is counted, traced and
 * logged once (with the experiment's monitor, payload logging and live validation samples where
 * they apply); an experiment's shadow gets a copy after the answer.
 */
export class InferenceEndpoint {
  constructor(
    private readonly deps: {
      inference: InferenceService;
      experiments: ExperimentService;
      recorder: InferenceRecorder;
      /** W3C trace context; OpenTelemetry spans when an OTLP endpoint is set. */
      tracer: Pick<RequestTracer, 'begin'>;
      /** Whether the admin turned payload logging on for the model. */
      logsPayloads: (model: string) => boolean;
      /** Live validation samples (only kept when the admin opted the model in). */
      liveSamples: { offer(model: string, inputs: unknown[], requestId: string): void };
    },
  ) {}

  async infer<Body, Request extends OipRequest, R>(call: InferCall<Body, Request, R>): Promise<{ reply: R; timing: StageTiming; cache: InferOutcome['cache'] }> {
    const started = performance.now();
    const requestTrace = this.deps.tracer.begin(headerText(call.headers.traceparent), headerText(call.headers.tracestate), started, call.span.name);
    call.onTrace(requestTrace);
    let stagesStartedAt: number | undefined;
    let version: string | null = call.version ?? null;
    let resolved = false;
    let bytesIn = 0;
    let timing: Partial<StageTiming> = {};
    let cache: InferOutcome['cache'] | undefined;
    let status = 500;
    let error: string | null = null;
    let bytesOut = 0;
    let assignment: Assignment | null = null;
    let routedAt = started;
    let payload: string | undefined;
    let errorCode: string | null = null;
    try {
      const { body, bytes, parameters } = await call.read();
      bytesIn = bytes;
      const named = call.version === undefined ? undefined : assertVersion(call.version);
      // A named version bypasses experiments; an unnamed one goes through the model's running experiment.
      if (named === undefined) assignment = this.deps.experiments.route(call.model, { headers: call.headers, parameters });
      if (assignment) {
        routedAt = performance.now(); // a variant's latency starts here: a slow upload is the caller's, not the model's
        call.onVariant(assignment);
      }
      const served = await this.deps.inference.resolve(call.model, assignment?.version ?? named);
      [version, resolved] = [served.version, true];
      const encodeStarted = performance.now();
      const request = await call.request(served, body);
      const encodeMs = performance.now() - encodeStarted;
      stagesStartedAt = performance.now();
      const outcome = await this.deps.inference.infer(served, request.value, request.binary);
      const writeStarted = performance.now();
      if (assignment?.shadowVersion) this.mirrorAfterResponse(call, served.name, assignment.experimentId, assignment.shadowVersion, body, outcome);
      cache = outcome.cache;
      // Recorded samples are replayed from JSON later, so only all-JSON requests are kept.
      if (request.binary.length === 0) this.deps.liveSamples.offer(served.name, (request.value as { inputs: unknown[] }).inputs, call.requestId);
      const written = call.respond({ served, request, outcome, assignment });
      timing = { ...outcome.timing, decodeMs: outcome.timing.decodeMs + encodeMs, serializeMs: outcome.timing.serializeMs + performance.now() - writeStarted };
      bytesOut = written.bytesOut;
      status = 200;
      if (this.deps.logsPayloads(served.name)) payload = payloadRecord(call.logged(body, request), written.json === undefined ? JSON.stringify(outcome.response) : written.json.toString());
      return { reply: written.reply, timing: timing as StageTiming, cache: outcome.cache };
    } catch (caught) {
      status = caught instanceof InferboxError ? caught.status : 500;
      errorCode = caught instanceof InferboxError ? caught.code : null;
      error = messageOf(caught);
      throw caught;
    } finally {
      const totalMs = performance.now() - started;
      // The variant answers for what it caused: answers and its own failures. A caller's bad input
      // or a full queue says nothing about the model (and must not let a client roll an experiment back).
      if (assignment && countsForVariant(status, errorCode)) this.deps.experiments.monitor.record(assignment, { failed: status !== 200, latencyMs: performance.now() - routedAt });
      requestTrace.end({
        status,
        error,
        stagesStartedAt,
        stages: timing,
        attributes: {
          ...call.span.attributes,
          'inferbox.model': call.model,
          ...(resolved && version !== null ? { 'inferbox.model_version': version } : {}),
          'inferbox.request_id': call.requestId,
          ...(cache ? { 'inferbox.cache': cache } : {}),
          ...(assignment ? { 'inferbox.experiment': assignment.experimentId, 'inferbox.variant': assignment.variant } : {}),
        },
      });
      this.deps.recorder.record({
        requestId: call.requestId,
        model: call.model,
        version,
        resolved,
        keyId: call.keyId,
        status,
        error,
        totalMs,
        experiment: assignment ? { id: assignment.experimentId, variant: assignment.variant, unitId: assignment.unitId } : undefined,
        payload,
        timing,
        cache,
        traceId: requestTrace.traceId,
        bytesIn: bytesIn || call.declaredBytes,
        bytesOut,
      });
    }
  }

  /** A request its key's rate limit refused: logged with the key, like every other inference request. */
  recordRateLimited(call: Pick<InferCall<unknown, OipRequest, unknown>, 'model' | 'version' | 'requestId' | 'keyId' | 'declaredBytes'>, error: InferboxError): void {
    this.deps.recorder.record({
      requestId: call.requestId,
      model: call.model,
      version: call.version ?? null,
      resolved: false,
      keyId: call.keyId,
      status: error.status,
      error: error.message,
      totalMs: 0,
      timing: {},
      bytesIn: call.declaredBytes,
      bytesOut: 0,
    });
  }

  /**
   * Sends a copy of an experiment request to its shadow version once the answer has gone out, so
   * the shadow never delays it; its latency, failure and agreement with the served answer count
   * for the experiment. Background priority: interactive requests go first.
   */
  private mirrorAfterResponse<Body, Request extends OipRequest, R>(call: InferCall<Body, Request, R>, model: string, experimentId: string, shadowVersion: string, body: Body, served: InferOutcome): void {
    call.afterResponse(() => {
      const started = performance.now();
      const { inference, experiments } = this.deps;
      void inference
        .resolve(model, shadowVersion)
        .then(async (shadow) => {
          const request = await call.request(shadow, body);
          return inference.infer(shadow, request.value, request.binary, 'background');
        })
        .then(
          (outcome) => experiments.monitor.recordShadow(experimentId, { failed: false, latencyMs: performance.now() - started, agreed: outputsAgree(served, outcome) }),
          () => experiments.monitor.recordShadow(experimentId, { failed: true, latencyMs: performance.now() - started, agreed: false }),
        );
    });
  }
}
