import type { RuntimeTensor, TensorData } from '../common/datatypes.js';

/** Requests can share a run when every input has the same type and the same dims after the first. */
export function batchSignature(feeds: Record<string, RuntimeTensor>, outputNames: string[]): string {
  const inputs = Object.keys(feeds)
    .sort()
    .map((name) => `${name}:${feeds[name]!.type}:${feeds[name]!.dims.slice(1).join('x')}`);
  return `${inputs.join('|')}->${[...outputNames].sort().join(',')}`;
}

export function rowsOf(feeds: Record<string, RuntimeTensor>): number {
  return Object.values(feeds)[0]?.dims[0] ?? 0;
}

function concatData(parts: TensorData[]): TensorData {
  const first = parts[0]!;
  if (Array.isArray(first)) return (parts as string[][]).flat();
  const total = parts.reduce((n, p) => n + p.length, 0);
  const Ctor = first.constructor as new (length: number) => Exclude<TensorData, string[]>;
  const out = new Ctor(total);
  let offset = 0;
  for (const part of parts as Exclude<TensorData, string[]>[]) {
    (out as unknown as { set(a: ArrayLike<unknown>, o: number): void }).set(part as ArrayLike<unknown>, offset);
    offset += part.length;
  }
  return out;
}

/** Concatenates compatible requests' inputs along dimension 0 (Triton dynamic batching). */
export function concatenateFeeds(all: Record<string, RuntimeTensor>[]): Record<string, RuntimeTensor> {
  const first = all[0]!;
  const merged: Record<string, RuntimeTensor> = Object.create(null) as Record<string, RuntimeTensor>;
  for (const name of Object.keys(first)) {
    const tensors = all.map((feeds) => feeds[name]!);
    const rows = tensors.reduce((n, t) => n + t.dims[0]!, 0);
    merged[name] = { type: first[name]!.type, dims: [rows, ...first[name]!.dims.slice(1)], data: concatData(tensors.map((t) => t.data)) };
  }
  return merged;
}

/** Rows [start, start + rows) of a batched output, as a tensor of its own. */
export function sliceRows(tensor: RuntimeTensor, start: number, rows: number): RuntimeTensor {
  const total = tensor.dims[0]!;
  const perRow = total === 0 ? 0 : tensor.data.length / total;
  const from = start * perRow;
  const to = from + rows * perRow;
  const data = Array.isArray(tensor.data) ? tensor.data.slice(from, to) : (tensor.data as Exclude<TensorData, string[]>).slice(from, to);
  return { type: tensor.type, dims: [rows, ...tensor.dims.slice(1)], data };
}
