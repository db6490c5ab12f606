import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { inferboxError } from '../common/errors.js';
import { parseRequest } from '../common/parseRequest.js';
import type { ExperimentRepository, ExperimentRow } from '../store/ExperimentRepository.js';
import { canaryWeights, experimentInputSchema, initialWeights, jsonDepth, MAX_TARGETING_DEPTH, type ExperimentConfig, type ExperimentInput, type ExperimentStatus } from './experimentConfig.js';
import { ExperimentMonitor, SHADOW_ARM, type Assignment, type GuardrailCheck } from './ExperimentMonitor.js';
import { bucketRanges, chooseVariation, hashV2 } from './hashing.js';
import { quantileMs } from './latencyHistogram.js';
import { compareMetric, sampleRatioMismatch } from './statistics/index.js';
import { matches, type RequestAttributes } from './targeting.js';

/** An experiment as the API shows it. */
export interface ExperimentView {
  id: string;
  model: string;
  name: string;
  status: ExperimentStatus;
  enabled: boolean;
  seed: string;
  variants: { name: string; version: string; weight: number }[];
  config: ExperimentConfig;
  canary_step: number | null;
  end_reason: string | null;
  created_at: string;
  updated_at: string;
  started_at: string | null;
  ended_at: string | null;
}

/** A running experiment as the router reads it on every request. */
interface LiveExperiment {
  id: string;
  seed: string;
  config: ExperimentConfig;
  variants: { name: string; version: string }[];
  ranges: [number, number][];
  enabled: boolean;
  canaryStep: number;
}

/** How an experiment ended, as `onEnded` reports it. */
export interface EndedExperiment {
  experiment: ExperimentView;
  outcome: 'rolled_back' | 'promoted' | 'stopped';
  /** The guardrail that failed (rolled_back) or the promoted variant (promoted). */
  detail: Record<string, unknown>;
}

/** What the service needs to know of a model (the registry's model view has it). */
export interface ModelVersions {
  active_version: string | null;
  versions: { version: string; state: string }[];
}

export interface ExperimentDeps {
  repository: ExperimentRepository;
  /** The model's versions and active version (404 when unknown). */
  model: (name: string) => ModelVersions;
  /** Makes a version the model's active version (promotion). */
  activate: (model: string, version: string) => Promise<unknown>;
  /** The experiment and unit of a logged request id (pending log rows are written first). */
  requestExperiment: (requestId: string) => { experiment_id: string; unit_id: string } | undefined;
  /** Audit entries for what the system does by itself (rollbacks, canary steps). */
  auditSystem: (action: string, target: string, details: Record<string, unknown>) => void;
  /** A background flush or check failed (logged; the experiment keeps serving). */
  onError: (error: unknown, experimentId: string) => void;
  /** An experiment ended: a guardrail rolled it back, or an admin promoted a variant or stopped it (webhooks). */
  onEnded?: (ended: EndedExperiment) => void;
  now?: () => Date;
  flushIntervalMs?: number;
}

const MAX_FEEDBACK_VALUE = 1e9;
/** Longer unit ids are treated as none (the request goes to control, unanalyzed): they are stored per unit. */
const MAX_UNIT_ID_LENGTH = 200;
const MAX_BODY_DEPTH = 2 * MAX_TARGETING_DEPTH + 6;

const feedbackSchema = z
  .object({
    request_id: z.string().min(1).max(200).optional(),
    unit_id: z.string().min(1).max(200).optional(),
    metric: z.string().min(1).max(64),
    // Bounded so per-unit sums and squares stay finite in SQLite and in the statistics.
    value: z.number().min(-MAX_FEEDBACK_VALUE).max(MAX_FEEDBACK_VALUE),
  })
  .strict()
  .refine((f) => (f.request_id === undefined) !== (f.unit_id === undefined), { message: 'give request_id or unit_id (one of them)' });

const TRANSITIONS: Record<'start' | 'pause' | 'resume' | 'stop', { from: ExperimentStatus[]; to: ExperimentStatus }> = {
  start: { from: ['draft'], to: 'running' },
  pause: { from: ['running'], to: 'paused' },
  resume: { from: ['paused'], to: 'running' },
  stop: { from: ['running', 'paused'], to: 'stopped' },
};

const parseConfig = (row: ExperimentRow) => JSON.parse(row.config_json) as ExperimentConfig & { variants: { name: string; version: string }[] };
const parseWeights = (row: ExperimentRow) => JSON.parse(row.weights_json) as number[];

/**
 * A/B experiments on model versions: their lifecycle (draft → running ⇄ paused → stopped, or
 * rolled_back by a guardrail, or completed by promoting a variant), the per-request routing of
 * unversioned requests, business feedback, and the results with their statistics.
 */
export class ExperimentService {
  private readonly live = new Map<string, LiveExperiment>();
  readonly monitor: ExperimentMonitor;

  constructor(private readonly deps: ExperimentDeps) {
    this.monitor = new ExperimentMonitor({
      repository: deps.repository,
      hooks: { breach: (id, check) => this.rollback(id, check), advanceCanary: (id) => this.advanceCanary(id), onError: deps.onError },
      ...(deps.now ? { now: deps.now } : {}),
      ...(deps.flushIntervalMs ? { flushIntervalMs: deps.flushIntervalMs } : {}),
    });
    for (const row of deps.repository.listRunning()) this.goLive(row);
  }

  private now(): string {
    return (this.deps.now?.() ?? new Date()).toISOString();
  }

  private row(id: string): ExperimentRow {
    const row = this.deps.repository.get(id);
    if (!row) throw inferboxError('IBX_ERR_EXPERIMENT_NOT_FOUND', id);
    return row;
  }

  private view(row: ExperimentRow): ExperimentView {
    const { variants, ...config } = parseConfig(row);
    const weights = parseWeights(row);
    return {
      id: row.id,
      model: row.model_name,
      name: row.name,
      status: row.status as ExperimentStatus,
      enabled: row.enabled === 1,
      seed: row.seed,
      variants: variants.map((v, i) => ({ ...v, weight: weights[i] ?? 0 })),
      config: { ...config, variants } as ExperimentConfig,
      canary_step: config.canary ? row.canary_step : null,
      end_reason: row.end_reason,
      created_at: row.created_at,
      updated_at: row.updated_at,
      started_at: row.started_at,
      ended_at: row.ended_at,
    };
  }

  private parseInput(body: unknown): ExperimentInput {
    if (jsonDepth(body, MAX_BODY_DEPTH) > MAX_BODY_DEPTH) throw inferboxError('IBX_ERR_INVALID_REQUEST', `the experiment nests too deep (targeting: at most ${MAX_TARGETING_DEPTH} levels)`);
    const input = parseRequest(experimentInputSchema, body);
    this.deps.model(input.model); // 404 for a model that does not exist
    return input;
  }

  private stored(input: ExperimentInput): Pick<ExperimentRow, 'name' | 'seed' | 'config_json' | 'weights_json'> {
    const { name, model: _model, seed, weights: _weights, ...config } = input;
    return { name, seed: seed ?? randomBytes(8).toString('hex'), config_json: JSON.stringify(config), weights_json: JSON.stringify(initialWeights(input)) };
  }

  create(body: unknown): ExperimentView {
    const input = this.parseInput(body);
    const at = this.now();
    const row: ExperimentRow = {
      id: `exp_${randomBytes(8).toString('hex')}`,
      model_name: input.model,
      status: 'draft',
      enabled: 1,
      canary_step: 0,
      end_reason: null,
      created_at: at,
      updated_at: at,
      started_at: null,
      ended_at: null,
      ...this.stored(input),
    };
    this.deps.repository.insert(row);
    return this.view(row);
  }

  /** Drafts only: a running experiment's design is fixed (its data would mean something else). */
  update(id: string, body: unknown): ExperimentView {
    const row = this.row(id);
    if (row.status !== 'draft') throw inferboxError('IBX_ERR_CONFLICT', `experiment ${id} is ${row.status}; only a draft can be edited`);
    const input = this.parseInput(body);
    if (input.model !== row.model_name) throw inferboxError('IBX_ERR_CONFLICT', `experiment ${id} belongs to model '${row.model_name}'`);
    this.deps.repository.updateDraft(id, { ...this.stored(input), updated_at: this.now() });
    return this.get(id);
  }

  get(id: string): ExperimentView {
    return this.view(this.row(id));
  }

  list(model?: string): ExperimentView[] {
    return this.deps.repository.list(model).map((row) => this.view(row));
  }

  delete(id: string): void {
    const row = this.row(id);
    if (row.status === 'running' || row.status === 'paused') throw inferboxError('IBX_ERR_CONFLICT', `experiment ${id} is ${row.status}; stop it first`);
    this.deps.repository.delete(id);
  }

  /** Every version the experiment needs exists and is loaded, and control is what serves today. */
  private checkStartable(row: ExperimentRow): void {
    const config = parseConfig(row);
    const model = this.deps.model(row.model_name);
    const versions = [...config.variants.map((v) => v.version), ...(config.shadow ? [config.shadow.version] : [])];
    for (const version of versions) {
      const found = model.versions.find((v) => v.version === version);
      if (!found) throw inferboxError('IBX_ERR_CONFLICT', `model '${row.model_name}' has no version ${version}`);
      if (found.state !== 'ready' && found.state !== 'idle') throw inferboxError('IBX_ERR_CONFLICT', `version ${version} of '${row.model_name}' is ${found.state}; load it first`);
    }
    if (config.variants[0]!.version !== model.active_version) {
      throw inferboxError('IBX_ERR_CONFLICT', `the control variant must serve the active version (${model.active_version ?? 'none'}), the one that answers without an experiment`);
    }
    const running = this.deps.repository.list(row.model_name).find((e) => e.status === 'running' && e.id !== row.id);
    if (running) throw inferboxError('IBX_ERR_CONFLICT', `experiment ${running.id} is already running on '${row.model_name}': one at a time`);
  }

  transition(id: string, action: keyof typeof TRANSITIONS): ExperimentView {
    const row = this.row(id);
    const { from, to } = TRANSITIONS[action];
    if (!from.includes(row.status as ExperimentStatus)) throw inferboxError('IBX_ERR_CONFLICT', `experiment ${id} is ${row.status}; cannot ${action} it`);
    if (to === 'running') this.checkStartable(row);
    const at = this.now();
    this.deps.repository.update(id, { status: to, updated_at: at, ...(action === 'start' ? { started_at: at } : {}), ...(to === 'stopped' ? { ended_at: at, end_reason: 'stopped by an admin' } : {}) });
    this.refresh(id);
    const view = this.get(id);
    if (to === 'stopped') this.deps.onEnded?.({ experiment: view, outcome: 'stopped', detail: {} });
    return view;
  }

  /** The kill switch: off sends every request to control at once; on resumes the split. */
  setEnabled(id: string, enabled: boolean): ExperimentView {
    this.row(id);
    this.deps.repository.update(id, { enabled: enabled ? 1 : 0, updated_at: this.now() });
    this.refresh(id);
    return this.get(id);
  }

  /**
   * Makes the variant's version the model's active version and completes the experiment. The
   * experiment is marked completed first (one conditional update, so two promotions cannot both
   * win) and put back if the activation fails.
   */
  async promote(id: string, variantName: string): Promise<ExperimentView> {
    const row = this.row(id);
    const variant = parseConfig(row).variants.find((v) => v.name === variantName);
    if (!variant) throw inferboxError('IBX_ERR_INVALID_REQUEST', `experiment ${id} has no variant '${variantName}'`);
    const at = this.now();
    const claimed = this.deps.repository.updateIfStatus(id, ['running', 'paused', 'stopped'], { status: 'completed', ended_at: at, end_reason: `variant '${variantName}' (version ${variant.version}) promoted`, updated_at: at });
    if (!claimed) throw inferboxError('IBX_ERR_CONFLICT', `experiment ${id} is ${this.row(id).status}; cannot promote from it`);
    this.refresh(id);
    try {
      await this.deps.activate(row.model_name, variant.version);
    } catch (error) {
      this.deps.repository.update(id, { status: row.status, ended_at: row.ended_at, end_reason: row.end_reason, updated_at: this.now() });
      this.refresh(id);
      throw error;
    }
    const view = this.get(id);
    this.deps.onEnded?.({ experiment: view, outcome: 'promoted', detail: { variant: variantName, version: variant.version } });
    return view;
  }

  /** The versions running experiments route requests to (every variant; a shadow only gets copies): server readiness needs them. */
  runningVariants(): { model: string; version: string }[] {
    return this.deps.repository.listRunning().flatMap((row) => parseConfig(row).variants.map((v) => ({ model: row.model_name, version: v.version })));
  }

  /** Why a version must stay loaded and keep its role now: a running or paused experiment uses it. */
  versionInUse(model: string, version: string): string | null {
    for (const row of this.deps.repository.list(model)) {
      if (row.status !== 'running' && row.status !== 'paused') continue;
      const config = parseConfig(row);
      const uses = config.variants.some((v) => v.version === version) || config.shadow?.version === version;
      if (uses) return `version ${version} of '${model}' is part of ${row.status} experiment ${row.id} ('${row.name}'); stop or promote it first`;
    }
    return null;
  }

  /** A guardrail failed: every treatment's weight goes to 0 and the experiment ends, with an audit entry. */
  private rollback(id: string, check: GuardrailCheck): void {
    const row = this.deps.repository.get(id);
    if (!row || row.status !== 'running') return;
    const weights = parseWeights(row).map((_, i) => (i === 0 ? 1 : 0));
    const at = this.now();
    const reason = `guardrail ${check.guardrail} failed for variant '${check.variant}': ${check.detail}`;
    this.deps.repository.update(id, { status: 'rolled_back', weights_json: JSON.stringify(weights), ended_at: at, end_reason: reason, updated_at: at });
    this.refresh(id);
    this.deps.auditSystem('experiment.rollback', id, { model: row.model_name, guardrail: check.guardrail, variant: check.variant, detail: check.detail });
    this.deps.onEnded?.({ experiment: this.get(id), outcome: 'rolled_back', detail: { guardrail: check.guardrail, variant: check.variant, reason: check.detail } });
  }

  private advanceCanary(id: string): void {
    const row = this.deps.repository.get(id);
    const canary = row && parseConfig(row).canary;
    if (!row || row.status !== 'running' || !canary || row.canary_step >= canary.steps.length - 1) return;
    const step = row.canary_step + 1;
    this.deps.repository.update(id, { canary_step: step, weights_json: JSON.stringify(canaryWeights(canary.steps[step]!)), updated_at: this.now() });
    this.refresh(id);
    this.deps.auditSystem('experiment.canary_advance', id, { model: row.model_name, step, treatment_percent: canary.steps[step] });
  }

  private goLive(row: ExperimentRow): void {
    const config = parseConfig(row);
    const live: LiveExperiment = {
      id: row.id,
      seed: row.seed,
      config,
      variants: config.variants,
      ranges: bucketRanges(parseWeights(row)),
      enabled: row.enabled === 1,
      canaryStep: row.canary_step,
    };
    this.live.set(row.model_name, live);
    this.monitor.watch({ id: row.id, config, variants: config.variants.map((v) => v.name), canaryStep: row.canary_step });
  }

  /** Brings the router and the monitor in step with the stored experiment. */
  private refresh(id: string): void {
    const row = this.deps.repository.get(id);
    if (!row) return;
    if (row.status === 'running') {
      this.goLive(row);
      return;
    }
    if (this.live.get(row.model_name)?.id === id) this.live.delete(row.model_name);
    this.monitor.forget(id);
  }

  /**
   * Picks the variant of an unversioned request: no running experiment → null (the active
   * version answers). Switched off, no unit id or not targeted → control, left out of the
   * analysis. Otherwise GrowthBook's sticky hash of seed and unit id over the weight ranges.
   */
  route(model: string, request: RequestAttributes): (Assignment & { shadowVersion: string | null }) | null {
    const experiment = this.live.get(model);
    if (!experiment) return null;
    const control = experiment.variants[0]!;
    const source = experiment.config.unit_id;
    const raw = 'header' in source ? request.headers[source.header.toLowerCase()] : request.parameters[source.parameter];
    const given = typeof raw === 'string' && raw !== '' ? raw : typeof raw === 'number' ? String(raw) : null;
    const unitId = given !== null && given.length <= MAX_UNIT_ID_LENGTH ? given : null;
    const base = { experimentId: experiment.id, unitId, canaryStep: experiment.canaryStep };
    const toControl = { ...base, variant: control.name, version: control.version, analyzed: false, shadowVersion: null };
    if (!experiment.enabled || unitId === null) return toControl;
    if (experiment.config.targeting && !matches(experiment.config.targeting, request)) return toControl;
    const index = chooseVariation(hashV2(experiment.seed, unitId), experiment.ranges);
    if (index < 0) return toControl;
    const variant = experiment.variants[index]!;
    const shadow = experiment.config.shadow;
    const mirrored = shadow !== undefined && Math.random() * 100 < shadow.percent;
    return { ...base, variant: variant.name, version: variant.version, analyzed: true, shadowVersion: mirrored ? shadow.version : null };
  }

  /**
   * A business outcome for a unit, named directly or through a request id. It counts in every
   * running or paused experiment that exposed the unit, declares the metric and whose model the
   * caller may report on (an `infer:<model>` key: that model only).
   */
  /** `mayReport(model)`: whether the caller's key may report outcomes for that model's experiments. */
  feedback(body: unknown, mayReport: (model: string) => boolean = () => true): { recorded: { experiment_id: string; unit_id: string }[] } {
    const input = parseRequest(feedbackSchema, body);
    this.monitor.flushAll(); // a unit first seen in the last second is still only in memory
    const targets = input.request_id !== undefined
      ? [this.deps.requestExperiment(input.request_id)].filter((t): t is { experiment_id: string; unit_id: string } => t !== undefined)
      : this.deps.repository.experimentsOfUnit(input.unit_id!).map((id) => ({ experiment_id: id, unit_id: input.unit_id! }));
    // Every target is checked before any is written: a refusal leaves nothing half-recorded.
    const recorded = targets.filter((target) => {
      const row = this.deps.repository.get(target.experiment_id);
      if (!row || (row.status !== 'running' && row.status !== 'paused') || !mayReport(row.model_name)) return false;
      const metric = parseConfig(row).metrics.find((m) => m.name === input.metric);
      if (!metric) return false;
      if (metric.type === 'binary' && input.value !== 0 && input.value !== 1) throw inferboxError('IBX_ERR_INVALID_REQUEST', `metric '${input.metric}' is binary: value 0 or 1`);
      return true;
    });
    for (const target of recorded) this.deps.repository.addOutcome(target.experiment_id, target.unit_id, input.metric, input.value);
    if (recorded.length === 0) {
      throw inferboxError('IBX_ERR_FEEDBACK_TARGET_NOT_FOUND', input.request_id !== undefined ? `request '${input.request_id}'` : `unit '${input.unit_id}'`, input.metric);
    }
    return { recorded };
  }

  /** Per variant: traffic, errors, latency; per metric: estimates, lift, p-values; SRM; shadow; guardrails. */
  results(id: string): Record<string, unknown> {
    const row = this.row(id);
    const view = this.view(row);
    const { config } = view;
    const totals = this.monitor.totals(id);
    const stored = new Map(this.deps.repository.armStats(id).map((a) => [a.arm, a]));
    const buckets = new Map<string, Map<number, number>>();
    for (const b of this.deps.repository.latencyBuckets(id)) {
      const arm = buckets.get(b.arm) ?? new Map<number, number>();
      arm.set(b.bucket, b.count);
      buckets.set(b.arm, arm);
    }
    const arm = (name: string) => {
      const live = totals?.get(name);
      const requests = live?.requests ?? stored.get(name)?.requests ?? 0;
      const errors = live?.errors ?? stored.get(name)?.errors ?? 0;
      const latency = live?.latency ?? buckets.get(name) ?? new Map<number, number>();
      return { requests, errors, error_rate: requests === 0 ? null : errors / requests, latency_ms: { p50: quantileMs(latency, 0.5), p95: quantileMs(latency, 0.95), p99: quantileMs(latency, 0.99) }, agreements: live?.agreements ?? stored.get(name)?.agreements ?? 0 };
    };
    this.monitor.flushAll(); // the analysis reads units from SQLite: write what is pending first
    const units = this.deps.repository.unitsPerVariant(id);
    const variants = view.variants.map((v) => {
      const { agreements: _a, ...traffic } = arm(v.name);
      return { name: v.name, version: v.version, weight: v.weight, units: units.get(v.name) ?? 0, ...traffic };
    });
    // SRM compares units with the weights they were split by: with a canary, only the current step's.
    const srmUnits = config.canary ? this.deps.repository.unitsPerVariant(id, row.canary_step) : units;
    // Only variants still taking traffic can be checked (a rollback leaves the treatment at weight 0).
    const splitting = view.variants.filter((v) => v.weight > 0);
    const srm = splitting.length >= 2 && row.status !== 'rolled_back'
      ? sampleRatioMismatch(splitting.map((v) => srmUnits.get(v.name) ?? 0), splitting.map((v) => v.weight))
      : { checked: false, chiSquare: 0, pValue: 1, mismatch: false };
    const metrics = config.metrics.map((metric) => {
      const samples = this.monitor.metricSamples(id, metric.name, config);
      const empty = { units: 0, sum: 0, sumSquares: 0 };
      const control = samples.get(view.variants[0]!.name) ?? empty;
      return {
        name: metric.name,
        type: metric.type,
        primary: config.primary_metric === metric.name,
        comparisons: view.variants.slice(1).map((v) => ({ variant: v.name, against: view.variants[0]!.name, ...compareMetric(control, samples.get(v.name) ?? empty) })),
      };
    });
    const shadow = config.shadow ? (() => {
      const s = arm(SHADOW_ARM);
      return { version: config.shadow.version, percent: config.shadow.percent, requests: s.requests, errors: s.errors, agreement_rate: s.requests - s.errors === 0 ? null : s.agreements / (s.requests - s.errors), latency_ms: s.latency_ms };
    })() : null;
    return {
      experiment: view,
      variants,
      sample_ratio_mismatch: { ...srm, warning: srm.mismatch ? 'the units are not split as the weights say (p < 0.001): check targeting, caching or bots before trusting the results' : null },
      metrics,
      shadow,
      guardrails: row.status === 'running' ? this.monitor.checks(id) : [],
      canary: config.canary ? { step: row.canary_step, treatment_percent: config.canary.steps[row.canary_step], steps: config.canary.steps, min_units_per_step: config.canary.min_units_per_step } : null,
    };
  }

  close(): void {
    this.monitor.close();
  }
}
