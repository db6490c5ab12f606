import { inferboxError } from '../common/errors.js';
import type { TensorSpec } from '../common/datatypes.js';
import type { JobItem } from './JobItem.js';

const NON_NUMERIC = new Set(['BOOL', 'BYTES']);

/** The one input a CSV row can feed: shape [-1 or 1, F] with a numeric datatype. */
function tabularInput(model: { name: string; inputs: TensorSpec[] }): TensorSpec {
  const [input, ...others] = model.inputs;
  const [batch, features] = input?.shape ?? [];
  if (!input || others.length > 0 || input.shape.length !== 2 || (batch !== -1 && batch !== 1) || NON_NUMERIC.has(input.datatype)) {
    const signature = model.inputs.map((i) => `${i.name} ${i.datatype} ${JSON.stringify(i.shape)}`).join(', ');
    throw inferboxError('IBX_ERR_JOB_INPUT', 'CSV', `CSV needs a tabular model (one numeric input of shape [-1 or 1, features]); '${model.name}' has ${signature}`);
  }
  if (features === 0) throw inferboxError('IBX_ERR_JOB_INPUT', 'CSV', `input '${input.name}' has no features`);
  return input;
}

const unquote = (cell: string) => cell.trim().replace(/^"(.*)"$/, '$1').trim();
const isNumber = (cell: string) => cell !== '' && Number.isFinite(Number(cell));

/**
 * A CSV upload for a tabular model: each row becomes one item, a [1, F] tensor of the model's
 * input. The first row may be a header (it is one when any cell is not a number); blank lines are
 * skipped. A row with the wrong column count or a cell that is not a number is refused with its
 * line number. Cells are plain numbers (no quoted commas: numbers have none).
 */
export function parseCsvItems(text: string, model: { name: string; inputs: TensorSpec[] }): JobItem[] {
  const input = tabularInput(model);
  let columns = input.shape[1] === -1 ? undefined : input.shape[1];
  // 64-bit integers go as decimal strings, which the decoder reads exactly beyond 2^53.
  const exactStrings = input.datatype === 'INT64' || input.datatype === 'UINT64';
  const items: JobItem[] = [];
  let first = true;
  text.replace(/^\uFEFF/, '').split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const label = `line ${i + 1}`;
    const cells = line.split(',').map(unquote);
    const header = first && cells.some((cell) => !isNumber(cell));
    first = false;
    columns ??= cells.length;
    if (cells.length !== columns) {
      throw inferboxError('IBX_ERR_JOB_INPUT', label, `${cells.length} columns; '${model.name}' takes ${columns} features per row`);
    }
    if (header) return;
    const bad = cells.findIndex((cell) => !isNumber(cell));
    if (bad !== -1) throw inferboxError('IBX_ERR_JOB_INPUT', label, `column ${bad + 1} is not a number`);
    const data = exactStrings ? cells : cells.map(Number);
    items.push({ label, request: { inputs: [{ name: input.name, datatype: input.datatype, shape: [1, columns], data }] } });
  });
  return items;
}
