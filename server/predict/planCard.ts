import type { OipDatatype, TensorSpec } from '../common/datatypes.js';
import type { ModelSignature } from '../serving/decodeInferRequest.js';
import type { Feature, ImageSpec, ModelCard } from './modelCard.js';

/** A feature's place in a [rows, columns] input: the columns it fills. */
export interface ColumnFeature {
  feature: Exclude<Feature, { type: 'image' }>;
  column: number;
  /** Columns filled (a one-hot category fills one per value). */
  width: number;
}

export type InputPlan =
  | { kind: 'columns'; spec: TensorSpec; width: number; features: ColumnFeature[] }
  | { kind: 'image'; spec: TensorSpec; feature: Extract<Feature, { type: 'image' }> };

/** How a card's rows become a version's input tensors and its outputs become predictions. */
export interface CardPlan {
  card: ModelCard;
  inputs: InputPlan[];
  /** 1 when an input has a fixed batch dimension of 1: the model takes one row per run. */
  maxRowsPerRun: number | undefined;
  scores: { spec: TensorSpec; width: number };
}

const NUMERIC = new Set<OipDatatype>(['UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64']);

/** Which tensor datatypes can carry a feature, and a phrase for the refusal. */
function datatypeFits(feature: Exclude<Feature, { type: 'image' }>, datatype: OipDatatype): string | null {
  switch (feature.type) {
    case 'number':
    case 'integer':
      return NUMERIC.has(datatype) ? null : 'a numeric input';
    case 'boolean':
      return NUMERIC.has(datatype) || datatype === 'BOOL' ? null : 'a numeric or BOOL input';
    case 'category':
      if (feature.encoding === 'string') return datatype === 'BYTES' ? null : 'a BYTES input (encoding "string")';
      return NUMERIC.has(datatype) ? null : `a numeric input (encoding "${feature.encoding}")`;
    case 'text':
      return datatype === 'BYTES' ? null : 'a BYTES (string) input';
  }
}

const widthOf = (feature: Exclude<Feature, { type: 'image' }>) => (feature.type === 'category' && feature.encoding === 'one_hot' ? feature.values.length : 1);
const shapeText = (spec: TensorSpec) => JSON.stringify(spec.shape);

function imageProblems(feature: Extract<Feature, { type: 'image' }>, spec: TensorSpec): string[] {
  const image: ImageSpec = feature.image;
  if (spec.datatype !== 'FP32') return [`image feature '${feature.name}': input '${spec.name}' is ${spec.datatype}; images need an FP32 input`];
  if (spec.shape.length !== 4) return [`image feature '${feature.name}': input '${spec.name}' has shape ${shapeText(spec)}; images need [rows, C, H, W] or [rows, H, W, C]`];
  const channels = image.channels === 'gray' ? 1 : 3;
  const [c, h, w] = image.layout === 'nchw' ? [spec.shape[1], spec.shape[2], spec.shape[3]] : [spec.shape[3], spec.shape[1], spec.shape[2]];
  const problems: string[] = [];
  if (c !== -1 && c !== channels) problems.push(`image feature '${feature.name}': input '${spec.name}' has ${c} channels (${image.layout}); the card says ${image.channels}`);
  if (h !== -1 && h !== image.height) problems.push(`image feature '${feature.name}': input '${spec.name}' is ${h} pixels high; the card says ${image.height}`);
  if (w !== -1 && w !== image.width) problems.push(`image feature '${feature.name}': input '${spec.name}' is ${w} pixels wide; the card says ${image.width}`);
  for (const [name, values] of [['mean', image.mean], ['std', image.std]] as const) {
    if (values.length !== 1 && values.length !== channels) problems.push(`image feature '${feature.name}': ${name} has ${values.length} values; give 1 or ${channels}`);
  }
  return problems;
}

function columnProblems(spec: TensorSpec, features: ColumnFeature[], width: number): string[] {
  const problems: string[] = [];
  const filledBy = new Map<number, string>();
  for (const { feature, column, width: span } of features) {
    const refusal = datatypeFits(feature, spec.datatype);
    if (refusal) problems.push(`feature '${feature.name}' (${feature.type}) needs ${refusal}; '${spec.name}' is ${spec.datatype}`);
    for (let c = column; c < column + span; c++) {
      const other = filledBy.get(c);
      if (other !== undefined) problems.push(`column ${c} of input '${spec.name}' is fed by both '${other}' and '${feature.name}'`);
      filledBy.set(c, feature.name);
    }
  }
  for (let c = 0; c < width; c++) if (!filledBy.has(c)) problems.push(`column ${c} of input '${spec.name}' (shape ${shapeText(spec)}) is fed by no feature`);
  for (const c of filledBy.keys()) if (c >= width) problems.push(`feature '${filledBy.get(c)}' feeds column ${c}, but input '${spec.name}' has ${width} columns (shape ${shapeText(spec)})`);
  return problems;
}

/** Checks everything about a feature that does not depend on the model. */
function featureProblems(feature: Feature): string[] {
  if (feature.type === 'category' && feature.default !== undefined && !feature.values.includes(feature.default)) {
    return [`feature '${feature.name}': default '${feature.default}' is not one of its values`];
  }
  if (feature.type === 'category' && new Set(feature.values).size !== feature.values.length) return [`feature '${feature.name}': values repeat`];
  if (feature.type === 'text' && feature.default !== undefined && feature.default.length > feature.max_length) return [`feature '${feature.name}': default is longer than max_length`];
  return [];
}

function outputProblems(card: ModelCard, signature: ModelSignature): { problems: string[]; scores?: { spec: TensorSpec; width: number } } {
  const { output } = card;
  const spec = signature.outputs.find((o) => o.name === output.scores);
  if (!spec) return { problems: [`output.scores: the model has no output '${output.scores}' (it has ${signature.outputs.map((o) => `'${o.name}'`).join(', ')})`] };
  if (!NUMERIC.has(spec.datatype)) return { problems: [`output.scores: output '${spec.name}' is ${spec.datatype}; scores must be numeric`] };
  if (spec.shape.length < 1 || spec.shape.length > 2) return { problems: [`output.scores: output '${spec.name}' has shape ${shapeText(spec)}; scores need [rows] or [rows, labels]`] };
  const width = spec.shape.length === 1 ? 1 : spec.shape[1]!;
  const problems: string[] = [];
  const labels = output.labels;
  if (labels) {
    if (new Set(labels).size !== labels.length) problems.push('output.labels: labels repeat');
    if (width === 1 && labels.length !== 2) problems.push(`output.labels: output '${spec.name}' gives one score per row; that needs exactly 2 labels (negative, positive), not ${labels.length}`);
    if (width > 1 && labels.length !== width) problems.push(`output.labels: output '${spec.name}' gives ${width} scores per row (shape ${shapeText(spec)}); the card has ${labels.length} labels`);
  }
  for (const label of Object.keys(output.thresholds)) {
    if (!labels?.includes(label)) problems.push(`output.thresholds: '${label}' is not one of the labels`);
  }
  return { problems, scores: { spec, width } };
}

/**
 * Checks a card against a version's real signature and, when it fits, plans how rows become
 * tensors. Returns every problem found (a card refused on save lists them all).
 */
export function planCard(card: ModelCard, signature: ModelSignature): { plan: CardPlan } | { problems: string[] } {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const feature of card.features) {
    if (seen.has(feature.name)) problems.push(`feature '${feature.name}' is named twice`);
    seen.add(feature.name);
    problems.push(...featureProblems(feature));
    if (!signature.inputs.some((i) => i.name === feature.input)) {
      problems.push(`feature '${feature.name}': the model has no input '${feature.input}' (it has ${signature.inputs.map((i) => `'${i.name}'`).join(', ')})`);
    }
  }
  const inputs: InputPlan[] = [];
  let maxRowsPerRun: number | undefined;
  for (const spec of signature.inputs) {
    const feeding = card.features.filter((f) => f.input === spec.name);
    if (feeding.length === 0) {
      problems.push(`input '${spec.name}' (${spec.datatype} ${shapeText(spec)}) is fed by no feature`);
      continue;
    }
    if (spec.shape[0] !== -1 && spec.shape[0] !== 1) {
      problems.push(`input '${spec.name}' has shape ${shapeText(spec)}: its first dimension must be the rows (dynamic or 1)`);
      continue;
    }
    if (spec.shape[0] === 1) maxRowsPerRun = 1;
    const image = feeding.find((f) => f.type === 'image');
    if (image) {
      if (feeding.length > 1) problems.push(`input '${spec.name}' takes image '${image.name}'; no other feature can feed it`);
      const found = imageProblems(image, spec);
      problems.push(...found);
      if (found.length === 0) inputs.push({ kind: 'image', spec, feature: image });
      continue;
    }
    if (spec.shape.length > 2) {
      problems.push(`input '${spec.name}' has shape ${shapeText(spec)}; named features feed [rows] or [rows, columns] inputs (or images)`);
      continue;
    }
    const columns = feeding.map((f) => {
      const feature = f as ColumnFeature['feature'];
      return { feature, column: feature.column, width: widthOf(feature) };
    });
    const filled = Math.max(...columns.map((c) => c.column + c.width));
    // A dynamic column count takes as many columns as the features fill (they must still be contiguous).
    const width = spec.shape.length === 1 ? 1 : spec.shape[1] === -1 ? filled : spec.shape[1]!;
    const found = columnProblems(spec, columns, width);
    problems.push(...found);
    if (found.length === 0) inputs.push({ kind: 'columns', spec, width, features: columns });
  }
  const outputs = outputProblems(card, signature);
  problems.push(...outputs.problems);
  if (problems.length > 0 || !outputs.scores) return { problems };
  return { plan: { card, inputs, maxRowsPerRun, scores: outputs.scores } };
}
