import type { SqliteDatabase } from './openDatabase.js';

export type TuningStatus = 'running' | 'done' | 'failed' | 'cancelled';

/** A version's latest tuning run (migration 015); the JSON columns are the tuner's own shapes. */
export interface TuningRow {
  model_name: string;
  version: string;
  status: TuningStatus;
  budget_seconds: number;
  objective_p95_ms: number | null;
  plan: Record<string, unknown>;
  results: Record<string, unknown>[];
  choice: Record<string, unknown> | null;
  error: string | null;
  started_at: string;
  finished_at: string | null;
  applied_id: string | null;
  applied_at: string | null;
  /** What the last apply replaced: the model's settings overrides and the version's precision override. */
  replaced: Record<string, unknown> | null;
  /** Adaptive remediation's step away from the tuned serving, while it lasts. */
  remediation: Record<string, unknown> | null;
}

interface TuningRecord extends Omit<TuningRow, 'plan' | 'results' | 'choice' | 'replaced' | 'remediation'> {
  plan_json: string;
  results_json: string;
  choice_json: string | null;
  replaced_json: string | null;
  remediation_json: string | null;
}

const parsed = <T>(json: string | null): T | null => (json === null ? null : (JSON.parse(json) as T));

/** Tuning runs, one per version (a new run replaces the last one's row). */
export class TuningRepository {
  constructor(private readonly db: SqliteDatabase) {}

  /** A new run: replaces the version's last one, its apply record included. */
  start(row: Pick<TuningRow, 'model_name' | 'version' | 'budget_seconds' | 'objective_p95_ms' | 'plan' | 'started_at'>): void {
    this.db
      .prepare(
        `INSERT OR REPLACE INTO tuning_runs (model_name, version, status, budget_seconds, objective_p95_ms, plan_json, results_json, started_at)
         VALUES (@model_name, @version, 'running', @budget_seconds, @objective_p95_ms, @plan_json, '[]', @started_at)`,
      )
      .run({ model_name: row.model_name, version: row.version, budget_seconds: row.budget_seconds, objective_p95_ms: row.objective_p95_ms, plan_json: JSON.stringify(row.plan), started_at: row.started_at });
  }

  addResult(name: string, version: string, result: Record<string, unknown>): void {
    this.db.prepare("UPDATE tuning_runs SET results_json = json_insert(results_json, '$[#]', json(?)) WHERE model_name = ? AND version = ?").run(JSON.stringify(result), name, version);
  }

  finish(name: string, version: string, outcome: { status: Exclude<TuningStatus, 'running'>; choice: Record<string, unknown> | null; error: string | null; at: string }): void {
    this.db
      .prepare('UPDATE tuning_runs SET status = ?, choice_json = ?, error = ?, finished_at = ? WHERE model_name = ? AND version = ?')
      .run(outcome.status, outcome.choice === null ? null : JSON.stringify(outcome.choice), outcome.error, outcome.at, name, version);
  }

  /** An apply (`id` the candidate) or a revert (`id` null, `replaced` null). */
  setApplied(name: string, version: string, applied: { id: string; at: string; replaced: Record<string, unknown> } | null): void {
    this.db
      .prepare('UPDATE tuning_runs SET applied_id = ?, applied_at = ?, replaced_json = ? WHERE model_name = ? AND version = ?')
      .run(applied?.id ?? null, applied?.at ?? null, applied ? JSON.stringify(applied.replaced) : null, name, version);
  }

  setRemediation(name: string, version: string, remediation: Record<string, unknown> | null): void {
    this.db.prepare('UPDATE tuning_runs SET remediation_json = ? WHERE model_name = ? AND version = ?').run(remediation === null ? null : JSON.stringify(remediation), name, version);
  }

  get(name: string, version: string): TuningRow | undefined {
    const record = this.db.prepare('SELECT * FROM tuning_runs WHERE model_name = ? AND version = ?').get(name, version) as TuningRecord | undefined;
    return record && TuningRepository.row(record);
  }

  /** Runs a stop interrupted (the server ended while they ran): resumed at the next start. */
  running(): TuningRow[] {
    return (this.db.prepare("SELECT * FROM tuning_runs WHERE status = 'running' ORDER BY started_at").all() as TuningRecord[]).map((r) => TuningRepository.row(r));
  }

  private static row(record: TuningRecord): TuningRow {
    const { plan_json, results_json, choice_json, replaced_json, remediation_json, ...rest } = record;
    return { ...rest, plan: JSON.parse(plan_json) as Record<string, unknown>, results: JSON.parse(results_json) as Record<string, unknown>[], choice: parsed(choice_json), replaced: parsed(replaced_json), remediation: parsed(remediation_json) };
  }
}
