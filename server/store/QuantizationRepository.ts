import type { SqliteDatabase } from './openDatabase.js';
import { payloadWhere, type PayloadFilter } from './payloadWhere.js';

export type JobStatus = 'queued' | 'running' | 'done' | 'failed';

export interface QuantizationJobRow {
  model_name: string;
  version: string;
  status: JobStatus;
  stage: string | null;
  progress: number;
  /** The gate's report once there is one (shape owned by server/quantization). */
  report: Record<string, unknown> | null;
  updated_at: string;
}

interface JobRecord extends Omit<QuantizationJobRow, 'report'> {
  report_json: string | null;
}

export interface SampleRow {
  id: number;
  model_name: string;
  source: 'uploaded' | 'live';
  /** OIP inputs: [{name, datatype, shape, data}]. */
  inputs: unknown[];
  created_at: string;
  /** The live request it was recorded from (null for uploaded samples). */
  request_id: string | null;
}

/** int8 candidate jobs and their reports, and the validation samples they use. */
export class QuantizationRepository {
  constructor(private readonly db: SqliteDatabase) {}

  upsertJob(row: QuantizationJobRow): void {
    const { report, ...rest } = row;
    this.db
      .prepare(
        `INSERT INTO quantization_reports (model_name, version, status, stage, progress, report_json, updated_at)
         VALUES (@model_name, @version, @status, @stage, @progress, @report_json, @updated_at)
         ON CONFLICT(model_name, version) DO UPDATE SET status = excluded.status, stage = excluded.stage,
           progress = excluded.progress, report_json = excluded.report_json, updated_at = excluded.updated_at`,
      )
      .run({ ...rest, report_json: report ? JSON.stringify(report) : null });
  }

  getJob(name: string, version: string): QuantizationJobRow | undefined {
    const row = this.db.prepare('SELECT * FROM quantization_reports WHERE model_name = ? AND version = ?').get(name, version) as JobRecord | undefined;
    if (!row) return undefined;
    const { report_json, ...rest } = row;
    return { ...rest, report: report_json ? (JSON.parse(report_json) as Record<string, unknown>) : null };
  }

  /** Jobs a stop interrupted, to resume on the next start. */
  unfinishedJobs(): { model_name: string; version: string }[] {
    return this.db.prepare("SELECT model_name, version FROM quantization_reports WHERE status IN ('queued', 'running') ORDER BY updated_at").all() as { model_name: string; version: string }[];
  }

  addSamples(name: string, source: SampleRow['source'], samples: unknown[][], at: string, requestId: string | null = null): number[] {
    const insert = this.db.prepare('INSERT INTO model_samples (model_name, source, inputs_json, created_at, request_id) VALUES (?, ?, ?, ?, ?)');
    return this.db.transaction(() => samples.map((inputs) => Number(insert.run(name, source, JSON.stringify(inputs), at, requestId).lastInsertRowid)))();
  }

  /** Uploaded samples first (they are the admin's choice), then recorded live ones; oldest first within each. */
  listSamples(name: string, limit: number): SampleRow[] {
    const rows = this.db
      .prepare("SELECT * FROM model_samples WHERE model_name = ? ORDER BY CASE source WHEN 'uploaded' THEN 0 ELSE 1 END, id LIMIT ?")
      .all(name, limit) as (Omit<SampleRow, 'inputs'> & { inputs_json: string })[];
    return rows.map(({ inputs_json, ...rest }) => ({ ...rest, inputs: JSON.parse(inputs_json) as unknown[] }));
  }

  countSamples(name: string, source: SampleRow['source']): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM model_samples WHERE model_name = ? AND source = ?').get(name, source) as { n: number }).n;
  }

  recordingLimit(name: string): number {
    return (this.db.prepare('SELECT sample_recording_limit AS n FROM models WHERE name = ?').get(name) as { n: number } | undefined)?.n ?? 0;
  }

  setRecordingLimit(name: string, limit: number): void {
    this.db.prepare('UPDATE models SET sample_recording_limit = ? WHERE name = ?').run(limit, name);
  }

  deleteSamples(name: string): number {
    return this.db.prepare('DELETE FROM model_samples WHERE model_name = ?').run(name).changes;
  }

  /** Live samples are request payloads: they are erased and expire with them (uploaded ones are the admin's own data). At most `limit` rows. */
  deleteLiveSamples(filter: PayloadFilter, limit: number): number {
    const { sql, params } = payloadWhere(filter, { model: 'model_name', ts: 'created_at', requestId: 'request_id' });
    return this.db
      .prepare(`DELETE FROM model_samples WHERE id IN (SELECT id FROM model_samples WHERE source = 'live' AND ${sql} ORDER BY id LIMIT ?)`)
      .run(...params, limit).changes;
  }

  liveSampleModels(): string[] {
    return (this.db.prepare("SELECT DISTINCT model_name FROM model_samples WHERE source = 'live'").all() as { model_name: string }[]).map((r) => r.model_name);
  }
}
