import { Counter, Histogram, Registry } from 'prom-client';

/** Latency buckets in seconds, from sub-millisecond tabular models to multi-second CNNs. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface InferenceObservation {
  model: string;
  version: string;
  /** 'success' or 'failure' (any error answer). */
  outcome: 'success' | 'failure';
  totalMs: number;
  queueMs?: number | undefined;
  inferMs?: number | undefined;
  cache?: 'hit' | 'miss' | 'off' | undefined;
}

/** Why a request got a 429 before its route ran. */
export type ThrottleReason = 'key_rate_limit' | 'auth_backoff' | 'auth_blocked';

/**
 * The one in-process source of serving numbers: per model and version, request counts by outcome
 * and latency histograms for queue wait, inference and the whole request. /metrics (Prometheus
 * text) and the console's charts read this registry; nothing keeps a second count.
 */
export class InferenceMetrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: 'inferbox_inference_requests_total',
    help: 'Inference requests by model, version and outcome',
    labelNames: ['model', 'version', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly cache = new Counter({
    name: 'inferbox_cache_requests_total',
    help: 'Response cache lookups by model, version and result (hit or miss)',
    labelNames: ['model', 'version', 'result'] as const,
    registers: [this.registry],
  });
  private readonly throttled = new Counter({
    name: 'inferbox_throttled_requests_total',
    help: 'Requests answered 429 before reaching a route: key over its rate limit, or an address backing off or blocked after failed authentications',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  /** Looked up once (see `series`): a flood of refusals must stay cheap. */
  private readonly throttledSeries = {
    key_rate_limit: this.throttled.labels('key_rate_limit'),
    auth_backoff: this.throttled.labels('auth_backoff'),
    auth_blocked: this.throttled.labels('auth_blocked'),
  };
  private readonly total = this.histogram('inferbox_request_duration_seconds', 'Whole inference request time, from receipt to response');
  private readonly queue = this.histogram('inferbox_queue_duration_seconds', 'Time an inference waited for a worker');
  private readonly compute = this.histogram('inferbox_compute_duration_seconds', 'Time onnxruntime spent running the model');

  private histogram(name: string, help: string) {
    return new Histogram({ name, help, labelNames: ['model', 'version'] as const, buckets: LATENCY_BUCKETS, registers: [this.registry] });
  }

  /**
   * The labelled series of one model version, looked up once: prom-client validates and hashes a
   * label object on every call, a measurable share of the HTTP thread at thousands of requests/s.
   * Bounded: labels are only known model versions (or the one 'unknown' label).
   */
  private readonly series = new Map<string, ReturnType<InferenceMetrics['seriesOf']>>();

  private seriesOf(model: string, version: string) {
    return {
      total: this.total.labels(model, version),
      queue: this.queue.labels(model, version),
      compute: this.compute.labels(model, version),
      success: this.requests.labels(model, version, 'success'),
      failure: this.requests.labels(model, version, 'failure'),
      hit: this.cache.labels(model, version, 'hit'),
      miss: this.cache.labels(model, version, 'miss'),
    };
  }

  /**
   * Cumulative per model version: requests by outcome and the request-duration histogram
   * (bucket upper bounds in seconds). The console polls this and charts the differences between
   * polls (throughput, error rate, p50/p95 over each interval).
   */
  async summary(): Promise<{ model: string; version: string; success: number; failure: number; buckets: { le: number; count: number }[] }[]> {
    const rows = new Map<string, { model: string; version: string; success: number; failure: number; buckets: { le: number; count: number }[] }>();
    const row = (labels: Record<string, string | number>) => {
      const model = String(labels.model);
      const version = String(labels.version);
      const id = `${model}\u0000${version}`;
      let entry = rows.get(id);
      if (!entry) {
        entry = { model, version, success: 0, failure: 0, buckets: [] };
        rows.set(id, entry);
      }
      return entry;
    };
    for (const value of (await this.requests.get()).values) row(value.labels)[value.labels.outcome === 'success' ? 'success' : 'failure'] = value.value;
    for (const value of (await this.total.get()).values) {
      if (value.metricName !== 'inferbox_request_duration_seconds_bucket') continue;
      const bound = (value.labels as { le?: string | number }).le; // prom-client adds `le` to bucket series
      const le = bound === '+Inf' ? Infinity : Number(bound);
      row(value.labels).buckets.push({ le, count: value.value });
    }
    return [...rows.values()];
  }

  countThrottled(reason: ThrottleReason): void {
    this.throttledSeries[reason].inc();
  }

  observe(o: InferenceObservation): void {
    const id = `${o.model}\u0000${o.version}`;
    let series = this.series.get(id);
    if (!series) {
      series = this.seriesOf(o.model, o.version);
      this.series.set(id, series);
    }
    if (o.cache === 'hit' || o.cache === 'miss') series[o.cache].inc();
    series[o.outcome].inc();
    series.total.observe(o.totalMs / 1000);
    if (o.queueMs !== undefined) series.queue.observe(o.queueMs / 1000);
    if (o.inferMs !== undefined) series.compute.observe(o.inferMs / 1000);
  }
}
