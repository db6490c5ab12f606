import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Latency buckets in seconds, from sub-millisecond tabular models to multi-second CNNs. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** How an inference request came: REST OIP v2, REST named-feature predictions, or OIP v2 over gRPC. */
export type InferenceProtocol = 'rest' | 'predict' | 'grpc';

export interface InferenceObservation {
  model: string;
  version: string;
  protocol: InferenceProtocol;
  /** 'success' or 'failure' (any error answer). */
  outcome: 'success' | 'failure';
  totalMs: number;
  queueMs?: number | undefined;
  inferMs?: number | undefined;
  cache?: 'hit' | 'miss' | 'off' | undefined;
}

/** Why a request got a 429 before its route ran. */
export type ThrottleReason = 'key_rate_limit' | 'auth_backoff' | 'auth_blocked';

/** An A/B-routed request: which experiment's variant answered and how. */
export interface VariantObservation {
  model: string;
  experiment: string;
  variant: string;
  outcome: 'success' | 'failure';
}

/**
 * What the server is doing now, read only when /metrics (or the summary) is collected, so the
 * gauges cost the request path nothing. Given by the composition root (metrics/ imports no other module).
 */
export interface ServingState {
  /** Requests waiting in each model version's batcher queue (not yet running); empty queues may be left out. */
  queueDepths(): { model: string; version: string; depth: number }[];
  /** Every version the registry knows: whether its sessions are loaded and on how many workers. */
  versions(): { model: string; version: string; loaded: boolean; instances: number }[];
  /** Inference worker threads in the pool. */
  workerThreads(): number;
  /** Whether the OIP v2 gRPC service listens now (false while its port is taken, or with gRPC off). */
  grpcUp(): boolean;
  /** Each tuned model's live load as a share of its measured capacity within its latency objective. */
  capacityRatios(): { model: string; ratio: number }[];
}

/** One model version in the console's summary: cumulative counts and request-duration buckets (seconds). */
export interface MetricsSummaryRow {
  model: string;
  version: string;
  success: number;
  failure: number;
  buckets: { le: number; count: number }[];
}

/** Prefix of every metric, including prom-client's process and Node.js metrics. */
const PREFIX = 'inferbox_';

/**
 * The one in-process source of serving numbers: per model and version, request counts by outcome,
 * inferences and executions (batches), latency histograms for queue wait, inference and the whole
 * request, cache results, A/B variants, and gauges of the serving state and the process.
 * /metrics (Prometheus text) and the console's charts read this registry; nothing keeps a second
 * count. Every metric is documented in docs/METRICS.md (a test compares the two).
 */
export class InferenceMetrics {
  readonly registry = new Registry();
  private state: ServingState | undefined;
  private readonly requests = new Counter({
    name: 'inferbox_inference_requests_total',
    help: 'Inference requests by model, version, protocol (rest, predict or grpc) and outcome',
    labelNames: ['model', 'version', 'protocol', 'outcome'] as const,
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
  private readonly inferences = new Counter({
    name: 'inferbox_inferences_total',
    help: "Inferences run by model and version: rows of input (a batch-4 request counts 4), as Triton's nv_inference_count; cache hits run nothing",
    labelNames: ['model', 'version'] as const,
    registers: [this.registry],
  });
  private readonly executions = new Counter({
    name: 'inferbox_executions_total',
    help: "Model executions (onnxruntime runs) by model and version, as Triton's nv_inference_exec_count: inferences / executions is the average batch size",
    labelNames: ['model', 'version'] as const,
    registers: [this.registry],
  });
  private readonly variants = new Counter({
    name: 'inferbox_experiment_requests_total',
    help: 'Inference requests an A/B experiment routed, by model, experiment, variant and outcome',
    labelNames: ['model', 'experiment', 'variant', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly variantSeries = new Map<string, Counter.Internal>();
  private readonly total = this.histogram('inferbox_request_duration_seconds', 'Whole inference request time, from receipt to response');
  private readonly queue = this.histogram('inferbox_queue_duration_seconds', 'Time an inference waited for a worker');
  private readonly compute = this.histogram('inferbox_compute_duration_seconds', 'Time onnxruntime spent running the model');

  constructor() {
    this.stateGauge('inferbox_queue_depth', "Requests waiting in a model version's batcher queue for an instance", ['model', 'version'], (gauge, state) => {
      // Every known version reads 0 rather than vanishing when its queue empties.
      for (const v of state.versions()) gauge.labels(v.model, v.version).set(0);
      for (const q of state.queueDepths()) gauge.labels(q.model, q.version).inc(q.depth);
    });
    this.stateGauge('inferbox_model_loaded', 'Whether a model version has sessions loaded now (1) or not (0: unloaded, idle-unloaded, loading or failed)', ['model', 'version'], (gauge, state) => {
      for (const v of state.versions()) gauge.labels(v.model, v.version).set(v.loaded ? 1 : 0);
    });
    this.stateGauge('inferbox_model_instances', 'Inference workers holding a session of a model version now (it spreads to more while requests back up)', ['model', 'version'], (gauge, state) => {
      for (const v of state.versions()) gauge.labels(v.model, v.version).set(v.instances);
    });
    this.stateGauge('inferbox_worker_threads', 'Inference worker threads in the pool (the most instances any one model can use)', [], (gauge, state) => {
      gauge.set(state.workerThreads());
    });
    // A taken gRPC port does not stop the server (it is retried), so scrapers need this to alert on it.
    this.stateGauge('inferbox_grpc_up', 'Whether the OIP v2 gRPC service listens (1) or not (0: its port is taken and retried, or gRPC is off)', [], (gauge, state) => {
      gauge.set(state.grpcUp() ? 1 : 0);
    });
    this.stateGauge('inferbox_model_capacity_ratio', "A model's requests/s over the last minute as a share of the capacity its tuning measured within its latency objective (1 = at capacity)", ['model'], (gauge, state) => {
      for (const c of state.capacityRatios()) gauge.labels(c.model).set(c.ratio);
    });
    // Process CPU (all threads, inference workers included), memory, event-loop lag and GC, from
    // prom-client itself, under the same prefix.
    collectDefaultMetrics({ register: this.registry, prefix: PREFIX });
    // prom-client names three gauges `_total`, which Prometheus keeps for counters (promtool check
    // metrics warns): the same numbers go out as `_all`, next to their by-type gauges.
    for (const kind of ['handles', 'requests', 'resources']) this.renameGauge(`${PREFIX}nodejs_active_${kind}_total`, `${PREFIX}nodejs_active_${kind}_all`);
  }

  /** Serves a gauge of prom-client's under another name: its own collect computes the value, as before. */
  private renameGauge(from: string, to: string): void {
    const original = this.registry.getSingleMetric(from) as Gauge | undefined;
    if (!original) return; // not on this Node.js (prom-client leaves out what the runtime lacks)
    this.registry.removeSingleMetric(from);
    new Gauge({
      name: to,
      help: `${(original as unknown as { help: string }).help.replace(/\.$/, '')} (all types)`,
      registers: [this.registry],
      async collect() {
        this.set((await original.get()).values[0]?.value ?? 0);
      },
    });
  }

  /**
   * A gauge filled from the serving state when collected (prom-client calls `collect` on every
   * scrape), so keeping it costs the request path nothing. Emptied first: a deleted version vanishes.
   */
  private stateGauge(name: string, help: string, labelNames: string[], fill: (gauge: Gauge, state: ServingState) => void): void {
    const current = () => this.state;
    new Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect() {
        this.reset();
        const state = current();
        if (state) fill(this, state);
      },
    });
  }

  /** The serving state the gauges read; set once the services exist. */
  attachServingState(state: ServingState): void {
    this.state = state;
  }

  /** Prometheus text exposition of every metric, and its content type. */
  async exposition(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }

  /**
   * A model version's execution counter, looked up once per batcher: each successful run counts
   * one execution and its rows as inferences.
   */
  executionCounter(model: string, version: string): (rows: number) => void {
    const inferences = this.inferences.labels(model, version);
    const executions = this.executions.labels(model, version);
    return (rows) => {
      inferences.inc(rows);
      executions.inc();
    };
  }

  /** Experiment ids come from the server and variants from the admin's config, so the series stay bounded. */
  countVariant(o: VariantObservation): void {
    const id = `${o.model}\u0000${o.experiment}\u0000${o.variant}\u0000${o.outcome}`;
    let series = this.variantSeries.get(id);
    if (!series) {
      series = this.variants.labels(o.model, o.experiment, o.variant, o.outcome);
      this.variantSeries.set(id, series);
    }
    series.inc();
  }

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
    const requests = (protocol: InferenceProtocol) => ({ success: this.requests.labels(model, version, protocol, 'success'), failure: this.requests.labels(model, version, protocol, 'failure') });
    return {
      total: this.total.labels(model, version),
      queue: this.queue.labels(model, version),
      compute: this.compute.labels(model, version),
      requests: { rest: requests('rest'), predict: requests('predict'), grpc: requests('grpc') },
      hit: this.cache.labels(model, version, 'hit'),
      miss: this.cache.labels(model, version, 'miss'),
    };
  }

  /**
   * Cumulative per model version: requests by outcome and the request-duration histogram
   * (bucket upper bounds in seconds). The console polls this and charts the differences between
   * polls (throughput, error rate, p50/p95 over each interval).
   */
  async summary(): Promise<MetricsSummaryRow[]> {
    const rows = new Map<string, MetricsSummaryRow>();
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
    // Summed over protocols.
    for (const value of (await this.requests.get()).values) row(value.labels)[value.labels.outcome === 'success' ? 'success' : 'failure'] += value.value;
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
    series.requests[o.protocol][o.outcome].inc();
    series.total.observe(o.totalMs / 1000);
    if (o.queueMs !== undefined) series.queue.observe(o.queueMs / 1000);
    if (o.inferMs !== undefined) series.compute.observe(o.inferMs / 1000);
  }
}
