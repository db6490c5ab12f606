import type { CapacityStatus } from './CapacityAdvisor.js';
import type { RemediationPlan } from './TuningJobs.js';

/** A step remediation took, for the audit trail, the webhook and the log. */
export interface RemediationEvent {
  model: string;
  version: string;
  action: 'step' | 'return';
  from: string;
  to: string;
  reason: string;
  load_rps: number;
  p95_ms: number | null;
  objective_p95_ms: number;
}

export interface AdaptiveRemediationDeps {
  /** Whether the admin opted the model in (`adaptive_remediation`). */
  enabled: (model: string) => boolean;
  plan: (model: string) => RemediationPlan | null;
  stepTo: (model: string, version: string, id: string, reason: string) => Promise<void>;
  end: (model: string, version: string) => Promise<void>;
  onEvent: (event: RemediationEvent) => void;
  onError: (error: unknown, model: string) => void;
  /** How long p95 must stay above the objective before a step (default 30 s; again before each further step). */
  sustainMs?: number;
  /** How long the load must stay low, with p95 within the objective, before returning (default 60 s). */
  calmMs?: number;
  /** Load below this share of the base's capacity counts as low (the warning ratio, default 0.8). */
  calmRatio?: () => number;
  now?: () => number;
}

interface ModelState {
  overSince: number | null;
  calmSince: number | null;
  busy: boolean;
}

/**
 * Adaptive remediation, opt-in per model: when the p95 the advisor measures over the last minute
 * stays above the model's objective for `sustainMs`, the version steps to the next measured
 * candidate with more throughput that the memory budget holds (and further, one at a time, if p95
 * stays high); once the load has stayed below `calmRatio` of the tuned serving's capacity with p95
 * within the objective for `calmMs`, it returns to the settings it had. Each step is recorded
 * (audit, `capacity.remediation` webhook, the dashboard) with the figures that caused it.
 */
export class AdaptiveRemediation {
  private readonly state = new Map<string, ModelState>();
  private readonly now: () => number;
  private readonly sustainMs: number;
  private readonly calmMs: number;

  constructor(private readonly deps: AdaptiveRemediationDeps) {
    this.now = deps.now ?? Date.now;
    this.sustainMs = deps.sustainMs ?? 30_000;
    this.calmMs = deps.calmMs ?? 60_000;
  }

  /** The advisor's statuses of one sample: each model's load and p95 over the window. */
  observe(statuses: CapacityStatus[]): void {
    for (const status of statuses) {
      const state = this.state.get(status.model) ?? { overSince: null, calmSince: null, busy: false };
      this.state.set(status.model, state);
      if (state.busy) continue;
      const plan = this.deps.plan(status.model);
      if (!plan) continue;
      const at = this.now();
      if (!this.deps.enabled(status.model)) {
        // Switched off while stepped: back to the tuned serving at once.
        if (plan.stepped_to !== null) this.act(state, status, plan, 'return', plan.base.id, 'adaptive remediation was switched off');
        continue;
      }
      const over = status.p95_ms === null ? status.load_rps > plan.base.capacity_rps : status.p95_ms > plan.objective_p95_ms;
      if (over) {
        state.calmSince = null;
        state.overSince ??= at;
        if (at - state.overSince < this.sustainMs) continue;
        const current = plan.stepped_to === null ? plan.base.peak_rps : plan.ladder.find((c) => c.id === plan.stepped_to)?.peak_rps ?? plan.base.peak_rps;
        const next = plan.ladder.find((c) => c.peak_rps > current);
        state.overSince = at; // a further step waits a whole window again
        if (!next) continue;
        const p95 = status.p95_ms === null ? 'unknown' : `${status.p95_ms.toFixed(1)} ms`;
        this.act(state, status, plan, 'step', next.id, `p95 ${p95} stayed above the objective ${plan.objective_p95_ms} ms for ${Math.round(this.sustainMs / 1000)} s at ${Math.round(status.load_rps)} requests/s; '${next.id}' measured ${Math.round(next.peak_rps)} requests/s at its peak against ${Math.round(current)}`);
        continue;
      }
      state.overSince = null;
      const calmRatio = this.deps.calmRatio?.() ?? 0.8;
      const low = status.load_rps < plan.base.capacity_rps * calmRatio;
      if (plan.stepped_to === null || !low) {
        state.calmSince = null;
        continue;
      }
      state.calmSince ??= at;
      if (at - state.calmSince >= this.calmMs) {
        state.calmSince = null;
        this.act(state, status, plan, 'return', plan.base.id, `the load fell to ${Math.round(status.load_rps)} requests/s, below ${Math.round(calmRatio * 100)}% of the tuned serving's ${Math.round(plan.base.capacity_rps)}, for ${Math.round(this.calmMs / 1000)} s`);
      }
    }
  }

  private act(state: ModelState, status: CapacityStatus, plan: RemediationPlan, action: 'step' | 'return', to: string, reason: string): void {
    state.busy = true;
    const from = plan.stepped_to ?? plan.base.id;
    const done = action === 'step' ? this.deps.stepTo(status.model, plan.version, to, reason) : this.deps.end(status.model, plan.version);
    done.then(
      () => this.deps.onEvent({ model: status.model, version: plan.version, action, from, to, reason, load_rps: status.load_rps, p95_ms: status.p95_ms, objective_p95_ms: plan.objective_p95_ms }),
      (error: unknown) => this.deps.onError(error, status.model),
    ).finally(() => { state.busy = false; });
  }
}
