import type { ArmDelta, ExperimentRepository, UnitDelta } from '../store/ExperimentRepository.js';
import type { ExperimentConfig } from './experimentConfig.js';
import { addTo, latencyBucket, quantileMs } from './latencyHistogram.js';
import { sequentialGuardrail, type MetricSample } from './statistics/index.js';

/** What the router decided for one request (see ExperimentService.route). */
export interface Assignment {
  experimentId: string;
  variant: string;
  version: string;
  unitId: string | null;
  /** Counted in the analysis: a unit id, targeted, experiment switched on. */
  analyzed: boolean;
  canaryStep: number;
}

/** Totals of one arm (a variant, or the shadow) kept in memory for guardrails and results. */
export interface ArmTotals {
  requests: number;
  errors: number;
  agreements: number;
  latency: Map<number, number>;
  /** The last requests' outcomes (true: failed), for the circuit breaker. */
  recent: boolean[];
}

/** The experiment as the monitor needs it. */
export interface MonitoredExperiment {
  id: string;
  config: ExperimentConfig;
  /** Variant names, control first. */
  variants: string[];
  canaryStep: number;
}

export interface GuardrailCheck {
  guardrail: 'circuit_breaker' | 'error_rate' | 'p95_latency' | 'outcome';
  variant: string;
  breached: boolean;
  /** Whether it had enough data to judge; a canary step advances only when every check could. */
  ready: boolean;
  detail: string;
}

export interface MonitorHooks {
  /** A guardrail failed: roll back (called once per experiment). */
  breach: (experimentId: string, check: GuardrailCheck) => void;
  /** The canary's current step has enough treatment units and passes: move on. */
  advanceCanary: (experimentId: string) => void;
  /** A flush or check failed (a disk error, an experiment deleted underneath): logged, never thrown. */
  onError: (error: unknown, experimentId: string) => void;
}

/** One watched experiment: its totals, what waits for the next flush, and whether it already tripped. */
interface WatchState {
  experiment: MonitoredExperiment;
  arms: Map<string, ArmTotals>;
  units: Map<string, UnitDelta>;
  deltas: Map<string, ArmDelta>;
  breached: boolean;
}

/** The shadow's arm: variant names start with a letter or digit, so none can be this. */
export const SHADOW_ARM = '__shadow';

function emptyArm(): ArmTotals {
  return { requests: 0, errors: 0, agreements: 0, latency: new Map(), recent: [] };
}

const errorSample = (arm: ArmTotals): MetricSample => ({ units: arm.requests, sum: arm.errors, sumSquares: arm.errors });

/**
 * Counts what each running experiment's variants (and its shadow) did: per arm in memory (for
 * guardrails, at once) and per unit written to SQLite once a second (for the analysis). Checks
 * the guardrails on every flush and the circuit breaker on every request; advances canary ramps.
 */
export class ExperimentMonitor {
  private readonly experiments = new Map<string, WatchState>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly deps: { repository: ExperimentRepository; hooks: MonitorHooks; now?: () => Date; flushIntervalMs?: number }) {
    this.timer = setInterval(() => this.tick(), deps.flushIntervalMs ?? 1000);
    this.timer.unref();
  }

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  /** Starts (or resumes after a restart) watching an experiment, from its stored totals. */
  watch(experiment: MonitoredExperiment): void {
    const existing = this.experiments.get(experiment.id);
    if (existing) {
      existing.experiment = experiment;
      return;
    }
    const arms = new Map<string, ArmTotals>();
    for (const row of this.deps.repository.armStats(experiment.id)) arms.set(row.arm, { ...emptyArm(), requests: row.requests, errors: row.errors, agreements: row.agreements });
    for (const row of this.deps.repository.latencyBuckets(experiment.id)) {
      const arm = arms.get(row.arm) ?? emptyArm();
      addTo(arm.latency, row.bucket, row.count);
      arms.set(row.arm, arm);
    }
    this.experiments.set(experiment.id, { experiment, arms, units: new Map(), deltas: new Map(), breached: false });
  }

  /** Stops watching (after a final flush, when its rows still exist). */
  forget(experimentId: string): void {
    try {
      this.flush(experimentId);
    } catch (error) {
      this.deps.hooks.onError(error, experimentId);
    }
    this.experiments.delete(experimentId);
  }

  private delta(state: { deltas: Map<string, ArmDelta> }, arm: string): ArmDelta {
    let delta = state.deltas.get(arm);
    if (!delta) {
      delta = { arm, requests: 0, errors: 0, agreements: 0, latency: new Map() };
      state.deltas.set(arm, delta);
    }
    return delta;
  }

  private count(state: { arms: Map<string, ArmTotals>; deltas: Map<string, ArmDelta> }, arm: string, failed: boolean, latencyMs: number, agreed: boolean, window: number): ArmTotals {
    const totals = state.arms.get(arm) ?? emptyArm();
    state.arms.set(arm, totals);
    const bucket = latencyBucket(latencyMs);
    const delta = this.delta(state, arm);
    totals.requests += 1;
    delta.requests += 1;
    if (failed) { totals.errors += 1; delta.errors += 1; }
    if (agreed) { totals.agreements += 1; delta.agreements += 1; }
    addTo(totals.latency, bucket);
    addTo(delta.latency, bucket);
    totals.recent.push(failed);
    if (totals.recent.length > window) totals.recent.shift();
    return totals;
  }

  /** One answered (or failed) request the experiment routed and analyzes. */
  record(assignment: Assignment, outcome: { failed: boolean; latencyMs: number }): void {
    const state = this.experiments.get(assignment.experimentId);
    if (!state || !assignment.analyzed || assignment.unitId === null) return;
    const breaker = state.experiment.config.guardrails.circuit_breaker;
    const totals = this.count(state, assignment.variant, outcome.failed, outcome.latencyMs, false, breaker?.window ?? 1);
    const at = this.now().toISOString();
    const unit = state.units.get(assignment.unitId);
    if (unit) {
      if (unit.variant !== assignment.variant) unit.crossed = 1;
      unit.requests += 1;
      unit.errors += outcome.failed ? 1 : 0;
      unit.latency_ms_sum += outcome.latencyMs;
      unit.last_seen = at;
    } else {
      state.units.set(assignment.unitId, { unit_id: assignment.unitId, variant: assignment.variant, canary_step: assignment.canaryStep, requests: 1, errors: outcome.failed ? 1 : 0, latency_ms_sum: outcome.latencyMs, crossed: 0, first_seen: at, last_seen: at });
    }
    // The breaker answers at once: a broken treatment must not wait for the next flush.
    const control = state.experiment.variants[0];
    if (breaker && assignment.variant !== control && totals.recent.length >= breaker.window && !state.breached) {
      const failures = totals.recent.filter(Boolean).length;
      if (failures / totals.recent.length > breaker.max_error_rate) {
        this.trip(state, { guardrail: 'circuit_breaker', variant: assignment.variant, breached: true, ready: true, detail: `${failures} of the last ${totals.recent.length} requests failed (limit ${breaker.max_error_rate * 100}%)` });
      }
    }
  }

  /** One mirrored request to the shadow version, after the served one was answered. */
  recordShadow(experimentId: string, outcome: { failed: boolean; latencyMs: number; agreed: boolean }): void {
    const state = this.experiments.get(experimentId);
    if (state) this.count(state, SHADOW_ARM, outcome.failed, outcome.latencyMs, outcome.agreed, 1);
  }

  private trip(state: WatchState, check: GuardrailCheck): void {
    state.breached = true;
    this.deps.hooks.breach(state.experiment.id, check);
  }

  totals(experimentId: string): Map<string, ArmTotals> | undefined {
    return this.experiments.get(experimentId)?.arms;
  }



  /** The guardrails of every treatment against control, as they stand now. */
  checks(experimentId: string): GuardrailCheck[] {
    const state = this.experiments.get(experimentId);
    if (!state) return [];
    const { config, variants } = state.experiment;
    const control = state.arms.get(variants[0]!) ?? emptyArm();
    const checks: GuardrailCheck[] = [];
    const outcome = config.guardrails.outcome;
    // One query per check round, not per variant: it scans the experiment's units.
    const outcomeSamples = outcome ? this.metricSamples(experimentId, outcome.metric, config) : undefined;
    for (const variant of variants.slice(1)) {
      const arm = state.arms.get(variant) ?? emptyArm();
      const breaker = config.guardrails.circuit_breaker;
      if (breaker) {
        const failures = arm.recent.filter(Boolean).length;
        const breached = arm.recent.length >= breaker.window && failures / arm.recent.length > breaker.max_error_rate;
        checks.push({ guardrail: 'circuit_breaker', variant, breached, ready: true, detail: `${failures} of the last ${arm.recent.length} requests failed (limit ${breaker.max_error_rate * 100}% of ${breaker.window})` });
      }
      const errorRate = config.guardrails.error_rate;
      if (errorRate) {
        const enough = arm.requests >= errorRate.min_requests && control.requests >= errorRate.min_requests;
        const test = sequentialGuardrail(errorSample(control), errorSample(arm), { alpha: errorRate.alpha, higherIsWorse: true });
        checks.push({
          guardrail: 'error_rate',
          variant,
          breached: enough && test.breached,
          ready: enough,
          detail: enough ? `error rate ${rate(arm)} vs control ${rate(control)}, always-valid p = ${test.pValue.toPrecision(3)} (alpha ${errorRate.alpha})` : `waiting for ${errorRate.min_requests} requests per arm`,
        });
      }
      const p95 = config.guardrails.p95_latency;
      if (p95) {
        const ours = quantileMs(arm.latency, 0.95);
        const theirs = quantileMs(control.latency, 0.95);
        const enough = arm.requests >= p95.min_requests && control.requests >= p95.min_requests && ours !== null && theirs !== null;
        const breached = enough && ours! > p95.max_ratio * theirs!;
        checks.push({ guardrail: 'p95_latency', variant, breached, ready: enough, detail: enough ? `p95 ${ours!.toFixed(2)} ms vs control ${theirs!.toFixed(2)} ms (limit ${p95.max_ratio}×)` : `waiting for ${p95.min_requests} requests per arm` });
      }
      if (outcome && outcomeSamples) {
        const empty = { units: 0, sum: 0, sumSquares: 0 };
        const mine = outcomeSamples.get(variant) ?? empty;
        const theirs = outcomeSamples.get(variants[0]!) ?? empty;
        const enough = mine.units >= outcome.min_units && theirs.units >= outcome.min_units;
        const test = sequentialGuardrail(theirs, mine, { alpha: outcome.alpha, higherIsWorse: !outcome.higher_is_better });
        checks.push({
          guardrail: 'outcome',
          variant,
          breached: enough && test.breached,
          ready: enough,
          detail: enough ? `${outcome.metric}: difference ${test.difference.toPrecision(3)}, always-valid p = ${test.pValue.toPrecision(3)} (alpha ${outcome.alpha})` : `waiting for ${outcome.min_units} units per arm`,
        });
      }
    }
    return checks;
  }

  /** Per variant, one metric's per-unit sample (from SQLite: outcomes arrive through feedback). */
  metricSamples(experimentId: string, metric: string, config: ExperimentConfig): Map<string, MetricSample> {
    const binary = config.metrics.find((m) => m.name === metric)?.type === 'binary';
    const rows = this.deps.repository.metricByVariant(experimentId, metric, binary);
    return new Map(rows.map((r) => [r.variant, { units: r.units, sum: r.sum, sumSquares: r.sum_squares }]));
  }

  /** Writes the units and arm deltas gathered since the last flush. */
  private flush(experimentId: string): void {
    const state = this.experiments.get(experimentId);
    if (!state || (state.units.size === 0 && state.deltas.size === 0)) return;
    const units = [...state.units.values()];
    const deltas = [...state.deltas.values()];
    state.units.clear();
    state.deltas.clear();
    this.deps.repository.record(experimentId, units, deltas);
  }

  flushAll(): void {
    for (const id of this.experiments.keys()) {
      try {
        this.flush(id);
      } catch (error) {
        this.deps.hooks.onError(error, id);
      }
    }
  }

  /**
   * Flushes, then checks guardrails and the canary of each watched experiment. One experiment's
   * failure (a disk error, its rows deleted underneath) is reported and does not stop the others;
   * an experiment whose rows are gone is no longer watched.
   */
  tick(): void {
    for (const [id, state] of [...this.experiments]) {
      try {
        this.tickOne(id, state);
      } catch (error) {
        this.deps.hooks.onError(error, id);
        if (!this.deps.repository.get(id)) this.experiments.delete(id);
      }
    }
  }

  private tickOne(id: string, state: WatchState): void {
    this.flush(id);
    if (state.breached) return;
    const checks = this.checks(id);
    const failed = checks.find((c) => c.breached);
    if (failed) {
      this.trip(state, failed);
      return;
    }
    const canary = state.experiment.config.canary;
    if (!canary || state.experiment.canaryStep >= canary.steps.length - 1 || !checks.every((c) => c.ready)) return;
    const treatment = state.experiment.variants[1]!;
    const units = this.deps.repository.unitsPerVariant(id, state.experiment.canaryStep).get(treatment) ?? 0;
    if (units >= canary.min_units_per_step) this.deps.hooks.advanceCanary(id);
  }

  close(): void {
    clearInterval(this.timer);
    this.flushAll();
  }
}

function rate(arm: ArmTotals): string {
  return arm.requests === 0 ? 'n/a' : `${((arm.errors / arm.requests) * 100).toFixed(2)}% of ${arm.requests}`;
}
