import { performance } from 'node:perf_hooks';
import { boundedJson } from '../common/boundedJson.js';
import { InferboxError, inferboxError, messageOf } from '../common/errors.js';
import { assertVersion } from '../common/names.js';
import type { StageTiming } from '../common/StageTiming.js';
import type { ExperimentService } from '../experiments/ExperimentService.js';
import type { RequestTrace, RequestTracer, TracedOutcome } from '../tracing/RequestTracer.js';
import type { InferenceProtocol } from '../metrics/InferenceMetrics.js';
import type { InferenceRecorder } from './InferenceRecorder.js';
import { outputsAgree } from './outputsAgree.js';
import type { ServedVersion, VersionRun, VersionRunResult } from './ServedVersion.js';

/** An experiment's choice for a request. */
export type Assignment = NonNullable<ReturnType<ExperimentService['route']>>;

/** One inference request as any protocol hands it over: who calls and what they name. */
export interface InferenceCall {
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
  /** Which route or transport it came by: a constant of the route (the `protocol` label of the request counter). */
  protocol: InferenceProtocol;
  /** The request span's name (`POST /v2/models/{model}/infer`, `inference.GRPCInferenceService/ModelInfer`) and protocol attributes. */
  span: { name: string; attributes: TracedOutcome['attributes'] };
  /** Bytes to log when the request fails before its body is read (the declared length). */
  declaredBytes: number;
}

/** A body as the protocol read it, with what targeting rules may read of it (`param.<name>`). */
export interface ReadBody<Body> {
  body: Body;
  bytes: number;
  /** The request's `parameters`; only called when an experiment's rules read them (a large body is parsed off the HTTP thread). */
  parameters: () => Record<string, unknown>;
}

/** A request decoded for one version: what the version runs, and what live samples keep. */
export interface DecodedRequest extends VersionRun {
  /** The inputs as OIP JSON, for an all-JSON request (live validation samples; called only when one is kept); else undefined. */
  jsonInputs: (() => unknown[]) | undefined;
}

/** What a version answered, for the protocol to encode. */
export interface Answer<Request> {
  served: ServedVersion;
  request: Request;
  result: VersionRunResult;
  assignment: Assignment | null;
  requestId: string;
}

/** A reply in the protocol's form and its size; its JSON only when payload logging asks for it. */
export interface Encoded<Reply> {
  reply: Reply;
  bytes: number;
  /** The response as payload logging keeps it (JSON text). */
  json: () => string;
}

/**
 * What differs between protocols, as two conversions the pipeline calls in order: the body into
 * a request for the version that answers (it may depend on the version: a card, an image size),
 * and the answer into the protocol's reply.
 */
export interface InferenceCodec<Body, Request extends DecodedRequest, Reply> {
  decode(served: ServedVersion, body: Body): Request | Promise<Request>;
  encode(answer: Answer<Request>): Encoded<Reply>;
  /** The request as payload logging keeps it. */
  logged(body: Body, request: Request): unknown;
}

/** The pipeline's answer: the reply or the error, and what the protocol sends with either. */
export interface InferenceResult<Reply> {
  outcome: { ok: true; reply: Reply } | { ok: false; error: unknown };
  trace: Pick<RequestTrace, 'traceparent' | 'tracestate'>;
  /** `<experiment>/<variant>` once an experiment picked the version (also on errors). */
  variant: string | null;
  /** The stages, when the request got to the model. */
  timing: StageTiming | null;
  cache: VersionRunResult['cache'] | null;
  /** The experiment's shadow copy: the protocol starts it once the answer has gone out, so it never delays it. */
  afterSent: (() => void) | null;
}

/** What the pipeline learns about a request as it goes: what the request log, metrics and span record. */
interface RequestProgress {
  started: number;
  trace: RequestTrace;
  bytesIn: number;
  bytesOut: number;
  assignment: Assignment | null;
  /** `performance.now()` when the variant's latency starts (after the body: a slow upload is the caller's). */
  routedAt: number;
  served: ServedVersion | null;
  stagesStartedAt: number | undefined;
  timing: StageTiming | null;
  cache: VersionRunResult['cache'] | null;
  payload: string | undefined;
  afterSent: (() => void) | null;
}

/** Where served versions come from (the registry): an idle-unloaded one loads again first. */
export interface VersionSource {
  resolveServing(model: string, version: string | undefined): Promise<ServedVersion>;
}

export interface PipelineDeps {
  versions: VersionSource;
  experiments: Pick<ExperimentService, 'route' | 'monitor'>;
  recorder: InferenceRecorder;
  /** W3C trace context; OpenTelemetry spans when an OTLP endpoint is set. */
  tracer: Pick<RequestTracer, 'begin'>;
  /** Whether the admin turned payload logging on for the model. */
  logsPayloads: (model: string) => boolean;
  /** Live validation samples (only kept when the admin opted the model in). */
  liveSamples: { offer(model: string, inputs: () => unknown[], requestId: string): void };
}

const PAYLOAD_LIMIT = 64 * 1024;
/** Far more than any tensor's rank, far less than where JSON.stringify overflows the stack (a caller's deep `parameters`). */
const PAYLOAD_DEPTH = 64;

/**
 * The logged payload: the request's and the response's JSON, each cut at 64 KiB (binary tensor
 * bytes are left out). The request is the caller's JSON, so it is written bounded (depth and
 * length) and says what was cut; the response is the server's own.
 */
function payloadRecord(request: unknown, responseJson: string): string {
  const { text, cut } = boundedJson(request, PAYLOAD_DEPTH, PAYLOAD_LIMIT);
  const notes = [...(cut.deep ? [`values nested deeper than ${PAYLOAD_DEPTH} levels left out`] : []), ...(cut.long ? [`cut at ${PAYLOAD_LIMIT} characters`] : [])];
  const requestText = notes.length > 0 ? `${text}… (${notes.join('; ')})` : text;
  const response = responseJson.length > PAYLOAD_LIMIT ? `${responseJson.slice(0, PAYLOAD_LIMIT)}… (${responseJson.length} characters in all)` : responseJson;
  return JSON.stringify({ request: requestText, response });
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

/**
 * Inference, whatever the protocol (REST OIP v2, REST predictions and gRPC all call it; it knows
 * no protocol). One request, top down: its trace begins (continuing the caller's); the body is
 * read; an unversioned request goes through the model's running experiment; the version is
 * resolved and held; the codec decodes for it; the version runs it (cache, batcher, workers);
 * the codec encodes the answer; the request is recorded once, answered or refused (request log,
 * metrics, span, the experiment's monitor, payloads and live samples where they apply).
 */
export class InferencePipeline {
  private interactive = 0;

  constructor(private readonly deps: PipelineDeps) {}

  /** Interactive inference requests being answered now (async jobs give way to them). */
  get interactiveInFlight(): number {
    return this.interactive;
  }

  /**
   * Serves one request. `body` is the protocol's read of it, as a promise: a refusal while reading
   * (too large, malformed) is recorded like every other. Never throws (unless `deliver` does): the
   * result carries the error. A transport that can write the answer at once passes `deliver`: the
   * answer then goes out before the request is recorded (request log row, metrics, span), so the
   * caller does not wait for that; the request is recorded even if `deliver` throws.
   */
  async serve<Body, Request extends DecodedRequest, Reply>(
    call: InferenceCall,
    body: ReadBody<Body> | Promise<ReadBody<Body>>,
    codec: InferenceCodec<Body, Request, Reply>,
    deliver?: (result: InferenceResult<Reply>) => void,
  ): Promise<InferenceResult<Reply>> {
    const started = performance.now();
    const progress: RequestProgress = {
      started,
      trace: this.deps.tracer.begin(headerText(call.headers.traceparent), headerText(call.headers.tracestate), started, call.span.name),
      bytesIn: 0,
      bytesOut: 0,
      assignment: null,
      routedAt: started,
      served: null,
      stagesStartedAt: undefined,
      timing: null,
      cache: null,
      payload: undefined,
      afterSent: null,
    };
    this.interactive += 1;
    let outcome: InferenceResult<Reply>['outcome'];
    try {
      outcome = { ok: true, reply: await this.answer(call, await body, codec, progress) };
    } catch (error) {
      outcome = { ok: false, error };
    } finally {
      this.interactive -= 1;
    }
    const answeredAt = performance.now();
    const { assignment } = progress;
    const result: InferenceResult<Reply> = {
      outcome,
      trace: progress.trace,
      variant: assignment ? `${assignment.experimentId}/${assignment.variant}` : null,
      timing: progress.timing,
      cache: progress.cache,
      afterSent: progress.afterSent,
    };
    try {
      deliver?.(result);
    } finally {
      this.record(call, progress, outcome, answeredAt);
    }
    return result;
  }

  private async answer<Body, Request extends DecodedRequest, Reply>(call: InferenceCall, read: ReadBody<Body>, codec: InferenceCodec<Body, Request, Reply>, progress: RequestProgress): Promise<Reply> {
    progress.bytesIn = read.bytes;
    const named = call.version === undefined ? undefined : assertVersion(call.version);
    // A named version bypasses experiments; an unnamed one goes through the model's running experiment.
    const assignment = named === undefined ? this.deps.experiments.route(call.model, { headers: call.headers, get parameters() { return read.parameters(); } }) : null;
    if (assignment) [progress.assignment, progress.routedAt] = [assignment, performance.now()];
    const served = await this.acquire(call.model, assignment?.version ?? named);
    try {
      progress.served = served;
      const decodeStarted = performance.now();
      progress.stagesStartedAt = decodeStarted;
      const request = await codec.decode(served, read.body);
      const decodeMs = performance.now() - decodeStarted;
      const result = await served.run(request);
      const encodeStarted = performance.now();
      const encoded = codec.encode({ served, request, result, assignment, requestId: call.requestId });
      progress.bytesOut = encoded.bytes;
      progress.cache = result.cache;
      progress.timing = {
        decodeMs: decodeMs + result.cacheMs,
        queueMs: result.queueMs,
        batchMs: result.batchMs,
        inferMs: result.inferMs,
        serializeMs: performance.now() - encodeStarted,
        batchRows: result.batchRows,
      };
      if (assignment?.shadowVersion) progress.afterSent = this.mirror(call, codec, read.body, assignment.experimentId, assignment.shadowVersion, result);
      if (request.jsonInputs) this.deps.liveSamples.offer(served.name, request.jsonInputs, call.requestId);
      if (this.deps.logsPayloads(served.name)) progress.payload = payloadRecord(codec.logged(read.body, request), encoded.json());
      return encoded.reply;
    } finally {
      served.release();
    }
  }

  /**
   * Resolves and holds the version for the request; if it began retiring in between (a precision
   * swap or an unload), it is resolved again: the new precision answers, or a clear 503.
   */
  private async acquire(model: string, version: string | undefined): Promise<ServedVersion> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const served = await this.deps.versions.resolveServing(model, version);
      if (served.acquire()) return served;
    }
    throw inferboxError('IBX_ERR_SESSION_UNAVAILABLE');
  }

  /**
   * Request log, metrics, span and the experiment's monitor: once per request, answered or refused.
   * Latencies end at `answeredAt` (the answer ready to write), whenever this runs.
   */
  private record(call: InferenceCall, progress: RequestProgress, outcome: InferenceResult<unknown>['outcome'], answeredAt: number): void {
    const error = outcome.ok ? null : outcome.error;
    const status = outcome.ok ? 200 : error instanceof InferboxError ? error.status : 500;
    const errorCode = error instanceof InferboxError ? error.code : null;
    const message = outcome.ok ? null : messageOf(error);
    const { assignment, served, timing, cache } = progress;
    // The variant answers for what it caused: answers and its own failures. A caller's bad input or
    // a full queue says nothing about the model (and must not let a client roll an experiment back).
    if (assignment && countsForVariant(status, errorCode)) this.deps.experiments.monitor.record(assignment, { failed: status !== 200, latencyMs: answeredAt - progress.routedAt });
    const version = served?.version ?? call.version ?? null;
    if (progress.trace.recording) progress.trace.end({
      status,
      error: message,
      stagesStartedAt: progress.stagesStartedAt,
      stages: timing ?? {},
      attributes: {
        ...call.span.attributes,
        'inferbox.model': call.model,
        ...(served ? { 'inferbox.model_version': served.version } : {}),
        'inferbox.request_id': call.requestId,
        ...(cache ? { 'inferbox.cache': cache } : {}),
        ...(assignment ? { 'inferbox.experiment': assignment.experimentId, 'inferbox.variant': assignment.variant } : {}),
      },
    });
    this.deps.recorder.record({
      requestId: call.requestId,
      protocol: call.protocol,
      model: call.model,
      version,
      resolved: served !== null,
      keyId: call.keyId,
      status,
      error: message,
      totalMs: answeredAt - progress.started,
      experiment: assignment ? { id: assignment.experimentId, variant: assignment.variant, unitId: assignment.unitId } : undefined,
      payload: progress.payload,
      timing: timing ?? {},
      cache: cache ?? undefined,
      traceId: progress.trace.traceId,
      bytesIn: progress.bytesIn || call.declaredBytes,
      bytesOut: progress.bytesOut,
    });
  }

  /** A request its key's rate limit refused: logged with the key, like every other inference request. */
  recordRateLimited(call: Pick<InferenceCall, 'model' | 'version' | 'requestId' | 'keyId' | 'declaredBytes' | 'protocol'>, error: InferboxError): void {
    this.deps.recorder.record({
      requestId: call.requestId,
      protocol: call.protocol,
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
   * A copy of an experiment request for its shadow version, to send once the answer has gone
   * out; its latency, failure and agreement with the served answer count for the experiment.
   * It is not counted as interactive: async jobs need not give way to it.
   */
  private mirror<Body, Request extends DecodedRequest, Reply>(call: InferenceCall, codec: InferenceCodec<Body, Request, Reply>, body: Body, experimentId: string, shadowVersion: string, served: VersionRunResult): () => void {
    return () => {
      const started = performance.now();
      const monitor = this.deps.experiments.monitor;
      void (async () => {
        const shadow = await this.acquire(call.model, shadowVersion);
        try {
          return await shadow.run(await codec.decode(shadow, body));
        } finally {
          shadow.release();
        }
      })().then(
        (result) => monitor.recordShadow(experimentId, { failed: false, latencyMs: performance.now() - started, agreed: outputsAgree(served.outputs, result.outputs) }),
        () => monitor.recordShadow(experimentId, { failed: true, latencyMs: performance.now() - started, agreed: false }),
      );
    };
  }
}
