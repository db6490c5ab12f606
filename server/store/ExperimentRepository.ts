import type { SqliteDatabase } from './openDatabase.js';

export interface ExperimentRow {
  id: string;
  model_name: string;
  name: string;
  status: string;
  enabled: number;
  seed: string;
  config_json: string;
  weights_json: string;
  canary_step: number;
  end_reason: string | null;
  created_at: string;
  updated_at: string;
  started_at: string | null;
  ended_at: string | null;
}

/** One unit's requests since the last flush; the first write fixes its variant and canary step. */
export interface UnitDelta {
  unit_id: string;
  variant: string;
  canary_step: number;
  requests: number;
  errors: number;
  latency_ms_sum: number;
  /** 1 when this flush saw the unit served another variant than its first. */
  crossed: number;
  first_seen: string;
  last_seen: string;
}

export interface ArmDelta {
  arm: string;
  requests: number;
  errors: number;
  agreements: number;
  /** Latency histogram bucket → count. */
  latency: Map<number, number>;
}

export interface ArmStatsRow {
  arm: string;
  requests: number;
  errors: number;
  agreements: number;
}

/** Σ over a variant's units of one metric's per-unit value (0 for units that sent none). */
export interface VariantMetricRow {
  variant: string;
  units: number;
  sum: number;
  sum_squares: number;
}

export class ExperimentRepository {
  constructor(private readonly db: SqliteDatabase) {}

  insert(row: ExperimentRow): void {
    this.db
      .prepare(
        `INSERT INTO experiments (id, model_name, name, status, enabled, seed, config_json, weights_json, canary_step, end_reason, created_at, updated_at, started_at, ended_at)
         VALUES (@id, @model_name, @name, @status, @enabled, @seed, @config_json, @weights_json, @canary_step, @end_reason, @created_at, @updated_at, @started_at, @ended_at)`,
      )
      .run(row);
  }

  /** Replaces the editable fields of a draft. */
  updateDraft(id: string, fields: Pick<ExperimentRow, 'name' | 'seed' | 'config_json' | 'weights_json' | 'updated_at'>): void {
    this.db.prepare(`UPDATE experiments SET name = @name, seed = @seed, config_json = @config_json, weights_json = @weights_json, updated_at = @updated_at WHERE id = @id AND status = 'draft'`).run({ ...fields, id });
  }

  get(id: string): ExperimentRow | undefined {
    return this.db.prepare('SELECT * FROM experiments WHERE id = ?').get(id) as ExperimentRow | undefined;
  }

  list(model?: string): ExperimentRow[] {
    if (model === undefined) return this.db.prepare('SELECT * FROM experiments ORDER BY created_at DESC, id').all() as ExperimentRow[];
    return this.db.prepare('SELECT * FROM experiments WHERE model_name = ? ORDER BY created_at DESC, id').all(model) as ExperimentRow[];
  }

  listRunning(): ExperimentRow[] {
    return this.db.prepare("SELECT * FROM experiments WHERE status = 'running'").all() as ExperimentRow[];
  }

  delete(id: string): void {
    this.db.prepare('DELETE FROM experiments WHERE id = ?').run(id);
  }

  update(id: string, fields: Partial<Pick<ExperimentRow, 'status' | 'enabled' | 'weights_json' | 'canary_step' | 'end_reason' | 'started_at' | 'ended_at'>> & { updated_at: string }): void {
    const names = Object.keys(fields);
    this.db.prepare(`UPDATE experiments SET ${names.map((n) => `${n} = @${n}`).join(', ')} WHERE id = @id`).run({ ...fields, id });
  }

  /** Updates only while the experiment is in one of `statuses`; false when it was not (someone else moved it). */
  updateIfStatus(id: string, statuses: string[], fields: Partial<Pick<ExperimentRow, 'status' | 'end_reason' | 'ended_at'>> & { updated_at: string }): boolean {
    const names = Object.keys(fields);
    const result = this.db
      .prepare(`UPDATE experiments SET ${names.map((n) => `${n} = @${n}`).join(', ')} WHERE id = @id AND status IN (${statuses.map((_, i) => `@s${i}`).join(', ')})`)
      .run({ ...fields, id, ...Object.fromEntries(statuses.map((status, i) => [`s${i}`, status])) });
    return result.changes === 1;
  }

  /** Adds what the routing saw since the last flush, in one transaction. */
  record(experimentId: string, units: UnitDelta[], arms: ArmDelta[]): void {
    const unit = this.db.prepare(
      `INSERT INTO experiment_units (experiment_id, unit_id, variant, canary_step, requests, errors, latency_ms_sum, crossed, first_seen, last_seen)
       VALUES (@experiment_id, @unit_id, @variant, @canary_step, @requests, @errors, @latency_ms_sum, @crossed, @first_seen, @last_seen)
       ON CONFLICT (experiment_id, unit_id) DO UPDATE SET requests = requests + excluded.requests, errors = errors + excluded.errors,
         latency_ms_sum = latency_ms_sum + excluded.latency_ms_sum, last_seen = excluded.last_seen,
         crossed = MAX(crossed, excluded.crossed, variant != excluded.variant)`,
    );
    const arm = this.db.prepare(
      `INSERT INTO experiment_arm_stats (experiment_id, arm, requests, errors, agreements) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (experiment_id, arm) DO UPDATE SET requests = requests + excluded.requests, errors = errors + excluded.errors, agreements = agreements + excluded.agreements`,
    );
    const bucket = this.db.prepare(
      `INSERT INTO experiment_latency (experiment_id, arm, bucket, count) VALUES (?, ?, ?, ?)
       ON CONFLICT (experiment_id, arm, bucket) DO UPDATE SET count = count + excluded.count`,
    );
    this.db.transaction(() => {
      for (const u of units) unit.run({ ...u, experiment_id: experimentId });
      for (const a of arms) {
        arm.run(experimentId, a.arm, a.requests, a.errors, a.agreements);
        for (const [b, count] of a.latency) bucket.run(experimentId, a.arm, b, count);
      }
    })();
  }

  armStats(experimentId: string): ArmStatsRow[] {
    return this.db.prepare('SELECT arm, requests, errors, agreements FROM experiment_arm_stats WHERE experiment_id = ?').all(experimentId) as ArmStatsRow[];
  }

  latencyBuckets(experimentId: string): { arm: string; bucket: number; count: number }[] {
    return this.db.prepare('SELECT arm, bucket, count FROM experiment_latency WHERE experiment_id = ?').all(experimentId) as { arm: string; bucket: number; count: number }[];
  }

  /** Analyzed units per variant (not those a canary step moved), all of them or those first seen at one canary step. */
  unitsPerVariant(experimentId: string, canaryStep?: number): Map<string, number> {
    const rows = (canaryStep === undefined
      ? this.db.prepare('SELECT variant, COUNT(*) AS n FROM experiment_units WHERE experiment_id = ? AND crossed = 0 GROUP BY variant').all(experimentId)
      : this.db.prepare('SELECT variant, COUNT(*) AS n FROM experiment_units WHERE experiment_id = ? AND canary_step = ? AND crossed = 0 GROUP BY variant').all(experimentId, canaryStep)) as { variant: string; n: number }[];
    return new Map(rows.map((r) => [r.variant, r.n]));
  }

  /** Experiments (not drafts) that exposed this unit: feedback by unit id goes to each of them. */
  experimentsOfUnit(unitId: string): string[] {
    const rows = this.db.prepare("SELECT u.experiment_id AS id FROM experiment_units u JOIN experiments e ON e.id = u.experiment_id WHERE u.unit_id = ? AND e.status IN ('running', 'paused')").all(unitId) as { id: string }[];
    return rows.map((r) => r.id);
  }

  addOutcome(experimentId: string, unitId: string, metric: string, value: number): void {
    this.db
      .prepare(
        `INSERT INTO experiment_outcomes (experiment_id, unit_id, metric, value_sum, observations) VALUES (?, ?, ?, ?, 1)
         ON CONFLICT (experiment_id, unit_id, metric) DO UPDATE SET value_sum = value_sum + excluded.value_sum, observations = observations + 1`,
      )
      .run(experimentId, unitId, metric, value);
  }

  /**
   * Per variant: units, Σ per-unit value and Σ its square for one metric. A binary metric counts
   * a unit once however often it converted; units without feedback count as 0; units a canary
   * step moved to another variant are left out (they saw both).
   */
  metricByVariant(experimentId: string, metric: string, binary: boolean): VariantMetricRow[] {
    const value = binary ? 'MIN(COALESCE(o.value_sum, 0), 1)' : 'COALESCE(o.value_sum, 0)';
    return this.db
      .prepare(
        `SELECT u.variant AS variant, COUNT(*) AS units, SUM(${value}) AS sum, SUM(${value} * ${value}) AS sum_squares
         FROM experiment_units u LEFT JOIN experiment_outcomes o ON o.experiment_id = u.experiment_id AND o.unit_id = u.unit_id AND o.metric = ?
         WHERE u.experiment_id = ? AND u.crossed = 0 GROUP BY u.variant`,
      )
      .all(metric, experimentId) as VariantMetricRow[];
  }
}
