import { performance } from 'node:perf_hooks';
import { InferboxError, messageOf } from '../common/errors.js';
import { assertVersion } from '../common/names.js';
import type { ExperimentService } from '../experiments/ExperimentService.js';
import type { InferenceRecorder } from '../inference/InferenceRecorder.js';
import type { InferenceService, InferOutcome, StageTiming } from '../inference/InferenceService.js';
import { outputsAgree } from '../inference/outputsAgree.js';

/** An OIP request body: the JSON value (REST's JSON, or a gRPC message turned into it) and the binary tensor data after it. */
export interface InferBody {
  value: unknown;
  binary: Buffer;
  /** Bytes on the wire, for the request log. */
  bytes: number;
}

type Assignment = NonNullable<ReturnType<ExperimentService['route']>>;

/** One inference request as any protocol hands it over. */
export interface InferCall {
  model: string;
  /** The version the caller named (URL path, `model_version`); undefined: the experiment's variant or the active version. */
  version: string | undefined;
  requestId: string;
  keyId: string | null;
  /** HTTP headers or gRPC metadata (lowercase names): experiments read targeting attributes and unit ids from them. */
  headers: Record<string, string | string[] | undefined>;
  /** Reads (REST) or converts (gRPC) the body; a refusal there is recorded like every other. */
  body(): Promise<InferBody>;
  /** Bytes to log when the request is refused before its body is read. */
  declaredBytes: number;
  /** Told the variant as soon as an experiment picks it (REST names it in a header, also on errors). */
  onVariant?: (assignment: Assignment) => void;
  /** Runs the task once the answer has gone out: shadow copies must never delay it. */
  afterResponse(task: () => void): void;
}

/** What the protocol made of the answer. */
export interface WrittenReply<R> {
  reply: R;
  bytesOut: number;
  /** The response's JSON (REST has it already), for payload logging; made from the outcome when absent. */
  json?: string;
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

/** The OIP request's `parameters`, which targeting rules may read (`param.<name>`). */
function requestParameters(body: unknown): Record<string, unknown> {
  const parameters = (body as { parameters?: unknown } | null)?.parameters;
  return typeof parameters === 'object' && parameters !== null && !Array.isArray(parameters) ? (parameters as Record<string, unknown>) : {};
}

/**
 * OIP v2 inference whatever the protocol (REST routes and the gRPC service both call it): the
 * experiment picks the variant of an unversioned request, the data plane answers, the protocol
 * writes the reply, and every request, answered or refused, is counted and logged once (with the
 * experiment's monitor, payload logging and live validation samples where they apply).
 */
export class InferenceEndpoint {
  constructor(
    private readonly deps: {
      inference: InferenceService;
      experiments: ExperimentService;
      recorder: InferenceRecorder;
      /** Whether the admin turned payload logging on for the model. */
      logsPayloads: (model: string) => boolean;
      /** Live validation samples (only kept when the admin opted the model in). */
      liveSamples: { offer(model: string, inputs: unknown[], requestId: string): void };
    },
  ) {}

  async infer<R>(call: InferCall, write: (outcome: InferOutcome) => WrittenReply<R>): Promise<{ reply: R; timing: StageTiming; cache: InferOutcome['cache'] }> {
    const started = performance.now();
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
      // The body first: a version resolved before a slow upload finished could be swapped away meanwhile.
      const body = await call.body();
      bytesIn = body.bytes;
      const named = call.version === undefined ? undefined : assertVersion(call.version);
      // A named version bypasses experiments; an unnamed one goes through the model's running experiment.
      if (named === undefined) assignment = this.deps.experiments.route(call.model, { headers: call.headers, parameters: requestParameters(body.value) });
      if (assignment) {
        routedAt = performance.now(); // a variant's latency starts here: a slow upload is the caller's, not the model's
        call.onVariant?.(assignment);
      }
      const served = await this.deps.inference.resolve(call.model, assignment?.version ?? named);
      [version, resolved] = [served.version, true];
      const outcome = await this.deps.inference.infer(served, body.value, body.binary);
      const writeStarted = performance.now();
      if (assignment) {
        // request_id is what POST /api/feedback names (the caller's own `id` is echoed as OIP says).
        outcome.response.parameters = { ...outcome.response.parameters, experiment: assignment.experimentId, variant: assignment.variant, request_id: call.requestId };
        outcome.response.id ??= call.requestId;
        if (assignment.shadowVersion !== null) this.mirrorAfterResponse(call, served.name, assignment.experimentId, assignment.shadowVersion, body, outcome);
      }
      cache = outcome.cache;
      // Recorded samples are replayed from JSON later, so only all-JSON requests are kept.
      if (body.binary.length === 0) this.deps.liveSamples.offer(served.name, (body.value as { inputs: unknown[] }).inputs, call.requestId);
      const written = write(outcome);
      timing = { ...outcome.timing, serializeMs: outcome.timing.serializeMs + performance.now() - writeStarted };
      bytesOut = written.bytesOut;
      status = 200;
      if (this.deps.logsPayloads(served.name)) payload = payloadRecord(body.value, written.json ?? JSON.stringify(outcome.response));
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
        bytesIn: bytesIn || call.declaredBytes,
        bytesOut,
      });
    }
  }

  /** A request its key's rate limit refused: logged with the key, like every other inference request. */
  recordRateLimited(call: Pick<InferCall, 'model' | 'version' | 'requestId' | 'keyId' | 'declaredBytes'>, error: InferboxError): void {
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
  private mirrorAfterResponse(call: InferCall, model: string, experimentId: string, shadowVersion: string, body: InferBody, served: InferOutcome): void {
    call.afterResponse(() => {
      const started = performance.now();
      const { inference, experiments } = this.deps;
      void inference
        .resolve(model, shadowVersion)
        .then((shadow) => inference.infer(shadow, body.value, body.binary, 'background'))
        .then(
          (outcome) => experiments.monitor.recordShadow(experimentId, { failed: false, latencyMs: performance.now() - started, agreed: outputsAgree(served, outcome) }),
          () => experiments.monitor.recordShadow(experimentId, { failed: true, latencyMs: performance.now() - started, agreed: false }),
        );
    });
  }
}
