import type { RuntimeTensor, TensorSpec } from '../common/datatypes.js';
import { inferboxError, messageOf } from '../common/errors.js';
import { runInChildProcess } from '../common/runInChildProcess.js';
import type { Precision } from '../common/SessionKey.js';
import { siblingModule } from '../common/spawnWorker.js';
import { EXECUTION_FIELDS, type ModelServingSettings } from '../config/modelServingSettings.js';
import type { PlanOverrides } from '../hardware/planExecution.js';
import { generateInputs } from '../quantization/generateInputs.js';
import type { TuningRepository, TuningRow } from '../store/TuningRepository.js';
import { chooseCandidate, type Choice } from './chooseCandidate.js';
import { oipJsonBody } from './tuningBodies.js';
import { tuningCandidates, type CandidateBasis, type SkippedCandidate } from './tuningCandidates.js';
import type { CandidateResult, TuningCandidate, TuningMessage, TuningRequest } from './tuningProtocol.js';

/** The version as the tuner sees it (the registry answers; the tuner does not import it). */
export interface TuningTarget {
  /** Its fp32 file (the tuning server makes its own int8 candidate from it). */
  file: string;
  inputs: TensorSpec[];
  servedPrecision: Precision;
  precisionOverride: Precision | null;
  /** Whether the int8 gate decided for int8 (its candidate may be served). */
  int8Allowed: boolean;
  /** Where `auto` runs it now, or the provider its setting forces. */
  provider: 'cpu' | 'webgpu';
  sessionBytes: number;
}

export interface TuningDeps {
  repository: TuningRepository;
  target: (name: string, version: string) => TuningTarget;
  settings: {
    effective: (model: string) => ModelServingSettings;
    overrides: (model: string) => Partial<ModelServingSettings>;
    update: (model: string, body: Record<string, unknown>) => unknown;
  };
  /** The model's versions take new provider or thread settings (sessions swap; no request fails). */
  applyExecution: (model: string) => Promise<unknown>;
  setPrecision: (name: string, version: string, served: Precision, override: Precision | null) => Promise<unknown>;
  /** Stored samples that fit the version (uploaded or recorded), decoded; empty when none. */
  samples: (signature: { name: string; inputs: TensorSpec[] }) => Promise<Record<string, RuntimeTensor>[]>;
  /** The real server's plan: workers, threads, provider (the tuning server gets the same). */
  execution: PlanOverrides & { instances: number };
  cores: number;
  webgpuAvailable: () => boolean;
  /** What the memory budget leaves for more sessions of this model (null: no budget). */
  bytesLeft: (name: string) => number | null;
  /** A run ended (done, failed or cancelled), and whether its choice was applied by itself. */
  onFinished?: (name: string, version: string, row: TuningRow) => void;
  onError: (error: unknown, job: string) => void;
  now?: () => Date;
}

export const DEFAULT_BUDGET_SECONDS = 60;
export const MAX_BUDGET_SECONDS = 600;
const CONCURRENCIES = [1, 2, 4, 8, 16, 32, 64];
/** The tuning server's start, upload, int8 gate and warm-up, within the budget. */
const SETUP_SECONDS = 12;
/** Levels a curve is expected to take before it saturates or passes the objective: sets the level length. */
const EXPECTED_LEVELS = 5;
const LEVEL_SECONDS = { min: 0.5, max: 3 };
/** Samples sent in turn by the load. */
const BODIES = 8;
/** Setup, a slow level and the tuning server's close, beyond the budget, before the run is ended from outside. */
const OVERRUN_MS = 60_000;

/** The plan stored with a run (what the console shows before results arrive). */
export interface TuningPlan {
  candidates: TuningCandidate[];
  skipped: SkippedCandidate[];
  concurrencies: number[];
  level_seconds: number;
  inputs: 'samples' | 'generated';
}

/** The serving settings a candidate sets (its id, description and precision are not settings). */
function settingsOf(candidate: TuningCandidate): Partial<ModelServingSettings> {
  const { id: _id, description: _description, precision: _precision, ...settings } = candidate;
  return settings;
}

/**
 * The built-in tuner (Triton's Model Analyzer, on the box): for a version, a bounded run in a
 * child process at background priority (tuningProcess) that measures each candidate's
 * latency/throughput curve on a tuning server of its own, stores each result as it arrives, and
 * chooses (chooseCandidate). Runs are cancellable, resumed with the candidates not yet measured
 * after a restart, and applied by the admin (or by themselves when the model allows it),
 * reversibly. One run per version at a time.
 */
export class TuningJobs {
  private readonly running = new Map<string, AbortController>();
  private readonly closing = new AbortController();
  private readonly now: () => Date;

  constructor(private readonly deps: TuningDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /** Starts a run (409 while one runs for the version); resolves with its stored row once it started. */
  async start(name: string, version: string, options: { budgetSeconds?: number } = {}): Promise<TuningRow> {
    const key = `${name}/${version}`;
    if (this.running.has(key)) throw inferboxError('IBX_ERR_CONFLICT', `version ${version} of '${name}' is being tuned already; cancel that run first`);
    const target = this.deps.target(name, version);
    const settings = this.deps.settings.effective(name);
    const budgetSeconds = options.budgetSeconds ?? DEFAULT_BUDGET_SECONDS;
    const basis: CandidateBasis = {
      current: {
        precision: target.servedPrecision,
        provider: target.provider,
        min_instances: settings.min_instances,
        max_instances: Math.min(settings.max_instances, this.deps.execution.instances),
        intra_op_threads: settings.intra_op_threads,
        max_batch_size: settings.max_batch_size,
        max_queue_delay_micros: settings.max_queue_delay_micros,
      },
      workers: this.deps.execution.instances,
      cores: this.deps.cores,
      int8Allowed: target.int8Allowed,
      webgpuAvailable: this.deps.webgpuAvailable(),
      batchable: target.inputs.every((input) => input.shape[0] === -1),
      sessionBytes: target.sessionBytes,
      bytesLeft: this.deps.bytesLeft(name),
    };
    const { candidates, skipped } = tuningCandidates(basis);
    const stored = await this.deps.samples({ name, inputs: target.inputs });
    const levelSeconds = Math.min(LEVEL_SECONDS.max, Math.max(LEVEL_SECONDS.min, (budgetSeconds - SETUP_SECONDS) / (candidates.length * EXPECTED_LEVELS) - 0.3));
    const plan: TuningPlan = { candidates, skipped, concurrencies: CONCURRENCIES, level_seconds: Number(levelSeconds.toFixed(2)), inputs: stored.length > 0 ? 'samples' : 'generated' };
    this.deps.repository.start({ model_name: name, version, budget_seconds: budgetSeconds, objective_p95_ms: settings.latency_objective_p95_ms, plan: plan as unknown as Record<string, unknown>, started_at: this.now().toISOString() });
    const bodies = (stored.length > 0 ? stored : generateInputs(target.inputs, BODIES)).slice(0, BODIES).map(oipJsonBody);
    this.launch(name, version, target.file, plan, candidates, bodies, budgetSeconds, settings.latency_objective_p95_ms);
    return this.deps.repository.get(name, version)!;
  }

  /** Ends the version's run: its child processes are killed; what it measured stays. */
  cancel(name: string, version: string): TuningRow {
    const controller = this.running.get(`${name}/${version}`);
    if (!controller) throw inferboxError('IBX_ERR_CONFLICT', `version ${version} of '${name}' is not being tuned`);
    controller.abort();
    return this.deps.repository.get(name, version)!;
  }

  status(name: string, version: string): TuningRow | undefined {
    return this.deps.repository.get(name, version);
  }

  /** Runs a stop interrupted go on with the candidates they had not measured, with their budget again. */
  resumeInterrupted(): void {
    for (const row of this.deps.repository.running()) {
      const plan = row.plan as unknown as TuningPlan;
      const done = new Set(row.results.map((r) => r.id));
      const left = plan.candidates.filter((c) => !done.has(c.id));
      void (async () => {
        try {
          const target = this.deps.target(row.model_name, row.version);
          const stored = await this.deps.samples({ name: row.model_name, inputs: target.inputs });
          const bodies = (stored.length > 0 ? stored : generateInputs(target.inputs, BODIES)).slice(0, BODIES).map(oipJsonBody);
          this.launch(row.model_name, row.version, target.file, plan, left, bodies, row.budget_seconds, row.objective_p95_ms);
        } catch (error) {
          this.deps.repository.finish(row.model_name, row.version, { status: 'failed', choice: null, error: messageOf(error), at: this.now().toISOString() });
        }
      })();
    }
  }

  /** Ends every run (server shutdown): they stay `running` in the store and resume at the next start. */
  close(): void {
    this.closing.abort();
    for (const controller of this.running.values()) controller.abort();
  }

  /**
   * Serves the version as the candidate does (its choice when `id` is omitted): the settings that
   * differ are written as the model's overrides (provider or threads reload its sessions, no
   * request fails) and the precision set; what they replaced is kept for `revert`.
   */
  async apply(name: string, version: string, id?: string): Promise<TuningRow> {
    const row = this.requireFinished(name, version);
    const chosen = id ?? (row.choice as Choice | null)?.id;
    const candidate = (row.plan as unknown as TuningPlan).candidates.find((c) => c.id === chosen);
    if (!candidate) throw inferboxError('IBX_ERR_INVALID_REQUEST', chosen === undefined ? 'the run chose no candidate' : `the run has no candidate '${chosen}'`);
    if (!row.results.some((r) => r.id === candidate.id && (r as unknown as CandidateResult).error === null)) {
      throw inferboxError('IBX_ERR_CONFLICT', `candidate '${candidate.id}' was not measured in the last run`);
    }
    const target = this.deps.target(name, version);
    const replaced = { settings: { ...this.deps.settings.overrides(name) }, precision_override: target.precisionOverride, served_precision: target.servedPrecision };
    const effective = this.deps.settings.effective(name);
    const wanted = settingsOf(candidate) as Record<string, unknown>;
    // The provider 'cpu' the run measured for an `auto` model that runs on the CPU is not a change.
    if (effective.provider === 'auto' && wanted.provider === target.provider) delete wanted.provider;
    const changes = Object.fromEntries(Object.entries(wanted).filter(([field, value]) => effective[field as keyof ModelServingSettings] !== value));
    await this.writeSettings(name, changes, effective);
    if (candidate.precision !== target.servedPrecision) await this.deps.setPrecision(name, version, candidate.precision, candidate.precision);
    this.deps.repository.setApplied(name, version, { id: candidate.id, at: this.now().toISOString(), replaced });
    return this.deps.repository.get(name, version)!;
  }

  /** Puts back what the last apply replaced: the model's settings overrides and the version's precision. */
  async revert(name: string, version: string): Promise<TuningRow> {
    const row = this.deps.repository.get(name, version);
    if (!row?.replaced) throw inferboxError('IBX_ERR_CONFLICT', `no tuning of version ${version} of '${name}' was applied`);
    const replaced = row.replaced as { settings: Record<string, unknown>; precision_override: Precision | null; served_precision: Precision };
    const effective = this.deps.settings.effective(name);
    const now = this.deps.settings.overrides(name) as Record<string, unknown>;
    const changes: Record<string, unknown> = {};
    for (const field of new Set([...Object.keys(now), ...Object.keys(replaced.settings)])) {
      const before = field in replaced.settings ? replaced.settings[field] : null;
      if (now[field] !== before) changes[field] = before;
    }
    await this.writeSettings(name, changes, effective);
    const target = this.deps.target(name, version);
    if (target.servedPrecision !== replaced.served_precision || target.precisionOverride !== replaced.precision_override) {
      await this.deps.setPrecision(name, version, replaced.served_precision, replaced.precision_override);
    }
    this.deps.repository.setApplied(name, version, null);
    return this.deps.repository.get(name, version)!;
  }

  private async writeSettings(name: string, changes: Record<string, unknown>, before: ModelServingSettings): Promise<void> {
    if (Object.keys(changes).length === 0) return;
    this.deps.settings.update(name, changes);
    const after = this.deps.settings.effective(name);
    if (EXECUTION_FIELDS.some((field) => after[field] !== before[field])) await this.deps.applyExecution(name);
  }

  private requireFinished(name: string, version: string): TuningRow {
    const row = this.deps.repository.get(name, version);
    if (!row || row.status === 'running') throw inferboxError('IBX_ERR_CONFLICT', `version ${version} of '${name}' has no finished tuning run`);
    return row;
  }

  private launch(name: string, version: string, file: string, plan: TuningPlan, candidates: TuningCandidate[], bodies: string[], budgetSeconds: number, objective: number | null): void {
    const key = `${name}/${version}`;
    const controller = new AbortController();
    this.running.set(key, controller);
    const request: TuningRequest = {
      model: name,
      file,
      bodies,
      candidates,
      concurrencies: plan.concurrencies,
      levelSeconds: plan.level_seconds,
      // Past twice the objective, higher concurrency only queues: the curve has what the choice needs.
      stopAboveP95Ms: objective === null ? null : objective * 2,
      execution: this.deps.execution,
      deadline: Date.now() + budgetSeconds * 1000,
    };
    const finish = (status: 'done' | 'failed' | 'cancelled', error: string | null) => {
      this.running.delete(key);
      if (this.closing.signal.aborted) return; // a shutdown: resumed at the next start
      const row = this.deps.repository.get(name, version);
      if (!row) return; // the version was deleted meanwhile
      const choice = chooseCandidate(row.results as unknown as CandidateResult[], row.objective_p95_ms);
      this.deps.repository.finish(name, version, { status, choice: choice as unknown as Record<string, unknown> | null, error, at: this.now().toISOString() });
      const finished = this.deps.repository.get(name, version)!;
      void this.afterFinish(name, version, finished);
    };
    runInChildProcess<TuningMessage>(siblingModule(import.meta.url, 'tuningProcess'), request, 'tuning', {
      timeoutMs: budgetSeconds * 1000 + OVERRUN_MS,
      signal: controller.signal,
      isReply: (message) => (message as TuningMessage).kind === 'end',
      onMessage: (message) => {
        const m = message as TuningMessage;
        if (m.kind === 'result' && this.deps.repository.get(name, version)) this.deps.repository.addResult(name, version, m.result as unknown as Record<string, unknown>);
      },
    }).then(
      (end) => finish(end.kind === 'end' && end.error !== null ? 'failed' : 'done', end.kind === 'end' ? end.error : null),
      (error: unknown) => finish(controller.signal.aborted ? 'cancelled' : 'failed', controller.signal.aborted ? null : messageOf(error)),
    );
  }

  private async afterFinish(name: string, version: string, row: TuningRow): Promise<void> {
    try {
      const choice = row.choice as Choice | null;
      const autoApply = row.status === 'done' && choice !== null && choice.id !== 'current' && this.deps.settings.effective(name).tuning_auto_apply;
      const applied = autoApply ? await this.apply(name, version) : row;
      this.deps.onFinished?.(name, version, applied);
    } catch (error) {
      this.deps.onError(error, `${name}/${version}`);
    }
  }
}
