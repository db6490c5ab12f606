import type { SqliteDatabase } from './openDatabase.js';

export type PlacedProvider = 'cpu' | 'webgpu';

export interface PlacementRow {
  model_name: string;
  version: string;
  provider: PlacedProvider;
  report: Record<string, unknown>;
  decided_at: string;
}

interface PlacementRecord extends Omit<PlacementRow, 'report'> {
  report_json: string;
}

/** Where `auto` placed each version, and the measurement that decided it (migration 013). */
export class PlacementRepository {
  constructor(private readonly db: SqliteDatabase) {}

  save(row: PlacementRow): void {
    const { report, ...rest } = row;
    this.db
      .prepare(
        `INSERT INTO version_placements (model_name, version, provider, report_json, decided_at)
         VALUES (@model_name, @version, @provider, @report_json, @decided_at)
         ON CONFLICT(model_name, version) DO UPDATE SET provider = excluded.provider, report_json = excluded.report_json, decided_at = excluded.decided_at`,
      )
      .run({ ...rest, report_json: JSON.stringify(report) });
  }

  get(name: string, version: string): PlacementRow | undefined {
    const row = this.db.prepare('SELECT * FROM version_placements WHERE model_name = ? AND version = ?').get(name, version) as PlacementRecord | undefined;
    if (!row) return undefined;
    const { report_json, ...rest } = row;
    return { ...rest, report: JSON.parse(report_json) as Record<string, unknown> };
  }
}
