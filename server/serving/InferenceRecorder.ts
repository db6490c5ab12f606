import type { RequestLogWriter } from '../logging/RequestLogWriter.js';
import type { InferenceMetrics, InferenceProtocol } from '../metrics/InferenceMetrics.js';
import type { StageTiming } from '../common/StageTiming.js';

export interface InferenceRecord {
  requestId: string;
  protocol: InferenceProtocol;
  /** What the URL asked for (kept in the request log). */
  model: string;
  version: string | null;
  /** Whether model and version named an existing version: metric labels use only those. */
  resolved: boolean;
  keyId: string | null;
  status: number;
  error: string | null;
  totalMs: number;
  /** The stages it got through (none when refused before decoding). */
  timing: Partial<StageTiming>;
  cache?: 'hit' | 'miss' | 'off' | undefined;
  /** Set when an A/B experiment routed the request. */
  experiment?: { id: string; variant: string; unitId: string | null } | undefined;
  /** W3C trace id of the request (absent: refused before its trace context was read). */
  traceId?: string | undefined;
  /** The request and response, only when the admin turned payload logging on for the model. */
  payload?: string | undefined;
  bytesIn: number;
  bytesOut: number;
}

const UNKNOWN = '(unknown)';

/** One call per inference request, whatever its protocol: the metrics registry and the request log. */
export class InferenceRecorder {
  constructor(private readonly metrics: InferenceMetrics, private readonly log: RequestLogWriter, private readonly now: () => Date = () => new Date()) {}

  record(r: InferenceRecord): void {
    const ts = this.now().toISOString();
    // Unknown names go under one label: a caller must not be able to mint metric series.
    const outcome = r.status >= 200 && r.status < 300 ? 'success' : 'failure';
    if (r.experiment) this.metrics.countVariant({ model: r.model, experiment: r.experiment.id, variant: r.experiment.variant, outcome });
    this.metrics.observe({
      model: r.resolved ? r.model : UNKNOWN,
      version: r.resolved ? (r.version ?? '') : UNKNOWN,
      protocol: r.protocol,
      outcome,
      totalMs: r.totalMs,
      queueMs: r.timing.queueMs,
      inferMs: r.timing.inferMs,
      cache: r.cache,
    });
    this.log.append({
      ts,
      request_id: r.requestId,
      model: r.model,
      version: r.version,
      key_id: r.keyId,
      status: r.status,
      error: r.error,
      total_ms: r.totalMs,
      decode_ms: r.timing.decodeMs ?? null,
      queue_ms: r.timing.queueMs ?? null,
      batch_ms: r.timing.batchMs ?? null,
      infer_ms: r.timing.inferMs ?? null,
      serialize_ms: r.timing.serializeMs ?? null,
      batch_rows: r.timing.batchRows ?? null,
      experiment_id: r.experiment?.id ?? null,
      variant: r.experiment?.variant ?? null,
      unit_id: r.experiment?.unitId ?? null,
      trace_id: r.traceId ?? null,
      bytes_in: r.bytesIn,
      bytes_out: r.bytesOut,
    }, r.payload === undefined ? undefined : { ts, request_id: r.requestId, model: r.model, version: r.version, key_id: r.keyId, payload_json: r.payload });
  }
}
