import { performance } from 'node:perf_hooks';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { createRequire } from 'node:module';
import type * as OtelCore from '@opentelemetry/core';
import { randomTraceIds } from './randomTraceIds.js';
import type { StageTiming } from '../common/StageTiming.js';
import { startOtlpPipeline, type OtlpPipeline } from './startOtlpPipeline.js';

/** How a traced request ended. */
export interface TracedOutcome {
  status: number;
  error: string | null;
  /** `performance.now()` when the data plane began (decoding), if it did. */
  stagesStartedAt?: number | undefined;
  /** The stages the request got through (all or none). */
  stages?: Partial<StageTiming> | undefined;
  /** Semantic attributes of the request (model, version, request id, cache, variant). */
  attributes: Attributes;
}

/** One request's trace context: the ids to answer and log, and its span when tracing is on. */
export interface RequestTrace {
  traceId: string;
  /** The `traceparent` to answer with: the same trace, this server's span as the parent. */
  traceparent: string;
  /** The caller's `tracestate`, passed on unchanged (W3C: only with a valid `traceparent`). */
  tracestate: string | undefined;
  /** Whether `end` records a span (an OTLP endpoint is set): callers skip building its attributes otherwise. */
  recording: boolean;
  end(outcome: TracedOutcome): void;
}

export interface TracingSettings {
  /** OTLP/HTTP traces URL; '' = off. */
  endpoint: string;
  sampleRatio: number;
}

/**
 * @opentelemetry/core (with the semantic conventions it loads, ~0.25 s of a start) is loaded by the
 * first request that carries a `traceparent` (or when tracing starts), not at start-up: issue 17.
 * Its CommonJS build, the same instance an ESM import of it gets (the package has no "exports").
 */
let otelCore: typeof OtelCore | undefined;
const core = () => (otelCore ??= createRequire(import.meta.url)('@opentelemetry/core') as typeof OtelCore);

const epochMs = (performanceMs: number) => performance.timeOrigin + performanceMs;
const hexFlags = (flags: number) => (flags & 1 ? '01' : '00');

function stageSpan(tracer: Tracer, parent: Context, name: string, start: number, end: number, attributes: Attributes = {}): void {
  tracer.startSpan(name, { kind: SpanKind.INTERNAL, startTime: epochMs(start), attributes }, parent).end(epochMs(end));
}

/**
 * W3C Trace Context for inference requests, and their spans through OpenTelemetry's API when the
 * admin has set an OTLP endpoint. A valid `traceparent` continues the caller's trace (its sampled
 * flag is followed); a missing or invalid one starts a new trace. While tracing is off no span is
 * made and the SDK is not loaded: a request costs a header parse and two random ids. The endpoint
 * and ratio are read at every request, so a settings change applies without a restart (the old
 * pipeline exports what it holds, then stops).
 */
export class RequestTracer {
  private pipeline: OtlpPipeline | null = null;
  private starting: Promise<void> = Promise.resolve();
  private endpoint = '';
  private sampleRatio = Number.NaN;
  private closed = false;
  private lastExportErrorAt = -Infinity;

  constructor(
    private readonly deps: {
      settings: () => TracingSettings;
      serviceVersion: string;
      onError: (error: unknown, message: string) => void;
    },
  ) {}

  /**
   * Starts the request's trace at `startedAt` (`performance.now()`); `name` is the span name
   * (`POST /v2/models/{model}/infer`, OpenTelemetry's HTTP convention of method and route).
   */
  begin(traceparent: string, tracestate: string, startedAt: number, name: string): RequestTrace {
    this.followSettings();
    const parent = traceparent === '' ? null : core().parseTraceParent(traceparent);
    const state = parent && tracestate !== '' ? new (core().TraceState)(tracestate) : undefined;
    const tracer = this.pipeline?.tracer;
    if (!tracer) {
      const traceId = parent?.traceId ?? randomTraceIds.traceId();
      return {
        traceId,
        traceparent: `00-${traceId}-${randomTraceIds.spanId()}-${hexFlags(parent?.traceFlags ?? 0)}`,
        tracestate: state?.serialize() || undefined,
        recording: false,
        end: () => undefined,
      };
    }
    const parentContext = parent ? trace.setSpanContext(ROOT_CONTEXT, { ...parent, isRemote: true, ...(state ? { traceState: state } : {}) }) : ROOT_CONTEXT;
    const span = tracer.startSpan(name, { kind: SpanKind.SERVER, startTime: epochMs(startedAt) }, parentContext);
    const own = span.spanContext();
    return {
      traceId: own.traceId,
      traceparent: `00-${own.traceId}-${own.spanId}-${hexFlags(own.traceFlags)}`,
      tracestate: state?.serialize() || undefined,
      recording: true,
      end: (outcome) => this.finish(tracer, span, outcome),
    };
  }

  /**
   * The request span and one child per stage. Stage spans are laid end to end from the measured
   * durations (decode, queue, batch, inference from where decoding began; serialization ending with
   * the response), since the stages are timed as durations: `batch` is the joining and splitting
   * of the batch shown as one interval before the run.
   */
  private finish(tracer: Tracer, span: Span, outcome: TracedOutcome): void {
    const endedAt = performance.now();
    if (!span.isRecording()) return;
    span.setAttributes({ ...outcome.attributes, 'http.response.status_code': outcome.status });
    // OpenTelemetry's HTTP convention: a server span is an error for 5xx only (4xx is the caller's).
    if (outcome.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.error ?? `HTTP ${outcome.status}` });
    const { stages, stagesStartedAt } = outcome;
    if (stages && stagesStartedAt !== undefined && stages.decodeMs !== undefined) {
      const parent = trace.setSpan(ROOT_CONTEXT, span);
      let at = stagesStartedAt;
      const child = (stage: string, ms: number, attributes: Attributes = {}) => {
        stageSpan(tracer, parent, stage, at, at + ms, attributes);
        at += ms;
      };
      child('decode', stages.decodeMs);
      // A cache hit ran nothing: no queue, batch or inference.
      if (stages.batchRows !== undefined && stages.batchRows > 0) {
        child('queue', stages.queueMs ?? 0);
        child('batch', stages.batchMs ?? 0, { 'inferbox.batch.rows': stages.batchRows });
        child('inference', stages.inferMs ?? 0);
      }
      if (stages.serializeMs !== undefined) stageSpan(tracer, parent, 'serialization', endedAt - stages.serializeMs, endedAt);
    }
    span.end(epochMs(endedAt));
  }

  /** Starts, replaces or stops the pipeline when the endpoint or the ratio changed. */
  private followSettings(): void {
    const { endpoint, sampleRatio } = this.deps.settings();
    if (endpoint === this.endpoint && sampleRatio === this.sampleRatio) return;
    [this.endpoint, this.sampleRatio] = [endpoint, sampleRatio];
    this.stopPipeline();
    if (endpoint === '' || this.closed) return;
    this.starting = startOtlpPipeline({ endpoint, sampleRatio, serviceVersion: this.deps.serviceVersion, onExportError: (error) => this.exportFailed(error) })
      .then((pipeline) => {
        if (this.closed || endpoint !== this.endpoint || sampleRatio !== this.sampleRatio) void pipeline.shutdown();
        else this.pipeline = pipeline;
      })
      .catch((error: unknown) => this.deps.onError(error, 'could not start trace export'));
  }

  /** A collector that is down fails every batch (each second): one log line a minute is enough. */
  private exportFailed(error: Error): void {
    const now = performance.now();
    if (now - this.lastExportErrorAt < 60_000) return;
    this.lastExportErrorAt = now;
    this.deps.onError(error, 'trace export failed; those spans are dropped (repeats are not logged for a minute)');
  }

  private stopPipeline(): void {
    const old = this.pipeline;
    this.pipeline = null;
    old?.shutdown().catch((error: unknown) => this.deps.onError(error, 'trace export did not stop cleanly'));
  }

  /** Exports the spans still buffered (bounded by the export timeout) and stops. */
  async close(): Promise<void> {
    this.closed = true;
    await this.starting;
    const old = this.pipeline;
    this.pipeline = null;
    await old?.shutdown().catch((error: unknown) => this.deps.onError(error, 'trace export did not stop cleanly'));
  }

  /** Applies the current settings now (at start, so the first request is traced). */
  async ready(): Promise<void> {
    this.followSettings();
    await this.starting;
  }
}
