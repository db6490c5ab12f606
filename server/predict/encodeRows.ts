import type { OipDatatype } from '../common/datatypes.js';
import { inferboxError } from '../common/errors.js';
import type { Feature } from './modelCard.js';
import { ImagePixels } from './ImagePixels.js';
import type { CardPlan, ColumnFeature } from './planCard.js';

/** An OIP v2 infer request body for the data plane, with image tensors as binary data. */
export interface EncodedRequest {
  value: {
    inputs: { name: string; datatype: OipDatatype; shape: number[]; data?: unknown[]; parameters?: { binary_data_size: number } }[];
    /** Only the scores: the other outputs would be computed, encoded and dropped. */
    outputs: { name: string }[];
  };
  binary: Buffer;
}

export interface EncodeOptions {
  /** How a row is named in errors: `rows[3]`, `line 7`. */
  labelOf: (index: number) => string;
  /** Values arrive as text (CSV cells, form fields): numbers and booleans are parsed, an empty cell is missing. */
  fromText?: boolean;
}

/** Refusals are collected up to this many, so a bad upload says enough without a huge message. */
const MAX_PROBLEMS = 20;
const INTEGER_TYPES = new Set<OipDatatype>(['UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64']);
const TRUE = new Set(['true', '1', 'yes']);
const FALSE = new Set(['false', '0', 'no']);

const listed = (values: readonly string[]) => (values.length <= 20 ? values.join(', ') : `${values.slice(0, 20).join(', ')}, … (${values.length} in all)`);
const shown = (value: unknown) => (typeof value === 'string' ? JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value) : Array.isArray(value) ? 'a list' : String(value));

type Read = { value: unknown } | { problem: string };

/** One feature's value from a row, checked against its type; a missing one takes the card's default. */
function readFeature(feature: Feature, raw: unknown, datatype: OipDatatype, fromText: boolean): Read {
  const missing = raw === undefined || raw === null || (fromText && raw === '');
  if (missing) {
    if (feature.type !== 'image' && feature.default !== undefined) return { value: feature.default };
    return { problem: feature.type === 'image' ? 'missing image' : 'missing (the feature has no default)' };
  }
  switch (feature.type) {
    case 'number':
    case 'integer': {
      const value = fromText && typeof raw === 'string' ? Number(raw.trim()) : raw;
      if (typeof value !== 'number' || !Number.isFinite(value)) return { problem: `expected a number, got ${shown(raw)}` };
      // An integer tensor cannot hold a fraction; say so here rather than as a tensor error.
      if ((feature.type === 'integer' || INTEGER_TYPES.has(datatype)) && !Number.isInteger(value)) return { problem: `expected an integer, got ${shown(raw)}` };
      return { value };
    }
    case 'boolean': {
      if (typeof raw === 'boolean') return { value: raw };
      const word = fromText && typeof raw === 'string' ? raw.trim().toLowerCase() : undefined;
      if (word !== undefined && TRUE.has(word)) return { value: true };
      if (word !== undefined && FALSE.has(word)) return { value: false };
      return { problem: `expected true or false, got ${shown(raw)}` };
    }
    case 'category': {
      // Codes such as 1040 or 7 are often sent as numbers; they name the same category.
      const value = typeof raw === 'number' ? String(raw) : raw;
      if (typeof value !== 'string' || !feature.values.includes(value)) return { problem: `expected one of ${listed(feature.values)}, got ${shown(raw)}` };
      return { value };
    }
    case 'text':
      if (typeof raw !== 'string') return { problem: `expected text, got ${shown(raw)}` };
      if (raw.length > feature.max_length) return { problem: `longer than ${feature.max_length} characters` };
      return { value: raw };
    case 'image':
      if (raw instanceof ImagePixels) return { value: raw };
      return { problem: 'images are sent as multipart/form-data or as an image/png or image/jpeg body, not in JSON rows' };
  }
}

/** The tensor elements a checked value fills, from its column on. */
function elements(entry: ColumnFeature, value: unknown, datatype: OipDatatype): unknown[] {
  const { feature } = entry;
  if (feature.type === 'boolean') return [datatype === 'BOOL' ? value : value ? 1 : 0];
  if (feature.type === 'category' && feature.encoding === 'index') return [feature.values.indexOf(value as string)];
  if (feature.type === 'category' && feature.encoding === 'one_hot') return feature.values.map((v) => (v === value ? 1 : 0));
  return [value];
}

/**
 * Checks rows of named feature values against a card and encodes them as one OIP request for its
 * version: column inputs as JSON data, image inputs as binary FP32 data. Every problem names the
 * row and the feature (`rows[3].country: expected one of AE, SA, OM`); up to 20 are reported.
 */
export function encodeRows(plan: CardPlan, rows: readonly unknown[], options: EncodeOptions): EncodedRequest {
  const problems: string[] = [];
  const names = new Set(plan.card.features.map((f) => f.name));
  const columnData = new Map(plan.inputs.filter((i) => i.kind === 'columns').map((i) => [i.spec.name, [] as unknown[]]));
  const imageData = new Map(plan.inputs.filter((i) => i.kind === 'image').map((i) => [i.spec.name, [] as Float32Array[]]));
  let cutShort = false;
  rows.forEach((row, r) => {
    if (problems.length >= MAX_PROBLEMS) {
      cutShort = true;
      return;
    }
    const label = options.labelOf(r);
    if (typeof row !== 'object' || row === null || Array.isArray(row)) {
      problems.push(`${label}: expected an object of feature values ({"name": value, …})`);
      return;
    }
    const values = row as Record<string, unknown>;
    for (const key of Object.keys(values)) {
      if (!names.has(key)) problems.push(`${label}.${key}: unknown feature; the model takes ${listed([...names])}`);
    }
    for (const input of plan.inputs) {
      if (input.kind === 'image') {
        const read = readFeature(input.feature, values[input.feature.name], input.spec.datatype, options.fromText ?? false);
        if ('problem' in read) problems.push(`${label}.${input.feature.name}: ${read.problem}`);
        else imageData.get(input.spec.name)!.push((read.value as ImagePixels).data);
        continue;
      }
      const cells: unknown[] = new Array<unknown>(input.width);
      for (const entry of input.features) {
        const own = Object.hasOwn(values, entry.feature.name) ? values[entry.feature.name] : undefined;
        const read = readFeature(entry.feature, own, input.spec.datatype, options.fromText ?? false);
        if ('problem' in read) problems.push(`${label}.${entry.feature.name}: ${read.problem}`);
        else elements(entry, read.value, input.spec.datatype).forEach((element, k) => (cells[entry.column + k] = element));
      }
      columnData.get(input.spec.name)!.push(...cells);
    }
  });
  if (problems.length > 0) {
    const shownProblems = problems.slice(0, MAX_PROBLEMS);
    throw inferboxError('IBX_ERR_PREDICT_INPUT', shownProblems.join('; ') + (cutShort || problems.length > MAX_PROBLEMS ? '; …' : ''));
  }
  const buffers: Buffer[] = [];
  const inputs = plan.inputs.map((input): EncodedRequest['value']['inputs'][number] => {
    if (input.kind === 'columns') {
      const shape = input.spec.shape.length === 1 ? [rows.length] : [rows.length, input.width];
      return { name: input.spec.name, datatype: input.spec.datatype, shape, data: columnData.get(input.spec.name)! };
    }
    const { image } = input.feature;
    const channels = image.channels === 'gray' ? 1 : 3;
    const shape = image.layout === 'nchw' ? [rows.length, channels, image.height, image.width] : [rows.length, image.height, image.width, channels];
    const pixels = imageData.get(input.spec.name)!;
    const bytes = Buffer.concat(pixels.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength)));
    buffers.push(bytes);
    return { name: input.spec.name, datatype: input.spec.datatype, shape, parameters: { binary_data_size: bytes.length } };
  });
  return { value: { inputs, outputs: [{ name: plan.scores.spec.name }] }, binary: Buffer.concat(buffers) };
}
