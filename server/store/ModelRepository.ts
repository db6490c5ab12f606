import type { TensorSpec } from '../common/datatypes.js';
import type { Precision } from '../common/SessionKey.js';
import type { SqliteDatabase } from './openDatabase.js';

export type DesiredState = 'loaded' | 'unloaded';
export type { Precision };

export interface ModelRow {
  name: string;
  active_version: string | null;
  created_at: string;
  /** 1 when the admin turned the response cache on for this model. */
  cache_enabled: number;
  /** The serving settings the admin set for this model (JSON object); the rest follow the server's defaults. */
  settings_json: string;
}

export interface ModelVersionRow {
  model_name: string;
  version: string;
  desired_state: DesiredState;
  /** Relative to the data directory, so the data directory can move. */
  file_path: string;
  sha256: string;
  size_bytes: number;
  opset: number | null;
  ir_version: number | null;
  producer: string | null;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  created_at: string;
  created_by: string | null;
  /** Which file answers requests: the original, or the int8 candidate the gate (or the admin) chose. */
  served_precision: Precision;
  /** The admin's choice, which the gate never overrides; null = follow the gate. */
  precision_override: Precision | null;
  /** Set at registration by whoever uploaded it (a training pipeline: git commit, dataset…). */
  labels: Record<string, string>;
  /** Figures from training (accuracy, loss…), set at registration. */
  metrics: Record<string, number>;
  /** RSS one session took where it was measured (a child process, at upload); null: not measured yet. */
  session_bytes: number | null;
  /** How long creating that session took, ms; null with session_bytes. */
  session_load_ms: number | null;
}

interface VersionRecord extends Omit<ModelVersionRow, 'inputs' | 'outputs' | 'labels' | 'metrics'> {
  inputs_json: string;
  outputs_json: string;
  labels_json: string;
  metrics_json: string;
}

function fromRecord({ inputs_json, outputs_json, labels_json, metrics_json, ...rest }: VersionRecord): ModelVersionRow {
  return {
    ...rest,
    inputs: JSON.parse(inputs_json) as TensorSpec[],
    outputs: JSON.parse(outputs_json) as TensorSpec[],
    labels: JSON.parse(labels_json) as Record<string, string>,
    metrics: JSON.parse(metrics_json) as Record<string, number>,
  };
}

/** Versions sort as integers ("10" after "9"). */
const BY_VERSION = 'ORDER BY CAST(version AS INTEGER)';

export class ModelRepository {
  // Read on every inference request (resolving the version): prepared once, not per call.
  private readonly modelByName;
  private readonly versionByKey;
  /**
   * Rows read by the per-request lookups, kept until this repository writes: it is the only
   * writer of these tables (no other process changes models), so the cache is never stale, and a
   * request costs no SQLite read or JSON parse of the signature.
   */
  private readonly models = new Map<string, ModelRow | undefined>();
  private readonly versions = new Map<string, ModelVersionRow | undefined>();

  constructor(private readonly db: SqliteDatabase) {
    this.modelByName = db.prepare('SELECT * FROM models WHERE name = ?');
    this.versionByKey = db.prepare('SELECT * FROM model_versions WHERE model_name = ? AND version = ?');
  }

  listModels(): ModelRow[] {
    return this.db.prepare('SELECT * FROM models ORDER BY name').all() as ModelRow[];
  }

  getModel(name: string): ModelRow | undefined {
    if (this.models.has(name)) return this.models.get(name);
    const row = this.modelByName.get(name) as ModelRow | undefined;
    // Names that do not exist are not kept: callers could otherwise grow the map without bound.
    if (row) this.models.set(name, row);
    return row;
  }

  /** Every write calls this: a change to one row may change what another lookup returns (active version, deletes). */
  private invalidate(): void {
    this.models.clear();
    this.versions.clear();
  }

  listVersions(name: string): ModelVersionRow[] {
    const rows = this.db.prepare(`SELECT * FROM model_versions WHERE model_name = ? ${BY_VERSION}`).all(name) as VersionRecord[];
    return rows.map(fromRecord);
  }

  listAllVersions(): ModelVersionRow[] {
    const rows = this.db.prepare(`SELECT * FROM model_versions ORDER BY model_name, CAST(version AS INTEGER)`).all() as VersionRecord[];
    return rows.map(fromRecord);
  }

  getVersion(name: string, version: string): ModelVersionRow | undefined {
    const key = `${name}/${version}`;
    if (this.versions.has(key)) return this.versions.get(key);
    const record = this.versionByKey.get(name, version) as VersionRecord | undefined;
    const row = record ? fromRecord(record) : undefined;
    if (row) this.versions.set(key, row);
    return row;
  }

  /** The next version number: one above the highest ever stored for this model (deleted ones count). */
  nextVersion(name: string): string {
    const row = this.db.prepare('SELECT last_version AS v FROM models WHERE name = ?').get(name) as { v: number } | undefined;
    return String((row?.v ?? 0) + 1);
  }

  /** Adds a version (creating the model on its first one); `activate` makes it the default. */
  insertVersion(row: ModelVersionRow, activate: boolean): void {
    this.invalidate();
    this.db.transaction(() => {
      this.db.prepare('INSERT OR IGNORE INTO models (name, active_version, created_at) VALUES (?, NULL, ?)').run(row.model_name, row.created_at);
      const { inputs, outputs, labels, metrics, ...rest } = row;
      this.db
        .prepare(
          `INSERT INTO model_versions (model_name, version, desired_state, file_path, sha256, size_bytes, opset, ir_version, producer, inputs_json, outputs_json, created_at, created_by, served_precision, precision_override, labels_json, metrics_json, session_bytes, session_load_ms)
           VALUES (@model_name, @version, @desired_state, @file_path, @sha256, @size_bytes, @opset, @ir_version, @producer, @inputs_json, @outputs_json, @created_at, @created_by, @served_precision, @precision_override, @labels_json, @metrics_json, @session_bytes, @session_load_ms)`,
        )
        .run({ ...rest, inputs_json: JSON.stringify(inputs), outputs_json: JSON.stringify(outputs), labels_json: JSON.stringify(labels), metrics_json: JSON.stringify(metrics) });
      this.db.prepare('UPDATE models SET last_version = MAX(last_version, ?) WHERE name = ?').run(Number(row.version), row.model_name);
      if (activate) this.setActiveVersion(row.model_name, row.version);
    })();
  }

  setServingSettings(name: string, settingsJson: string): void {
    this.invalidate();
    this.db.prepare('UPDATE models SET settings_json = ? WHERE name = ?').run(settingsJson, name);
  }

  setCacheEnabled(name: string, enabled: boolean): void {
    this.invalidate();
    this.db.prepare('UPDATE models SET cache_enabled = ? WHERE name = ?').run(enabled ? 1 : 0, name);
  }

  setActiveVersion(name: string, version: string | null): void {
    this.invalidate();
    this.db.prepare('UPDATE models SET active_version = ? WHERE name = ?').run(version, name);
  }

  setPrecision(name: string, version: string, precision: { served?: Precision; override?: Precision | null }): void {
    this.invalidate();
    if (precision.served !== undefined) {
      this.db.prepare('UPDATE model_versions SET served_precision = ? WHERE model_name = ? AND version = ?').run(precision.served, name, version);
    }
    if (precision.override !== undefined) {
      this.db.prepare('UPDATE model_versions SET precision_override = ? WHERE model_name = ? AND version = ?').run(precision.override, name, version);
    }
  }

  /** Records a version's measured session (see ModelVersionRow.session_bytes). */
  setSessionCost(name: string, version: string, cost: { sessionBytes: number; loadMs: number }): void {
    this.invalidate();
    this.db.prepare('UPDATE model_versions SET session_bytes = ?, session_load_ms = ? WHERE model_name = ? AND version = ?').run(cost.sessionBytes, cost.loadMs, name, version);
  }

  setDesiredState(name: string, version: string, state: DesiredState): void {
    this.invalidate();
    this.db.prepare('UPDATE model_versions SET desired_state = ? WHERE model_name = ? AND version = ?').run(state, name, version);
  }

  /** Removes a version; the model goes with its last version. Returns whether the model is gone. */
  deleteVersion(name: string, version: string): { modelDeleted: boolean } {
    this.invalidate();
    return this.db.transaction(() => {
      this.db.prepare('DELETE FROM model_versions WHERE model_name = ? AND version = ?').run(name, version);
      this.db.prepare('UPDATE models SET active_version = NULL WHERE name = ? AND active_version = ?').run(name, version);
      const left = this.db.prepare('SELECT COUNT(*) AS n FROM model_versions WHERE model_name = ?').get(name) as { n: number };
      if (left.n === 0) this.db.prepare('DELETE FROM models WHERE name = ?').run(name);
      return { modelDeleted: left.n === 0 };
    })();
  }
}
