import { CsvError, parse } from 'csv-parse/sync';
import { inferboxError } from '../common/errors.js';

/** One row of a CSV prediction upload: its cells by column name, and its line for error messages. */
export interface CsvRow {
  label: string;
  row: Record<string, string>;
}

/**
 * A CSV upload for a prediction job (RFC 4180, via csv-parse: quoted cells may hold commas, quotes
 * and line breaks): the header names the features, each further record is one row. Blank lines
 * are skipped; cells stay text (the card parses them per feature type; an empty cell is missing).
 */
export function parseCsvRows(text: string): CsvRow[] {
  try {
    const records = parse(text, {
      bom: true,
      skip_empty_lines: true,
      trim: true,
      info: true,
      columns: (header: string[]) => {
        const repeated = header.find((name, i) => header.indexOf(name) !== i);
        if (repeated !== undefined) throw inferboxError('IBX_ERR_JOB_INPUT', 'line 1', `column '${repeated}' is named twice`);
        return header;
      },
    }) as { record: Record<string, string>; info: { lines: number } }[];
    return records.map(({ record, info }) => ({ label: `line ${info.lines}`, row: record }));
  } catch (error) {
    if (error instanceof CsvError) throw inferboxError('IBX_ERR_JOB_INPUT', `line ${(error as CsvError & { lines?: number }).lines ?? '?'}`, error.message.replace(/ on line \d+$/, ''));
    throw error;
  }
}
