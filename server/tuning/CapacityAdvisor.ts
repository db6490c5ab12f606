import { addBuckets, windowQuantile, type CumulativeBuckets } from './windowQuantile.js';

/** The capacity a model's serving was measured to have (its version's last tuning run). */
export interface MeasuredCapacity {
  version: string;
  /** Requests/s within the objective, as tuned. */
  capacity_rps: number;
  objective_p95_ms: number;
}

/** A model's load against its measured capacity, as the dashboard, /metrics and the webhook see it. */
export interface CapacityStatus extends MeasuredCapacity {
  model: string;
  /** Requests/s over the last minute (every version of the model, every protocol, answered or refused). */
  load_rps: number;
  /** load / capacity: 0.42 is "42% of capacity for p95 <= objective". */
  ratio: number;
  /** p95 of the whole request over the same window, ms (null: no request, or beyond the largest bucket). */
  p95_ms: number | null;
  /** Whether the load has stayed above the warning ratio for the sustained window (until it falls below). */
  warning: boolean;
  /** Since when it has been above the warning ratio (null: it is not). */
  above_since: string | null;
}

export interface CapacityAdvisorDeps {
  /** Cumulative request counts and request-duration buckets per model and version (the metrics registry's summary). */
  requestCounts: () => Promise<{ model: string; version: string; success: number; failure: number; buckets: CumulativeBuckets }[]>;
  /** The models there are now (one never requested shows a load of 0). */
  models: () => string[];
  /** The model's measured capacity, or null (never tuned, or tuned without an objective). */
  capacity: (model: string) => MeasuredCapacity | null;
  /** `capacity_warning_ratio`: the share of capacity that is too close. */
  warningRatio: () => number;
  /** The load stayed above the warning ratio for `sustainMs` (once per episode). */
  onWarning: (status: CapacityStatus) => void;
  /** Every sample's statuses (adaptive remediation watches them). */
  onSample?: (statuses: CapacityStatus[]) => void;
  /** Load is a rate over this window (default one minute). */
  windowMs?: number;
  /** How long above the ratio before warning (default five minutes). */
  sustainMs?: number;
  /** How often the counts are sampled (default 5 s). */
  intervalMs?: number;
  now?: () => number;
}

interface Sample {
  at: number;
  /** Requests so far per model (all versions). */
  counts: Map<string, number>;
  /** Their request-duration buckets so far, per model (all versions). */
  buckets: Map<string, CumulativeBuckets>;
}

/**
 * The capacity advisor: from the request counters and each model's tuned capacity within its
 * latency objective, how much of it the live load uses (the dashboard's headroom and the gauge
 * `inferbox_model_capacity_ratio`), and a warning when the load stays above
 * `capacity_warning_ratio` for five minutes (a console banner and the `capacity.warning` webhook
 * event, once until the load falls back). It samples counters the serving path keeps anyway, so
 * it costs requests nothing.
 */
export class CapacityAdvisor {
  private readonly samples: Sample[] = [];
  private readonly aboveSince = new Map<string, number>();
  private readonly warned = new Set<string>();
  private statuses: CapacityStatus[] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly now: () => number;
  private readonly windowMs: number;
  private readonly sustainMs: number;

  constructor(private readonly deps: CapacityAdvisorDeps) {
    this.now = deps.now ?? Date.now;
    this.windowMs = deps.windowMs ?? 60_000;
    this.sustainMs = deps.sustainMs ?? 300_000;
  }

  start(): void {
    this.timer ??= setInterval(() => void this.sample().catch(() => undefined), this.deps.intervalMs ?? 5000);
    this.timer.unref();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Every model with a measured capacity, as of the last sample. */
  status(): CapacityStatus[] {
    return this.statuses;
  }

  /** Takes one sample of the counters and updates every model's status (the timer calls it; tests may too). */
  async sample(): Promise<void> {
    const at = this.now();
    const counts = new Map<string, number>();
    const buckets = new Map<string, CumulativeBuckets>();
    for (const row of await this.deps.requestCounts()) {
      counts.set(row.model, (counts.get(row.model) ?? 0) + row.success + row.failure);
      buckets.set(row.model, addBuckets(buckets.get(row.model), row.buckets));
    }
    this.samples.push({ at, counts, buckets });
    // Keep the newest sample at or before the window's start, so the rate spans the whole window.
    while (this.samples.length > 2 && this.samples[1]!.at <= at - this.windowMs) this.samples.shift();
    const oldest = this.samples[0]!;
    const seconds = (at - oldest.at) / 1000;
    const threshold = this.deps.warningRatio();
    const statuses: CapacityStatus[] = [];
    for (const model of new Set([...this.deps.models(), ...counts.keys()])) {
      const measured = this.deps.capacity(model);
      if (!measured || measured.capacity_rps <= 0) {
        this.forget(model);
        continue;
      }
      const load = seconds > 0 ? Math.max(0, ((counts.get(model) ?? 0) - (oldest.counts.get(model) ?? 0)) / seconds) : 0;
      const ratio = load / measured.capacity_rps;
      if (ratio > threshold) {
        if (!this.aboveSince.has(model)) this.aboveSince.set(model, at);
      } else {
        this.forget(model);
      }
      const since = this.aboveSince.get(model);
      const now = buckets.get(model);
      const p95 = now ? windowQuantile(now, oldest.buckets.get(model), 0.95) : null;
      const status: CapacityStatus = { model, ...measured, load_rps: load, ratio, p95_ms: p95, warning: false, above_since: since === undefined ? null : new Date(since).toISOString() };
      if (since !== undefined && at - since >= this.sustainMs) {
        status.warning = true;
        if (!this.warned.has(model)) {
          this.warned.add(model);
          this.deps.onWarning(status);
        }
      }
      statuses.push(status);
    }
    this.statuses = statuses;
    this.deps.onSample?.(statuses);
  }

  private forget(model: string): void {
    this.aboveSince.delete(model);
    this.warned.delete(model);
  }
}
