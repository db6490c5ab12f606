import { setImmediate as nextTurn } from 'node:timers/promises';
import type { JobRepository, JobResultRow } from '../store/JobRepository.js';

/** Rows read per page: a download holds one page in memory, and the database is never held across awaits. */
const PAGE = 500;

async function* pages(repository: JobRepository, id: string): AsyncGenerator<JobResultRow> {
  let after = -1;
  for (;;) {
    const rows = repository.results(id, after, PAGE);
    yield* rows;
    if (rows.length < PAGE) return;
    after = rows.at(-1)!.index;
    await nextTurn();
  }
}

/**
 * One JSON object per item in index order: `{"index":i,"outputs":[...]}` (a prediction job:
 * `{"index":i,"prediction":{...}}`) or `{"index":i,"error":"..."}`.
 */
export async function* jsonResultLines(repository: JobRepository, id: string, key: 'outputs' | 'prediction'): AsyncGenerator<string> {
  for await (const row of pages(repository, id)) {
    yield `${JSON.stringify(row.outputs !== null ? { index: row.index, [key]: row.outputs } : { index: row.index, error: row.error })}\n`;
  }
}

interface OutputJson { name: string; data: unknown[] }

const csvCell = (value: unknown) => {
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
};

/**
 * CSV for a CSV job (one row in, one row out): `index`, one column per output element (`name` for
 * a single value, `name_0`, `name_1`, … otherwise, laid out from the first answered item), `error`.
 */
export async function* csvResultLines(repository: JobRepository, id: string): AsyncGenerator<string> {
  const first = repository.firstAnswered(id) as OutputJson[] | undefined;
  const layout = (first ?? []).map((o) => ({ name: o.name, size: o.data.length }));
  const header = layout.flatMap((o) => (o.size === 1 ? [o.name] : Array.from({ length: o.size }, (_, j) => `${o.name}_${j}`)));
  yield `${['index', ...header, 'error'].map(csvCell).join(',')}\n`;
  for await (const row of pages(repository, id)) {
    const outputs = (row.outputs ?? []) as OutputJson[];
    const fits = row.outputs === null || layout.every((o, i) => outputs[i]?.name === o.name && outputs[i].data.length === o.size);
    const values = row.outputs !== null && fits ? outputs.flatMap((o) => o.data) : header.map(() => '');
    const error = row.error ?? (fits ? '' : 'outputs do not fit the CSV columns; download JSON lines');
    yield `${[row.index, ...values, error].map(csvCell).join(',')}\n`;
  }
}

interface PredictionJson {
  label?: string | null;
  score?: number;
  scores?: Record<string, number>;
  value?: number;
  values?: number[];
}

/**
 * CSV for a prediction job: `index`, then `label`, `score` and `score_<label>` per label for a
 * classifier (the card's labels), or `value` for a regression (values joined by spaces when a row
 * has several), then `error`.
 */
export async function* csvPredictionLines(repository: JobRepository, id: string, labels: readonly string[] | undefined): AsyncGenerator<string> {
  const columns = labels ? ['label', 'score', ...labels.map((l) => `score_${l}`)] : ['value'];
  yield `${['index', ...columns, 'error'].map(csvCell).join(',')}\n`;
  for await (const row of pages(repository, id)) {
    const p = (row.outputs ?? {}) as PredictionJson;
    const cells = row.outputs === null ? columns.map(() => '') : labels ? [p.label ?? '', p.score, ...labels.map((l) => p.scores?.[l])] : [p.value ?? p.values?.join(' ')];
    yield `${[row.index, ...cells, row.error ?? ''].map(csvCell).join(',')}\n`;
  }
}
