import type { RuntimeTensor, TensorSpec } from '../common/datatypes.js';
import { inferboxError, messageOf } from '../common/errors.js';
import { runInChildProcess } from '../common/runInChildProcess.js';
import type { Precision } from '../common/SessionKey.js';
import { siblingModule } from '../common/spawnWorker.js';
import { EXECUTION_FIELDS, type ModelServingSettings } from '../config/modelServingSettings.js';
import type { PlanOverrides } from '../hardware/planExecution.js';
import { generateInputs } from '../quantization/generateInputs.js';
import type { TuningRepository, TuningRow } from '../store/TuningRepository.js';
import type { MeasuredCapacity } from './CapacityAdvisor.js';
import { capacityOf, chooseCandidate, type Choice } from './chooseCandidate.js';
import { oipJsonBody } from './tuningBodies.js';
import { tuningCandidates, type CandidateBasis, type SkippedCandidate } from './tuningCandidates.js';
import { settingsOf, type CandidateResult, type TuningCandidate, type TuningMessage, type TuningRequest } from './tuningProtocol.js';

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

/** What an apply or a remediation step replaces, to put back. */
interface ServingSnapshot {
  settings: Record<string, unknown>;
  precision_override: Precision | null;
  served_precision: Precision;
}

/** What adaptive remediation may step to (TuningJobs.remediationPlan). */
export interface RemediationPlan {
  version: string;
  objective_p95_ms: number;
  /** The candidate the version is served as when not stepped: its peak throughput and its capacity within the objective. */
  base: { id: string; peak_rps: number; capacity_rps: number };
  /** Measured candidates with more peak throughput than the base that fit the memory budget, smallest first. */
  ladder: { id: string; peak_rps: number }[];
  /** The candidate remediation serves now (null: the base). */
  stepped_to: string | null;
}

/** A candidate's last measurement in the run (its second one where the choice measured it again). */
export function latestResult(row: TuningRow, id: string): CandidateResult | undefined {
  return (row.results as unknown as CandidateResult[]).filter((r) => r.id === id).at(-1);
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
    const load = await this.loadBodies(name, target.inputs);
    // Every candidate once, and two curves more: the provisional choice and the current serving again.
    const levelSeconds = Math.min(LEVEL_SECONDS.max, Math.max(LEVEL_SECONDS.min, (budgetSeconds - SETUP_SECONDS) / ((candidates.length + 2) * EXPECTED_LEVELS) - 0.3));
    const plan: TuningPlan = { candidates, skipped, concurrencies: CONCURRENCIES, level_seconds: Number(levelSeconds.toFixed(2)), inputs: load.inputs };
    this.deps.repository.start({ model_name: name, version, budget_seconds: budgetSeconds, objective_p95_ms: settings.latency_objective_p95_ms, plan: plan as unknown as Record<string, unknown>, started_at: this.now().toISOString() });
    this.launch(name, version, target.file, plan, [], load.bodies, budgetSeconds, settings.latency_objective_p95_ms);
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

  /**
   * The capacity the version's serving was measured to have within its objective: the applied
   * candidate's, else the current serving's (as the last run measured it). Null without a
   * finished run with an objective, or when that candidate met it at no tested concurrency.
   */
  measuredCapacity(name: string, version: string): MeasuredCapacity | null {
    const row = this.deps.repository.get(name, version);
    if (!row || row.status === 'running' || row.objective_p95_ms === null) return null;
    const result = latestResult(row, row.applied_id ?? 'current');
    const capacity = result && result.error === null ? capacityOf(result.curve, row.objective_p95_ms) : null;
    return capacity && { version, capacity_rps: capacity.rps, objective_p95_ms: row.objective_p95_ms };
  }

  /** Runs a stop interrupted go on with the candidates they had not measured, with their budget again. */
  resumeInterrupted(): void {
    for (const row of this.deps.repository.running()) {
      const plan = row.plan as unknown as TuningPlan;
      void (async () => {
        try {
          const target = this.deps.target(row.model_name, row.version);
          const { bodies } = await this.loadBodies(row.model_name, target.inputs);
          this.launch(row.model_name, row.version, target.file, plan, row.results as unknown as CandidateResult[], bodies, row.budget_seconds, row.objective_p95_ms);
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
   * request fails) and the precision set; what they replaced is kept for `revert`. An adaptive
   * remediation step in place ends: the admin's choice wins.
   */
  async apply(name: string, version: string, id?: string): Promise<TuningRow> {
    const row = this.requireFinished(name, version);
    const chosen = id ?? (row.choice as Choice | null)?.id;
    const candidate = this.measuredCandidate(row, chosen);
    const replaced = this.snapshot(name, version);
    await this.serveAs(name, version, candidate);
    this.deps.repository.setApplied(name, version, { id: candidate.id, at: this.now().toISOString(), replaced: replaced as unknown as Record<string, unknown> });
    this.deps.repository.setRemediation(name, version, null);
    return this.deps.repository.get(name, version)!;
  }

  /** Puts back what the last apply replaced: the model's settings overrides and the version's precision. */
  async revert(name: string, version: string): Promise<TuningRow> {
    const row = this.deps.repository.get(name, version);
    if (!row?.replaced) throw inferboxError('IBX_ERR_CONFLICT', `no tuning of version ${version} of '${name}' was applied`);
    await this.restore(name, version, row.replaced as unknown as ServingSnapshot);
    this.deps.repository.setApplied(name, version, null);
    this.deps.repository.setRemediation(name, version, null);
    return this.deps.repository.get(name, version)!;
  }

  /**
   * What adaptive remediation may do for the version: its objective, the candidate it is served as
   * (applied, else the current serving) with its capacity, and the measured candidates with more
   * peak throughput than that one whose sessions the memory budget holds, smallest first. Null
   * without a finished run with an objective.
   */
  remediationPlan(name: string, version: string): RemediationPlan | null {
    const row = this.deps.repository.get(name, version);
    if (!row || row.status === 'running' || row.objective_p95_ms === null) return null;
    const plan = row.plan as unknown as TuningPlan;
    const results = new Map((row.results as unknown as CandidateResult[]).filter((r) => r.error === null && r.curve.length > 0).map((r) => [r.id, r]));
    const peak = (id: string) => Math.max(0, ...(results.get(id)?.curve.filter((p) => p.errors === 0).map((p) => p.rps) ?? []));
    const baseId = row.applied_id ?? 'current';
    const base = plan.candidates.find((c) => c.id === baseId);
    if (!base || !results.has(baseId)) return null;
    const { sessionBytes } = this.deps.target(name, version);
    const left = this.deps.bytesLeft(name);
    // Room for the step: what the budget leaves plus what the base's own sessions give back.
    const room = left === null ? Number.POSITIVE_INFINITY : left + sessionBytes * (base.max_instances + 1);
    const ladder = plan.candidates
      .filter((c) => c.id !== baseId && results.has(c.id) && peak(c.id) > peak(baseId) && sessionBytes * (c.max_instances + 1) <= room)
      .map((c) => ({ id: c.id, peak_rps: peak(c.id) }))
      .sort((a, b) => a.peak_rps - b.peak_rps);
    const remediation = row.remediation as { to: string } | null;
    return {
      version,
      objective_p95_ms: row.objective_p95_ms,
      base: { id: baseId, peak_rps: peak(baseId), capacity_rps: capacityOf(results.get(baseId)!.curve, row.objective_p95_ms)?.rps ?? 0 },
      ladder,
      stepped_to: remediation?.to ?? null,
    };
  }

  /** Adaptive remediation: serves the version as a larger candidate; the first step keeps the settings to return to. */
  async stepTo(name: string, version: string, id: string, reason: string): Promise<void> {
    const row = this.requireFinished(name, version);
    const candidate = this.measuredCandidate(row, id);
    const current = row.remediation as { snapshot: ServingSnapshot } | null;
    const snapshot = current?.snapshot ?? this.snapshot(name, version);
    await this.serveAs(name, version, candidate);
    this.deps.repository.setRemediation(name, version, { to: id, since: this.now().toISOString(), reason, snapshot });
  }

  /** The load fell: the version goes back to the settings it had before remediation's first step. */
  async endRemediation(name: string, version: string): Promise<void> {
    const row = this.deps.repository.get(name, version);
    const current = row?.remediation as { snapshot: ServingSnapshot } | null | undefined;
    if (!current) return;
    await this.restore(name, version, current.snapshot);
    this.deps.repository.setRemediation(name, version, null);
  }

  /** The OIP JSON bodies the load sends in turn: the model's stored samples, else generated inputs (as the int8 gate makes them). */
  private async loadBodies(name: string, inputs: TensorSpec[]): Promise<{ bodies: string[]; inputs: TuningPlan['inputs'] }> {
    const stored = await this.deps.samples({ name, inputs });
    const feeds = stored.length > 0 ? stored : generateInputs(inputs, BODIES);
    return { bodies: feeds.slice(0, BODIES).map(oipJsonBody), inputs: stored.length > 0 ? 'samples' : 'generated' };
  }

  private measuredCandidate(row: TuningRow, id: string | undefined): TuningCandidate {
    const candidate = (row.plan as unknown as TuningPlan).candidates.find((c) => c.id === id);
    if (!candidate) throw inferboxError('IBX_ERR_INVALID_REQUEST', id === undefined ? 'the run chose no candidate' : `the run has no candidate '${id}'`);
    if (!row.results.some((r) => r.id === candidate.id && (r as unknown as CandidateResult).error === null)) {
      throw inferboxError('IBX_ERR_CONFLICT', `candidate '${candidate.id}' was not measured in the last run`);
    }
    return candidate;
  }

  /** The model's settings overrides and the version's precision now (what an apply or a step replaces). */
  private snapshot(name: string, version: string): ServingSnapshot {
    const target = this.deps.target(name, version);
    return { settings: { ...this.deps.settings.overrides(name) }, precision_override: target.precisionOverride, served_precision: target.servedPrecision };
  }

  /** Writes the candidate's settings that differ from the effective ones, and its precision. */
  private async serveAs(name: string, version: string, candidate: TuningCandidate): Promise<void> {
    const target = this.deps.target(name, version);
    const effective = this.deps.settings.effective(name);
    const wanted: Record<string, unknown> = settingsOf(candidate);
    // The provider 'cpu' the run measured for an `auto` model that runs on the CPU is not a change.
    if (effective.provider === 'auto' && wanted.provider === target.provider) delete wanted.provider;
    const changes = Object.fromEntries(Object.entries(wanted).filter(([field, value]) => effective[field as keyof ModelServingSettings] !== value));
    await this.writeSettings(name, changes, effective);
    if (candidate.precision !== target.servedPrecision) await this.deps.setPrecision(name, version, candidate.precision, candidate.precision);
  }

  /** Puts back a snapshot: every override it had, none it did not, and its precision. */
  private async restore(name: string, version: string, snapshot: ServingSnapshot): Promise<void> {
    const effective = this.deps.settings.effective(name);
    const now = this.deps.settings.overrides(name) as Record<string, unknown>;
    const changes: Record<string, unknown> = {};
    for (const field of new Set([...Object.keys(now), ...Object.keys(snapshot.settings)])) {
      const before = field in snapshot.settings ? snapshot.settings[field] : null;
      if (now[field] !== before) changes[field] = before;
    }
    await this.writeSettings(name, changes, effective);
    const target = this.deps.target(name, version);
    if (target.servedPrecision !== snapshot.served_precision || target.precisionOverride !== snapshot.precision_override) {
      await this.deps.setPrecision(name, version, snapshot.served_precision, snapshot.precision_override);
    }
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

  private launch(name: string, version: string, file: string, plan: TuningPlan, measured: CandidateResult[], bodies: string[], budgetSeconds: number, objective: number | null): void {
    const key = `${name}/${version}`;
    const controller = new AbortController();
    this.running.set(key, controller);
    const request: TuningRequest = {
      model: name,
      file,
      bodies,
      candidates: plan.candidates,
      measured,
      concurrencies: plan.concurrencies,
      levelSeconds: plan.level_seconds,
      objectiveP95Ms: objective,
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
